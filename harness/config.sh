#!/usr/bin/env bash
# Stage 3, config: a base config target plus the fragments of one variant
# (configs/variants), merged with the kernel's own merge_config.sh. Fails
# when an option that configs/ asks for did not survive olddefconfig, since
# a test would then silently run without what it needs.
#   config.sh [VARIANT]   (default: debug); SRC/OBJ may point elsewhere.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

VARIANT=${1:-${VARIANT:-debug}}

fragment_path() {
	if [ -f "$REPO_DIR/configs/$1.config" ]; then
		echo "$REPO_DIR/configs/$1.config"
	elif [ -f "${SRC:-$TREE}/kernel/configs/$1.config" ]; then
		echo "${SRC:-$TREE}/kernel/configs/$1.config"
	else
		die "config fragment '$1' is neither in configs/ nor in kernel/configs/"
	fi
}

main() {
	local name frags=() ours=() want lost base
	check_args
	load_state
	KARCH=$(variant_field "$VARIANT" arch)
	base=$(variant_field "$VARIANT" base)
	for name in $(variant_field "$VARIANT" fragments); do
		frags+=("$(fragment_path "$name")")
		[ -f "$REPO_DIR/configs/$name.config" ] && ours+=("$REPO_DIR/configs/$name.config")
	done
	OBJ=${OBJ:-$(obj_dir "${SRC:-$TREE}" "$VARIANT")}
	want=$(printf '%s\n' "$KARCH $base" | cat - "${frags[@]}" | sha256sum | cut -d' ' -f1)
	if [ -f "$OBJ/.config" ] && [ "$(cat "$OBJ/.config-fragments" 2>/dev/null)" = "$want" ]; then
		info "config $VARIANT is up to date"
		return
	fi
	mkdir -p "$OBJ"
	info "configuring $VARIANT: $base ${frags[*]##*/}"
	run_logged "config-$VARIANT" kmake "$base"
	run_logged "config-$VARIANT-merge" "${SRC:-$TREE}/scripts/kconfig/merge_config.sh" -m \
		-O "$OBJ" "$OBJ/.config" "${frags[@]}"
	run_logged "config-$VARIANT-olddefconfig" kmake olddefconfig
	lost=$(grep -h -e '^CONFIG_' -e '^# CONFIG_.* is not set' "${ours[@]}" | sort -u |
		while IFS= read -r line; do
			grep -qxF "$line" "$OBJ/.config" || printf '  %s\n' "$line"
		done)
	[ -z "$lost" ] || die "options requested by configs/ did not survive olddefconfig:
$lost"
	printf '%s\n' "$want" >"$OBJ/.config-fragments"
}

main "$@"
