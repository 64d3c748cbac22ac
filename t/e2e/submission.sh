#!/bin/bash
# t/e2e/submission.sh - end-to-end test of portcullis-milter behind a real
# Postfix with Cyrus SASL, driven by swaks.
#
# Two private Postfix instances on loopback (t/lib/postfix.sh), each with its
# own portcullis-milter from the build tree and an smtp-sink as next hop:
#   A  RequireAuth yes, SenderPolicy exact: AUTH, sender and From: checks,
#      the origin log, reload on SIGUSR1 (broken file kept out, good file in)
#   B  RequireTLS yes: plain, STARTTLS and implicit-TLS (465-style) sessions
# Prints "ok - NAME" / "not ok - NAME" per check; exit 0 when all pass, 1 when
# any fails, 77 (skip) when not root or Postfix is not installed.
#
# Environment: PORTCULLIS_MILTER (the binary), else abs_top_builddir or
# top_builddir (as automake passes them), else the tree this script is in.
# PF_KEEP=1 keeps the instance directories for a post-mortem.

set -u

here=$(cd "$(dirname "$0")" && pwd) || exit 1
top_srcdir=$(cd "$here/../.." && pwd) || exit 1
# shellcheck source=SCRIPTDIR/../lib/postfix.sh
. "$top_srcdir/t/lib/postfix.sh" || exit 1

pf_require swaks python3 timeout script

MILTER=${PORTCULLIS_MILTER:-$(mt_find_prog src/milter/portcullis-milter)}
if [ ! -x "$MILTER" ]; then
	echo "Bail out! no milter binary at $MILTER (build it, or set PORTCULLIS_MILTER)"
	exit 1
fi

# Ports 12500-12599 belong to this test.
A_BASE=12510 A_SINK=12512 A_MILTER=12513
B_BASE=12520 B_SINK=12522 B_MILTER=12523
ports_free "12510-12523 free" $A_BASE $((A_BASE + 1)) $A_SINK $A_MILTER \
    $B_BASE $((B_BASE + 1)) $B_SINK $B_MILTER

pf_cleanup_on_exit
USER_ADDR=alice@test.example PASS='alice-secret'
FOREIGN=mallory@evil.example
TAG=pc-e2e-$$

# ---------------------------------------------------------------- swaks ---
# send, send_auth, mail_reply, dot_reply, expect_reply: t/lib/milter.sh,
# the transcripts in $WORK (SW_DIR is set when WORK is made).
queue_id() { sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p' <<<"$1"; }

# ----------------------------------------------------------- origin log ---
# Every field the SPEC names for an origin-log line.
LOGCHECK='
import json, re, sys
FIELDS = ("event qid account auth_type ip port ptr helo daemon tls cipher "
          "from header_from rcpts size msgid action reason").split()
EVENTS = ("origin", "reject", "tempfail", "suspend")

def parse(line):
    try:
        o = json.loads(line)
    except ValueError as e:
        return None, "not JSON (%s)" % e
    if not isinstance(o, dict):
        return None, "not a JSON object"
    missing = [f for f in FIELDS if f not in o]
    if missing:
        return o, "missing fields: " + " ".join(missing)
    if o["event"] not in EVENTS:
        return o, "event %r is none of %s" % (o["event"], "|".join(EVENTS))
    if o["tls"] in (None, ""):
        return o, "tls is empty (the SPEC says a version or none)"
    return o, None

def val(o, k):
    v = o.get(k)
    return "" if v is None else str(v)

if sys.argv[1] == "line":
    # line TEXT KEY~REGEX...: one line, each KEY must fullmatch REGEX
    o, err = parse(sys.argv[2])
    bad = [err] if err else []
    if o is not None:
        for e in sys.argv[3:]:
            k, rx = e.split("~", 1)
            if not re.fullmatch(rx, val(o, k), re.I):
                bad.append("%s=%r, wanted /%s/" % (k, o.get(k), rx))
    if bad:
        print("; ".join(bad))
        sys.exit(1)
else:
    # file PATH N: exactly N lines, each well formed
    path, want = sys.argv[2], int(sys.argv[3])
    with open(path, "rb") as f:
        data = f.read()
    bad = []
    if data and not data.endswith(b"\n"):
        bad.append("last line is unterminated")
    lines = data.decode("utf-8", "replace").splitlines()
    if len(lines) != want:
        bad.append("%d lines for %d decisions" % (len(lines), want))
    for n, line in enumerate(lines, 1):
        err = parse(line)[1]
        if err:
            bad.append("line %d: %s: %s" % (n, err, line[:300]))
    if bad:
        print("\n".join(bad))
        sys.exit(1)
'

log_count() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }

