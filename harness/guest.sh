#!/usr/bin/env bash
# Runs inside the VM (see vm.sh): OBJ is the build directory, OUT the
# host directory that receives the results. Every step runs even when an
# earlier one failed, and "status" is written last, so the host can tell a
# finished run from a VM that died.
set -uo pipefail
# shellcheck source=guest-lib.sh
. "$(dirname "$0")/guest-lib.sh"

OBJ=$1
OUT=$2
TIMEOUT=$3
SELECTION=$4
TEST_HMM_ARGS=${5:-}
EXCLUDED=${6:-}

guest_modules "$OBJ"

# The kselftest tree is on the read-only host filesystem; some tests write
# next to themselves.
cp -a "$OBJ/kselftest_install" /tmp/kselftest

# Tests the VM must not run (data/excluded-tests.tsv): the binary, in this
# private copy only, is wrapped to pass kselftest_harness's -T NAME.
while IFS=$'\t' read -r bin name _; do
	case "$bin" in "" | "#"*) continue ;; esac
	[ -x "/tmp/kselftest/$bin" ] || continue
	[ -e "/tmp/kselftest/$bin.real" ] || mv "/tmp/kselftest/$bin" "/tmp/kselftest/$bin.real"
	# shellcheck disable=SC2016 # the wrapper's own "$0" and "$@"
	args=$(sed -n 's/^exec "$0.real"\(.*\) "$@"$/\1/p' "/tmp/kselftest/$bin" 2>/dev/null)
	# shellcheck disable=SC2016 # the wrapper's own "$0" and "$@"
	printf '#!/bin/sh\nexec "$0.real"%s -T %s "$@"\n' "$args" "$name" >"/tmp/kselftest/$bin"
	chmod +x "/tmp/kselftest/$bin"
done <"$EXCLUDED"

# Swap for the MADV_PAGEOUT cases of hmm-tests: the VM has no disk, so a
# zram device. Without it those cases skip, which the report does not
# accept, so a failure here shows up there with the reason in swap.log.
{
	echo 512M >/sys/block/zram0/disksize &&
		mkswap /dev/zram0 && swapon /dev/zram0 && cat /proc/swaps
} >"$OUT/swap.log" 2>&1

# Huge pages for hmm-tests' hugetlb cases (mixed_hugetlb_* map eight):
# run_vmtests.sh -t hmm reserves none.
echo 32 >/proc/sys/vm/nr_hugepages

# hmm-tests' evicted_file_read needs a file system whose page cache can be
# dropped: /tmp is tmpfs, the shared result directory is not.
mkdir -p "$OUT/files"
export HMM_UFFD_FILE_DIR="$OUT/files"

# test_hmm with special-purpose memory (reserved by memmap= on the kernel
# command line) enables the DEVICE_COHERENT variants of hmm-tests;
# test_hmm.sh's own modprobe then finds it loaded. vm.sh passes the
# parameters only when asked to (see there).
if [ -n "$TEST_HMM_ARGS" ]; then
	# shellcheck disable=SC2086 # a list of module parameters
	load_test_hmm "$OUT" $TEST_HMM_ARGS
fi

# mm:ksft_hmm.sh is run_vmtests.sh -t hmm: test_hmm.sh loads test_hmm,
# runs hmm-tests and unloads it.
# shellcheck disable=SC2086 # SELECTION is a list of run_kselftest.sh options
# Through a pipe: a test that reopens /dev/stdout must not get a fresh file
# offset and overwrite what the runner wrote before it.
(cd /tmp/kselftest && ./run_kselftest.sh -o "$TIMEOUT" $SELECTION) 2>&1 |
	cat >"$OUT/kselftest.tap"

# Checks of the VM as a whole, in TAP for the same report.
{
	echo "TAP version 13"
	echo "1..2"
	if grep -q '^test_hmm ' /proc/modules; then
		echo "not ok 1 vm.test_hmm_unloaded # test_hmm still loaded after hmm-tests"
	else
		echo "ok 1 vm.test_hmm_unloaded"
	fi
	# mshv_root is built in, so that its KUnit suite runs at boot; its init
	# must then have failed off Hyper-V, leaving no /dev/mshv.
	if ! grep -q 'mshv_root\.ko' "/lib/modules/$(uname -r)/modules.builtin"; then
		echo "not ok 2 vm.no_dev_mshv_without_hyperv # mshv_root is not built in"
	elif [ -e /dev/mshv ]; then
		echo "not ok 2 vm.no_dev_mshv_without_hyperv # /dev/mshv exists"
	else
		echo "ok 2 vm.no_dev_mshv_without_hyperv"
	fi
} >"$OUT/vm-checks.tap"

# The KUnit suites built into the kernel ran at boot: each one's results
# are a KTAP document of their own. One file for the report; a kernel
# without them leaves it empty, which the report's case floor refuses.
mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug
for results in /sys/kernel/debug/kunit/*/results; do
	[ -f "$results" ] && cat "$results"
done >"$OUT/kunit.tap"

guest_finish "$OUT" finished
