#!/bin/bash
# run-tests.sh - the whole test suite, as CI runs it: a -Werror build and
# "make check", then an AddressSanitizer + UndefinedBehaviorSanitizer
# build and "make check" again.  Each build lives in its own directory
# under build/, so the source tree stays clean.  Run as root from the
# top of the tree (the end-to-end tests start private Postfix instances).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)

autoreconf -fi >/dev/null

run_build() {	# name configure-args...
	local name=$1
	shift
	echo "=== build $name: configure $*"
	rm -rf "build/$name"
	mkdir -p "build/$name"
	(cd "build/$name" && "$top/configure" -q "$@" && make -s -j"$jobs")
	echo "=== make check ($name)"
	if ! (cd "build/$name" && make -s check -j"$jobs"); then
		# Show why: automake keeps each test's output in its .log file.
		find "build/$name" -name '*.log' ! -name config.log ! -name test-suite.log \
			-exec grep -lE '^(FAIL|ERROR)' {} + 2>/dev/null | while read -r f; do
			echo "--- $f"; tail -n 60 "$f"; done
		find "build/$name" -name test-suite.log -exec cat {} +
		return 1
	fi
	sed -n '1,12p' "build/$name/test-suite.log"
}

# The totals of both runs as one plain line: "N passed, N failed".
summary() {
	awk '/^# PASS:/ {p += $3} /^# (FAIL|ERROR|XPASS):/ {f += $3}
	    /^# SKIP:/ {s += $3}
	    END {printf "tests: %d passed, %d failed, %d skipped\n", p, f, s}' \
		build/werror/test-suite.log build/sanitize/test-suite.log
}

run_build werror --enable-werror
# LeakSanitizer stays on; abort at the first error so a test cannot pass
# with a sanitizer report in its log.
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_build sanitize --enable-werror --enable-sanitizers
summary
echo "=== all tests passed in both builds"
