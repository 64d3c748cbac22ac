#!/bin/bash
# t/e2e/redis.sh - RateLimitBackend redis://: two portcullis-milter nodes,
# each behind its own real Postfix with Cyrus SASL (t/lib/postfix.sh),
# sharing one real redis-server on loopback.  Checks, in order:
#   - a limit reached through node A is enforced on node B (450 4.7.1 with
#     the limit and the wait), and `usage` on either node shows the shared
#     count; Redis's key for it expires
#   - `portcullisctl milter reset` on B lets the account send through A
#   - `suspend` on A refuses the account on B; `resume` on B lifts it on A
#   - SuspendAfter counts hits from both nodes; DistinctAddressLimit counts
#     client addresses seen by both nodes
#   - redis-server stopped (SIGSTOP): mail goes on after a bounded wait
#   - redis-server killed: both nodes go on with their own limits (every
#     accepted message is delivered, the over-limit one is tempfailed, the
#     log says FALLING BACK, reset says "this node only")
#   - redis-server back: limits are shared again
#   - reload (SIGUSR1) with a bad URL keeps the old backend; with another
#     database it moves to it
# Exit 0 when all pass, 1 when any fails, 77 (skip) only when redis-server
# is not installed.  Ports 13300-13349 belong to this test.  PF_KEEP=1
# keeps the directories.

set -u

here=$(cd "$(dirname "$0")" && pwd) || exit 1
top_srcdir=$(cd "$here/../.." && pwd) || exit 1
# shellcheck source=SCRIPTDIR/../lib/postfix.sh
. "$top_srcdir/t/lib/postfix.sh" || exit 1

PATH=$PATH:/usr/sbin:/sbin
if ! command -v redis-server >/dev/null 2>&1; then
	echo "SKIP: $0 needs redis-server (apt-get install redis-server)"
	exit 77
fi
if [ "$(id -u)" != 0 ]; then
	echo "Bail out! $0 needs root (it runs Postfix's master and smtp-sink)"
	exit 1
fi
pf_require python3 timeout script

MILTER=${PORTCULLIS_MILTER:-$(mt_find_prog src/milter/portcullis-milter)}
CTL=${PORTCULLISCTL:-$(mt_find_prog src/ctl/portcullisctl)}
for p in "$MILTER" "$CTL"; do
	[ -x "$p" ] || { echo "Bail out! $p is not built"; exit 1; }
done

REDIS_PORT=13301
# Per node: submission, submissions (+1), sink, milter.
A_BASE=13310 A_SINK=13312 A_MILTER=13313
B_BASE=13320 B_SINK=13322 B_MILTER=13323
ports_free 13301-13323 $REDIS_PORT $A_BASE $((A_BASE + 1)) $A_SINK \
    $A_MILTER $B_BASE $((B_BASE + 1)) $B_SINK $B_MILTER

pf_cleanup_on_exit
failures=0 checks=0 nsend=0
PASS=redis-secret
URL="redis://127.0.0.1:$REDIS_PORT/0"

expect() {	# NAME GOT REGEX
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then
		pass "$1"
	else
		fail "$1" "wanted: $3" "got: ${2:-(nothing)}"
	fi
}

# --- redis-server ------------------------------------------------------------
pf_mktemp RDIR || exit 1
redis_start() {
	redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
	    --appendonly no --dir "$RDIR" --daemonize no \
	    --logfile "$RDIR/redis.log" </dev/null >/dev/null 2>&1 &
	RPID=$!
	pf_track_pid "$RPID"
	wait_port "$REDIS_PORT" 10
}
redis_cli() { timeout 5 redis-cli -p "$REDIS_PORT" "$@" 2>/dev/null; }

