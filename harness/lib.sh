# shellcheck shell=bash
# Shared by every stage: paths, argument checking, logging and the result
# table. Sourced, never run.

HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$HARNESS_DIR")
CACHE_DIR=${MSHV_UFFD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mshv-uffd}
LOG_DIR=${LOG_DIR:-$REPO_DIR/build/logs}
RESULTS=$LOG_DIR/results.tsv
PATCH_DIR=${PATCH_DIR:-$REPO_DIR/patches}
SHARED_BASE_DIR=${SHARED_BASE_DIR:-$REPO_DIR/../shared/base}
JOBS=${JOBS:-$(($(nproc) + 1))}
ARCH=${ARCH:-x86_64}
export CCACHE_DIR=${CCACHE_DIR:-$CACHE_DIR/ccache}

# The identity and dates that make the base commit, and so every commit
# on top of it, the same on every machine.
# shellcheck disable=SC2034 # used by the stages that source this file
GIT_IDENT=(-c user.name="mshv-uffd harness" -c user.email="harness@mshv-uffd.example.org")

die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

info() {
	printf '==> %s\n' "$*" >&2
}

warn() {
	printf 'warning: %s\n' "$*" >&2
}

need_tool() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 ||
			die "missing tool '$tool': run 'make deps' (or install it) and retry"
	done
}

# Reject variable values the harness does not support, before any work.
check_args() {
	case "$ARCH" in
	x86_64) ;;
	*) die "ARCH=$ARCH is not supported: the VM stage boots x86_64 only (arm64 is cross-built by 'make check')" ;;
	esac
	[[ "$JOBS" =~ ^[1-9][0-9]*$ ]] || die "JOBS=$JOBS is not a positive number"
	if [ -n "${KSRC:-}" ] && [ ! -d "$KSRC" ]; then
		die "KSRC=$KSRC is not a directory"
	fi
}

# Run a command with its output in build/logs/NAME.log; on failure show
# the end of the log and stop.
run_logged() {
	local name=$1
	shift
	mkdir -p "$LOG_DIR"
	if ! "$@" >"$LOG_DIR/$name.log" 2>&1; then
		tail -n 40 "$LOG_DIR/$name.log" >&2
		die "$name failed (full log: $LOG_DIR/$name.log)"
	fi
}

# One row per stage for the report: stage, passed, failed, skipped, seconds.
record() {
	mkdir -p "$LOG_DIR"
	printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >>"$RESULTS"
}

# Build in $TREE (or $SRC when set) into $OBJ for $KARCH.
kmake() {
	local cross=
	[ "${KARCH:-$ARCH}" = arm64 ] && cross=aarch64-linux-gnu-
	make -C "${SRC:-$TREE}" O="$OBJ" ARCH="${KARCH:-$ARCH}" CROSS_COMPILE="$cross" \
		CC="ccache ${cross}gcc" \
		KBUILD_BUILD_TIMESTAMP=2026-01-01 KBUILD_BUILD_USER=harness \
		KBUILD_BUILD_HOST=harness -j"$JOBS" "$@"
}

# The base and tree stages publish what later stages need in this file,
# so that every stage can also run on its own.
STATE=$LOG_DIR/state.env
# Variant lines of configs/variants: "name: arch base fragment...".
variant_field() {
	local field=$2 line
	line=$(sed -n "s/^$1: //p" "$REPO_DIR/configs/variants")
	[ -n "$line" ] || die "unknown config variant '$1' (see configs/variants)"
	# shellcheck disable=SC2086 # the line is a word list
	set -- $line
	case "$field" in
	arch) echo "$1" ;;
	base) echo "$2" ;;
	fragments) shift 2; echo "$*" ;;
	esac
}

load_state() {
	[ -f "$STATE" ] || die "no base/tree yet: run 'make tree' first"
	# shellcheck source=/dev/null
	. "$STATE"
}

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
	[ -s "$dir/sources.list" ] && [ -n "$(find "$dir/lists" -name '*Packages*' -mmin -1440 2>/dev/null)" ] && return 0
	mirror=$(host_mirror | head -n 1)
	[ -n "$mirror" ] || return 1
	mkdir -p "$dir/state/lists/partial" "$dir/lists/partial" "$dir/cache/archives/partial"
	: >"$dir/sources.list"
	for suite in $EXTRA_SUITES; do
		printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
			"$mirror" "$suite" >>"$dir/sources.list"
		printf 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
			"$mirror" "$suite" >>"$dir/sources.list"
	done
	private_apt -q update >"$LOG_DIR/apt-update.log" 2>&1
}

