#!/usr/bin/env bash
# Stage 6, vm: boot a built kernel with virtme-ng on the host's root
# filesystem and run a guest script in it, by default guest.sh, which runs
# the installed kselftests with the kernel's run_kselftest.sh. Results come
# back through a shared directory, because vng's own exit status says
# nothing: the guest writes OUT/status last, and a run without it failed.
#   vm.sh [VARIANT [GUEST_ARG...]]   (default: debug)
# SRC (default: the tree) and OBJ (default: obj_dir SRC VARIANT) as for
# build.sh. OUT (default: build/logs/vm) receives the results, emptied
# first; the console goes to OUT-console.log. GUEST=SCRIPT runs SCRIPT
# instead of guest.sh, as "SCRIPT OBJ OUT GUEST_ARG..."; it may write what
# it is doing as lines to OUT/progress, which the progress line shows.
# make bench boots its kernels this way (harness/bench.sh).
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

VARIANT=${1:-${VARIANT:-debug}}
VM_MEMORY=${VM_MEMORY:-4G}
VM_CPUS=${VM_CPUS:-2}
VM_TEST_TIMEOUT=${VM_TEST_TIMEOUT:-1200}
VM_TIMEOUT=${VM_TIMEOUT:-2700}

# Two 256 MiB DEVICE_COHERENT chunks for test_hmm, carved out of guest RAM
# above 4 GiB (QEMU puts the RAM that does not fit below the PCI hole there).
# Off unless VM_TEST_HMM_COHERENT=1: on the 7.2.13 base itself the
# coherent variants fail 9 cases, oops, and test_hmm's unload WARNs in
# folio_zone_device_data() for every coherent chunk (data/expected.tsv).
VM_TEST_HMM_COHERENT=${VM_TEST_HMM_COHERENT:-0}
# shellcheck disable=SC2016 # "$" is memmap='s reserved-range syntax
SPM_CMDLINE='memmap=0x10000000$0x100000000 memmap=0x10000000$0x110000000'
SPM_ARGS='spm_addr_dev0=0x100000000 spm_addr_dev1=0x110000000'

# KVM is used only when a guest actually boots with it: nested KVM can
# exist and hang. The answer is kept for this host boot.
kvm_works() {
	local probe dir
	probe=$CACHE_DIR/kvm-probe-$(cat /proc/sys/kernel/random/boot_id)
	if [ ! -f "$probe" ]; then
		echo no >"$probe"
		if [ -w /dev/kvm ]; then
			dir=$(mktemp -d)
			timeout 30 vng -r "$KERNEL" --memory 512M --rwdir "$dir" \
				-- "echo yes > $dir/kvm" </dev/null >/dev/null 2>&1 || true
			[ -f "$dir/kvm" ] && echo yes >"$probe"
			rm -rf "$dir"
		fi
	fi
	[ "$(cat "$probe")" = yes ]
}

# vm_progress: what the guest is at, from the TAP guest.sh writes into
# the shared directory as the tests run, or the last line another guest
# wrote to OUT/progress.
vm_progress() {
	local n last tap=$OUT/kselftest.tap
	if [ -s "$tap" ]; then
		n=$({ grep -cE '^(# )*(ok|not ok) ' "$tap" || true; })
		last=$({ grep -E ' RUN |^(# )*(ok|not ok) |^# selftests: ' "$tap" || true; } | tail -n 1 |
			sed -E 's/^[# ]+//' | tr -s ' ' | cut -c1-100)
		echo "vm: $n results so far; last: ${last:-none yet}"
	elif [ -s "$OUT/progress" ]; then
		echo "vm: $(tail -n 1 "$OUT/progress" | cut -c1-100)"
	else
		echo "vm: booting (console: $CONSOLE)"
	fi
}

