#!/usr/bin/env bash
# Install what the harness needs: bookworm packages (data/packages.txt),
# virtme-ng (Debian sid, Architecture: all) and sparse >= 0.6.5~rc1, built
# from Debian sid's source package because bookworm's 0.6.4 is too old for
# Linux 7.2 (the kernel then silently checks nothing). Only what is missing
# is installed.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=apt.sh
. "$HARNESS_DIR/apt.sh"

SUDO=()
[ "$(id -u)" -eq 0 ] || SUDO=(sudo)

missing_packages() {
	local pkg
	grep -v -e '^#' -e '^$' "$REPO_DIR/data/packages.txt" | while IFS= read -r pkg; do
		[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" = "install ok installed" ] ||
			echo "$pkg"
	done
}

install_packages() {
	local missing
	missing=$(missing_packages | tr '\n' ' ')
	[ -n "$missing" ] || return 0
	info "installing: $missing"
	run_logged apt-update "${SUDO[@]}" apt-get update -q
	# shellcheck disable=SC2086 # a word list of package names
	run_logged apt-install "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends $missing
}

install_virtme_ng() {
	local dir=$CACHE_DIR/downloads deb
	command -v vng >/dev/null 2>&1 && return 0
	info "installing virtme-ng from Debian ($EXTRA_SUITES)"
	# shellcheck disable=SC2310 # each step of private_apt_setup returns on failure
	private_apt_setup || die "cannot read the Debian suites $EXTRA_SUITES (log: $LOG_DIR/apt-update.log)"
	mkdir -p "$dir"
	# shellcheck disable=SC2310 # private_apt is one apt-get command: its status is apt-get's
	(cd "$dir" && private_apt -q download virtme-ng) >"$LOG_DIR/apt-virtme-ng.log" 2>&1 ||
		die "virtme-ng could not be downloaded (log: $LOG_DIR/apt-virtme-ng.log)"
	deb=$(find "$dir" -name 'virtme-ng_*_all.deb' | sort -V | tail -n 1)
	run_logged dpkg-virtme-ng "${SUDO[@]}" dpkg -i "$deb"
}

install_sparse() {
	local dest=$CACHE_DIR/tools/sparse src
	if [ -x "$dest/sparse" ]; then
		return 0
	fi
	info "building sparse from Debian's source package ($EXTRA_SUITES)"
	# shellcheck disable=SC2310 # each step of private_apt_setup returns on failure
	private_apt_setup || die "cannot read the Debian suites $EXTRA_SUITES (log: $LOG_DIR/apt-update.log)"
	rm -rf "$dest.src"
	mkdir -p "$dest.src"
	# shellcheck disable=SC2310 # private_apt is one apt-get command: its status is apt-get's
	(cd "$dest.src" && private_apt -q source sparse) >"$LOG_DIR/apt-sparse.log" 2>&1 ||
		die "the sparse source package could not be fetched (log: $LOG_DIR/apt-sparse.log)"
	src=$(find "$dest.src" -mindepth 1 -maxdepth 1 -type d -name 'sparse-*' | head -n 1)
	[ -n "$src" ] || die "no sparse source tree in $dest.src"
	run_logged sparse-build make -C "$src" -j"$JOBS" CC=gcc HAVE_LLVM=no HAVE_GTK=no HAVE_SQLITE=no sparse
	mkdir -p "$dest"
	cp "$src/sparse" "$dest/sparse"
	rm -rf "$dest.src"
}

main() {
	check_args
	mkdir -p "$LOG_DIR" "$CACHE_DIR"
	command -v apt-get >/dev/null 2>&1 || die "apt-get not found: the harness installs its dependencies on Debian 12"
	install_packages
	install_virtme_ng
	install_sparse
}

main "$@"
