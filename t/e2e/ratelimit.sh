#!/bin/bash
# t/e2e/ratelimit.sh - per-account rate limits, the stolen-account response
# and live control of portcullis-milter, behind a real Postfix with Cyrus
# SASL (t/lib/postfix.sh).  One instance on 127.0.0.1; the milter runs with
# ControlSocket, StateFile, MetricsListen and a NotifyCommand that records
# its environment.  Checks, in order:
#   - the message after the limit gets 450 4.7.1 with the limit and a wait
#   - another account is unaffected
#   - recipients over the limit are tempfailed at RCPT, the others delivered
#   - counters survive a reload (SIGUSR1) and `portcullisctl milter reload`
#   - `portcullisctl milter usage` shows the use; `reset` lets the account
#     send again
#   - repeated hits suspend (550 5.7.1, event=suspend, NotifyCommand), the
#     suspension survives a restart, and `resume` lifts it
#   - DistinctAddressLimit fires for logins from 127.0.0.1, .2 and .3
#   - quarantine puts the message in the hold queue (postqueue -j), and log
#     lets it through while logging the would-be decision
#   - MetricsListen serves Prometheus text with the counts
# Prints "ok - NAME" / "not ok - NAME"; exit 0 when all pass, 1 when any
# fails, 77 (skip) when not root or Postfix is not installed.
# Ports 12800-12899 belong to this test.  PF_KEEP=1 keeps the directories.

set -u

here=$(cd "$(dirname "$0")" && pwd) || exit 1
top_srcdir=$(cd "$here/../.." && pwd) || exit 1
# shellcheck source=SCRIPTDIR/../lib/postfix.sh
. "$top_srcdir/t/lib/postfix.sh" || exit 1

pf_require python3 timeout script postqueue

MILTER=${PORTCULLIS_MILTER:-$(mt_find_prog src/milter/portcullis-milter)}
CTL=${PORTCULLISCTL:-$(mt_find_prog src/ctl/portcullisctl)}
for p in "$MILTER" "$CTL"; do
	[ -x "$p" ] || { echo "Bail out! $p is not built"; exit 1; }
done

BASE=12810 SINK=12812 MPORT=12813 METRICS=12819
ports_free 12810-12819 $BASE $((BASE + 1)) $SINK $MPORT $METRICS

pf_cleanup_on_exit
PASS=rl-secret

# send NAME USER [SOURCE-IP] [RCPT...]: one authenticated SMTP session
# (t/lib/send.py: it goes on after a refused RCPT, as an MTA would); the
# transcript of replies ("MAIL 250 ...", "RCPT addr 450 ...", "DATA 250
# ...") goes to $OUT.
send() {
	local name=$1 user=$2 src=${3:-127.0.0.1}; shift 3 2>/dev/null || shift $#
	nsend=$((nsend + 1))
	OUT=$DIR/send.$nsend.$name.txt
	timeout 60 python3 "$top_srcdir/t/lib/send.py" "$BASE" \
	    "$user@test.example" "$PASS" "$src" "<$user.$nsend.$$@test.example>" \
	    "rate limit test" "${@:-rcpt@remote.example}" >"$OUT" 2>&1
	return 0
}

# reply_of STEP: the reply to STEP ("MAIL", "RCPT ADDR", "DATA") in $OUT.
reply_of() { awk -v s="$1" '$1 == s || ($1 " " $2) == s { $1 = ""; if (s ~ / /) $2 = ""; sub(/^ +/, ""); print; exit }' "$OUT"; }

expect() {	# NAME GOT REGEX
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then
		pass "$1"
	else
		fail "$1" "wanted: $3" "got: ${2:-(nothing)}" "transcript: $(tr '\n' '|' <"$OUT")"
	fi
}

write_conf() {	# ACTION
	cat >"$DIR/milter.conf.new" <<EOF
Socket inet:$MPORT@127.0.0.1
PidFile $DIR/milter.pid
LogFile $DIR/origin.json
SenderPolicy any
RateLimit messages 3/1h, recipients 5/1h
RateLimitMap $DIR/ratelimit-map
RateLimitAction $1
SuspendAfter 4/1h
DistinctAddressLimit 2/1h
NotifyCommand $DIR/notify.sh
ControlSocket $DIR/control.sock
StateFile $DIR/milter.state
MetricsListen 127.0.0.1:$METRICS
EOF
	mv "$DIR/milter.conf.new" "$DIR/milter.conf"
}

milter_start() {
	mt_start "$DIR/milter.conf" "$DIR/milter.out" "inet:$MPORT" \
	    "$DIR/control.sock"
	local rc=$?
	MPID=$MT_PID
	return $rc
}

ctl() { timeout 20 "$CTL" -m "$DIR/milter.conf" milter "$@"; }

