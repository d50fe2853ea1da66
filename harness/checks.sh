#!/usr/bin/env bash
# Stage 5, checks: what the series adds over its base.
#   checkpatch --strict        every patch
#   bisect                     every prefix of the series builds (kernel and
#                              the kselftests it touches)
#   sparse, W=1                the touched objects, base against series
#   coccicheck, kernel-doc     the touched files, base against series
#   arm64                      the touched objects cross-built for arm64
# Builds happen in a detached worktree of the tree, so the main tree keeps
# its mtimes. A result is stored per commit and config, so a rerun with the
# same series repeats no work.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

SPARSE=${SPARSE:-$CACHE_DIR/tools/sparse/sparse}
RESULT_CACHE=$CACHE_DIR/results
passed=0
failed=0

ok() {
	passed=$((passed + 1))
	printf '  ok    %s\n' "$*"
}

not_ok() {
	failed=$((failed + 1))
	printf '  FAIL  %s\n' "$*"
}

# cached KEY CMD...: run CMD once per KEY; later runs replay its output.
# Only a pass is kept: a failure (or a run killed half-way) runs again.
# CMD runs in a subshell with set -e in force: called from a condition
# (`if cached`, `cached || ...`) bash would ignore set -e for the whole
# function, so a failing step in the middle would not count. The exit
# status is in CACHED_RC; cached itself always succeeds. While CMD runs,
# its progress is shown as the objects in WATCH_DIR, named WATCH_NAME.
cached() {
	local key=$1 file pid name=${WATCH_NAME:-$1} dir=${WATCH_DIR:-$WORK_OBJ}
	shift
	file=$RESULT_CACHE/$key
	mkdir -p "$RESULT_CACHE"
	if [ -f "$file.pass" ]; then
		cat "$file.pass"
		CACHED_RC=0
		return 0
	fi
	# in the background, so that the build's progress can be shown (the
	# objects in WATCH_DIR); a background subshell keeps set -e
	(
		set -e
		"$@"
	) >"$file.out" 2>&1 &
	pid=$!
	watch_pid "$pid" 5 objects_line "$name" "$dir"
	CACHED_RC=0
	wait "$pid" || CACHED_RC=$?
	cat "$file.out"
	if [ "$CACHED_RC" -eq 0 ]; then
		mv "$file.out" "$file.pass"
		if [ -d "$dir" ]; then find "$dir" -name '*.o' | wc -l >"$dir/.harness-objects"; fi
	else
		rm -f "$file.out"
	fi
}

# What a cached result depends on besides the commit and the config: the
# code of the checks (this file, lib.sh's kmake) and the tools that run
# them, so that a fixed or changed check never replays an old verdict.
code_key() {
	local tool
	{
		cat "$HARNESS_DIR/checks.sh" "$HARNESS_DIR/lib.sh"
		for tool in "$SPARSE" spatch gcc aarch64-linux-gnu-gcc; do
			# only an input of the key: a missing tool is reported where
			# it is needed (sed reads all, so no SIGPIPE as with head)
			"$tool" --version 2>&1 | sed -n 1p || true
		done
	} | sha256sum | cut -c1-12
}

work_checkout() {
	git -C "$WORK" checkout -q --detach "$1"
}

setup_work() {
	if ! git -C "$WORK" rev-parse --git-dir >/dev/null 2>&1; then
		rm -rf "$WORK"
		mkdir -p "${WORK%/*}"
		git -C "$TREE" worktree prune
		git -C "$TREE" worktree add -q --detach "$WORK" base
	fi
}

touched_files() {
	git -C "$TREE" diff --name-only base "$HEAD" -- "$@"
}