# --- the two nodes -----------------------------------------------------------
declare -A DIRS MPIDS BASES
node_conf() {	# NODE MILTERPORT [BACKEND]
	local d=${DIRS[$1]}
	cat >"$d/milter.conf.new" <<EOF
Socket inet:$2@127.0.0.1
LogFile $d/origin.json
SenderPolicy any
RateLimit messages 3/1h, recipients 100/1h
RateLimitMap $RDIR/ratelimit-map
SuspendAfter 3/1h
DistinctAddressLimit 2/1h
ControlSocket $d/control.sock
StateFile $d/milter.state
RateLimitBackend ${3:-$URL}
EOF
	mv "$d/milter.conf.new" "$d/milter.conf"
}
milter_start() {	# NODE MILTERPORT
	local d=${DIRS[$1]} i
	"$MILTER" -f -c "$d/milter.conf" >>"$d/milter.out" 2>&1 </dev/null &
	MPIDS[$1]=$!
	pf_track_pid "${MPIDS[$1]}"
	for ((i = 0; i < 100; i++)); do
		port_busy "$2" && [ -S "$d/control.sock" ] && return 0
		kill -0 "${MPIDS[$1]}" 2>/dev/null || break
		sleep 0.1
	done
	echo "# milter $1 did not start:"
	sed 's/^/#   /' "$d/milter.out"
	return 1
}
node_start() {	# NODE BASE SINK MILTERPORT
	local d u
	pf_mktemp d || return 1
	DIRS[$1]=$d BASES[$1]=$2
	node_conf "$1" "$4"
	pf_init "$d" "$2" "inet:127.0.0.1:$4" || return 1
	for u in alice bob carol dave erin frank gina; do
		pf_add_user "$d" "$u" test.example "$PASS" || return 1
	done
	sink_start "$d" "$3" && milter_start "$1" "$4" && pf_start "$d"
}
ctl() { local n=$1; shift; timeout 20 "$CTL" -m "${DIRS[$n]}/milter.conf" milter "$@"; }

# send NODE USER [SOURCE-IP]: one authenticated message (t/lib/send.py);
# the transcript ("MAIL 250 ...", "DATA 250 ...") goes to $OUT.
send() {
	local node=$1 user=$2 src=${3:-127.0.0.1}
	nsend=$((nsend + 1))
	OUT=$RDIR/send.$nsend.$node.$user.txt
	timeout 60 python3 "$top_srcdir/t/lib/send.py" "${BASES[$node]}" \
	    "$user@test.example" "$PASS" "$src" "<redis-$nsend@test.example>" \
	    "redis test" rcpt@remote.example >"$OUT" 2>&1
	return 0
}
reply_of() { awk -v s="$1" '$1 == s { $1 = ""; sub(/^ +/, ""); print; exit }' "$OUT"; }
# through_aba USER: a message of USER's through A, B and A; $accepted
# counts those that got 250 at DATA.
through_aba() {
	local n
	accepted=0
	for n in A B A; do
		send $n "$1"
		[ "$(reply_of DATA | cut -c1-3)" = 250 ] && accepted=$((accepted + 1))
	done
}
# delivered ID: the message sent as send number ID reached a sink.
delivered() {
	local n
	for n in A B; do
		sink_find "${DIRS[$n]}" "<redis-$1@test.example>" 10 >/dev/null && return 0
	done
	return 1
}

# ================================================================ tests ===
cat >"$RDIR/ratelimit-map" <<'EOF'
dave@test.example      messages 1/1h
EOF
if ! redis_start; then
	echo "Bail out! redis-server did not start on $REDIS_PORT"
	sed 's/^/#   /' "$RDIR/redis.log" 2>/dev/null
	exit 1
fi
if ! node_start A $A_BASE $A_SINK $A_MILTER ||
    ! node_start B $B_BASE $B_SINK $B_MILTER; then
	echo "Bail out! could not start the two nodes"
	exit 1
fi
echo "# milter: $MILTER; nodes ${DIRS[A]} ${DIRS[B]}; redis $RDIR"
expect "node A says it shares limits through redis" \
    "$(grep -c "RateLimitBackend $URL: connected" "${DIRS[A]}/milter.out")" '^1$'

# --- a limit reached through A holds on B ------------------------------------
through_aba alice
expect "alice's first 3 messages pass, through A, B and A" "$accepted" '^3$'
send B alice
expect "the 4th, through B, gets 450 4.7.1 with the limit and the wait" \
    "$(reply_of MAIL)" \
    '^450 4\.7\.1 Rate limit exceeded for alice@test\.example: messages 3/1h; retry in (1[01][0-9][0-9]|1200|[1-9][0-9]{0,2}) seconds$'
