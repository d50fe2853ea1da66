#!/usr/bin/env bash
# The harness's own tests. They run on a tiny fake Linux 7.2 tree (KSRC)
# in a scratch cache, so they take seconds and never touch the real tree.
# The report tests need the kernel's KTAP parser, from the real tree when
# the tree stage has made one.
set -euo pipefail
# shellcheck source=../harness/lib.sh
. "$(dirname "$0")/../harness/lib.sh"

CALLER_LOG_DIR=$LOG_DIR
FAKE_KERNEL=$REPO_DIR/tests/fake-kernel
passed=0
failed=0
skipped=0
start=$SECONDS
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT

ok() {
	passed=$((passed + 1))
	echo "ok - $*"
}

not_ok() {
	failed=$((failed + 1))
	echo "not ok - $*"
}

skip() {
	skipped=$((skipped + 1))
	echo "ok - $* # SKIP"
}

# expect_fail NAME REGEX CMD...: CMD must exit non-zero and say REGEX.
expect_fail() {
	local name=$1 regex=$2 out rc=0
	shift 2
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" -ne 0 ] && grep -qE "$regex" <<<"$out"; then
		ok "$name"
	else
		not_ok "$name (rc=$rc, output: $(tail -n 3 <<<"$out" | tr '\n' ' '))"
	fi
}

# A scratch environment: fake base tree, cache, patches and logs.
#   env_setup NAME [fake]   fake: the tree also holds tests/fake-kernel/tree
env_setup() {
	local dir=$SCRATCH/$1
	mkdir -p "$dir/ksrc/mm" "$dir/patches" "$dir/logs"
	printf 'VERSION = 7\nPATCHLEVEL = 2\nSUBLEVEL = 13\n' >"$dir/ksrc/Makefile"
	printf 'int a;\n' >"$dir/ksrc/mm/a.c"
	printf 'int b;\n' >"$dir/ksrc/mm/b.c"
	if [ "${2:-}" = fake ]; then
		cp -a "$FAKE_KERNEL/tree/." "$dir/ksrc/"
		# diagnostics the base already has are not the series'
		printf '/* FAKE: w1-warning sparse-warning kdoc-warning cocci-report */\n' >>"$dir/ksrc/mm/b.c"
	fi
	export KSRC=$dir/ksrc MSHV_UFFD_CACHE=$dir/cache PATCH_DIR=$dir/patches LOG_DIR=$dir/logs
	"$HARNESS_DIR/base.sh" >/dev/null 2>&1
	"$HARNESS_DIR/tree.sh" >/dev/null 2>&1
	ENV_TREE=$(state_get TREE "$dir/logs/state.env")
}

commit_in_tree() {
	local file=$1 text=$2 subject=$3
	printf '%s\n' "$text" >>"$ENV_TREE/$file"
	git -C "$ENV_TREE" add "$file"
	GIT_AUTHOR_DATE="2026-02-0${4:-1}T00:00:00Z" git -C "$ENV_TREE" -c user.name=t \
		-c user.email=t@example.org commit -q -m "$subject" -m "Why and what." \
		-m "Signed-off-by: t <t@example.org>"
}

test_export_round_trip() {
	local first=$SCRATCH/first
	env_setup export
	commit_in_tree mm/a.c 'int a2;' 'mm: first change' 1
	commit_in_tree mm/b.c 'int b2;' 'mm: second change' 2
	"$HARNESS_DIR/tree.sh" export >/dev/null 2>&1
	# a cover letter written by hand keeps its text across exports
	sed -i 's/\*\*\* SUBJECT HERE \*\*\*/mm: two changes/; s/\*\*\* BLURB HERE \*\*\*/Why the series exists./' \
		"$PATCH_DIR/0000-cover-letter.patch"
	"$HARNESS_DIR/tree.sh" export >/dev/null 2>&1
	cp -a "$PATCH_DIR" "$first"
	"$HARNESS_DIR/tree.sh" export >/dev/null 2>&1
	if diff -r "$first" "$PATCH_DIR" >/dev/null; then
		ok "export twice gives byte-identical patches"
	else
		not_ok "export twice differs"
	fi
	if grep -q 'Subject: \[PATCH 0/2\] mm: two changes' "$PATCH_DIR/0000-cover-letter.patch" &&
		grep -q '^Why the series exists.$' "$PATCH_DIR/0000-cover-letter.patch"; then
		ok "export keeps the cover letter's subject and text"
	else
		not_ok "export lost the cover letter's subject or text"
	fi
	# from scratch: a new tree made from patches/ exports the same bytes
	rm -rf "$ENV_TREE"
	"$HARNESS_DIR/tree.sh" >/dev/null 2>&1
	"$HARNESS_DIR/tree.sh" export >/dev/null 2>&1
	if diff -r "$first" "$PATCH_DIR" >/dev/null; then
		ok "apply + export round-trips byte-identically"
	else
		not_ok "apply + export changed the patches: $(diff -r "$first" "$PATCH_DIR" | head -n 5 | tr '\n' ' ')"
	fi
}