# check_vm_args: every variable and path vm.sh is given, before any work.
check_vm_args() {
	local var
	for var in VM_CPUS VM_TEST_TIMEOUT VM_TIMEOUT; do
		[[ "${!var}" =~ ^[1-9][0-9]*$ ]] || die "$var=${!var} is not a positive number"
	done
	[[ "$VM_MEMORY" =~ ^[1-9][0-9]*[MG]$ ]] || die "VM_MEMORY=$VM_MEMORY is not a size like 4G or 512M"
	[[ "$VM_TEST_HMM_COHERENT" =~ ^[01]$ ]] || die "VM_TEST_HMM_COHERENT=$VM_TEST_HMM_COHERENT is not 0 or 1"
	# hmm-tests' random_layouts: how many seeds, from which (README).
	for var in HMM_UFFD_GEN_SEEDS HMM_UFFD_GEN_SEED; do
		[[ "${!var:-1}" =~ ^[0-9]+$ ]] || die "$var=${!var} is not a number"
	done
	[ -d "$SRC" ] || die "SRC=$SRC is not a directory"
	[ -d "$OBJ" ] || die "OBJ=$OBJ is not a directory: run the build stage first"
	[ -f "$OBJ/arch/x86/boot/bzImage" ] || die "no kernel at $OBJ/arch/x86/boot/bzImage: run the build stage first"
	[ -d "$OBJ/modroot/lib/modules" ] || die "no modules in $OBJ/modroot: run the build stage first"
	if [ -z "$OUT" ] || [ "$(realpath -m "$OUT")" = / ]; then
		die "OUT='$OUT' cannot be the results directory (it is emptied first)"
	fi
	[ -f "$GUEST" ] || die "GUEST=$GUEST: no such guest script"
	[ -x "$GUEST" ] || die "GUEST=$GUEST is not executable"
}

main() {
	local pid accel=(--disable-kvm) selection="-t mm:ksft_hmm.sh" start=$SECONDS row=vm-boot guest=() running
	local default_guest=0
	shift || true
	check_args
	load_state
	need_tool vng qemu-system-x86_64 timeout realpath
	SRC=${SRC:-$TREE}
	OBJ=${OBJ:-$(obj_dir "$SRC" "$VARIANT")}
	OUT=${OUT:-$LOG_DIR/vm}
	if [ -z "${GUEST:-}" ]; then
		[ $# -eq 0 ] || die "guest arguments ($*) need GUEST=SCRIPT: guest.sh takes none"
		default_guest=1
		GUEST=$HARNESS_DIR/guest.sh
	fi
	check_vm_args
	# the guest gets absolute paths: it starts wherever vng starts it
	GUEST=$(realpath "$GUEST")
	OBJ=$(realpath "$OBJ")
	KERNEL=$OBJ/arch/x86/boot/bzImage
	OUT=$(realpath -m "$OUT")
	CONSOLE=$OUT-console.log
	if [ "$OUT" != "$(realpath -m "$LOG_DIR/vm")" ]; then row=vm-boot-${OUT##*/}; fi
	local append=() spm=""
	if [ "$VM_TEST_HMM_COHERENT" = 1 ]; then
		append=(--append "$SPM_CMDLINE")
		spm=$SPM_ARGS
	fi
	if [ "$default_guest" = 1 ]; then
		[ -d "$OBJ/kselftest_install" ] || die "no kselftests in $OBJ: run the build stage first"
		if grep -q '^mshv:' "$OBJ/kselftest_install/kselftest-list.txt"; then
			selection+=" -c mshv"
		fi
		running="kselftests $selection"
		guest=(env HMM_UFFD_GEN_SEEDS="${HMM_UFFD_GEN_SEEDS:-}" HMM_UFFD_GEN_SEED="${HMM_UFFD_GEN_SEED:-}"
			"$GUEST" "$OBJ" "$OUT" "$VM_TEST_TIMEOUT" "$selection" "$spm" "$REPO_DIR/data/excluded-tests.tsv")
	else
		running="${GUEST##*/} $*"
		guest=("$GUEST" "$OBJ" "$OUT" "$@")
	fi
	# shellcheck disable=SC2310 # any step of kvm_works that fails means "no KVM", the safe answer
	if kvm_works; then
		accel=()
		info "KVM boots a guest here: using it"
	fi
	rm -rf "$OUT"
	mkdir -p "$OUT"
	info "booting $VARIANT ($OBJ) in QEMU (${accel[*]:-kvm}), running: $running"
	# vng's exit status says nothing: the guest's status file does
	timeout "$VM_TIMEOUT" vng "${accel[@]}" -r "$KERNEL" --cpus "$VM_CPUS" \
		--memory "$VM_MEMORY" --rwdir "$OUT" "${append[@]}" \
		-- "${guest[@]}" </dev/null >"$CONSOLE" 2>&1 &
	pid=$!
	watch_pid "$pid" 10 vm_progress
	wait "$pid" || true
	[ -f "$OUT/status" ] ||
		die "the VM did not finish (timeout ${VM_TIMEOUT}s or crash); console: $CONSOLE"
	record "$row" 1 0 0 $((SECONDS - start))
}

main "$@"
