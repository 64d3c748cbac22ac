#!/bin/bash
# t/e2e/sendmail.sh - end-to-end test of portcullis-milter behind a real
# Sendmail with Cyrus SASL (sasldb), driven by swaks.
#
# A private Sendmail (t/lib/sendmail.sh: Debian's packages unpacked into a
# cache, never installed, since sendmail-bin conflicts with postfix) gets a
# sendmail.cf made by m4 from a minimal .mc that includes our
# contrib/sendmail/portcullis.mc, with only the milter socket and the daemon
# ports moved to a private directory and loopback test ports (12700-12799):
#   12701  the submission daemon of portcullis.mc (Name=MSA, M=Ea)
#   12702  its implicit-TLS daemon (Name=MSA-TLS, M=Eas)
#   12703  test only: a port-25 MTA daemon as in Debian's sendmail.mc, which
#          names no InputMailFilters; portcullis.mc says port 25 does not
#          need the milter
#   12704  test only: the MSA line without "a" in M=, so that the milter's
#          own RequireAuth, not Sendmail's, refuses unauthenticated mail
# The real portcullis-milter listens on the unix socket the .mc names.
# Prints "ok - NAME" / "not ok - NAME" per check; exit 0 when all pass, 1
# when any fails, 77 (skip) when not root or the Sendmail packages cannot be
# downloaded.
#
# Environment: top_srcdir, top_builddir (make check exports them; default:
# the tree this script is in, or for top_builddir the current directory
# when the milter is built there), PORTCULLIS_MILTER (the binary, default
# $top_builddir/src/milter/portcullis-milter), PORTCULLIS_SENDMAIL_MC (the
# .mc lines under test, default contrib/sendmail/portcullis.mc),
# PORTCULLIS_SENDMAIL_CACHE (default /var/cache/portcullis-test/sendmail),
# SM_KEEP=1 keeps the instance directory for a post-mortem.
# Needs: m4, swaks, sasl2-bin, libsasl2-modules, openssl, python3,
# util-linux (unshare, flock), apt (apt-get download; run apt-get update
# first) and dpkg.

set -u
umask 022

here=$(cd "$(dirname "$0")" && pwd) || exit 1
top_srcdir=${top_srcdir:-$here/../..}
top_srcdir=$(cd "$top_srcdir" && pwd) || exit 1
if [ -z "${top_builddir:-}" ]; then
	# Not run by make check: the source tree, else the current directory
	# when that is a build tree.
	top_builddir=$top_srcdir
	[ ! -x "$top_builddir/src/milter/portcullis-milter" ] &&
	    [ -x "$PWD/src/milter/portcullis-milter" ] && top_builddir=$PWD
fi
top_builddir=$(cd "$top_builddir" && pwd) || exit 1
# shellcheck source=SCRIPTDIR/../lib/sendmail.sh
. "$top_srcdir/t/lib/sendmail.sh" || exit 1
# shellcheck source=SCRIPTDIR/../lib/milter.sh
. "$top_srcdir/t/lib/milter.sh" || exit 1

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: $0 needs root (Sendmail's daemon, its UTS namespace)"
	exit 77
fi
PATH=$PATH:/usr/sbin:/sbin
missing=
for t in m4 swaks saslpasswd2 openssl python3 unshare flock timeout \
    apt-get dpkg dpkg-deb ldd; do
	command -v "$t" >/dev/null 2>&1 || missing="$missing$t "
done
if [ -n "$missing" ]; then
	echo "Bail out! missing programs: $missing(packages: m4 swaks sasl2-bin" \
	    "libsasl2-modules openssl python3 util-linux apt dpkg libc-bin)"
	exit 1
fi
if [ -z "$(find /usr/lib -path '*/sasl2/libplain.so*' 2>/dev/null | head -n 1)" ]; then
	echo "Bail out! no Cyrus SASL PLAIN plugin (package libsasl2-modules)"
	exit 1
fi

MILTER=${PORTCULLIS_MILTER:-$top_builddir/src/milter/portcullis-milter}
if [ ! -x "$MILTER" ]; then
	echo "Bail out! no milter binary at $MILTER (build it, or set PORTCULLIS_MILTER)"
	exit 1
fi
PCMC=${PORTCULLIS_SENDMAIL_MC:-$top_srcdir/contrib/sendmail/portcullis.mc}
if [ ! -r "$PCMC" ]; then
	echo "Bail out! cannot read $PCMC"
	exit 1
fi

sm_fetch
case $? in
0) ;;
2) echo "SKIP: the Sendmail packages cannot be downloaded: $SM_WHY"; exit 77 ;;
*) echo "Bail out! could not prepare Sendmail in $SM_CACHE: $SM_WHY"; exit 1 ;;
esac
libs=$(sm_missing_libs)
if [ -n "$libs" ]; then
	echo "Bail out! $SM_BIN lacks shared libraries: $libs"
	echo "# (Debian: libdb5.3 libldap-2.5-0 libnsl2 libsasl2-2 libssl3 libtirpc3)"
	exit 1
