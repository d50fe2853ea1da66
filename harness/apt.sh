# shellcheck shell=bash
# apt helpers for deps.sh and base.sh: Debian suites beyond bookworm, read
# through a private apt state directory. Sourced after lib.sh, never run.
# private_apt_setup is used as a condition (set -e does not hold there), so
# each of its steps returns on failure itself.

# Debian suites that carry what bookworm lacks (linux-source-7.2,
# virtme-ng, sparse >= 0.6.5~rc1).
EXTRA_SUITES=${EXTRA_SUITES:-"sid trixie-backports"}

# The first Debian archive URI in the host's own apt sources, so that no
# mirror is ever written into the project.
host_mirror() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk '$1 == "deb" && $0 ~ /debian/ && $0 !~ /security/ {
			for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk '/^URIs:/ && $2 ~ /debian/ && $2 !~ /security/ { print $2 }' "$f"
	done
}

# apt with a private state directory: the host's apt configuration and
# package lists are never touched.
private_apt() {
	local dir=$CACHE_DIR/apt
	apt-get -o APT::Sandbox::User=root -o Dir::State="$dir/state" -o Dir::State::Lists="$dir/lists" \
		-o Dir::State::status=/var/lib/dpkg/status -o Dir::Cache="$dir/cache" \
		-o Dir::Etc::SourceList="$dir/sources.list" \
		-o Dir::Etc::SourceParts=/nonexistent "$@"
}

private_apt_setup() {
	local mirror suite dir=$CACHE_DIR/apt
	if [ -s "$dir/sources.list" ] &&
		[ -n "$(find "$dir/lists" -name '*Packages*' -mmin -1440 2>/dev/null)" ]; then
		return 0
	fi
	mirror=$(host_mirror | head -n 1) || return 1
	[ -n "$mirror" ] || return 1
	mkdir -p "$dir/state/lists/partial" "$dir/lists/partial" "$dir/cache/archives/partial" || return 1
	{
		for suite in $EXTRA_SUITES; do
			printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
				"$mirror" "$suite"
			printf 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
				"$mirror" "$suite"
		done
	} >"$dir/sources.list" || return 1
	# shellcheck disable=SC2310 # private_apt is one apt-get command: its status is apt-get's
	private_apt -q update >"$LOG_DIR/apt-update.log" 2>&1 || return 1
}