send A alice
expect "and through A too" "$(reply_of MAIL)" '^450 4\.7\.1 Rate limit exceeded'
send B bob
expect "another account is unaffected" "$(reply_of DATA)" '^250 '
u=$(ctl B usage Alice@Test.Example 2>&1)
expect "usage on B shows the 3 messages" "$(printf '%s\n' "$u" | grep '^messages')" \
    '^messages used=3 limit=3/1h refill_in=(3[0-5][0-9][0-9]|3600)s$'
expect "usage names the backend" "$(printf '%s\n' "$u" | grep '^backend')" \
    "^backend redis://127\\.0\\.0\\.1:$REDIS_PORT/0\$"
if command -v redis-cli >/dev/null 2>&1; then
	ttl=$(redis_cli PTTL portcullis:rl:alice@test.example)
	expect "Redis's key for alice expires when refilled (PTTL, ms)" "$ttl" \
	    '^(3[0-5][0-9]{5}|3600000|3600001)$'
fi

# --- reset, suspend, resume through the shared state -------------------------
if out=$(ctl B reset alice@test.example 2>&1); then pass "milter reset on B"; else
	fail "milter reset on B" "$out"; fi
send A alice
expect "after reset on B alice sends through A" "$(reply_of DATA)" '^250 '
if out=$(ctl A suspend bob@test.example --reason "ticket 7" 2>&1); then
	pass "milter suspend on A"; else fail "milter suspend on A" "$out"; fi
send B bob
expect "a suspension made on A refuses the account on B" "$(reply_of MAIL)" \
    '^550 5\.7\.1 Account bob@test\.example suspended; contact postmaster$'
expect "usage on B shows the suspension and its reason" \
    "$(ctl B usage bob@test.example | grep '^suspended')" '^suspended yes since=.* reason="ticket 7"$'
if out=$(ctl B resume bob@test.example 2>&1); then
	pass "milter resume on B"; else fail "milter resume on B" "$out"; fi
send A bob
expect "resumed on B, bob sends through A" "$(reply_of DATA)" '^250 '

# --- SuspendAfter 3/1h counts hits on both nodes (dave: messages 1/1h) -------
send A dave
expect "dave's first message passes" "$(reply_of DATA)" '^250 '
send B dave; h1=$(reply_of MAIL)
send A dave; h2=$(reply_of MAIL)
expect "hits 1 (B) and 2 (A) are tempfailed" "$h1 / $h2" '^450 4\.7\.1 .* / 450 4\.7\.1 '
send B dave
expect "the 3rd hit, on B, suspends" "$(reply_of MAIL)" \
    '^550 5\.7\.1 Account dave@test\.example suspended'
send A dave
expect "and A refuses dave as suspended" "$(reply_of MAIL)" '^550 5\.7\.1 Account dave@test\.example suspended'

# --- DistinctAddressLimit 2/1h across nodes ----------------------------------
send A frank 127.0.0.1
send B frank 127.0.0.2
expect "frank from two addresses (A, B) is fine" "$(reply_of DATA)" '^250 '
send A frank 127.0.0.3
expect "a third address, on A, suspends frank" "$(reply_of MAIL)" \
    '^550 5\.7\.1 Account frank@test\.example suspended'
expect "the suspension is logged with DistinctAddressLimit" \
    "$(grep '"event":"suspend"' "${DIRS[A]}/origin.json" | grep -c 'frank.*DistinctAddressLimit')" '^[1-9]'

# --- redis-server hangs (SIGSTOP): slow, not gone -----------------------------
kill -STOP "$RPID"
t0=$(date +%s%N)
send A gina; gs=$nsend
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect "with Redis hanging, A accepts gina's message" "$(reply_of DATA)" '^250 '
expect "without waiting long for Redis (${ms} ms)" "$ms" '^[0-9]{1,3}$|^[1-4][0-9]{3}$'
kill -CONT "$RPID"
if delivered "$gs"; then pass "and delivers it"; else fail "and delivers it"; fi
expect "node A logged the timeout and the fallback" \
    "$(grep -c "RateLimitBackend $URL: .*no answer in time.*FALLING BACK" "${DIRS[A]}/milter.out")" '^[1-9]'
sleep 6		# the longest back-off is 5 s