# logged LOG MARK: wait (at most 5 s) until LOG has lines after line MARK,
# then print them.
logged() {
	local log=$1 mark=$2 i
	for ((i = 0; i < 50; i++)); do
		[ "$(log_count "$log")" -gt "$mark" ] && break
		sleep 0.1
	done
	sleep 0.1    # let a second (wrong) line for the same decision show up
	tail -n +"$((mark + 1))" "$log" 2>/dev/null
}

# expect_logged NAME LOG MARK KEY~REGEX...: the transaction since MARK left
# exactly one origin-log line, and its fields match.
expect_logged() {
	local name=$1 log=$2 mark=$3 lines n out; shift 3
	lines=$(logged "$log" "$mark")
	n=$(printf '%s' "$lines" | grep -c '')
	if [ "$n" -ne 1 ]; then
		fail "$name" "wanted exactly 1 new line in $log for this decision, got $n" \
		    "${lines:-(none)}"
		return 1
	fi
	if out=$(python3 -c "$LOGCHECK" line "$lines" "$@" 2>&1); then
		pass "$name"
	else
		fail "$name" "$out" "line: $lines"
	fi
}

# --------------------------------------------------------------- milter ---
# write_conf FILE PORT DIR EXTRA-LINES: a milter configuration.
write_conf() {
	local file=$1 port=$2 dir=$3 extra=$4
	cat >"$file.new" <<EOF
# written by t/e2e/submission.sh
Socket          inet:$port@127.0.0.1
PidFile         $dir/milter.pid
LogFile         $dir/origin.json
${OPTIONAL_KEYS//@DIR@/$dir}
AccountDomain   test.example
CheckHeaderFrom yes
OnInternalError tempfail
$extra
EOF
	mv -f "$file.new" "$file"
}

# Keys that keep a milter's files inside its instance directory (two milters
# at once must not share /run/portcullis/control.sock).  A milter that does
# not implement one yet refuses it, so each is used only when `-n` takes it.
OPTIONAL_KEYS=
probe_keys() {
	printf 'Socket inet:%s@127.0.0.1\n' "$A_MILTER" >"$WORK/probe-base.conf"
	OPTIONAL_KEYS=$(pf_accepted_lines "$MILTER" "$WORK/probe-base.conf" \
	    "ControlSocket $WORK/control.sock" "StateFile $WORK/milter.state")
	OPTIONAL_KEYS=${OPTIONAL_KEYS//$WORK/@DIR@}
}

# milter_start DIR PORT: run the milter in the foreground (backgrounded by
# us) with DIR/milter.conf; wait for its socket and its PidFile.
milter_start() {
	local dir=$1 port=$2 pid
	mt_start "$dir/milter.conf" "$dir/milter.out" "inet:$port" \
	    "$dir/milter.pid" || return 1
	pid=$(tr -dc 0-9 <"$dir/milter.pid")
	[ "$pid" != "$MT_PID" ] && pf_track_pid "$pid"
	return 0
}

# instance NAME BASE SINK MILTERPORT CONF-EXTRA: Postfix + sink + milter.
instance() {
	local name=$1 base=$2 sink=$3 mport=$4 extra=$5 dir
	pf_mktemp "$name" || return 1
	dir=${!name}
	write_conf "$dir/milter.conf" "$mport" "$dir" "$extra"
	pf_init "$dir" "$base" "inet:127.0.0.1:$mport" &&
	    pf_add_user "$dir" alice test.example "$PASS" &&
	    sink_start "$dir" "$sink" &&
	    milter_start "$dir" "$mport" &&
	    pf_start "$dir"
}

diagnose() {
	local d
	for d in "${PF_INSTANCES[@]}"; do
		echo "# ---- $d"
		[ -s "$d/milter.out" ] && {
			echo "# milter output:"; tail -n 15 "$d/milter.out" | sed 's/^/#   /'
		}
		pf_tail_log "$d" 15 2>&1
	done
}

# ================================================================ tests ===
echo "# milter: $MILTER"
pf_mktemp WORK || exit 1
# shellcheck disable=SC2034  # for send (t/lib/milter.sh)
SW_DIR=$WORK
probe_keys

if ! instance A "$A_BASE" "$A_SINK" "$A_MILTER" \
    "RequireAuth yes
RequireTLS no
SenderPolicy exact"; then
	echo "Bail out! could not start instance A"; diagnose; exit 1
fi
if ! instance B "$B_BASE" "$B_SINK" "$B_MILTER" \
    "RequireAuth yes
RequireTLS yes
SenderPolicy exact"; then
	echo "Bail out! could not start instance B"; diagnose; exit 1
fi
ALOG=$A/origin.json BLOG=$B/origin.json
A_DECISIONS=0 B_DECISIONS=0

# --- instance A: authentication and sender ownership ----------------------
mark=$(log_count "$ALOG")
send "$A_BASE" noauth --from "$USER_ADDR"
A_DECISIONS=$((A_DECISIONS + 1))
expect_reply "no AUTH: MAIL FROM refused with 530 5.7.0" "$(mail_reply)" \
    '^530 5\.7\.0 Authentication required'
expect_logged "no AUTH: one reject line in the origin log" "$ALOG" "$mark" \
    'event~reject' 'ip~127\.0\.0\.1' 'from~<?alice@test\.example>?'

mark=$(log_count "$ALOG")
send_auth "$A_BASE" own --from "$USER_ADDR" \
    --header "Subject: $TAG-own" --header "Message-Id: <$TAG-own@test.example>"
A_DECISIONS=$((A_DECISIONS + 1))
r=$(dot_reply)
if expect_reply "AUTH PLAIN, own sender: message accepted" "$r" \
    '^250 .*queued as [0-9A-Za-z]+'; then
	qid=$(queue_id "$r")
	if sink_find "$A" "$TAG-own" 20 >/dev/null; then
		pass "AUTH PLAIN, own sender: message reached the next hop"
	else
		fail "AUTH PLAIN, own sender: message reached the next hop" \
		    "no file in $A/sink holds Subject $TAG-own after 20s" \
		    "queue: $(postqueue -c "$A" -p 2>&1 | tail -n 3 | tr '\n' ' ')"
	fi
	expect_logged "AUTH PLAIN, own sender: origin line names account, qid, sender" \
	    "$ALOG" "$mark" 'event~origin' "qid~$qid" \
	    'account~alice@test\.example' 'auth_type~plain' 'ip~127\.0\.0\.1' \
	    'port~[0-9]+' 'helo~client\.test\.example' 'daemon~submission' \
	    'tls~none' 'from~<?alice@test\.example>?' \
	    'header_from~.*alice@test\.example.*' "msgid~<?$TAG-own@test\\.example>?" \
	    'rcpts~1|\[?"?bob@remote\.example"?\]?'
else
	fail "AUTH PLAIN, own sender: message reached the next hop" "not accepted"
	logged "$ALOG" "$mark" >/dev/null
fi

mark=$(log_count "$ALOG")
send_auth "$A_BASE" foreign-env --from "$FOREIGN"
A_DECISIONS=$((A_DECISIONS + 1))
expect_reply "foreign envelope sender refused at MAIL FROM with 553 5.7.1" \
    "$(mail_reply)" \
    '^553 5\.7\.1 .*<mallory@evil\.example>: Sender address rejected: not owned by user alice@test\.example'
expect_logged "foreign envelope sender: one reject line" "$ALOG" "$mark" \
    'event~reject' 'account~alice@test\.example' 'from~<?mallory@evil\.example>?'

mark=$(log_count "$ALOG")
send_auth "$A_BASE" foreign-hdr --from "$USER_ADDR" \
    --header "From: Mallory <$FOREIGN>" --header "Subject: $TAG-hdr"
A_DECISIONS=$((A_DECISIONS + 1))
r=$(mail_reply)
if [ "${r%% *}" != 250 ]; then
	fail "foreign From: header refused at end of DATA with 553 5.7.1" \
	    "MAIL FROM was already refused: $r"
else
	expect_reply "foreign From: header refused at end of DATA with 553 5.7.1" \
	    "$(dot_reply)" \
	    '^553 5\.7\.1 .*<mallory@evil\.example>: Sender address rejected: not owned by user alice@test\.example'
fi
expect_logged "foreign From: header: one reject line" "$ALOG" "$mark" \
    'event~reject' 'account~alice@test\.example' \
    'from~<?alice@test\.example>?' 'header_from~.*mallory@evil\.example.*'

# --- instance A: reload on SIGUSR1 ----------------------------------------
good=$A/milter.conf
cp "$good" "$WORK/good.conf"
if "$MILTER" -n -c "$WORK/good.conf" >"$WORK/n-good.out" 2>&1; then
	pass "-n accepts the test configuration"
else
	fail "-n accepts the test configuration" "exit $?: $(head -c 300 "$WORK/n-good.out")"
fi
{ cat "$WORK/good.conf"; echo "NoSuchKeyAnywhere yes"; } >"$WORK/broken.conf"
"$MILTER" -n -c "$WORK/broken.conf" >"$WORK/n-broken.out" 2>&1
rc=$?
if [ "$rc" -eq 1 ] && grep -qi 'NoSuchKeyAnywhere' "$WORK/n-broken.out"; then
	pass "-n refuses an unknown key, naming it"
else
	fail "-n refuses an unknown key, naming it" "exit $rc (wanted 1)" \
	    "output: $(head -c 300 "$WORK/n-broken.out")"
fi

mpid=$(tr -dc 0-9 <"$A/milter.pid")
cp "$WORK/broken.conf" "$good"
kill -USR1 "$mpid" 2>/dev/null
sleep 1
if kill -0 "$mpid" 2>/dev/null; then
	pass "broken config + SIGUSR1: milter keeps running"
else
	fail "broken config + SIGUSR1: milter keeps running" "pid $mpid is gone" \
	    "$(tail -n 5 "$A/milter.out")"
fi
mark=$(log_count "$ALOG")
send_auth "$A_BASE" reload-bad-foreign --from "$FOREIGN"
A_DECISIONS=$((A_DECISIONS + 1))
expect_reply "broken config + SIGUSR1: foreign sender still 553" "$(mail_reply)" \
    '^553 5\.7\.1 '
logged "$ALOG" "$mark" >/dev/null
mark=$(log_count "$ALOG")
send_auth "$A_BASE" reload-bad-own --from "$USER_ADDR" --header "Subject: $TAG-rl"
A_DECISIONS=$((A_DECISIONS + 1))
expect_reply "broken config + SIGUSR1: own sender still accepted" "$(dot_reply)" \
    '^250 '
logged "$ALOG" "$mark" >/dev/null

write_conf "$good" "$A_MILTER" "$A" "RequireAuth yes
RequireTLS no
SenderPolicy any"
kill -USR1 "$mpid" 2>/dev/null
# The reload is asynchronous: give it up to 5 tries, one second apart.
for ((try = 1; try <= 5; try++)); do
	sleep 1
	mark=$(log_count "$ALOG")
	send_auth "$A_BASE" reload-good-foreign --from "$FOREIGN" \
	    --header "Subject: $TAG-any-$try"
	A_DECISIONS=$((A_DECISIONS + 1))
	logged "$ALOG" "$mark" >/dev/null
	r=$(dot_reply)
	[ "${r%% *}" = 250 ] && break
done
if expect_reply "fixed config (SenderPolicy any) + SIGUSR1: foreign sender accepted" \
    "${r:-$(mail_reply)}" '^250 '; then
	if sink_find "$A" "$TAG-any-$try" 20 >/dev/null; then
		pass "SenderPolicy any: foreign sender's message reached the next hop"
	else
		fail "SenderPolicy any: foreign sender's message reached the next hop" \
		    "no capture with Subject $TAG-any-$try"
	fi
fi
if kill -0 "$mpid" 2>/dev/null; then
	pass "milter still running after two reloads"
else
	fail "milter still running after two reloads" "pid $mpid is gone"
fi

# --- instance B: RequireTLS, STARTTLS and implicit TLS ---------------------
mark=$(log_count "$BLOG")
send_auth "$B_BASE" notls --from "$USER_ADDR"
B_DECISIONS=$((B_DECISIONS + 1))
expect_reply "RequireTLS, no STARTTLS: MAIL FROM refused with 530 5.7.0" \
    "$(mail_reply)" '^530 5\.7\.0 Must issue a STARTTLS command first'
expect_logged "RequireTLS, no STARTTLS: one reject line with tls none" \
    "$BLOG" "$mark" 'event~reject' 'tls~none' 'account~alice@test\.example'

mark=$(log_count "$BLOG")
send_auth "$B_BASE" starttls --tls --from "$USER_ADDR" --header "Subject: $TAG-tls"
B_DECISIONS=$((B_DECISIONS + 1))
r=$(dot_reply)
if expect_reply "RequireTLS, STARTTLS: message accepted" "$r" '^250 .*queued as'; then
	qid=$(queue_id "$r")
	expect_logged "RequireTLS, STARTTLS: origin line has TLS version and account" \
	    "$BLOG" "$mark" 'event~origin' "qid~$qid" 'tls~TLSv1\.[23]' \
	    'cipher~.+' 'account~alice@test\.example' 'daemon~submission'
	if sink_find "$B" "$TAG-tls" 20 >/dev/null; then
		pass "RequireTLS, STARTTLS: message reached the next hop"
	else
		fail "RequireTLS, STARTTLS: message reached the next hop" \
		    "no capture with Subject $TAG-tls"
	fi
else
	logged "$BLOG" "$mark" >/dev/null
fi

mark=$(log_count "$BLOG")
send_auth "$((B_BASE + 1))" implicit-tls --tlsc --from "$USER_ADDR" \
    --header "Subject: $TAG-tlsc"
B_DECISIONS=$((B_DECISIONS + 1))
r=$(dot_reply)
if expect_reply "implicit TLS (465 style): message accepted through the milter" \
    "$r" '^250 .*queued as'; then
	qid=$(queue_id "$r")
	expect_logged "implicit TLS: origin line has TLS version, account, daemon" \
	    "$BLOG" "$mark" 'event~origin' "qid~$qid" 'tls~TLSv1\.[23]' \
	    'account~alice@test\.example' 'daemon~submissions'
	if sink_find "$B" "$TAG-tlsc" 20 >/dev/null; then
		pass "implicit TLS: message reached the next hop"
	else
		fail "implicit TLS: message reached the next hop" \
		    "no capture with Subject $TAG-tlsc"
	fi
else
	logged "$BLOG" "$mark" >/dev/null
fi

# --- whole-run checks ------------------------------------------------------
# By now every accepted message has long reached the sink, so a refused one
# that got through would be there too.
if grep -rqF -- "$TAG-hdr" "$A/sink" 2>/dev/null; then
	fail "message refused for its From: header never reached the next hop" \
	    "found Subject $TAG-hdr in $A/sink"
else
	pass "message refused for its From: header never reached the next hop"
fi

for inst in A B; do
	eval "log=\$${inst}LOG n=\$${inst}_DECISIONS"
	if out=$(python3 -c "$LOGCHECK" file "$log" "$n" 2>&1); then
		pass "origin log $inst: one JSON line per decision ($n), every SPEC field present"
	else
		fail "origin log $inst: one JSON line per decision ($n), every SPEC field present" \
		    "$log:" "$out"
	fi
done

for inst in A B; do
	eval "d=\$$inst"
	p=$(tr -dc 0-9 <"$d/milter.pid" 2>/dev/null)
	if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
		pass "milter $inst still running at the end"
	else
		fail "milter $inst still running at the end" "$(tail -n 5 "$d/milter.out")"
	fi
done

if ! mt_done; then
	diagnose
	exit 1
fi
exit 0