fi
echo "# sendmail from $SM_CACHE: $(paste -sd',' "$SM_ROOT/.packages" | sed 's/,/, /g')"
echo "# milter: $MILTER"
echo "# .mc lines: $PCMC"

MSA=12701 MSATLS=12702 MTA=12703 NOAUTH=12704
for p in $MSA $MSATLS $MTA $NOAUTH; do
	if sm_port_busy "$p"; then
		echo "Bail out! port $p is in use; this test needs 12701-12704 free"
		exit 1
	fi
done

MILTER_PID=
# The milter goes first, then Sendmail and the directory they share.
trap 'rc=$?; stop_milter; sm_cleanup; exit $rc' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

LOGIN=alice DOMAIN=test.example PASS='alice-secret'
USER_ADDR=$LOGIN@$DOMAIN FOREIGN=mallory@evil.example
TAG=pc-sm-$$

# --------------------------------------------------------------- milter ---
stop_milter() {
	local i
	[ -n "$MILTER_PID" ] || return 0
	kill "$MILTER_PID" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$MILTER_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$MILTER_PID" 2>/dev/null && kill -9 "$MILTER_PID" 2>/dev/null
	wait "$MILTER_PID" 2>/dev/null
	MILTER_PID=
}

# Keys that keep the milter's files in the instance directory (another test
# may run a milter at the same time).  Each is used only if `-n` takes it.
optional_keys() {
	printf 'Socket unix:%s/probe.sock\n' "$W" >"$W/probe.conf"
	mt_accepted_lines "$MILTER" "$W/probe.conf" \
	    "ControlSocket $W/control.sock" "StateFile $W/milter.state"
}

start_milter() {
	local rc
	cat >"$W/milter.conf" <<EOF
# written by t/e2e/sendmail.sh
Socket          unix:$W/milter.sock
PidFile         $W/milter.pid
LogFile         $W/origin.json
$(optional_keys)
RequireAuth     yes
RequireTLS      no
AccountDomain   $DOMAIN
SenderPolicy    exact
CheckHeaderFrom yes
OnInternalError tempfail
EOF
	mt_start "$W/milter.conf" "$W/milter.out" "$W/milter.sock" \
	    "$W/milter.pid"
	rc=$?
	MILTER_PID=$MT_PID
	return $rc
}

# ---------------------------------------------------------------- swaks ---
# send, send_auth, mail_reply, dot_reply, expect_reply: t/lib/milter.sh,
# the transcripts in $W (SW_DIR is set when W is made).
all_replies() { sed -n 's/^<[-~*]* *//p' "$SW_OUT"; }

# Sendmail: "250 2.0.0 6AQNtoJ3016705 Message accepted for delivery"
queue_id() { sed -n 's/^250 2\.0\.0 \([0-9A-Za-z]*\) Message accepted.*/\1/p' <<<"$1"; }

# ----------------------------------------------------------- origin log ---
LOG='' DECISIONS=0
LOGCHECK='
import json, re, sys
FIELDS = ("event qid account auth_type ip port ptr helo daemon tls cipher "
          "from header_from rcpts size msgid action reason").split()
def check(line):
    try:
        o = json.loads(line)
    except ValueError as e:
        return None, ["not JSON (%s)" % e]
    if not isinstance(o, dict):
        return None, ["not a JSON object"]
    missing = [f for f in FIELDS if f not in o]
    return o, (["missing fields: " + " ".join(missing)] if missing else [])
if sys.argv[1] == "line":
    o, bad = check(sys.argv[2])
    for e in sys.argv[3:] if o is not None else []:
        k, rx = e.split("~", 1)
        v = "" if o.get(k) is None else str(o.get(k))
        if not re.fullmatch(rx, v, re.I):
            bad.append("%s=%r, wanted /%s/" % (k, o.get(k), rx))
