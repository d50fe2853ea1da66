#!/usr/bin/env bash
# Stage 4, build: the kernel, its modules (installed into a directory the
# VM mounts as /lib/modules), the uapi headers and the kselftests the series
# touches, all through the kernel's own Makefiles, in $(obj_dir $TREE VARIANT).
#   build.sh [VARIANT]   (default: debug)
# SRC (default: the tree) and OBJ (default: obj_dir SRC VARIANT) may point
# elsewhere, as for config.sh; KSELFTESTS=0 builds only the kernel and its
# modules (make bench).
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

VARIANT=${1:-${VARIANT:-debug}}
KSELFTESTS=${KSELFTESTS:-1}

# The kselftest collections the series touches; mshv exists once the
# series adds it.
selftest_targets() {
	local t
	for t in mm mshv; do
		if [ -d "$SRC/tools/testing/selftests/$t" ]; then
			printf '%s ' "$t"
		fi
	done
}

main() {
	local start targets name
	check_args
	load_state
	need_tool ccache gcc make flex bison bc rsync depmod
	SRC=${SRC:-$TREE}
	OBJ=${OBJ:-$(obj_dir "$SRC" "$VARIANT")}
	name=build-$VARIANT
	if [ "$SRC" != "$TREE" ]; then name=$name-${SRC##*/}; fi
	[ -f "$OBJ/.config" ] || die "no config in $OBJ: run the config stage first"
	start=$SECONDS
	info "building the $VARIANT kernel in $OBJ (log: $LOG_DIR/$name.log)"
	run_progress "$name" "$OBJ" kmake bzImage modules
	rm -rf "$OBJ/modroot"
	run_logged "$name-modules-install" kmake INSTALL_MOD_PATH="$OBJ/modroot" modules_install
	if [ "$KSELFTESTS" = 1 ]; then
		run_logged "$name-headers" kmake headers_install
		targets=$(selftest_targets)
		# FORCE_TARGETS: without it kselftest's make succeeds when any one
		# target builds, so a broken mshv selftest would pass with mm
		info "building kselftests: $targets"
		run_logged "$name-kselftest" make -C "$SRC/tools/testing/selftests" \
			O="$OBJ" ARCH="$ARCH" TARGETS="$targets" FORCE_TARGETS=1 -j"$JOBS" \
			INSTALL_PATH="$OBJ/kselftest_install" install
	fi
	record "$name" 1 0 0 $((SECONDS - start))
}

main "$@"
