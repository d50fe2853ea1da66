# shellcheck shell=bash
# Shared by the guest scripts, guest.sh and bench/guest-bench.sh, which
# vm.sh runs inside the VM as "SCRIPT OBJ OUT ARGS...". Sourced, never run.
# Like those scripts, nothing here stops at a failing step: the host
# learns that the guest finished only from OUT/status.

# guest_modules OBJ: this kernel's modules over /lib/modules, since the
# host's /lib/modules, which the VM sees, does not hold them.
guest_modules() {
	mount --bind "$1/modroot/lib/modules" /lib/modules
}

# load_test_hmm OUT [PARAM...]: load test_hmm, its messages in OUT.
load_test_hmm() {
	local out=$1
	shift
	modprobe test_hmm "$@" >"$out/modprobe-test_hmm.log" 2>&1
}

# guest_finish OUT STATUS: the kernel log, then OUT/status, last of all:
# vm.sh takes a run without it for a VM that died.
guest_finish() {
	dmesg >"$1/dmesg.txt"
	echo "$2" >"$1/status"
}
