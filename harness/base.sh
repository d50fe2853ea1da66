#!/usr/bin/env bash
# Stage 1, base: find the pristine Linux 7.2.y source the series applies to
# and unpack it once into the cache. Sources, in order: KSRC (the user's own
# tree, never modified), BASE_DEB, ../shared/base, then Debian's
# linux-source-7.2 package fetched by name from the suites that carry it.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=apt.sh
. "$HARNESS_DIR/apt.sh"

check_version() {
	local dir=$1 version patchlevel
	if [ ! -f "$dir/Makefile" ] || [ ! -d "$dir/mm" ]; then
		die "$dir does not look like a Linux source tree"
	fi
	version=$(sed -n 's/^VERSION = //p' "$dir/Makefile")
	patchlevel=$(sed -n 's/^PATCHLEVEL = //p' "$dir/Makefile")
	[ "$version.$patchlevel" = 7.2 ] ||
		die "$dir is Linux $version.$patchlevel; the series targets 7.2.y"
}

# fetch_deb: the path of linux-source-7.2 downloaded with apt. Used as a
# condition, so each step returns on failure itself.
fetch_deb() {
	local out=$CACHE_DIR/downloads
	mkdir -p "$out" "$LOG_DIR" || return 1
	# shellcheck disable=SC2310 # each step of private_apt_setup returns on failure
	private_apt_setup || return 1
	# shellcheck disable=SC2310 # private_apt is one apt-get command: its status is apt-get's
	(cd "$out" && private_apt -q download linux-source-7.2) >"$LOG_DIR/apt-download.log" 2>&1 || return 1
	find "$out" -name 'linux-source-7.2_*_all.deb' | sort -V | tail -n 1
}

find_deb() {
	local deb
	if [ -n "${BASE_DEB:-}" ]; then
		[ -f "$BASE_DEB" ] || die "BASE_DEB=$BASE_DEB does not exist"
		echo "$BASE_DEB"
		return
	fi
	deb=$(find "$SHARED_BASE_DIR" -maxdepth 1 -name 'linux-source-7.2_*_all.deb' 2>/dev/null | sort -V | tail -n 1)
	if [ -n "$deb" ]; then
		(cd "$SHARED_BASE_DIR" && grep " ${deb##*/}\$" SHA256SUMS | sha256sum --quiet -c -) ||
			die "$deb does not match $SHARED_BASE_DIR/SHA256SUMS"
		echo "$deb"
		return
	fi
	info "no base package in $SHARED_BASE_DIR; fetching linux-source-7.2 with apt ($EXTRA_SUITES)"
	# shellcheck disable=SC2310 # each step of fetch_deb returns on failure
	if deb=$(fetch_deb) && [ -n "$deb" ]; then
		echo "$deb"
		return
	fi
	die "no Linux 7.2 base: tried BASE_DEB (unset), $SHARED_BASE_DIR/linux-source-7.2_*_all.deb (none) and apt ($EXTRA_SUITES via the host's Debian mirror; see $LOG_DIR/apt-*.log). Provide one with BASE_DEB=/path/to/linux-source-7.2_*_all.deb or KSRC=/path/to/linux-7.2.y"
}

unpack_deb() {
	local deb=$1 dest=$2 tmp
	[ -f "$dest/.unpacked" ] && return
	need_tool dpkg-deb xz tar
	info "unpacking ${deb##*/} into $dest"
	tmp=$dest.tmp
	rm -rf "$tmp"
	mkdir -p "$tmp"
	dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/src/linux-source-7.2.tar.xz |
		tar -xJ -C "$tmp" --strip-components=1
	rm -rf "$dest"
	mv "$tmp" "$dest"
	touch "$dest/.unpacked"
}

main() {
	local deb version
	check_args
	mkdir -p "$LOG_DIR"
	if [ -n "${KSRC:-}" ]; then
		KSRC=$(cd "$KSRC" && pwd)
		check_version "$KSRC"
		BASE_SRC=$KSRC
		BASE_ID=ksrc-$(printf '%s' "$KSRC" | sha256sum | cut -c1-12)
	else
		deb=$(find_deb)
		version=${deb##*/linux-source-7.2_}
		version=${version%_all.deb}
		BASE_ID=debian-$version
		BASE_SRC=$CACHE_DIR/base/$BASE_ID/linux
		unpack_deb "$deb" "$BASE_SRC"
		check_version "$BASE_SRC"
	fi
	printf 'BASE_ID=%q\nBASE_SRC=%q\nTREE=%q\n' "$BASE_ID" "$BASE_SRC" \
		"$CACHE_DIR/tree/$BASE_ID" >"$STATE"
	info "base: $BASE_ID ($BASE_SRC)"
}

main "$@"
