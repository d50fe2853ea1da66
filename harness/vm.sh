#!/usr/bin/env bash
# Stage 6, vm: boot the built kernel with virtme-ng on the host's root
# filesystem and run the installed kselftests with the kernel's
# run_kselftest.sh (guest.sh). Results, TAP and dmesg, come back through a
# shared directory, because vng's own exit status says nothing.
#   vm.sh [VARIANT]   (default: debug)
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

# vm_progress TAP: what the guest is at, from the TAP it writes into the
# shared directory as the tests run.
vm_progress() {
	local n last
	if [ ! -s "$1" ]; then
		echo "vm: booting (console: $LOG_DIR/vm-console.log)"
		return
	fi
	n=$({ grep -cE '^(# )*(ok|not ok) ' "$1" || true; })
	last=$({ grep -E ' RUN |^(# )*(ok|not ok) |^# selftests: ' "$1" || true; } | tail -n 1 |
		sed -E 's/^[# ]+//' | tr -s ' ' | cut -c1-100)
	echo "vm: $n results so far; last: ${last:-none yet}"
}

main() {
	local out pid accel=(--disable-kvm) selection="-t mm:ksft_hmm.sh" start=$SECONDS
	check_args
	load_state
	need_tool vng qemu-system-x86_64 timeout
	# hmm-tests' random_layouts: how many seeds, from which (README).
	local var
	for var in HMM_UFFD_GEN_SEEDS HMM_UFFD_GEN_SEED; do
		[[ "${!var:-1}" =~ ^[0-9]+$ ]] || die "$var=${!var} is not a number"
	done
	OBJ=$(obj_dir "$TREE" "$VARIANT")
	KERNEL=$OBJ/arch/x86/boot/bzImage
	[ -f "$KERNEL" ] || die "no kernel at $KERNEL: run the build stage first"
	[ -d "$OBJ/kselftest_install" ] || die "no kselftests in $OBJ: run the build stage first"
	if grep -q '^mshv:' "$OBJ/kselftest_install/kselftest-list.txt"; then
		selection+=" -c mshv"
	fi
	# shellcheck disable=SC2310 # any step of kvm_works that fails means "no KVM", the safe answer
	if kvm_works; then
		accel=()
		info "KVM boots a guest here: using it"
	fi
	local append=() spm=""
	if [ "$VM_TEST_HMM_COHERENT" = 1 ]; then
		append=(--append "$SPM_CMDLINE")
		spm=$SPM_ARGS
	fi
	out=$LOG_DIR/vm
	rm -rf "$out"
	mkdir -p "$out"
	info "booting $VARIANT in QEMU (${accel[*]:-kvm}), running: $selection"
	# vng's exit status says nothing: the guest's status file does
	timeout "$VM_TIMEOUT" vng "${accel[@]}" -r "$KERNEL" --cpus "$VM_CPUS" \
		--memory "$VM_MEMORY" --rwdir "$out" "${append[@]}" \
		-- env HMM_UFFD_GEN_SEEDS="${HMM_UFFD_GEN_SEEDS:-}" HMM_UFFD_GEN_SEED="${HMM_UFFD_GEN_SEED:-}" \
		bash "$HARNESS_DIR/guest.sh" "$OBJ" "$out" "$VM_TEST_TIMEOUT" \
		"$selection" "$spm" "$REPO_DIR/data/excluded-tests.tsv" </dev/null >"$LOG_DIR/vm-console.log" 2>&1 &
	pid=$!
	watch_pid "$pid" 10 vm_progress "$out/kselftest.tap"
	wait "$pid" || true
	[ -f "$out/status" ] ||
		die "the VM did not finish (timeout ${VM_TIMEOUT}s or crash); console: $LOG_DIR/vm-console.log"
	record "vm-boot" 1 0 0 $((SECONDS - start))
}

main "$@"