test_mtimes() {
	local before after backup
	env_setup mtimes
	commit_in_tree mm/a.c 'int a2;' 'mm: first change' 1
	commit_in_tree mm/b.c 'int b2;' 'mm: second change' 2
	"$HARNESS_DIR/tree.sh" export >/dev/null 2>&1
	rm -rf "$ENV_TREE"
	"$HARNESS_DIR/tree.sh" >/dev/null 2>&1
	touch -d @1000000000 "$ENV_TREE/mm/a.c" "$ENV_TREE/mm/b.c"
	"$HARNESS_DIR/tree.sh" >/dev/null 2>&1
	if [ "$(stat -c %Y "$ENV_TREE/mm/a.c")" = 1000000000 ]; then
		ok "an unchanged series leaves the tree's mtimes alone"
	else
		not_ok "an unchanged series touched mm/a.c"
	fi
	# change only the second patch: mm/a.c keeps its mtime, mm/b.c does not
	sed -i 's/^+int b2;$/+int b3;/' "$PATCH_DIR"/0002-*.patch
	before=$(stat -c %Y "$ENV_TREE/mm/b.c")
	"$HARNESS_DIR/tree.sh" >/dev/null 2>&1
	after=$(stat -c %Y "$ENV_TREE/mm/b.c")
	if [ "$(stat -c %Y "$ENV_TREE/mm/a.c")" = 1000000000 ] && [ "$after" != "$before" ] &&
		grep -q '^int b3;$' "$ENV_TREE/mm/b.c"; then
		ok "a changed patch rewrites only the files whose content changed"
	else
		not_ok "mtimes after changing one patch: a.c $(stat -c %Y "$ENV_TREE/mm/a.c"), b.c $before -> $after"
	fi
	# unexported work in the tree is kept on a backup ref, never lost
	commit_in_tree mm/a.c 'int a9;' 'mm: unexported' 3
	touch "$PATCH_DIR/0001-mm-first-change.patch"
	sed -i 's/^+int a2;$/+int a3;/' "$PATCH_DIR"/0001-*.patch
	"$HARNESS_DIR/tree.sh" >/dev/null 2>&1
	backup=$(git -C "$ENV_TREE" for-each-ref --format='%(refname)' refs/mshv-uffd/backup)
	if [ -n "$backup" ] && [[ "$(git -C "$ENV_TREE" log --format=%s "$backup")" == *"mm: unexported"* ]]; then
		ok "unexported commits are saved before the tree is reset"
	else
		not_ok "unexported commits were not saved"
	fi
}

test_bad_patches() {
	env_setup badpatch
	commit_in_tree mm/a.c 'int a2;' 'mm: first change' 1
	commit_in_tree mm/b.c 'int b2;' 'mm: second change' 2
	"$HARNESS_DIR/tree.sh" export >/dev/null 2>&1
	rm -rf "$ENV_TREE"
	sed -i 's/^ int b;$/ int nothing_like_this;/' "$PATCH_DIR"/0002-*.patch
	expect_fail "a patch that does not apply is named, with its file" \
		'patch 0002-mm-second-change.patch does not apply: mm/b.c' "$HARNESS_DIR/tree.sh"
	printf 'this is not a patch\n' >"$PATCH_DIR"/0002-mm-second-change.patch
	expect_fail "a malformed patch is named" \
		'malformed patch: .*0002-mm-second-change.patch' "$HARNESS_DIR/tree.sh"
}

test_bad_arguments() {
	local dir=$SCRATCH/args
	mkdir -p "$dir/old/mm" "$dir/logs"
	printf 'VERSION = 6\nPATCHLEVEL = 12\n' >"$dir/old/Makefile"
	expect_fail "an unsupported ARCH is refused" 'ARCH=riscv is not supported' \
		env ARCH=riscv "$HARNESS_DIR/run" all
	expect_fail "a bad JOBS is refused" 'JOBS=many is not a positive number' \
		env JOBS=many "$HARNESS_DIR/run" all
	expect_fail "an unknown command is refused" "unknown command 'frobnicate'" \
		"$HARNESS_DIR/run" frobnicate
	expect_fail "a KSRC that is not 7.2 is refused" 'is Linux 6.12; the series targets 7.2.y' \
		env LOG_DIR="$dir/logs" KSRC="$dir/old" "$HARNESS_DIR/base.sh"
	expect_fail "a KSRC that does not exist is refused" 'KSRC=/nonexistent is not a directory' \
		env KSRC=/nonexistent "$HARNESS_DIR/base.sh"
	expect_fail "a missing base is reported with what to do" 'BASE_DEB=/nonexistent.deb does not exist' \
		env -u KSRC LOG_DIR="$dir/logs" BASE_DEB=/nonexistent.deb "$HARNESS_DIR/base.sh"
	expect_fail "an unknown config variant is refused" "unknown config variant 'nosuch'" \
		env LOG_DIR="$LOG_DIR" "$HARNESS_DIR/config.sh" nosuch
	mkdir -p "$dir/bin"
	ln -sf "$(command -v bash)" "$dir/bin/bash"
	ln -sf "$(command -v dirname)" "$dir/bin/dirname"
	expect_fail "a missing tool is named" "missing tool 'vng'" \
		env PATH="$dir/bin" JOBS=2 LOG_DIR="$LOG_DIR" "$HARNESS_DIR/vm.sh"
}