# ================================================================ tests ===
pf_mktemp DIR || exit 1
cat >"$DIR/ratelimit-map" <<'EOF'
# account-or-@domain   limits
carol@test.example     recipients 2/1h
dave@test.example      messages 1/1h
erin@test.example      messages 1/1h
@unlimited.example     unlimited
EOF
cat >"$DIR/notify.sh" <<EOF
#!/bin/sh
echo "\$PORTCULLIS_EVENT \$PORTCULLIS_ACCOUNT \$PORTCULLIS_REASON" >>"$DIR/notify.log"
EOF
chmod 755 "$DIR/notify.sh"
write_conf tempfail
if ! { pf_init "$DIR" "$BASE" "inet:127.0.0.1:$MPORT" &&
    for u in alice bob carol dave erin frank; do
	pf_add_user "$DIR" "$u" test.example "$PASS" || exit 1
    done &&
    sink_start "$DIR" "$SINK" && milter_start && pf_start "$DIR"; }; then
	echo "Bail out! could not start Postfix and the milter"
	pf_tail_log "$DIR" 20
	exit 1
fi
echo "# milter: $MILTER, instance $DIR"

# --- messages: 3/1h -------------------------------------------------------
ok=0
for i in 1 2 3; do
	send "alice$i" alice
	[ "$(reply_of DATA | cut -c1-3)" = 250 ] && ok=$((ok + 1))
done
expect "the first 3 messages of alice pass" "$ok" '^3$'
send alice4 alice
expect "the 4th message gets 450 4.7.1 with the limit and the wait" \
    "$(reply_of MAIL)" \
    '^450 4\.7\.1 Rate limit exceeded for alice@test\.example: messages 3/1h; retry in (1[0-2][0-9][0-9]|[1-9][0-9]{0,2}) seconds$'
send bob1 bob
expect "another account is unaffected" "$(reply_of DATA)" '^250 '

# --- recipients: carol has 2/1h -------------------------------------------
send carol1 carol 127.0.0.1 r1@remote.example r2@remote.example r3@remote.example
expect "recipients within the limit are accepted" \
    "$(reply_of 'RCPT r2@remote.example')" '^250 '
expect "the recipient over the limit is tempfailed at RCPT" \
    "$(reply_of 'RCPT r3@remote.example')" \
    '^450 4\.7\.1 Rate limit exceeded for carol@test\.example: recipients 2/1h; retry in [0-9]+ seconds$'
expect "the message still goes to the accepted recipients" \
    "$(reply_of DATA)" '^250 '

# --- usage, reload, reset --------------------------------------------------
u=$(ctl usage Alice@Test.Example 2>&1)
expect "milter usage shows 3 messages used and the refill" \
    "$(printf '%s\n' "$u" | grep '^messages')" '^messages used=3 limit=3/1h refill_in=[0-9]+s$'
kill -USR1 "$MPID"
sleep 1
send alice5 alice
expect "counters survive a reload (SIGUSR1)" "$(reply_of MAIL)" '^450 4\.7\.1 '
if out=$(ctl reload 2>&1); then pass "milter reload answers OK"; else
	fail "milter reload answers OK" "$out"; fi
send alice6 alice
expect "counters survive milter reload" "$(reply_of MAIL)" '^450 4\.7\.1 '
if out=$(ctl reset alice@test.example 2>&1); then pass "milter reset"; else
	fail "milter reset" "$out"; fi
send alice7 alice
expect "after reset the account sends again" "$(reply_of DATA)" '^250 '
ctl usage nobody@x.example >"$DIR/usage-nobody" 2>&1
expect "usage of an unknown account shows nothing used" \
    "$(grep '^messages' "$DIR/usage-nobody")" '^messages used=0 '
"$CTL" -m "$DIR/milter.conf" milter usage >/dev/null 2>&1
expect "usage without an account is a usage error (2)" "$?" '^2$'

# --- repeated hits suspend (SuspendAfter 4/1h; dave has messages 1/1h) -----
send dave1 dave
expect "dave's first message passes" "$(reply_of DATA)" '^250 '
send dave2 dave; r2=$(reply_of MAIL)
send dave3 dave; r3=$(reply_of MAIL)
send dave4 dave; r4=$(reply_of MAIL)
expect "hits 1 to 3 are tempfailed" "$r2 / $r3 / $r4" \
    '^450 4\.7\.1 .* / 450 4\.7\.1 .* / 450 4\.7\.1 '
send dave5 dave
expect "the 4th hit suspends: 550 5.7.1" "$(reply_of MAIL)" \
    '^550 5\.7\.1 Account dave@test\.example suspended; contact postmaster$'
send dave5b dave
expect "a suspended account is refused" "$(reply_of MAIL)" '^550 5\.7\.1 Account dave@test\.example suspended'
expect "the suspension is logged as event=suspend" \
    "$(grep '"event":"suspend"' "$DIR/origin.json" | grep -c 'dave@test.example')" '^[1-9]'
for ((i = 0; i < 50; i++)); do grep -q '^suspend dave' "$DIR/notify.log" 2>/dev/null && break; sleep 0.1; done
expect "NotifyCommand ran with the event in its environment" \
    "$(grep '^suspend ' "$DIR/notify.log" 2>/dev/null)" '^suspend dave@test\.example SuspendAfter'
