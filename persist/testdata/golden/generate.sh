#!/bin/sh
# Writes the golden checkpoints of this build's format and engine versions:
# every preset trained natively to step $AT, and the fingerprint of an
# uninterrupted run of it to step $TO, into format<F>-engine<E>/ here.
# TestGolden (persist/golden_test.go) resumes each one to $TO and compares.
# Run from the repository root: sh persist/testdata/golden/generate.sh
# (`go generate ./persist` does the same). It only adds what is missing:
# a new format or engine version gets a new folder, a new preset a new file,
# and what is committed is never rewritten.
set -eu
AT=230 # mid-epoch for every preset
TO=400
go build -o bin/playground ./cmd/playground
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fp() { bin/playground ckpt inspect "$1" | sed -n 's/^fingerprint: *//p'; }
field() { bin/playground ckpt inspect "$1" | sed -n "s/^$2: *//p"; }
dir=
for p in $(bin/playground presets); do
	f=$(bin/playground train --preset "$p" --steps $AT --out "$tmp/at" 2>/dev/null | tail -n 1)
	if [ -z "$dir" ]; then
		v=$(field "$f" format) # playground-checkpoint v1
		dir=persist/testdata/golden/format${v##* v}-engine$(field "$f" engine)
		mkdir -p "$dir"
		[ -e "$dir/FINGERPRINTS" ] ||
			echo "# preset step fingerprint (the file's state, then an uninterrupted run's)" > "$dir/FINGERPRINTS"
	fi
	[ ! -e "$dir/$p.safetensors" ] || continue
	g=$(bin/playground train --preset "$p" --steps $TO --out "$tmp/to" 2>/dev/null | tail -n 1)
	cp "$f" "$dir/$p.safetensors"
	echo "$p $AT $(fp "$f")" >> "$dir/FINGERPRINTS"
	echo "$p $TO $(fp "$g")" >> "$dir/FINGERPRINTS"
done
ls -l "$dir"