else:
    data = open(sys.argv[2], "rb").read()
    lines = data.decode("utf-8", "replace").splitlines()
    bad = [] if not data or data.endswith(b"\n") else ["last line unterminated"]
    if len(lines) != int(sys.argv[3]):
        bad.append("%d lines for %s decisions" % (len(lines), sys.argv[3]))
    for n, l in enumerate(lines, 1):
        bad += ["line %d: %s" % (n, b) for b in check(l)[1]]
if bad:
    print("; ".join(bad))
    sys.exit(1)
'
log_count() { if [ -f "$LOG" ]; then wc -l <"$LOG"; else echo 0; fi; }
# logged MARK: wait at most 5 s for lines after line MARK; print them.
logged() {
	local mark=$1 i
	for ((i = 0; i < 50; i++)); do
		[ "$(log_count)" -gt "$mark" ] && break
		sleep 0.1
	done
	sleep 0.1    # a second (wrong) line for the same decision would show
	tail -n +"$((mark + 1))" "$LOG" 2>/dev/null
}
# expect_logged NAME MARK KEY~REGEX...: exactly one new line, fields match.
expect_logged() {
	local name=$1 mark=$2 lines n out; shift 2
	DECISIONS=$((DECISIONS + 1))
	lines=$(logged "$mark")
	n=$(printf '%s' "$lines" | grep -c '')
	if [ "$n" -ne 1 ]; then
		fail "$name" "wanted exactly 1 new line in $LOG, got $n" "${lines:-(none)}"
		return 1
	fi
	if out=$(python3 -c "$LOGCHECK" line "$lines" "$@" 2>&1); then
		pass "$name"
	else
		fail "$name" "$out" "line: $lines"
	fi
}
# expect_not_logged NAME MARK: the milter made no decision since MARK.
expect_not_logged() {
	local name=$1 mark=$2 lines
	sleep 0.5
	lines=$(tail -n +"$((mark + 1))" "$LOG" 2>/dev/null)
	if [ -z "$lines" ]; then
		pass "$name"
	else
		fail "$name" "the milter logged a decision:" "$lines"
		DECISIONS=$((DECISIONS + $(printf '%s\n' "$lines" | grep -c '')))
	fi
}

diagnose() {
	echo "# ---- $W"
	[ -s "$W/milter.out" ] && {
		echo "# milter output:"; tail -n 15 "$W/milter.out" | sed 's/^/#   /'
	}
	[ -s "$W/sendmail.out" ] && {
		echo "# sendmail output:"; tail -n 15 "$W/sendmail.out" | sed 's/^/#   /'
	}
	[ -s "$W/debug.log" ] && {
		echo "# sendmail -d64.10 (milter traffic), last lines:"
		tail -n 25 "$W/debug.log" | sed 's/^/#   /'
	}
}

# ================================================================ setup ===
sm_mkdir W || { echo "Bail out! cannot make an instance directory"; exit 1; }
SW_DIR=$W
LOG=$W/origin.json

if ! sm_adapt_mc "$PCMC" "$W/portcullis.mc" "$W/milter.sock" "$MSA" "$MSATLS"; then
	echo "Bail out! $PCMC: cannot move its socket and ports to the test's"
	exit 1
fi
echo "# the .mc lines as tested (only S= and Port= moved):"
diff "$PCMC" "$W/portcullis.mc" | sed -n 's/^[<>]/#  &/p'

# Test-only daemons.  The no-AUTH one is the adapted MSA line with another
# port and name and without "a" in M= (Sendmail would otherwise refuse the
# MAIL itself, before the milter is asked).
noauth_line=$(grep "^[[:space:]]*DAEMON_OPTIONS(.*Port=$MSA," "$W/portcullis.mc" |
    head -n 1 | sed -e "s/Port=$MSA,/Port=$NOAUTH,/" \
	-e "s/Name=[^,']*/Name=MSA-noauth/" \
	-e ":x" -e "s/\(M=[^,'a]*\)a/\1/" -e "tx")