# vm_sh VAR=VALUE...: vm.sh, with the fake vng first on PATH.
vm_sh() {
	env PATH="$FAKE_KERNEL/bin:$PATH" "$@" "$HARNESS_DIR/vm.sh"
}

# vm.sh with the fake vng (tests/fake-kernel/bin), which boots nothing
# and, asked to, runs the guest command on the host: the arguments vm.sh
# refuses, the guest script it runs, and the status file that tells a
# finished guest from a dead one.
test_vm() {
	local dir=$SCRATCH/vm obj out log rc=0 want
	env_setup vm
	obj=$ENV_TREE/.obj-debug
	mkdir -p "$obj/arch/x86/boot" "$obj/modroot/lib/modules" "$obj/kselftest_install" "$dir/bin"
	: >"$obj/arch/x86/boot/bzImage"
	: >"$obj/kselftest_install/kselftest-list.txt"
	# no KVM probe: the fake vng would say yes
	echo no >"$MSHV_UFFD_CACHE/kvm-probe-$(cat /proc/sys/kernel/random/boot_id)"
	cat >"$dir/guest" <<-'END_OF_GUEST'
	#!/bin/sh
	printf '%s\n' "$@" >"$2/args"
	echo done >"$2/status"
	END_OF_GUEST
	chmod +x "$dir/guest"
	cp "$dir/guest" "$dir/guest-noexec"
	chmod -x "$dir/guest-noexec"
	expect_fail "vm: a missing guest script is refused" "GUEST=$dir/nosuch: no such guest script" \
		vm_sh GUEST="$dir/nosuch"
	expect_fail "vm: a guest script that is not executable is refused" "GUEST=$dir/guest-noexec is not executable" \
		vm_sh GUEST="$dir/guest-noexec"
	expect_fail "vm: a missing object directory is refused" "OBJ=$dir/nosuch is not a directory" \
		vm_sh OBJ="$dir/nosuch" GUEST="$dir/guest"
	expect_fail "vm: an object directory without a kernel is refused" "no kernel at $dir/bin/arch/x86/boot/bzImage" \
		vm_sh OBJ="$dir/bin" GUEST="$dir/guest"
	expect_fail "vm: a bad VM_CPUS is refused" 'VM_CPUS=two is not a positive number' \
		vm_sh VM_CPUS=two
	expect_fail "vm: guest arguments without GUEST are refused" 'guest arguments \(x\) need GUEST=SCRIPT' \
		env PATH="$FAKE_KERNEL/bin:$PATH" "$HARNESS_DIR/vm.sh" debug x
	# the guest script given is the one that runs, with OBJ, OUT and its
	# arguments, and the stage's row is named after OUT
	out=$dir/results/one
	rc=0
	log=$(env PATH="$FAKE_KERNEL/bin:$PATH" FAKE_VNG_RUN=1 OBJ="$obj" OUT="$out" GUEST="$dir/guest" \
		"$HARNESS_DIR/vm.sh" debug "a b" c 2>&1) || rc=$?
	want=$(printf '%s\n' "$obj" "$out" "a b" c)
	if [ "$rc" -eq 0 ] && [ "$(cat "$out/args" 2>/dev/null)" = "$want" ] &&
		grep -q "^vm-boot-one	1	0	0	" "$LOG_DIR/results.tsv"; then
		ok "vm: GUEST runs as 'GUEST OBJ OUT ARG...', results in OUT"
	else
		not_ok "vm: GUEST did not run as asked (rc=$rc): $(tr '\n' '|' <"$out/args" 2>/dev/null) $(tail -n 3 <<<"$log" | tr '\n' ' ')"
	fi
	# no GUEST: harness/guest.sh with its kselftest arguments, as make
	# check runs it (logged, not run: it would mount over /lib/modules)
	rc=0
	# (without the caller's seed variables, which vm.sh passes on)
	log=$(env -u HMM_UFFD_GEN_SEEDS -u HMM_UFFD_GEN_SEED PATH="$FAKE_KERNEL/bin:$PATH" \
		FAKE_VNG_LOG="$dir/vng.log" "$HARNESS_DIR/vm.sh" debug 2>&1) || rc=$?
	want=$(printf '%s\n' -- env "HMM_UFFD_GEN_SEEDS=" "HMM_UFFD_GEN_SEED=" "$HARNESS_DIR/guest.sh" \
		"$obj" "$LOG_DIR/vm" 1200 "-t mm:ksft_hmm.sh" "" "$REPO_DIR/data/excluded-tests.tsv")
	if [ "$rc" -ne 0 ] && grep -q "the VM did not finish" <<<"$log" &&
		[ "$(sed -n '/^--$/,$p' "$dir/vng.log" 2>/dev/null)" = "$want" ]; then
		ok "vm: no GUEST boots guest.sh with the kselftests; no status file fails the stage"
	else
		not_ok "vm: the default guest (rc=$rc): $(sed -n '/^--$/,$p' "$dir/vng.log" 2>/dev/null | tr '\n' '|') $(tail -n 3 <<<"$log" | tr '\n' ' ')"
	fi
}

