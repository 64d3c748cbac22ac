#!/bin/sh
# replay.sh - replays the committed fuzz corpus through every target
# (bounded, deterministic; the real fuzzing is described in
# doc/portcullis-milter.8 under FUZZING).
set -e
: "${top_srcdir:=.}" "${top_builddir:=.}"
for t in arf stamp spf dns; do
	"$top_builddir/t/fuzz/fuzz_replay" "$t" "$top_srcdir/t/fuzz/corpus/$t"
done