# --- redis-server goes away ---------------------------------------------------
send A erin; first_erin=$nsend
expect "erin's first message (Redis up) passes" "$(reply_of DATA)" '^250 '
kill -9 "$RPID"; wait "$RPID" 2>/dev/null
start=$(date +%s)
send A erin; e2=$nsend; r2=$(reply_of DATA)
send A erin; e3=$nsend; r3=$(reply_of DATA)
expect "with Redis killed, node A accepts erin's 2nd and 3rd" "$r2 / $r3" '^250 .* / 250 '
send A erin
expect "erin's 4th through A is tempfailed by A's own limit (it remembered the 1st)" \
    "$(reply_of MAIL)" '^450 4\.7\.1 Rate limit exceeded for erin@test\.example: messages 3/1h'
send B gina; g1=$nsend
expect "node B accepts mail too" "$(reply_of DATA)" '^250 '
send B dave
expect "B still refuses dave, suspended cluster-wide before the outage" \
    "$(reply_of MAIL)" '^550 5\.7\.1 Account dave@test\.example suspended'
took=$(( $(date +%s) - start ))
expect "no session waited for Redis (6 sessions in ${took}s)" "$took" '^([0-9]|1[0-9])$'
lost=
for id in "$first_erin" "$e2" "$e3" "$g1"; do delivered "$id" || lost="$lost $id"; done
expect "every accepted message was delivered (none lost)" "${lost:-none}" '^none$'
expect "node A logged the fallback loudly" \
    "$(grep -c "RateLimitBackend $URL: .*FALLING BACK to this node's own in-process rate limits" "${DIRS[A]}/milter.out")" '^[1-9]'
expect "node B logged it too" \
    "$(grep -c "FALLING BACK" "${DIRS[B]}/milter.out")" '^[1-9]'
expect "usage on A says the figures are its own" \
    "$(ctl A usage erin@test.example | grep '^backend')" 'unreachable; this node.s own counters shown$'
out=$(ctl A reset erin@test.example 2>&1); rc=$?
expect "reset during the outage fails (1) saying it reached this node only" \
    "$rc: $out" '^1: .*done on this node only'

# --- redis-server is back ---------------------------------------------------
redis_start || { echo "Bail out! redis-server did not restart"; exit 1; }
sleep 6		# the longest back-off is 5 s
through_aba carol
expect "Redis back: carol's 3 messages through A, B, A pass" "$accepted" '^3$'
send B carol
expect "and her 4th through B is refused: limits are shared again" \
    "$(reply_of MAIL)" '^450 4\.7\.1 Rate limit exceeded for carol@test\.example'
expect "node A logged that Redis answers again" \
    "$(grep -c "RateLimitBackend $URL answers again" "${DIRS[A]}/milter.out")" '^[1-9]'
expect "usage on A shows carol's shared count" \
    "$(ctl A usage carol@test.example | grep '^messages')" '^messages used=3 '

# --- reload with a changed URL ------------------------------------------------
node_conf A $A_MILTER "redis://127.0.0.1:70000/0"
kill -USR1 "${MPIDS[A]}"; sleep 1
expect "a reload with a bad port is refused, naming file, line and key" \
    "$(grep 'reload failed' "${DIRS[A]}/milter.out" | tail -n 1)" \
    "milter\\.conf:10: RateLimitBackend: redis URL: the port must be"
expect "and A keeps its backend" "$(ctl A usage carol@test.example | grep '^backend')" \
    "^backend redis://127\\.0\\.0\\.1:$REDIS_PORT/0\$"
node_conf A $A_MILTER "redis://127.0.0.1:$REDIS_PORT/1"
kill -USR1 "${MPIDS[A]}"; sleep 1
expect "a reload to database 1 moves A there" \
    "$(ctl A usage carol@test.example | grep -E '^(backend|messages)' | tr '\n' ' ')" \
    "^messages used=0 .*backend redis://127\\.0\\.0\\.1:$REDIS_PORT/1 \$"
send A carol
expect "where carol starts afresh on A" "$(reply_of DATA)" '^250 '
send B carol
expect "while B, still on database 0, refuses her" "$(reply_of MAIL)" '^450 4\.7\.1 '

mt_done && exit 0
echo "# PF_KEEP=1 keeps the directories"
for n in A B; do
	sed "s/^/# milter $n: /" "${DIRS[$n]}/milter.out" | tail -n 15
done
exit 1