# bench.sh's stages refuse what they cannot run.
test_bench() {
	env_setup bench
	expect_fail "bench: an unknown action is refused" "unknown bench action 'frobnicate'" \
		"$HARNESS_DIR/bench.sh" frobnicate
	expect_fail "bench: an unknown kernel is refused" "unknown kernel 'nosuch' \\(series or base\\)" \
		"$HARNESS_DIR/bench.sh" vm nosuch
	expect_fail "bench: a bad BENCH_RUNS is refused" 'BENCH_RUNS=0 is not a positive number' \
		env BENCH_RUNS=0 "$HARNESS_DIR/bench.sh" summary
	expect_fail "bench: a summary without the results of both kernels is refused" \
		"no results of the series kernel in $LOG_DIR/bench/series" "$HARNESS_DIR/bench.sh" summary
	expect_fail "bench: the base kernel is configured from the series' bench config, built first" \
		"no bench config of the series in $ENV_TREE/.obj-bench/.config: run 'bench.sh build series' first" \
		"$HARNESS_DIR/bench.sh" build base
}

# report.py on hand-made TAP and kernel logs.
test_report() {
	local tree log desc dir=$SCRATCH/report
	# the caller's tree, else any tree in the cache (only read)
	tree=$(state_get TREE "$CALLER_LOG_DIR/state.env")
	if [ -z "$tree" ] || [ ! -f "$tree/tools/testing/kunit/kunit_parser.py" ]; then
		# with no cache yet find fails: the report tests then skip
		tree=$({ find "$CACHE_DIR/tree" -mindepth 4 -maxdepth 4 -path '*/tools/testing/kunit' 2>/dev/null || true; } | head -n 1)
		tree=${tree%/tools/testing/kunit}
	fi
	if [ -z "$tree" ] || [ ! -f "$tree/tools/testing/kunit/kunit_parser.py" ]; then
		skip "report tests (no kernel tree yet for kunit_parser)"
		return
	fi
	mkdir -p "$dir"
	: >"$dir/stages.tsv"
	printf 'fine.case\tskip\texplained\n' >"$dir/expected.tsv"
	cat >"$dir/nested.tap" <<-'END_OF_TAP'
	TAP version 13
	1..1
	# selftests: mm: run_vmtests.sh
	# TAP version 13
	# # running ./test_hmm.sh smoke
	# # TAP version 13
	# # 1..3
	# # ok 1 hmm.a
	# # ok 2 fine.case # SKIP explained
	# # ok 3 other.case # SKIP not explained
	# ok 1 test_hmm.sh smoke
	# 1..1
	ok 1 selftests: mm: run_vmtests.sh
	END_OF_TAP
	printf 'Linux version 7.2.13 (fake)\n[    0.1] booting\n' >"$dir/clean.txt"
	printf 'Linux version 7.2.13 (fake)\n[    1.0] ok\n[    2.0] WARNING: CPU: 1 PID: 9 at mm/hmm.c:99 hmm_range_fault+0x1/0x2\n[    2.1] Call Trace:\n' >"$dir/warn.txt"
	local out rc=0
	out=$(PYTHONDONTWRITEBYTECODE=1 python3 "$HARNESS_DIR/report.py" --tree "$tree" --stages "$dir/stages.tsv" \
		--expected "$dir/expected.tsv" --tap "$dir/nested.tap" --dmesg "$dir/clean.txt" \
		--dmesg-patterns "$REPO_DIR/data/dmesg-fail.regex" 2>&1) || rc=$?
	if [ "$rc" -ne 0 ] && grep -q 'unexplained skip: .*other.case' <<<"$out" &&
		grep -qx '2 passed, 1 failed, 1 skipped' <<<"$out"; then
		ok "report: nested kselftest TAP counted per case, unexplained skip fails"
	else
		not_ok "report on nested TAP (rc=$rc): $(tail -n 3 <<<"$out" | tr '\n' ' ')"
	fi
	sed -i 's/other.case # SKIP not explained/other.case/' "$dir/nested.tap"
	report_dmesg "$dir/warn.txt"
	if [ "$rc" -ne 0 ] && grep -q 'WARNING: CPU: 1 PID: 9 at mm/hmm.c:99' <<<"$out" &&
		grep -qx '2 passed, 1 failed, 1 skipped' <<<"$out"; then
		ok "report: a kernel WARNING in dmesg fails the VM stage, with the excerpt"
	else
		not_ok "report with a WARNING in dmesg (rc=$rc): $(tail -n 3 <<<"$out" | tr '\n' ' ')"
	fi
	# a log that lost its start (the ring buffer wrapped) or is empty
	# cannot say "clean"
	sed -i 's/other.case # SKIP not explained/other.case/' "$dir/nested.tap"
	printf '[  900.0] hmm-tests: later lines only\n' >"$dir/wrapped.txt"
	: >"$dir/empty.txt"
	for log in "lost its start:wrapped" "is empty:empty"; do
		desc=${log%%:*}
		log=${log#*:}
		report_dmesg "$dir/$log.txt"
		if [ "$rc" -ne 0 ] && grep -q "guest dmesg" <<<"$out" &&
			grep -qx '2 passed, 1 failed, 1 skipped' <<<"$out"; then
			ok "report: a kernel log that $desc fails the dmesg check"
		else
			not_ok "report with a kernel log that $desc (rc=$rc): $(tail -n 3 <<<"$out" | tr '\n' ' ')"
		fi
	done
	# a splat a test causes on purpose passes only when seen exactly as
	# often as data/dmesg-expected.tsv says
	printf '^WARNING: CPU: 1 PID: 9 at mm/hmm.c:99\t1\ton purpose\n' >"$dir/splats.tsv"
	for want in "1:0" "0:1" "2:1"; do
		{
			printf 'Linux version 7.2.13 (harness)\n'
			for ((k = 0; k < ${want%%:*}; k++)); do
				printf 'WARNING: CPU: 1 PID: 9 at mm/hmm.c:99 f+0x1/0x2\n'
			done
		} >"$dir/splat.txt"
		report_dmesg "$dir/splat.txt" --dmesg-expected "$dir/splats.tsv"
		if [ "$([ "$rc" -ne 0 ] && echo 1 || echo 0)" = "${want#*:}" ]; then
			ok "report: an expected splat seen ${want%%:*} time(s) of 1 $([ "${want#*:}" = 1 ] && echo fails || echo passes)"
		else
			not_ok "report: expected splat seen ${want%%:*} time(s) (rc=$rc): $(tail -n 3 <<<"$out" | tr '\n' ' ')"
		fi
	done
	# a suite whose cases vanished (its nested TAP lost) is too few cases
	printf 'selftests: mm: run_vmtests.sh / *\t3\tthree cases\n' >"$dir/min3.tsv"
	printf 'selftests: mm: run_vmtests.sh / *\t4\tfour cases\n' >"$dir/min4.tsv"
	for log in 3 4; do
		rc=0
		out=$(PYTHONDONTWRITEBYTECODE=1 python3 "$HARNESS_DIR/report.py" --tree "$tree" --stages "$dir/stages.tsv" \
			--expected "$dir/expected.tsv" --tap "$dir/nested.tap" --min-cases "$dir/min$log.tsv" 2>&1) || rc=$?
		if [ "$log" = 3 ] && [ "$rc" -eq 0 ]; then
			ok "report: as many cases as the floor pass it"
		elif [ "$log" = 4 ] && [ "$rc" -ne 0 ] && grep -q 'only 3 case(s) match' <<<"$out"; then
			ok "report: fewer cases than the floor fail the run"
		else
			not_ok "report with a floor of $log cases (rc=$rc): $(tail -n 3 <<<"$out" | tr '\n' ' ')"
		fi
	done
	printf 'TAP version 13\n1..2\n# partial\nok 1 a\n# then nothing\nnot ok 2 selftests: mm: x # TIMEOUT 900 seconds\n' >"$dir/timeout.tap"
	rc=0
	out=$(PYTHONDONTWRITEBYTECODE=1 python3 "$HARNESS_DIR/report.py" --tree "$tree" --stages "$dir/stages.tsv" \
		--expected "$dir/expected.tsv" --tap "$dir/timeout.tap" 2>&1) || rc=$?
	if [ "$rc" -ne 0 ] && grep -qx '1 passed, 1 failed, 0 skipped' <<<"$out"; then
		ok "report: a timed-out test fails"
	else
		not_ok "report with a timeout (rc=$rc): $(tail -n 3 <<<"$out" | tr '\n' ' ')"
	fi
}

# checks.sh itself, run on a fake tree whose tools (tests/fake-kernel) act
# on markers in the C files: each check must turn red on what it exists to
# catch, and stay green on what the base already had.
#   checks_series NAME EDIT...   a series of one commit per EDIT
#                                ("file<TAB>sed expression<TAB>subject";
#                                a new file starts with one line)
# report_dmesg LOG [ARGS...]: the report on the nested test TAP with LOG as
# the guest's kernel log; sets out and rc. Uses tree and dir of the caller.
report_dmesg() {
	local log=$1
	shift
	rc=0
	out=$(PYTHONDONTWRITEBYTECODE=1 python3 "$HARNESS_DIR/report.py" --tree "$tree" --stages "$dir/stages.tsv" \
		--expected "$dir/expected.tsv" --tap "$dir/nested.tap" --dmesg "$log" \
		--dmesg-patterns "$REPO_DIR/data/dmesg-fail.regex" "$@" 2>&1) || rc=$?
}

checks_series() {
	local name=$1 edit file expr subject n=0
	shift
	env_setup "checks-$name" fake
	for edit in "$@"; do
		IFS=$'\t' read -r file expr subject <<<"$edit"
		n=$((n + 1))
		if [ ! -f "$ENV_TREE/$file" ]; then
			mkdir -p "$(dirname "$ENV_TREE/$file")"
			printf '// SPDX-License-Identifier: GPL-2.0\n' >"$ENV_TREE/$file"
		fi
		sed -i "$expr" "$ENV_TREE/$file"
		git -C "$ENV_TREE" add "$file"
		GIT_AUTHOR_DATE="2026-02-0${n}T00:00:00Z" git -C "$ENV_TREE" -c user.name=t \
			-c user.email=t@example.org commit -q -m "$subject" -m "Why and what." \
			${CHECKS_FIXES:+-m "$CHECKS_FIXES"} -m "Signed-off-by: t <t@example.org>"
	done
	"$HARNESS_DIR/tree.sh" export >/dev/null 2>&1
}

# run_checks [CHECKS_SH]: checks.sh with the fake tools first on PATH;
# sets CHECKS_OUT and CHECKS_RC.
run_checks() {
	CHECKS_RC=0
	CHECKS_OUT=$(PATH="$FAKE_KERNEL/bin:$PATH" SPARSE="$FAKE_KERNEL/bin/sparse" \
		"${1:-$HARNESS_DIR/checks.sh}" 2>&1) || CHECKS_RC=$?
}

# expect_red NAME FAILREGEX [REGEX]: checks.sh fails, with exactly one FAIL
# line, which matches FAILREGEX; its output also matches REGEX.
expect_red() {
	local name=$1 want=$2 also=${3:-.} fails
	fails=$(grep '^  FAIL' <<<"$CHECKS_OUT" || true)
	if [ "$CHECKS_RC" -ne 0 ] && [ "$(grep -c . <<<"$fails")" -eq 1 ] &&
		grep -qE "$want" <<<"$fails" && grep -qE "$also" <<<"$CHECKS_OUT"; then
		ok "$name"
	else
		not_ok "$name (rc=$CHECKS_RC): $(tail -n 12 <<<"$CHECKS_OUT" | tr '\n' '|')"
	fi
}

test_checks() {
	local log
	# green: two clean patches; mm/b.c keeps every diagnostic the base had
	checks_series green $'mm/a.c\t$a int a2;\tmm: first' $'mm/b.c\t1a int b2;\tmm: second'
	run_checks
	if [ "$CHECKS_RC" -eq 0 ] && ! grep -q '^  FAIL' <<<"$CHECKS_OUT" &&
		[ "$(grep -c '^  ok' <<<"$CHECKS_OUT")" -eq 9 ]; then
		ok "checks: a clean series passes all 9 checks; the base's own diagnostics are not new"
	else
		not_ok "checks on a clean series (rc=$CHECKS_RC): $(tail -n 12 <<<"$CHECKS_OUT" | tr '\n' '|')"
	fi
	# a second run replays every build; a change to the checks' code does not
	log=$SCRATCH/checks-green/make.log
	FAKE_MAKE_LOG=$log run_checks
	if [ "$CHECKS_RC" -eq 0 ] && ! grep -qE 'bzImage|\.o' "$log" 2>/dev/null; then
		ok "checks: an unchanged series and harness replays the cached results"
	else
		not_ok "checks: the second run rebuilt: $(tr '\n' '|' <"$log" 2>/dev/null)"
	fi
	rm -f "$log"
	mkdir -p "$SCRATCH/repo-copy"
	cp -a "$REPO_DIR/harness" "$REPO_DIR/configs" "$REPO_DIR/data" "$SCRATCH/repo-copy/"
	printf '# a change to the checks\n' >>"$SCRATCH/repo-copy/harness/checks.sh"
	FAKE_MAKE_LOG=$log run_checks "$SCRATCH/repo-copy/harness/checks.sh"
	if [ "$CHECKS_RC" -eq 0 ] && [ "$(grep -c 'bzImage' "$log" 2>/dev/null)" -eq 2 ] &&
		grep -q '^arm64 .*mm/a\.o' "$log"; then
		ok "checks: changed check code reruns every cached check"
	else
		not_ok "checks: changed code did not rerun the cached checks: $(tr '\n' '|' <"$log" 2>/dev/null)"
	fi

	checks_series bisect $'mm/a.c\t$a /* FAKE: build-error */\tmm: breaks the build' \
		$'mm/a.c\t/FAKE: build-error/d\tmm: mends it'
	run_checks
	expect_red "checks: a prefix that does not build fails bisect" \
		'build fails at [0-9a-f]{12} mm: breaks the build' 'ok    builds at [0-9a-f]{12} mm: mends it'

	# two kselftest targets, one of which does not build
	checks_series kselftest $'tools/testing/selftests/mm/t.c\t$a int t;\tselftests/mm: a test' \
		$'tools/testing/selftests/mshv/t.c\t$a /* FAKE: build-error */\tselftests/mshv: a broken test'
	run_checks
	expect_red "checks: a kselftest that does not build fails bisect, next to one that does" \
		'build fails at [0-9a-f]{12} selftests/mshv: a broken test' 'ok    builds at [0-9a-f]{12} selftests/mm: a test'

	checks_series sparse $'mm/a.c\t$a /* FAKE: sparse-warning */\tmm: sparse'
	run_checks
	expect_red "checks: a sparse warning the base lacks fails sparse-w1" \
		'sparse-w1: 1 new diagnostic' "mm/a\\.c: warning: symbol 'fake' was not declared"

	# An #included .c (a KUnit suite) is no object of its own: built
	# alone for arm64 it fails (arm64-error), so it must not be.
	checks_series included $'mm/a_kunit.c\t$a /* FAKE: arm64-error */\tmm: an included test'
	run_checks
	if [ "$CHECKS_RC" -eq 0 ] && ! grep -q 'a_kunit' <<<"$CHECKS_OUT"; then
		ok "checks: a .c file no Makefile names is not analysed as an object"
	else
		not_ok "checks: a .c file no Makefile names is not analysed as an object (rc=$CHECKS_RC): $(grep -E 'FAIL|a_kunit' <<<"$CHECKS_OUT" | head -n 3 | tr '\n' '|')"
	fi

	checks_series w1 $'mm/a.c\t$a /* FAKE: w1-warning */\tmm: w1'
	run_checks
	expect_red "checks: a new W=1 warning fails sparse-w1" \
		'sparse-w1: 1 new diagnostic' 'mm/a\.c: warning: .*-Wmissing-prototypes'

	checks_series kdoc $'mm/a.c\t$a /* FAKE: kdoc-warning */\tmm: kdoc'
	run_checks
	expect_red "checks: a new kernel-doc warning fails kernel-doc" \
		'kernel-doc: 1 new diagnostic' "Warning: mm/a\\.c function parameter"

	checks_series cocci $'mm/a.c\t$a /* FAKE: cocci-report */\tmm: cocci'
	run_checks
	expect_red "checks: a coccicheck report fails coccicheck" \
		'coccicheck: 1 new diagnostic' 'mm/a\.c: WARNING: fake coccinelle report'

	# the files run side by side: one that fails must still fail all
	checks_series coccicrash $'mm/a.c\t$a /* FAKE: cocci-crash */\tmm: crash'
	run_checks
	if [ "$CHECKS_RC" -ne 0 ] && grep -q 'analysis of the series failed' <<<"$CHECKS_OUT"; then
		ok "checks: coccicheck that fails on a file fails the analysis"
	else
		not_ok "checks: coccicheck that fails on a file fails the analysis (rc=$CHECKS_RC): $(tail -n 5 <<<"$CHECKS_OUT" | tr '\n' '|')"
	fi

	checks_series arm64 $'mm/a.c\t$a /* FAKE: arm64-error */\tmm: arm64'
	run_checks
	expect_red "checks: an arm64-only build error fails arm64" \
		'arm64: [0-9]+ new diagnostic' "mm/a\\.c: error: implicit declaration of function 'fake_arm64'"

	checks_series checkpatch $'mm/a.c\t$a /* FAKE: checkpatch-error */\tmm: style'
	run_checks
	expect_red "checks: a checkpatch ERROR fails checkpatch" \
		'checkpatch --strict 0001-mm-style.patch'

	CHECKS_FIXES='Fixes: 0123456789ab ("mm: a commit nobody verified")' \
		checks_series fixes $'mm/a.c\t$a int a3;\tmm: fix'
	run_checks
	expect_red "checks: a Fixes: tag that names no known upstream commit fails checkpatch" \
		'checkpatch --strict 0001-mm-fix\.patch: a Fixes: tag names no commit'
	CHECKS_FIXES='Fixes: b9a66cd5ccbb ("mshv: Add support for movable memory regions")' \
		checks_series fixes-known $'mm/a.c\t$a int a4;\tmm: fix'
	run_checks
	if [ "$CHECKS_RC" -eq 0 ] && grep -q '^  ok.*checkpatch --strict 0001-mm-fix\.patch' <<<"$CHECKS_OUT"; then
		ok "checks: a Fixes: tag of data/upstream-commits.tsv passes"
	else
		not_ok "checks: a known Fixes: tag failed (rc=$CHECKS_RC): $(grep -E 'FAIL|checkpatch' <<<"$CHECKS_OUT" | head -n 3 | tr '\n' '|')"
	fi

	checks_series prompt $'mm/a.c\t$a int a;\tmm: first' \
		$'mm/b.c\t$a /* FAKE: kconfig-prompt */\tmm: a new option' \
		$'mm/a.c\t$a int c;\tmm: third'
	run_checks
	if [ "$CHECKS_RC" -eq 0 ] && [ "$(grep -c 'builds at' <<<"$CHECKS_OUT")" -eq 3 ]; then
		ok "checks: a build that prompts on stdin cannot skip the prefixes after it"
	else
		not_ok "checks: a build that prompts on stdin cannot skip the prefixes after it (rc=$CHECKS_RC): $(grep -E 'builds at|bisect' <<<"$CHECKS_OUT" | tr '\n' '|')"
	fi

	checks_series maintainers $'mm/new.c\t$a /* FAKE: no-maintainer */\tmm: a file nobody maintains'
	run_checks
	expect_red "checks: a new file no MAINTAINERS entry covers fails maintainers" \
		'maintainers: no MAINTAINERS entry covers mm/new\.c'

	checks_series kdoc-crash $'mm/a.c\t$a /* FAKE: kdoc-crash */\tmm: crash'
	run_checks
	if [ "$CHECKS_RC" -ne 0 ] && grep -q 'analysis of the series failed' <<<"$CHECKS_OUT"; then
		ok "checks: a kernel-doc that cannot run fails the checks"
	else
		not_ok "checks: a crashing kernel-doc passed (rc=$CHECKS_RC): $(tail -n 5 <<<"$CHECKS_OUT" | tr '\n' '|')"
	fi
}

# The shell rules (RULES.md: shellcheck clean), with SC2310 enabled by
# .shellcheckrc: a function called where bash ignores set -e is flagged.
test_shellcheck() {
	local files=() f out rc=0 dir=$SCRATCH/shellcheck
	if ! command -v shellcheck >/dev/null 2>&1; then
		not_ok "shellcheck is missing (data/packages.txt; run 'make deps')"
		return
	fi
	for f in "$REPO_DIR"/harness/* "$REPO_DIR"/tests/run.sh "$REPO_DIR"/.ci/run \
		"$REPO_DIR"/bench/*.sh "$REPO_DIR"/tests/fake-kernel/bin/* \
		"$REPO_DIR"/tests/fake-kernel/tree/scripts/* "$REPO_DIR"/tests/fake-kernel/tree/scripts/kconfig/*; do
		[ -f "$f" ] || continue
		case $(head -n 1 "$f") in
		'#!/usr/bin/env bash' | '#!/bin/sh' | '#!/bin/bash' | '# shellcheck shell=bash') files+=("$f") ;;
		esac
	done
	out=$(cd "$REPO_DIR" && shellcheck "${files[@]}" 2>&1) || rc=$?
	if [ "$rc" -eq 0 ] && [ "${#files[@]}" -gt 20 ]; then
		ok "shellcheck is clean on ${#files[@]} scripts"
	else
		not_ok "shellcheck on ${#files[@]} scripts (rc=$rc): $(grep -E '^In |SC[0-9]+' <<<"$out" | head -n 6 | tr '\n' '|')"
	fi
	mkdir -p "$dir"
	cp "$REPO_DIR/.shellcheckrc" "$dir/"
	printf '#!/usr/bin/env bash\nset -euo pipefail\nf() {\n\tfalse\n\techo after\n}\nf || exit 1\n' >"$dir/suppressed.sh"
	rc=0
	out=$(cd "$dir" && shellcheck suppressed.sh 2>&1) || rc=$?
	if [ "$rc" -ne 0 ] && grep -q 'SC2310' <<<"$out"; then
		ok "shellcheck flags a function called where set -e is ignored (SC2310)"
	else
		not_ok "shellcheck does not flag set -e suppressed in a function call (.shellcheckrc)"
	fi
}

# build.sh on the fake tree: the kernel, modules and every kselftest target
# it touches must build.
test_build() {
	local rc out
	checks_series build-ok $'tools/testing/selftests/mm/t.c\t$a int t;\tselftests/mm: a test' \
		$'tools/testing/selftests/mshv/t.c\t$a int t;\tselftests/mshv: a test'
	rc=0
	out=$(PATH="$FAKE_KERNEL/bin:$PATH" bash -c '"$1/config.sh" debug && "$1/build.sh" debug' _ "$HARNESS_DIR" 2>&1) || rc=$?
	if [ "$rc" -eq 0 ] && grep -q 'building kselftests: mm mshv' <<<"$out" &&
		grep -q '^build-debug	1	0	0' "$LOG_DIR/results.tsv"; then
		ok "build: kernel, modules and both kselftest targets build"
	else
		not_ok "build on a clean fake tree (rc=$rc): $(tail -n 5 <<<"$out" | tr '\n' '|')"
	fi
	checks_series build-ks $'tools/testing/selftests/mm/t.c\t$a int t;\tselftests/mm: a test' \
		$'tools/testing/selftests/mshv/t.c\t$a /* FAKE: build-error */\tselftests/mshv: a broken test'
	rc=0
	out=$(PATH="$FAKE_KERNEL/bin:$PATH" bash -c '"$1/config.sh" debug && "$1/build.sh" debug' _ "$HARNESS_DIR" 2>&1) || rc=$?
	if [ "$rc" -ne 0 ] && grep -q 'build-debug-kselftest failed' <<<"$out"; then
		ok "build: a kselftest target that does not build fails the build, next to one that does"
	else
		not_ok "build with a broken mshv selftest (rc=$rc): $(tail -n 5 <<<"$out" | tr '\n' '|')"
	fi
}

test_export_round_trip
test_mtimes
test_bad_patches
test_bad_arguments
test_vm
test_bench
test_report
test_checks
test_build
test_shellcheck
echo "harness tests: $passed passed, $failed failed, $skipped skipped"
# The scratch runs above pointed LOG_DIR elsewhere; the result row belongs
# to the caller's log.
LOG_DIR=$CALLER_LOG_DIR
RESULTS=$LOG_DIR/results.tsv
record harness-tests "$passed" "$failed" "$skipped" $((SECONDS - start))
[ "$failed" -eq 0 ]
