#!/bin/bash
# t/bench/smoke.sh - a two-second smoke run of the submission benchmark
# (bench/run's milter part), for `make check`.  It asserts correctness,
# not speed:
#   - bench/milter-load gets no error from the null milter and from
#     portcullis-milter (RequireAuth, SenderPolicy exact, CheckHeaderFrom,
#     LogFile, and two rate limits when the build accepts RateLimit), on a
#     unix socket and on inet:;
#   - portcullis-milter's LogFile holds an origin line for every message
#     milter-load counted, so the load went through the real decision path;
#   - over inet:, with Postfix's write pattern (-W: the macro packet and the
#     command as two writes), portcullis-milter is not caught in the 40 ms
#     delayed-ACK stall: its 1-connection rate is at least a quarter of the
#     unix-socket rate (it stalls at about 1/400 without quickack.c).  The
#     plain null milter on inet: shows the stall is real on this kernel.
# Ports 13010-13019.  Prints TAP-like lines; exit 0/1, 77 to skip.

set -u

here=$(cd "$(dirname "$0")" && pwd) || exit 1
srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
builddir=${top_builddir:-$PWD}
builddir=$(cd "$builddir" && pwd) || exit 1
LOAD=$builddir/bench/milter-load
NULLM=$builddir/bench/null-milter
MILTER=$builddir/src/milter/portcullis-milter
for p in "$LOAD" "$NULLM" "$MILTER"; do
	if [ ! -x "$p" ]; then
		echo "Bail out! $p is not built"
		exit 1
	fi
done
# shellcheck source=SCRIPTDIR/../lib/postfix.sh
. "$srcdir/t/lib/postfix.sh" || exit 1
# shellcheck source=SCRIPTDIR/../../bench/lib.sh
. "$srcdir/bench/lib.sh" || exit 1

INET_PC=13010 INET_NULL=13011
ports_free "" $INET_PC $INET_NULL

dir=$(mktemp -d /tmp/pc-bench-smoke.XXXXXXXX) || exit 1
pids=()
# libmilter takes about 5 s to stop after SIGTERM; shutdown is tested
# elsewhere, so everything gets one second and then SIGKILL.
cleanup() {
	local p f
	# Only a portcullis-milter that this test started.
	for f in "$dir/pc-unix.pid" "$dir/pc-inet.pid"; do
		p=$(bench_own_pid "$dir" "$f")
		[ -n "$p" ] && pids+=("$p")
	done
	bench_stop 10 "${pids[@]}"
	wait 2>/dev/null
	rm -rf -- "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fails=0
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; fails=$((fails + 1)); }

# The configuration bench/run measures, with the origin stamp as well (at
# end of message libmilter then writes the header and the verdict
# separately, which over TCP must not wait for Nagle); rate limits only
# when accepted.
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/origin.key"
chmod 600 "$dir/origin.key"
write_conf() { # NAME SOCKET
	bench_conf "$dir/$1.conf" "$2" "$dir/$1.json" "OriginStamp yes" \
	    "OriginKeyFile $dir/origin.key" 2>/dev/null
}

start_pc() { # NAME SOCKET
	local i
	write_conf "$1" "$2"
	if ! "$MILTER" -c "$dir/$1.conf" 2>"$dir/$1.err"; then
		echo "Bail out! portcullis-milter did not start: $(cat "$dir/$1.err")"
		exit 1
	fi
	for ((i = 0; i < 50; i++)); do
		[ -s "$dir/$1.pid" ] && break
		sleep 0.1
	done
}

"$NULLM" -s "unix:$dir/null.sock" 2>"$dir/null.err" & pids+=($!)
"$NULLM" -s "inet:$INET_NULL@127.0.0.1" 2>"$dir/null-inet.err" & pids+=($!)
start_pc pc-unix "unix:$dir/pc.sock"
start_pc pc-inet "inet:$INET_PC@127.0.0.1"
for ((i = 0; i < 50; i++)); do
	[ -S "$dir/null.sock" ] && [ -S "$dir/pc.sock" ] &&
	    port_busy $INET_PC && port_busy $INET_NULL && break
	sleep 0.1
done

# run LABEL SOCKET ARGS...: milter-load for a short while; sets $tx $errors $tps.
run() {
	local label=$1 sock=$2 out; shift 2
	out=$("$LOAD" -s "$sock" -l "$label" "$@" 2>"$dir/$label.err")
	tx=$(awk -v k="${label}_tx" '$1 == k { print $2 }' <<<"$out")
	errors=$(awk -v k="${label}_errors" '$1 == k { print $2 }' <<<"$out")
	tps=$(awk -v k="${label}_tps" '$1 == k { print $2 }' <<<"$out")
	tx=${tx:-0} errors=${errors:-missing} tps=${tps:-0}
	sed -n '/_tps \|_errors /s/^/# /p' <<<"$out"
}

check_clean() { # LABEL
	if [ "$errors" = 0 ] && [ "$tx" -gt 0 ]; then
		ok "$1: $tx transactions, no errors"
	else
		notok "$1: $tx transactions, errors $errors: $(head -c 600 "$dir/$1.err")"
	fi
}

run null_unix "unix:$dir/null.sock" -c 4 -d 0.3 -a 1000 -z 1.0
check_clean null_unix
before=$(grep -c '"event":"origin"' "$dir/pc-unix.json" 2>/dev/null)
run pc_unix "unix:$dir/pc.sock" -c 4 -d 0.3 -a 100000 -z 1.0
check_clean pc_unix
sleep 0.1
logged=$(( $(grep -c '"event":"origin"' "$dir/pc-unix.json" 2>/dev/null) - ${before:-0} ))
if [ "$logged" -ge "$tx" ]; then
	ok "pc_unix: $logged origin log lines for $tx transactions"
else
	notok "pc_unix: only $logged origin log lines for $tx transactions"
fi

run pc_unix_w "unix:$dir/pc.sock" -c 1 -d 0.3 -W
check_clean pc_unix_w
unix_tps=$tps
run pc_inet_w "inet:$INET_PC@127.0.0.1" -c 1 -d 0.4 -W
check_clean pc_inet_w
inet_tps=$tps
if [ $((inet_tps * 4)) -ge "$unix_tps" ]; then
	ok "inet: without the delayed-ACK stall ($inet_tps vs $unix_tps tx/s on unix)"
else
	notok "inet: stalls: $inet_tps tx/s against $unix_tps on a unix socket (TCP_QUICKACK not re-armed?)"
fi
run null_inet_w "inet:$INET_NULL@127.0.0.1" -c 1 -d 0.3 -W
echo "# the plain null milter on inet: with split writes: $tps tx/s (the stall, for comparison)"

[ "$fails" -eq 0 ]
