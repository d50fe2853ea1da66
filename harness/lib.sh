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

# duration SECONDS: "42s", "5m 51s" or "1h 02m 03s".
duration() {
	local s=$1
	if [ "$s" -ge 3600 ]; then
		printf '%dh %02dm %02ds\n' $((s / 3600)) $((s % 3600 / 60)) $((s % 60))
	elif [ "$s" -ge 60 ]; then
		printf '%dm %02ds\n' $((s / 60)) $((s % 60))
	else
		printf '%ds\n' "$s"
	fi
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

# Progress of long work, as in-place updates on a terminal, else (CI=true
# or no terminal) a plain line every PROGRESS_INTERVAL seconds.
PROGRESS_INTERVAL=${PROGRESS_INTERVAL:-60}
progress_tty() {
	[ -t 2 ] && [ "${CI:-}" != true ]
}

# watch_pid PID INTERVAL CMD...: while PID runs, show the line CMD prints (with
# the time so far) every INTERVAL seconds on a terminal, every
# PROGRESS_INTERVAL seconds (when it changed) otherwise.
watch_pid() {
	local pid=$1 every=$2 start=$SECONDS last=$SECONDS tty=0 line shown="" polled=$SECONDS
	shift 2
	if progress_tty; then tty=1; fi
	while kill -0 "$pid" 2>/dev/null; do
		# a short poll, so that quick work is not held up
		sleep 0.1
		[ $((SECONDS - polled)) -ge "$every" ] || continue
		polled=$SECONDS
		line="$("$@") ($(duration $((SECONDS - start))))"
		if [ "$tty" = 1 ]; then
			printf '\r==> %s\033[K' "$line" >&2
		elif [ $((SECONDS - last)) -ge "$PROGRESS_INTERVAL" ] && [ "${line% (*}" != "$shown" ]; then
			info "$line"
			shown=${line% (*}
			last=$SECONDS
		fi
	done
	if [ "$tty" = 1 ]; then printf '\n' >&2; fi
}

# objects_line NAME DIR: "NAME: N/M objects (P%)": the *.o files in DIR
# against the number the last complete build left there (.harness-objects).
objects_line() {
	local n total=""
	n=$(find "$2" -name '*.o' 2>/dev/null | wc -l)
	if [ -f "$2/.harness-objects" ]; then total=$(cat "$2/.harness-objects"); fi
	if [ -n "$total" ] && [ "$total" -gt 0 ]; then
		printf '%s: %d/%d objects (%d%%)\n' "$1" "$n" "$total" $((n * 100 / total))
	else
		printf '%s: %d objects (no earlier build of this config to compare with)\n' "$1" "$n"
	fi
}

# run_progress NAME DIR CMD...: run_logged, showing how many objects DIR
# holds meanwhile; a build that completes leaves its count for the next.
run_progress() {
	local name=$1 dir=$2 pid rc=0
	shift 2
	mkdir -p "$LOG_DIR"
	"$@" >"$LOG_DIR/$name.log" 2>&1 &
	pid=$!
	watch_pid "$pid" 5 objects_line "$name" "$dir"
	wait "$pid" || rc=$?
	if [ "$rc" -ne 0 ]; then
		tail -n 40 "$LOG_DIR/$name.log" >&2
		die "$name failed (full log: $LOG_DIR/$name.log)"
	fi
	find "$dir" -name '*.o' | wc -l >"$dir/.harness-objects"
}

# One row per stage for the report: stage, passed, failed, skipped, seconds.
record() {
	mkdir -p "$LOG_DIR"
	printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >>"$RESULTS"
}

# obj_dir SRC VARIANT: where SRC is built for VARIANT. Right inside SRC,
# so that kbuild names the sources "../FILE" rather than by absolute path
# (the top Makefile does that for an output directory one level below the
# source). The tree, the checks' worktree and make bench's base worktree
# then compile a file with the same command line, and ccache serves one
# tree's objects to the others: in direct mode when the config is the
# same, from the preprocessed source when only an option the file does
# not use differs (the prefixes before a patch that adds a Kconfig
# symbol). The kernel itself is unchanged: -fmacro-prefix-map strips
# "../" from __FILE__ as it strips an absolute source path.
obj_dir() {
	printf '%s/.obj-%s\n' "$1" "$2"
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

# state_get KEY [FILE]: one value of state.env (FILE, default $STATE) as
# load_state would set it (the values are written with printf %q), or
# nothing when there is no such file yet.
state_get() {
	local file=${2:-$STATE}
	[ -f "$file" ] || return 0
	(
		# shellcheck source=/dev/null
		. "$file"
		printf '%s\n' "${!1:-}"
	)
}