# Kernel C files the series touches (not tools/, not scripts/), as objects.
# The objects the touched .c files build. A .c file that its directory's
# Makefile does not name is #included by another one (a KUnit suite at the
# end of the file it tests) and is analysed as part of that object.
touched_objects() {
	local f base
	touched_files '*.c' ':!tools/' ':!scripts/' ':!samples/' | while IFS= read -r f; do
		base=${f##*/}
		if git -C "$TREE" show "$HEAD:${f%/*}/Makefile" 2>/dev/null |
			grep -qw "${base%.c}\.o"; then
			echo "${f%.c}.o"
		fi
	done
}

# fixes_unknown PATCH: the Fixes: tags of PATCH that name no commit of
# data/upstream-commits.tsv, with that commit's exact subject.
fixes_unknown() {
	local line
	{ grep -E '^Fixes:' "$1" || true; } | while IFS= read -r line; do
		if ! awk -F'\t' -v line="$line" '
			!/^#/ && NF >= 2 && line == "Fixes: " $1 " (\"" $2 "\")" { found = 1 }
			END { exit !found }' "$REPO_DIR/data/upstream-commits.tsv"; then
			printf '%s\n' "$line"
		fi
	done
}

check_checkpatch() {
	local p f out rc spell=() unknown
	for f in /usr/share/codespell/dictionary.txt \
		/usr/lib/python3/dist-packages/codespell_lib/data/dictionary.txt; do
		if [ -f "$f" ]; then
			spell=(--codespell --codespellfile "$f")
			break
		fi
	done
	# a spelling check that silently does not run counts as failed
	if [ "${#spell[@]}" -eq 0 ]; then
		not_ok "checkpatch --codespell: no codespell dictionary (run 'make deps')"
	fi
	while IFS= read -r p; do
		# Debian's python3 first: checkpatch's spdxcheck.py needs its
		# python3-ply and python3-git, not some other python3 on PATH.
		rc=0
		# FILE_PATH_CHANGES asks of every new file whether MAINTAINERS
		# needs updating; check_maintainers answers that for real.
		# UNKNOWN_COMMIT_ID: the base has no upstream history to look a
		# Fixes: id up in; fixes_unknown checks them against our list.
		out=$(cd "$TREE" && PATH=/usr/bin:$PATH perl scripts/checkpatch.pl --strict \
			--ignore FILE_PATH_CHANGES,UNKNOWN_COMMIT_ID "${spell[@]}" "$p" 2>&1) || rc=$?
		unknown=$(fixes_unknown "$p")
		printf '%s\n' "$out" >"$LOG_DIR/checkpatch-${p##*/}.log"
		if [ -n "$unknown" ]; then
			not_ok "checkpatch --strict ${p##*/}: a Fixes: tag names no commit of data/upstream-commits.tsv: $(head -n 1 <<<"$unknown")"
		elif grep -q '^Traceback' <<<"$out"; then
			not_ok "checkpatch --strict ${p##*/}: a checkpatch helper crashed (log: $LOG_DIR/checkpatch-${p##*/}.log)"
		elif [ "$rc" -eq 0 ] && grep -qE '^total: 0 errors, 0 warnings, 0 checks|has no obvious style problems' <<<"$out"; then
			ok "checkpatch --strict ${p##*/}"
		else
			not_ok "checkpatch --strict ${p##*/} (exit $rc): $(grep '^total:' <<<"$out" || echo 'no summary line')"
			{ grep -E '^(ERROR|WARNING|CHECK):' <<<"$out" || true; } | head -n 10 | sed 's/^/        /'
		fi
	done < <(find "$PATCH_DIR" -maxdepth 1 -name '[0-9][0-9][0-9][0-9]-*.patch' ! -name '0000-cover-letter.patch' | sort)
}

# Every file the series adds has a maintainer in MAINTAINERS, as it stands
# after the series: the question checkpatch's FILE_PATH_CHANGES asks.
check_maintainers() {
	local f who missing=()
	work_checkout "$HEAD"
	while IFS= read -r f; do
		who=$(cd "$WORK" && perl scripts/get_maintainer.pl --no-git --no-git-fallback \
			--no-l --no-r --no-rolestats -f "$f" 2>&1) || who=
		[ -n "$who" ] || missing+=("$f")
	done < <(git -C "$TREE" diff --diff-filter=A --name-only base "$HEAD")
	if [ "${#missing[@]}" -eq 0 ]; then
		ok "maintainers: every file the series adds has one"
	else
		not_ok "maintainers: no MAINTAINERS entry covers ${missing[*]}"
	fi
}

# build_prefix COMMIT: the kernel, its modules and the kselftests the
# commit's prefix of the series touches. Runs only under cached(), where
# set -e holds, so every step's status counts (shellcheck's SC2310 flags
# any call from a condition, where it would not).
build_prefix() {
	local commit=$1 targets
	work_checkout "$commit"
	# The series' config, less what this prefix's Kconfig does not know
	# yet: a symbol a later patch adds is then NEW to kbuild's syncconfig,
	# which would prompt for it on stdin.
	cp "$WORK_OBJ/.config.series" "$WORK_OBJ/.config"
	SRC=$WORK OBJ=$WORK_OBJ kmake olddefconfig
	SRC=$WORK OBJ=$WORK_OBJ kmake bzImage modules
	targets=$(git -C "$WORK" diff --name-only base "$commit" -- tools/testing/selftests |
		awk -F/ 'NF > 4 && $4 != "Makefile" { print $4 }' | sort -u | tr '\n' ' ')
	if [ -n "$targets" ]; then
		SRC=$WORK OBJ=$WORK_OBJ kmake headers_install
		# FORCE_TARGETS: without it kselftest's make fails only when
		# every target fails
		make -C "$WORK/tools/testing/selftests" O="$WORK_OBJ" ARCH="$ARCH" \
			TARGETS="$targets" FORCE_TARGETS=1 -j"$JOBS" all
	fi
}

check_bisect() {
	local commit cfg subject log i=0 n
	# config.sh is a no-op when the config matches configs/; a changed
	# fragment must reach the prefix builds too. It runs on the whole
	# series, whose Kconfig knows every option configs/ asks for.
	work_checkout "$HEAD"
	SRC=$WORK "$HARNESS_DIR/config.sh" debug
	cp "$WORK_OBJ/.config" "$WORK_OBJ/.config.series"
	cfg=$(sha256sum <"$WORK_OBJ/.config" | cut -c1-12)
	n=$(git -C "$TREE" rev-list --count "base..$HEAD")
	while IFS= read -r commit; do
		i=$((i + 1))
		subject=$(git -C "$TREE" log -1 --format=%s "$commit")
		log=$LOG_DIR/bisect-${commit:0:12}.log
		WATCH_NAME="bisect [$i/$n] ${commit:0:12}" WATCH_DIR=$WORK_OBJ \
			cached "bisect-$commit-$cfg-$CODE_KEY" build_prefix "$commit" >"$log" </dev/null
		if [ "$CACHED_RC" -eq 0 ]; then
			ok "builds at ${commit:0:12} $subject"
		else
			not_ok "build fails at ${commit:0:12} $subject (log: $log)"
			tail -n 15 "$log" | sed 's/^/        /'
		fi
	done < <(git -C "$TREE" rev-list --reverse "base..$HEAD")
	# Nothing in the loop may end it early (a build that read its stdin
	# once ate the last commit): every prefix is checked, or that fails.
	[ "$i" -eq "$n" ] || not_ok "bisect: checked $i of $n prefixes"
}

# Diagnostics with line and column numbers dropped, so that a warning the
# base already had is not new because the series moved it.
normalize() {
	{ grep -E '(warning|error):' || true; } | sed -E 's/:[0-9]+(:[0-9]+)?:/:/'
}

# build_failed REV WHAT RC: a build of the touched objects that fails is a
# diagnostic of the series (the messages say why), but the base must build
# them, or there is nothing to compare against.
build_failed() {
	if [ "$1" = base ]; then
		echo "the base does not build the touched objects ($2, make exit $3)" >&2
		return 1
	fi
	echo "error: $2 of the touched objects failed (make exit $3)"
}

# analyze REV: sparse + W=1 (x86_64), arm64 build, kernel-doc and
# coccicheck on the touched files as they are at REV. Runs under cached()
# (set -e): a tool that fails fails the analysis, it does not print nothing.
analyze() {
	local rev=$1 objs=() files=() o out rc
	work_checkout "$rev"
	for o in $(touched_objects); do
		if [ -f "$WORK/${o%.o}.c" ]; then objs+=("$o"); fi
	done
	for o in $(touched_files '*.c' '*.h' ':!tools/' ':!scripts/'); do
		if [ -f "$WORK/$o" ]; then files+=("$o"); fi
	done
	echo "== sparse-w1"
	if [ "${#objs[@]}" -gt 0 ]; then
		# W=1 and C=2 rebuild the objects even when they are up to date;
		# -k so that one object's error does not hide the others'
		rc=0
		# shellcheck disable=SC2310 # kmake is one make command: its status is make's
		out=$(SRC=$WORK OBJ=$WORK_OBJ kmake -k W=1 C=2 CHECK="$SPARSE" "${objs[@]}" 2>&1) || rc=$?
		{
			normalize <<<"$out"
			if [ "$rc" -ne 0 ]; then
				build_failed "$rev" "the x86_64 W=1 C=2 build" "$rc"
			else
				# kbuild prints "CHECK file" for every file it gave to sparse
				for o in "${objs[@]}"; do
					grep -qE "^ +CHECK +.*${o%.o}\.c\$" <<<"$out" ||
						{ echo "sparse did not check ${o%.o}.c" >&2; return 1; }
				done
			fi
		} | sort
	fi
	echo "== arm64"
	if [ "${#objs[@]}" -gt 0 ]; then
		rc=0
		# shellcheck disable=SC2310 # kmake is one make command: its status is make's
		out=$(SRC=$WORK OBJ=$WORK_ARM64 KARCH=arm64 kmake -k "${objs[@]}" 2>&1) || rc=$?
		{
			normalize <<<"$out"
			if [ "$rc" -ne 0 ]; then build_failed "$rev" "the arm64 build" "$rc"; fi
		} | sort
	fi
	echo "== kernel-doc"
	if [ "${#files[@]}" -gt 0 ]; then
		# 7.2's kernel-doc (Python) says "Warning: FILE:LINE message" and
		# exits 0 with warnings, non-zero when it could not run
		out=$(cd "$WORK" && ./scripts/kernel-doc -none -Wall "${files[@]}" 2>&1)
		{ grep -iE '^(warning|error)' <<<"$out" || true; } | sed -E 's/:[0-9]+ / /' | sort
	fi
	echo "== coccicheck"
	# scripts/coccicheck's own single-file mode (what C=1 CHECK= runs for
	# each object; under C=2 it would also check the prepare objects). It
	# runs spatch once per semantic patch, one after another, and exits
	# non-zero when spatch fails; xargs then fails too. That is most of an
	# analysis' time, so the files run side by side, each reporting into
	# a file of its own so that reports never interleave.
	if [ "${#objs[@]}" -gt 0 ]; then
		rm -rf "$WORK_OBJ/coccicheck"
		mkdir -p "$WORK_OBJ/coccicheck"
		# shellcheck disable=SC2016 # $1 and $2 are the inner shell's
		printf '%s\n' "${objs[@]%.o}" | (cd "$WORK" && xargs -P "$JOBS" -I '{}' \
			sh -c 'C=1 MODE=report srctree=. scripts/coccicheck "$1.c" >"$2/$(echo "$1" | tr / _)" 2>&1' \
			sh '{}' "$WORK_OBJ/coccicheck")
		cat "$WORK_OBJ/coccicheck"/* | { grep -E '^[^ ]+\.[ch]:[0-9]+' || true; } |
			sed -E 's/:[0-9]+(:[0-9]+(-[0-9]+)?)?:/:/' | sort
	fi
	echo "== end"
}

section() {
	sed -n "/^== $2\$/,/^== /p" "$1" | sed '1d;$d'
}

check_analyzers() {
	local base_out head_out tool new cfg
	"$SPARSE" --version >/dev/null 2>&1 ||
		die "sparse is missing at $SPARSE: run 'make deps' (a check that silently skips counts as failed)"
	CHECK=$SPARSE "$TREE/scripts/checker-valid.sh" "$SPARSE" -v >/dev/null 2>&1 ||
		die "$SPARSE is too old for this kernel (scripts/checker-valid.sh); the kernel would silently skip it"
	need_tool spatch ocamlfind aarch64-linux-gnu-gcc
	SRC=$WORK "$HARNESS_DIR/config.sh" debug
	SRC=$WORK "$HARNESS_DIR/config.sh" arm64
	cfg=$(cat "$WORK_OBJ/.config" "$WORK_ARM64/.config" | sha256sum | cut -c1-12)
	base_out=$LOG_DIR/analyze-base.log
	head_out=$LOG_DIR/analyze-series.log
	# the base is analyzed for the files the series touches, so it is keyed
	# by the series too; the tools' own output goes to the logs, the
	# diagnostics to the sections compared below
	WATCH_NAME="analysis of the base (arm64 objects)" WATCH_DIR=$WORK_ARM64 \
		cached "analyze-base-$HEAD-$cfg-$CODE_KEY" analyze base >"$base_out"
	[ "$CACHED_RC" -eq 0 ] || die "analysis of the base failed (log: $base_out)"
	WATCH_NAME="analysis of the series (arm64 objects)" WATCH_DIR=$WORK_ARM64 \
		cached "analyze-series-$HEAD-$cfg-$CODE_KEY" analyze "$HEAD" >"$head_out"
	[ "$CACHED_RC" -eq 0 ] || die "analysis of the series failed (log: $head_out)"
	for tool in sparse-w1 arm64 kernel-doc coccicheck; do
		grep -qx "== $tool" "$base_out" || die "$base_out has no $tool section"
		grep -qx "== $tool" "$head_out" || die "$head_out has no $tool section"
		new=$(comm -13 <(section "$base_out" "$tool") <(section "$head_out" "$tool"))
		if [ -z "$new" ]; then
			ok "$tool: no new diagnostics"
		else
			not_ok "$tool: $(wc -l <<<"$new") new diagnostic(s)"
			printf '%s\n' "$new" | head -n 20 | sed 's/^/        /'
		fi
	done
}

main() {
	local start=$SECONDS
	check_args
	load_state
	need_tool git perl make ccache
	WORK=$CACHE_DIR/work/$BASE_ID-checks
	WORK_OBJ=$(obj_dir "$WORK" debug)
	WORK_ARM64=$(obj_dir "$WORK" arm64)
	HEAD=$(git -C "$TREE" rev-parse series)
	if [ "$HEAD" = "$(git -C "$TREE" rev-parse base)" ]; then
		info "checks: the series is empty, nothing to check"
		record checks 0 0 0 $((SECONDS - start))
		return
	fi
	setup_work
	CODE_KEY=$(code_key)
	info "checks on $(git -C "$TREE" rev-list --count "base..$HEAD") patch(es)"
	check_checkpatch
	check_maintainers
	check_bisect
	check_analyzers
	work_checkout "$HEAD"
	record checks "$passed" "$failed" 0 $((SECONDS - start))
	[ "$failed" -eq 0 ]
}

main "$@"
