#!/bin/sh
# merge_config.sh -m -O DIR BASE FRAGMENT... for the harness self-tests:
# appends the fragments, so that every option asked for survives.
[ "$1" = -m ] && shift
if [ "$1" = -O ]; then
	out=$2
	shift 2
fi
shift
cat "$@" >>"$out/.config"
