#!/usr/bin/env bash
# Stage 2, tree: a git work tree holding the base as one commit (tag
# "base") and patches/ applied on top with git am, on branch "series".
#   tree.sh          make the tree match patches/ (a no-op when it does)
#   tree.sh export   write the tree's series back to patches/
# Files whose content a run does not change keep their mtimes, so kernel
# rebuilds stay incremental.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

STAMP_NAME=mshv-uffd-applied
COVER=0000-cover-letter.patch

series_patches() {
	find "$PATCH_DIR" -maxdepth 1 -name '[0-9][0-9][0-9][0-9]-*.patch' ! -name "$COVER" | sort
}

series_hash() {
	local p
	series_patches | while IFS= read -r p; do
		printf '%s\n' "${p##*/}"
		cat "$p"
	done | sha256sum | cut -d' ' -f1
}

create_tree() {
	local tmp=$TREE.tmp
	info "creating the work tree $TREE from $BASE_SRC"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	if [ -n "${KSRC:-}" ] && git -C "$BASE_SRC" rev-parse --git-dir >/dev/null 2>&1; then
		[ -z "$(git -C "$BASE_SRC" status --porcelain --untracked-files=no)" ] ||
			warn "KSRC has uncommitted changes; only its HEAD is used"
		git -C "$BASE_SRC" archive --format=tar HEAD | tar -x -C "$tmp"
	else
		cp -a "$BASE_SRC/." "$tmp/"
		rm -f "$tmp/.unpacked"
	fi
	if [ -f "$tmp/.config" ] || [ -d "$tmp/include/config" ]; then
		# Built in place: out-of-tree builds refuse such a source tree.
		make -C "$tmp" -s mrproper
	fi
	git -C "$tmp" init -q -b series
	printf '/.obj-*/\n' >>"$tmp/.git/info/exclude"
	git -C "$tmp" add -A -f
	GIT_AUTHOR_DATE=2026-01-01T00:00:00Z GIT_COMMITTER_DATE=2026-01-01T00:00:00Z \
		git -C "$tmp" "${GIT_IDENT[@]}" commit -q -m "base: $BASE_ID"
	git -C "$tmp" tag base
	mv "$tmp" "$TREE"
}

# Keep whatever the tree holds that patches/ does not, so that running the
# harness never loses a developer's unexported work.
backup_tree() {
	local ref wip
	ref=refs/mshv-uffd/backup/$(date +%Y%m%d-%H%M%S)
	wip=$("${GIT_TREE[@]}" stash create 2>/dev/null || true)
	"${GIT_TREE[@]}" update-ref "$ref" "${wip:-HEAD}"
	warn "the tree had commits or changes not in patches/; saved as $ref (make export writes the tree to patches/)"
}

# Name the patch and the file when git am fails, then leave the tree on
# the base so that no half-applied series is built.
am_failed() {
	local patch=$1 log=$2 file
	"${GIT_TREE[@]}" am --abort >/dev/null 2>&1 || true
	"${GIT_TREE[@]}" reset -q --hard base
	rm -f "$TREE/.git/$STAMP_NAME"
	if grep -qE 'Patch format detection failed|does not look like|Patch is empty|missing author' "$log"; then
		die "malformed patch: $patch ($(grep -m1 -E 'Patch|author|look' "$log"))"
	fi
	file=$(sed -nE 's/^error: patch failed: ([^:]+):.*/\1/p; s/^CONFLICT \([^)]*\): Merge conflict in (.*)/\1/p; s/^error: ([^:]+): does not exist in index/\1/p' "$log" | head -n 1)
	die "patch ${patch##*/} does not apply${file:+: $file} (git am log: $log)"
}

apply_series() {
	local old_head new_head p log=$LOG_DIR/git-am.log mtimes
	old_head=$("${GIT_TREE[@]}" rev-parse HEAD)
	mtimes=$(mktemp)
	# path, blob and mtime of every file the old series touched
	"${GIT_TREE[@]}" diff --name-only base "$old_head" | while IFS= read -r p; do
		[ -f "$TREE/$p" ] || continue
		printf '%s\t%s\t%s\n' "$("${GIT_TREE[@]}" rev-parse "$old_head:$p")" \
			"$(stat -c %Y "$TREE/$p")" "$p"
	done >"$mtimes"
	"${GIT_TREE[@]}" checkout -q series 2>/dev/null || "${GIT_TREE[@]}" checkout -q -b series
	"${GIT_TREE[@]}" reset -q --hard base
	# patches/ is the truth now, its cover letter text included.
	"${GIT_TREE[@]}" config --unset branch.series.description || true
	series_patches | while IFS= read -r p; do
		"${GIT_TREE[@]}" am -q --3way --committer-date-is-author-date "$p" >"$log" 2>&1 ||
			am_failed "$p" "$log"
	done
	new_head=$("${GIT_TREE[@]}" rev-parse HEAD)
	while IFS=$'\t' read -r blob mtime p; do
		if [ "$("${GIT_TREE[@]}" rev-parse "$new_head:$p" 2>/dev/null)" = "$blob" ]; then
			touch -d "@$mtime" "$TREE/$p"
		fi
	done <"$mtimes"
	rm -f "$mtimes"
	printf '%s %s\n' "$(series_hash)" "$new_head" >"$TREE/.git/$STAMP_NAME"
	info "applied $(series_patches | wc -l) patch(es) from $PATCH_DIR"
}

