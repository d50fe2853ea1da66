#!/usr/bin/env bash
# Stage 4, build: the kernel, its modules (installed into a directory the
# VM mounts as /lib/modules), the uapi headers and the kselftests the series
# touches, all through the kernel's own Makefiles, in $TREE/.obj/VARIANT.
#   build.sh [VARIANT]   (default: debug)
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

VARIANT=${1:-${VARIANT:-debug}}

# The kselftest collections the series touches; mshv exists once the
# series adds it.
selftest_targets() {
	local t
	for t in mm mshv; do
		if [ -d "$TREE/tools/testing/selftests/$t" ]; then
			printf '%s ' "$t"
		fi
	done
}

main() {
	local start targets
	check_args
	load_state
	need_tool ccache gcc make flex bison bc rsync depmod
	OBJ=$TREE/.obj/$VARIANT
	[ -f "$OBJ/.config" ] || die "no config in $OBJ: run the config stage first"
	start=$SECONDS
	info "building the $VARIANT kernel (log: $LOG_DIR/build-$VARIANT.log)"
	run_progress "build-$VARIANT" "$OBJ" kmake bzImage modules
	rm -rf "$OBJ/modroot"
	run_logged "build-$VARIANT-modules-install" kmake INSTALL_MOD_PATH="$OBJ/modroot" modules_install
	run_logged "build-$VARIANT-headers" kmake headers_install
	targets=$(selftest_targets)
	# FORCE_TARGETS: without it kselftest's make succeeds when any one
	# target builds, so a broken mshv selftest would pass with mm
	info "building kselftests: $targets"
	run_logged "build-$VARIANT-kselftest" make -C "$TREE/tools/testing/selftests" \
		O="$OBJ" ARCH="$ARCH" TARGETS="$targets" FORCE_TARGETS=1 -j"$JOBS" \
		INSTALL_PATH="$OBJ/kselftest_install" install
	record "build-$VARIANT" 1 0 0 $((SECONDS - start))
}

main "$@"
