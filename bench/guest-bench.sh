#!/usr/bin/env bash
# Runs inside the VM for bench.sh: OBJ the build directory, OUT the shared
# results directory, BENCH the benchmark binary, KIND "series" or "base",
# RUNS per size.
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
modprobe test_hmm >"$OUT/modprobe-$KIND.log" 2>&1
rc=0
modes=present
[ "$KIND" = series ] && modes="present mirror cpu walks"
for n in $SIZES; do
	for mode in $modes; do
		runs=$RUNS
		[ "$n" -le 4096 ] || runs=$LARGE_RUNS
		# A count, the same on every run: once is enough.
		[ "$mode" != walks ] || runs=1
		"$BENCH" "$mode" "$n" "$runs" >>"$OUT/raw-$KIND.txt" 2>>"$OUT/bench-$KIND.err" || rc=1
	done
done
sed "s/^/$KIND /" "$OUT/raw-$KIND.txt" >"$OUT/bench-$KIND.txt"
echo "$rc" >"$OUT/status-$KIND"