expect "NotifyCommand ran on the first limit hit" \
    "$(grep '^limit alice' "$DIR/notify.log" 2>/dev/null | head -n 1)" '^limit alice@test\.example messages 3/1h'
expect "milter usage shows the suspension" "$(ctl usage dave@test.example | grep '^suspended')" '^suspended yes '

pf_stop_pid "$MPID" 40
expect "SIGTERM saved the StateFile" "$(grep -c '^S dave@test.example ' "$DIR/milter.state" 2>/dev/null)" '^1$'
milter_start || { echo "Bail out! the milter did not restart"; exit 1; }
send dave6 dave
expect "the suspension survives a restart" "$(reply_of MAIL)" '^550 5\.7\.1 Account dave@test\.example suspended'
send alice8 alice
send alice9 alice
send alice10 alice
expect "counters survive a restart (alice: 1 sent after reset + 2 = 3)" \
    "$(reply_of MAIL)" '^450 4\.7\.1 Rate limit exceeded for alice'
if out=$(ctl resume dave@test.example 2>&1); then pass "milter resume"; else
	fail "milter resume" "$out"; fi
send dave7 dave
expect "after resume dave sends again" "$(reply_of DATA)" '^250 '
ctl resume dave@test.example >/dev/null 2>"$DIR/resume2.err"
expect "resuming an account that is not suspended fails (1)" "$?" '^1$'
if out=$(ctl suspend bob@test.example --reason "abuse desk ticket 42" 2>&1); then
	pass "milter suspend"; else fail "milter suspend" "$out"; fi
send bob2 bob
expect "an administrator's suspension refuses the account" "$(reply_of MAIL)" \
    '^550 5\.7\.1 Account bob@test\.example suspended; contact postmaster$'
ctl resume bob@test.example >/dev/null 2>&1

# --- DistinctAddressLimit 2/1h -------------------------------------------
send frank1 frank 127.0.0.1
send frank2 frank 127.0.0.2
expect "two client addresses are fine" "$(reply_of DATA)" '^250 '
send frank3 frank 127.0.0.3
expect "a third client address suspends the account" "$(reply_of MAIL)" \
    '^550 5\.7\.1 Account frank@test\.example suspended'
expect "the DistinctAddressLimit suspension is logged" \
    "$(grep '"event":"suspend"' "$DIR/origin.json" | grep 'frank@test.example' | grep -c DistinctAddressLimit)" '^[1-9]'

# --- quarantine and log ----------------------------------------------------
send erin1 erin
expect "erin's first message passes" "$(reply_of DATA)" '^250 '
write_conf quarantine
kill -USR1 "$MPID"; sleep 1
send erin2 erin
expect "under quarantine the message over the limit is accepted" "$(reply_of DATA)" '^250 '
qid=$(reply_of DATA | sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p')
for ((i = 0; i < 50; i++)); do
	postqueue -c "$DIR" -j 2>/dev/null | grep -q '"queue_name": *"hold"' && break
	sleep 0.1
done
expect "postqueue -j shows it in the hold queue" \
    "$(postqueue -c "$DIR" -j 2>/dev/null | grep "\"$qid\"")" '"queue_name": *"hold"'
write_conf log
kill -USR1 "$MPID"; sleep 1
before=$(sink_count "$DIR")
send erin3 erin
expect "under log the message over the limit passes" "$(reply_of DATA)" '^250 '
sink_wait "$DIR" "$((before + 1))" 20
expect "and is delivered" "$(sink_count "$DIR")" "^$((before + 1))\$"
expect "the origin line says what would have happened" \
    "$(grep 'erin@test.example' "$DIR/origin.json" | grep '"event":"origin"' | tail -n 1)" \
    '"reason":"would tempfail \(450 4\.7\.1\): rate limit messages 1/1h"'

# --- metrics ---------------------------------------------------------------
m=$(timeout 10 python3 -c "import urllib.request as u; print(u.urlopen('http://127.0.0.1:$METRICS/metrics').read().decode())" 2>&1)
expect "metrics: messages by action" "$(printf '%s\n' "$m" | grep 'portcullis_messages_total{action="quarantine"}')" ' 1$'
expect "metrics: limit hits" "$(printf '%s\n' "$m" | grep 'portcullis_ratelimit_hits_total{kind="messages"}')" ' [1-9][0-9]*$'
expect "metrics: suspensions" "$(printf '%s\n' "$m" | grep '^portcullis_suspensions_total')" ' [1-9][0-9]*$'
expect "metrics: decision latency histogram" "$(printf '%s\n' "$m" | grep '^portcullis_decision_seconds_count')" ' [1-9][0-9]*$'
s=$(ctl stats 2>&1)
expect "milter stats prints the same metrics" "$(printf '%s\n' "$s" | grep -c '^portcullis_')" '^[1-9][0-9]*$'
expect "the control socket is mode 0600" "$(stat -c %a "$DIR/control.sock")" '^600$'

if ! mt_done; then
	echo "# (PF_KEEP=1 keeps $DIR)"
	pf_tail_log "$DIR" 10
	sed 's/^/# milter: /' "$DIR/milter.out" | tail -n 10
	exit 1
fi
exit 0