sync_tree() {
	local stamp="" want
	need_tool git
	[ -d "$TREE/.git" ] || create_tree
	"${GIT_TREE[@]}" rev-parse -q --verify base >/dev/null || die "$TREE has no 'base' tag; remove it and rerun"
	[ -f "$TREE/.git/$STAMP_NAME" ] && stamp=$(cat "$TREE/.git/$STAMP_NAME")
	want="$(series_hash) $("${GIT_TREE[@]}" rev-parse HEAD)"
	if [ "$stamp" = "$want" ] &&
		[ -z "$("${GIT_TREE[@]}" status --porcelain --untracked-files=no)" ]; then
		info "tree already matches patches/"
		return
	fi
	if [ -n "$stamp" ] && { [ "${stamp#* }" != "$("${GIT_TREE[@]}" rev-parse HEAD)" ] ||
		[ -n "$("${GIT_TREE[@]}" status --porcelain --untracked-files=no)" ]; }; then
		backup_tree
	fi
	apply_series
}

# The cover letter's subject and text, as format-patch wants them in a
# branch description: first paragraph the subject, then the blurb. The
# text is edited with `git branch --edit-description series` in the tree
# (format-patch's own source for it); without one, the text already in
# patches/ is kept.
cover_description() {
	local cover=$PATCH_DIR/$COVER desc
	desc=$("${GIT_TREE[@]}" config branch.series.description || true)
	if [ -n "$desc" ]; then
		printf '%s\n' "$desc"
		return
	fi
	if [ ! -f "$cover" ]; then
		printf '*** SUBJECT HERE ***\n\n*** BLURB HERE ***\n'
		return
	fi
	awk '
		!body && /^Subject: / { sub(/^Subject: \[[^]]*\] */, ""); subj = $0; insubj = 1; next }
		!body && insubj && /^[ \t]/ { sub(/^[ \t]+/, " "); subj = subj $0; next }
		!body && /^$/ { body = 1; print subj; print ""; next }
		!body { insubj = 0; next }
		/^[^ ].* \([0-9]+\):$/ { exit }
		{ lines[++n] = $0 }
		END { while (n > 0 && lines[n] == "") n--; for (i = 1; i <= n; i++) print lines[i] }
	' "$cover"
}

export_series() {
	local out n date
	[ -d "$TREE/.git" ] || die "no tree at $TREE: run 'make tree' first"
	n=$("${GIT_TREE[@]}" rev-list --count base..series)
	[ "$n" -gt 0 ] || die "branch 'series' in $TREE has no commits on top of base"
	out=$(mktemp -d)
	date=$("${GIT_TREE[@]}" log -1 --format=%aD series)
	# The cover letter is the series author's, dated like its last patch.
	GIT_COMMITTER_DATE=$date "${GIT_TREE[@]}" -c user.name="$("${GIT_TREE[@]}" log -1 --format=%an series)" \
		-c user.email="$("${GIT_TREE[@]}" log -1 --format=%ae series)" \
		-c branch.series.description="$(cover_description)" \
		format-patch -q --zero-commit --no-signature --cover-letter \
		--cover-from-description=subject -o "$out" base..series
	mkdir -p "$PATCH_DIR"
	find "$PATCH_DIR" -maxdepth 1 -name '*.patch' | while IFS= read -r p; do
		[ -f "$out/${p##*/}" ] || rm -f "$p"
	done
	for p in "$out"/*.patch; do
		cmp -s "$p" "$PATCH_DIR/${p##*/}" || cp "$p" "$PATCH_DIR/${p##*/}"
	done
	rm -rf "$out"
	printf '%s %s\n' "$(series_hash)" "$("${GIT_TREE[@]}" rev-parse series)" >"$TREE/.git/$STAMP_NAME"
	info "exported $n patch(es) and the cover letter to $PATCH_DIR"
}

check_args
load_state
# git in the tree as the harness (an array, not a function: a function
# called from a condition would run with set -e ignored)
GIT_TREE=(git -C "$TREE" "${GIT_IDENT[@]}")
case "${1:-sync}" in
sync) sync_tree ;;
export) export_series ;;
*) die "unknown tree action '$1' (sync or export)" ;;
esac
