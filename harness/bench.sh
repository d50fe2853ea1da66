#!/usr/bin/env bash
# make bench: the cost of faulting userfaultfd memory through
# hmm_range_fault_unlockable(), on a non-debug kernel (lockdep, DEBUG_VM
# and KASAN distort timings), in one VM run per kernel:
#   - ns/page of one unlockable mirror call over N uffd-MISSING pages,
#     against the CPU touching the same pages with the same handler;
#   - ns/page of HMM_DMIRROR_READ on present pages, series against base.
# Prints medians and ratios and writes build/logs/bench/bench.png.
# harness/run bench runs the deps, base and tree stages first.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

BENCH_RUNS=${BENCH_RUNS:-7}
BENCH_LARGE_RUNS=${BENCH_LARGE_RUNS:-3}

# The same config and build stages as make check, on SRC.
build_bench_kernel() {
	local src=$1
	SRC=$src "$HARNESS_DIR/config.sh" bench
	SRC=$src KSELFTESTS=0 "$HARNESS_DIR/build.sh" bench
}

boot() {
	local src=$1 kind=$2 out=$3 obj
	obj=$(obj_dir "$src" bench)
	timeout 3600 vng --disable-kvm -r "$obj/arch/x86/boot/bzImage" --cpus 2 \
		--memory 4G --rwdir "$out" -- bash "$REPO_DIR/bench/guest-bench.sh" \
		"$obj" "$out" "$out/hmm-uffd-bench" "$kind" "$BENCH_RUNS" "$BENCH_LARGE_RUNS" \
		</dev/null >"$LOG_DIR/bench-vm-$kind.log" 2>&1 || true
	[ "$(cat "$out/status-$kind" 2>/dev/null)" = 0 ] ||
		die "the $kind benchmark did not finish: $out/bench-$kind.err, $LOG_DIR/bench-vm-$kind.log"
}

main() {
	local out=$LOG_DIR/bench work start
	check_args
	load_state
	need_tool vng gnuplot gcc
	# The base kernel gets a worktree of its own, so make bench and make
	# check never move each other's sources.
	work=$CACHE_DIR/work/$BASE_ID-bench-base
	if ! git -C "$work" rev-parse --git-dir >/dev/null 2>&1; then
		git -C "$TREE" worktree prune
		git -C "$TREE" worktree add -q --detach "$work" base
	fi
	info "building the non-debug kernels (series and base)"
	build_bench_kernel "$TREE"
	build_bench_kernel "$work"
	rm -rf "$out"
	mkdir -p "$out"
	gcc -O2 -Wall -pthread -I "$TREE/lib" -o "$out/hmm-uffd-bench" "$REPO_DIR/bench/hmm-uffd-bench.c"
	info "running the benchmark ($BENCH_RUNS runs per size) on the series, then on the base"
	start=$SECONDS
	boot "$TREE" series "$out"
	boot "$work" base "$out"
	python3 "$REPO_DIR/bench/summarize.py" "$out/plot.dat" "$out/bench-series.txt" \
		"$out/bench-base.txt" | tee "$out/summary.txt"
	gnuplot -e "set terminal png size 900,520; set output '$out/bench.png';
		set logscale x 2; set xlabel 'pages per call'; set ylabel 'ns per page (median)';
		set key top left; set title 'uffd MISSING faults: unlockable HMM mirror vs CPU';
		plot '$out/plot.dat' using 1:2 with linespoints title 'mirror (hmm\\_range\\_fault\\_unlockable)',
		'' using 1:3 with linespoints title 'CPU touch',
		'' using 1:4 with linespoints title 'present pages, series',
		'' using 1:5 with linespoints title 'present pages, base'"
	info "plot: $out/bench.png"
	record bench-vm 1 0 0 $((SECONDS - start))
}

main "$@"
