#!/bin/sh
# fuzz.sh - the real fuzzing (not part of "make check", which only replays
# the corpus): builds the libFuzzer harness with clang, AddressSanitizer
# and UndefinedBehaviorSanitizer, then runs each target for a bounded time
# on a scratch copy of its committed corpus (t/fuzz/corpus/TARGET).
#
#   t/fuzz/fuzz.sh [-t SECONDS] [-o DIR] [TARGET...]
#
# TARGET: spf arf stamp dns (default: all).  SECONDS per target (default
# 180).  DIR holds the objects, the binaries fuzz-TARGET, the grown
# corpora, the logs TARGET.log and any crash-TARGET-* artifacts (default
# ./fuzz-out).  CLANG names the compiler (default clang).  Exits 1 when a
# target crashed, 77 when clang cannot build a libFuzzer binary.
set -u
secs=180 out=fuzz-out
while getopts t:o: opt; do
	case $opt in
	t) secs=$OPTARG ;;
	o) out=$OPTARG ;;
	*) echo "usage: $0 [-t SECONDS] [-o DIR] [TARGET...]" >&2
	   exit 2 ;;
	esac
done
shift $((OPTIND - 1))
targets=${*:-spf arf stamp dns}
src=$(cd "$(dirname "$0")/../.." && pwd) || exit 2
CLANG=${CLANG:-clang}
mkdir -p "$out/obj" || exit 2
out=$(cd "$out" && pwd)

san="address,undefined"
cflags="-g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=undefined
    -std=c11 -D_GNU_SOURCE -I$src/src/lib -I$src/src/milter -I$src/t/fuzz"
echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);
int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)
{ (void)d; (void)n; return 0; }' >"$out/probe.c"
if ! "$CLANG" -fsanitize=fuzzer,$san "$out/probe.c" -o "$out/probe" \
    >/dev/null 2>&1; then
	echo "SKIP: $CLANG cannot build a libFuzzer binary (apt-get install clang)"
	exit 77
fi

# Our code under test, instrumented for coverage; libspf2, OpenSSL and
# libc are the system's (not instrumented, but ASan still checks what
# our code does with their memory).
rm -f "$out/libfuzzed.a"
for f in "$src"/src/lib/*.c "$src"/src/milter/spf*.c \
    "$src"/t/fuzz/fuzz_targets.c; do
	o=$out/obj/$(basename "$f" .c).o
	# shellcheck disable=SC2086
	"$CLANG" $cflags -fsanitize=fuzzer-no-link,$san -c "$f" -o "$o" ||
	    exit 2
	ar rc "$out/libfuzzed.a" "$o" || exit 2
done
for t in $targets; do
	# shellcheck disable=SC2086
	"$CLANG" $cflags -fsanitize=fuzzer,$san -DFUZZ_TARGET="fuzz_$t" \
	    "$src/t/fuzz/fuzz_libfuzzer.c" "$out/libfuzzed.a" \
	    -lspf2 -lssl -lcrypto -lpthread -o "$out/fuzz-$t" || exit 2
done

rc=0
for t in $targets; do
	rm -rf "$out/corpus-$t"
	mkdir -p "$out/corpus-$t"
	cp "$src/t/fuzz/corpus/$t"/* "$out/corpus-$t/" 2>/dev/null
	echo "fuzz-$t: $secs s"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    "$out/fuzz-$t" -max_total_time="$secs" -timeout=10 \
	    -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
	    -artifact_prefix="$out/crash-$t-" "$out/corpus-$t" \
	    >"$out/$t.log" 2>&1
	st=$?
	grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+ *DONE' \
	    "$out/$t.log" | sed "s/^/  /"
	if [ $st != 0 ] || ls "$out/crash-$t-"* >/dev/null 2>&1; then
		echo "  CRASH: see $out/$t.log and $out/crash-$t-*"
		rc=1
	else
		echo "  no crash; corpus $(ls "$out/corpus-$t" | wc -l) inputs"
	fi
done
exit $rc
