#!/usr/bin/env bash
# Runs inside the VM that vm.sh boots for bench.sh: OBJ the build
# directory, OUT the shared results directory of this kernel, BENCH the
# benchmark binary, KIND "series" or "base", RUNS per size. Writes
# OUT/status last: 0 when every run succeeded.
set -uo pipefail
# shellcheck source=../harness/guest-lib.sh
. "$(dirname "$0")/../harness/guest-lib.sh"

OBJ=$1
OUT=$2
BENCH=$3
KIND=$4
RUNS=$5
# 65536 pages take minutes per run under TCG: fewer runs there.
LARGE_RUNS=${6:-$RUNS}
SIZES="32 512 4096 65536"

guest_modules "$OBJ"
load_test_hmm "$OUT"
rc=0
modes=present
[ "$KIND" = series ] && modes="present mirror cpu walks"
for n in $SIZES; do
	for mode in $modes; do
		runs=$RUNS
		[ "$n" -le 4096 ] || runs=$LARGE_RUNS
		# A count, the same on every run: once is enough.
		[ "$mode" != walks ] || runs=1
		echo "$KIND: $mode, $n pages, $runs run(s)" >>"$OUT/progress"
		"$BENCH" "$mode" "$n" "$runs" >>"$OUT/raw.txt" 2>>"$OUT/bench.err" || rc=1
	done
done
sed "s/^/$KIND /" "$OUT/raw.txt" >"$OUT/bench.txt"
guest_finish "$OUT" "$rc"
