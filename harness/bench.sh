#!/usr/bin/env bash
# make bench: the cost of faulting userfaultfd memory through
# hmm_range_fault_unlockable(), on a non-debug kernel (lockdep, DEBUG_VM
# and KASAN distort timings), in one VM run per kernel:
#   - ns/page of one unlockable mirror call over N uffd-MISSING pages,
#     against the CPU touching the same pages with the same handler;
#   - ns/page of HMM_DMIRROR_READ on present pages, series against base.
# Each action is one stage of harness/run bench, after deps, base and tree:
#   bench.sh build series|base   config and build that kernel (the base in
#                                a worktree of its own, with the series'
#                                config)
#   bench.sh vm series|base      boot it (vm.sh) and run bench/guest-bench.sh
#   bench.sh summary             print medians and ratios, write
#                                build/logs/bench/bench.png
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

BENCH_RUNS=${BENCH_RUNS:-7}
BENCH_LARGE_RUNS=${BENCH_LARGE_RUNS:-3}
BENCH_DIR=$LOG_DIR/bench

# kind_src KIND: the source tree of KIND's kernel. The base has a
# worktree of its own, so make bench and make check never move each
# other's sources; `bench.sh build base` makes it.
kind_src() {
	case "$1" in
	series) echo "$TREE" ;;
	base) echo "$CACHE_DIR/work/$BASE_ID-bench-base" ;;
	*) die "unknown kernel '$1' (series or base)" ;;
	esac
}

# base_config SRC OBJ: the base's config is the series' bench config less
# the options the base's Kconfig does not know (the series adds some, such
# as its KUnit suite), as checks.sh does for the prefixes of the series:
# configs/ asks for them, so config.sh would refuse the base, and the two
# kernels differ in nothing else.
base_config() {
	local src=$1 obj=$2 series lost
	series=$(obj_dir "$TREE" bench)/.config
	[ -f "$series" ] || die "no bench config of the series in $series: run 'bench.sh build series' first"
	if cmp -s "$series" "$obj/.config.series" && [ -f "$obj/.config" ]; then
		info "config bench of the base is up to date"
		return
	fi
	mkdir -p "$obj"
	cp "$series" "$obj/.config"
	SRC=$src OBJ=$obj run_logged config-bench-base kmake olddefconfig
	lost=$(grep '^CONFIG_' "$series" | grep -vxF -f "$obj/.config" | paste -sd ' ' || true)
	info "config bench of the base: the series' less ${lost:-nothing}"
	cp "$series" "$obj/.config.series"
}

# The same config and build stages as make check, into obj_dir SRC bench.
build_bench_kernel() {
	local src obj
	src=$(kind_src "$1")
	obj=$(obj_dir "$src" bench)
	if [ "$1" = base ]; then
		if ! git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
			git -C "$TREE" worktree prune
			git -C "$TREE" worktree add -q --detach "$src" base
		fi
		base_config "$src" "$obj"
	else
		SRC=$src OBJ=$obj "$HARNESS_DIR/config.sh" bench
	fi
	SRC=$src OBJ=$obj KSELFTESTS=0 "$HARNESS_DIR/build.sh" bench
}

# boot KIND: the benchmark in a VM on KIND's kernel (vm.sh), its results
# in build/logs/bench/KIND.
boot() {
	local src obj out=$BENCH_DIR/$1
	src=$(kind_src "$1")
	obj=$(obj_dir "$src" bench)
	need_tool gcc
	# a summary of an earlier run must not stand for this one
	rm -f "$BENCH_DIR/summary.txt" "$BENCH_DIR/plot.dat" "$BENCH_DIR/bench.png"
	mkdir -p "$BENCH_DIR"
	gcc -O2 -Wall -pthread -I "$TREE/lib" -o "$BENCH_DIR/hmm-uffd-bench" "$REPO_DIR/bench/hmm-uffd-bench.c"
	info "running the benchmark on the $1 ($BENCH_RUNS runs per size, $BENCH_LARGE_RUNS at 65536 pages)"
	SRC=$src OBJ=$obj OUT=$out GUEST=$REPO_DIR/bench/guest-bench.sh \
		VM_TIMEOUT=${VM_TIMEOUT:-3600} "$HARNESS_DIR/vm.sh" bench \
		"$BENCH_DIR/hmm-uffd-bench" "$1" "$BENCH_RUNS" "$BENCH_LARGE_RUNS"
	[ "$(cat "$out/status")" = 0 ] ||
		die "the $1 benchmark failed: $out/bench.err, $out/modprobe-test_hmm.log, $out-console.log"
}

summary() {
	local out=$BENCH_DIR kind
	need_tool gnuplot
	for kind in series base; do
		[ -s "$out/$kind/bench.txt" ] || die "no results of the $kind kernel in $out/$kind: run 'bench.sh vm $kind' first"
	done
	python3 "$REPO_DIR/bench/summarize.py" "$out/plot.dat" "$out/series/bench.txt" \
		"$out/base/bench.txt" | tee "$out/summary.txt"
	gnuplot -e "set terminal png size 900,520; set output '$out/bench.png';
		set logscale x 2; set xlabel 'pages per call'; set ylabel 'ns per page (median)';
		set key top left; set title 'uffd MISSING faults: unlockable HMM mirror vs CPU';
		plot '$out/plot.dat' using 1:2 with linespoints title 'mirror (hmm\\_range\\_fault\\_unlockable)',
		'' using 1:3 with linespoints title 'CPU touch',
		'' using 1:4 with linespoints title 'present pages, series',
		'' using 1:5 with linespoints title 'present pages, base'"
	info "plot: $out/bench.png"
}

main() {
	local action=${1:-} var
	check_args
	for var in BENCH_RUNS BENCH_LARGE_RUNS; do
		[[ "${!var}" =~ ^[1-9][0-9]*$ ]] || die "$var=${!var} is not a positive number"
	done
	load_state
	case "$action" in
	build) build_bench_kernel "${2:-}" ;;
	vm) boot "${2:-}" ;;
	summary) summary ;;
	*) die "unknown bench action '$action' (build series|base, vm series|base, summary)" ;;
	esac
}

main "$@"