extra="dnl port 25 stand-in: Debian's sendmail.mc has an MTA daemon like this
DAEMON_OPTIONS(\`Port=$MTA, Addr=127.0.0.1, Name=MTA')dnl
dnl the MSA without M=a: the milter alone enforces AUTH here
$noauth_line"

if ! sm_write_mc "$W" "$W/portcullis.mc" "$extra"; then
	echo "Bail out! could not build $W/test.cf"; exit 1
fi
if ! sm_add_user "$W" "$LOGIN" "$DOMAIN" "$PASS"; then
	echo "Bail out! could not create the SASL user"; exit 1
fi
if ! start_milter; then
	echo "Bail out! could not start the milter"; exit 1
fi
if ! sm_start "$W" "$MSA" "$MSATLS" "$MTA" "$NOAUTH"; then
	echo "Bail out! could not start sendmail"; diagnose; exit 1
fi

# ================================================================ tests ===
# --- the submission daemon (M=Ea) ----------------------------------------
mark=$(log_count)
send "$MSA" msa-noauth --from "$USER_ADDR"
expect_reply "MSA (M=Ea), no AUTH: MAIL FROM refused with 530 5.7.0" \
    "$(mail_reply)" '^530 5\.7\.0 Authentication required'
if grep -q 'milter_negotiate(portcullis): received: version' "$W/debug.log" 2>/dev/null; then
	pass "sendmail negotiated with the milter on the .mc's local: socket"
else
	fail "sendmail negotiated with the milter on the .mc's local: socket" \
	    "no 'milter_negotiate(portcullis): received' in $W/debug.log" \
	    "$(grep -i 'portcullis' "$W/debug.log" 2>/dev/null | tail -n 3)"
fi
# With M=a Sendmail refuses by itself; the milter is never asked MAIL.
new=$(logged "$mark")
if [ -n "$new" ]; then
	echo "# (the milter logged it too: $new)"
	DECISIONS=$((DECISIONS + $(printf '%s\n' "$new" | grep -c '')))
else
	echo "# (that 530 is Sendmail's own, from M=a; the milter was not asked)"
fi

mark=$(log_count)
send_auth "$MSA" own --from "$USER_ADDR" \
    --header "Subject: $TAG-own" --header "Message-Id: <$TAG-own@test.example>"
r=$(dot_reply)
if expect_reply "MSA, AUTH PLAIN, own sender: message accepted (250)" "$r" \
    '^250 2\.0\.0 [0-9A-Za-z]+ Message accepted'; then
	qid=$(queue_id "$r")
	expect_logged "MSA, AUTH PLAIN: origin line has account, auth_type and Sendmail's macros" \
	    "$mark" 'event~origin' "qid~$qid" 'account~alice@test\.example' \
	    'auth_type~plain' 'ip~127\.0\.0\.1' 'port~[0-9]+' \
	    'helo~client\.test\.example' 'daemon~MSA' 'tls~none' \
	    'from~<?alice@test\.example>?' 'header_from~.*alice@test\.example.*' \
	    "msgid~<?$TAG-own@test\\.example>?" 'action~accept'
	if grep -rlqF -- "$TAG-own" "$W/mqueue" 2>/dev/null; then
		pass "MSA, own sender: the message is in Sendmail's queue"
	else
		fail "MSA, own sender: the message is in Sendmail's queue" \
		    "no file in $W/mqueue holds $TAG-own"
	fi
else
	DECISIONS=$((DECISIONS + $(logged "$mark" | grep -c '')))
fi

mark=$(log_count)
send_auth "$MSA" foreign-env --from "$FOREIGN"
expect_reply "MSA, AUTH, foreign envelope sender: 553 5.7.1 at MAIL FROM" \
    "$(mail_reply)" \
    '^553 5\.7\.1 .*<mallory@evil\.example>: Sender address rejected: not owned by user alice@test\.example'
expect_logged "MSA, foreign envelope sender: one reject line" "$mark" \
    'event~reject' 'account~alice@test\.example' 'auth_type~plain' \
    'daemon~MSA' 'ip~127\.0\.0\.1' 'from~<?mallory@evil\.example>?'

mark=$(log_count)
send_auth "$MSA" foreign-hdr --from "$USER_ADDR" \
    --header "From: Mallory <$FOREIGN>" --header "Subject: $TAG-hdr"
r=$(mail_reply)
if [ "${r%% *}" != 250 ]; then
	fail "MSA, AUTH, foreign From: header: 553 5.7.1 at end of DATA" \
	    "MAIL FROM was already refused: $r"
else
	expect_reply "MSA, AUTH, foreign From: header: 553 5.7.1 at end of DATA" \
	    "$(dot_reply)" \
	    '^553 5\.7\.1 .*<mallory@evil\.example>: Sender address rejected: not owned by user alice@test\.example'
fi
expect_logged "MSA, foreign From: header: one reject line" "$mark" \
    'event~reject' 'account~alice@test\.example' \
    'from~<?alice@test\.example>?' 'header_from~.*mallory@evil\.example.*'
if grep -rlqF -- "$TAG-hdr" "$W/mqueue" 2>/dev/null; then
	fail "MSA, foreign From: header: the message is not queued" \
	    "found $TAG-hdr in $W/mqueue"
else
	pass "MSA, foreign From: header: the message is not queued"
fi

# --- the implicit-TLS daemon (M=Eas) --------------------------------------
mark=$(log_count)
send_auth "$MSATLS" tls --tlsc --from "$USER_ADDR" --header "Subject: $TAG-tls"
r=$(dot_reply)
if expect_reply "MSA-TLS (M=Eas), implicit TLS + AUTH: message accepted" "$r" \
    '^250 2\.0\.0 [0-9A-Za-z]+ Message accepted'; then
	expect_logged "MSA-TLS: origin line has the TLS version, cipher and daemon" \
	    "$mark" 'event~origin' "qid~$(queue_id "$r")" 'tls~TLSv1\.[23]' \
	    'cipher~.+' 'account~alice@test\.example' 'daemon~MSA-TLS'
else
	DECISIONS=$((DECISIONS + $(logged "$mark" | grep -c '')))
fi

# --- the milter's own RequireAuth through Sendmail ------------------------
mark=$(log_count)
send "$NOAUTH" noauth --from "$USER_ADDR"
expect_reply "MSA without M=a, no AUTH: the milter's 530 5.7.0 at MAIL FROM" \
    "$(mail_reply)" '^530 5\.7\.0 Authentication required'
expect_logged "MSA without M=a: reject line with Sendmail's {daemon_name} and client address" \
    "$mark" 'event~reject' 'daemon~MSA-noauth' 'ip~127\.0\.0\.1' \
    'port~[0-9]+' 'account~' 'from~<?alice@test\.example>?'

# --- port 25 ---------------------------------------------------------------
# portcullis.mc: "Only the submission daemons need the milter; port 25 does
# not."  An MTA daemon that names no InputMailFilters must not be filtered.
mark=$(log_count)
send "$MTA" mta --from "$FOREIGN" --header "Subject: $TAG-mta"
r=$(mail_reply)
if [ "${r%% *}" = 250 ]; then
	pass "MTA daemon (port 25 stand-in): unauthenticated MAIL FROM not refused"
else
	fail "MTA daemon (port 25 stand-in): unauthenticated MAIL FROM not refused" \
	    "MAIL FROM got: $r" \
	    "INPUT_MAIL_FILTER() also appends the filter to the global InputMailFilters" \
	    "option, which every daemon without its own list uses, port 25 included." \
	    "Fix in portcullis.mc: MAIL_FILTER(\`portcullis', ...) instead of" \
	    "INPUT_MAIL_FILTER(...); the daemons' InputMailFilters=portcullis select it."
fi
expect_not_logged "MTA daemon: the milter was not consulted" "$mark"

# --- whole-run checks ------------------------------------------------------
if out=$(python3 -c "$LOGCHECK" file "$LOG" "$DECISIONS" 2>&1); then
	pass "origin log: one JSON line per decision ($DECISIONS), every SPEC field present"
else
	fail "origin log: one JSON line per decision ($DECISIONS), every SPEC field present" \
	    "$out"
fi
if [ -n "$MILTER_PID" ] && kill -0 "$MILTER_PID" 2>/dev/null; then
	pass "milter still running"
else
	fail "milter still running" "$(tail -n 5 "$W/milter.out")"
fi

# --- F=T: no milter, no mail ----------------------------------------------
stop_milter
send_auth "$MSA" nomilter --from "$USER_ADDR" --header "Subject: $TAG-nomilter"
if all_replies | grep -q '^250 2\.0\.0 .*Message accepted'; then
	fail "milter down (F=T): authenticated mail is not accepted" \
	    "$(tail -n 6 "$SW_OUT")"
elif all_replies | grep -Eq '^4[0-9][0-9] 4\.'; then
	pass "milter down (F=T): authenticated mail is not accepted"
	echo "# (Sendmail said: $(all_replies | grep -E '^4[0-9][0-9] ' | head -n 1))"
else
	fail "milter down (F=T): authenticated mail is not accepted" \
	    "wanted a 4xx temporary failure, got:" "$(all_replies | tail -n 4)"
fi

if ! mt_done; then
	diagnose
	echo "# (SM_KEEP=1 keeps $W)"
	exit 1
fi
exit 0
