#!/bin/bash
# spf_stamp.sh - SPF and the origin stamp through a real Postfix, with a
# real DNS server (dnsmasq) on loopback:
#   - a stamped message arrives at smtp-sink and "portcullisctl trace" on
#     the delivered file names the account (text and --json; also from
#     the milter's configuration; a tampered copy is refused);
#   - SPFCheck reject refuses a sender whose domain does not authorize the
#     relay address (550 5.7.23), and passes one whose domain does;
#   - SPFCheck header marks the message with X-Portcullis-SPF.
# Ports 12900-12999 belong to this test.
set -u

here=$(cd "$(dirname "$0")" && pwd) || exit 1
top_srcdir=$(cd "$here/../.." && pwd) || exit 1
# shellcheck source=SCRIPTDIR/../lib/postfix.sh
. "$top_srcdir/t/lib/postfix.sh" || exit 1

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: $0 needs root (Postfix's master, smtp-sink)"; exit 77
fi
PATH=$PATH:/usr/sbin:/sbin
for t in postfix dnsmasq swaks saslpasswd2 smtp-sink; do
	if ! command -v "$t" >/dev/null 2>&1; then
		echo "SKIP: $0 needs $t (packages postfix dnsmasq-base swaks sasl2-bin)"
		exit 77
	fi
done
MILTER=${PORTCULLIS_MILTER:-$(mt_find_prog src/milter/portcullis-milter)}
CTL=${PORTCULLISCTL:-$(mt_find_prog src/ctl/portcullisctl)}
[ -x "$MILTER" ] && [ -x "$CTL" ] || { echo "Bail out! build first"; exit 1; }

DNS_PORT=12953
A_BASE=12910 A_SINK=12912 A_MILTER=12913
B_BASE=12920 B_SINK=12922 B_MILTER=12923
ports_free "" $DNS_PORT $A_BASE $((A_BASE + 1)) $A_SINK $A_MILTER $B_BASE \
    $((B_BASE + 1)) $B_SINK $B_MILTER
pf_cleanup_on_exit
pf_mktemp WORK || exit 1
# shellcheck disable=SC2034  # SW_DIR, USER_ADDR: for send_auth
SW_DIR=$WORK USER_ADDR=alice@test.example PASS=alice-secret RELAY=192.0.2.25

# dnsmasq: the test zone, nothing else (no resolv.conf, no hosts file).
dnsmasq --no-daemon --port=$DNS_PORT --listen-address=127.0.0.1 \
    --bind-interfaces --no-resolv --no-hosts --pid-file= \
    --txt-record=good.example,"v=spf1 ip4:$RELAY -all" \
    --txt-record=bad.example,"v=spf1 ip4:198.51.100.99 -all" \
    >"$WORK/dnsmasq.log" 2>&1 </dev/null &
pf_track_pid $!
for ((i = 0; i < 50; i++)); do
	dig +short +time=1 +tries=1 -p $DNS_PORT @127.0.0.1 good.example TXT \
	    2>/dev/null | grep -q spf1 && break
	command -v dig >/dev/null 2>&1 || { sleep 0.5; break; }
	sleep 0.1
done

head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$WORK/k1.hex"
printf 'old %s\ncur %s\n' "$(cat "$WORK/k1.hex")" \
    "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$WORK/origin.key"
chmod 600 "$WORK/origin.key"

printf 'Socket inet:%s@127.0.0.1\n' $A_MILTER >"$WORK/probe.conf"
OPTIONAL=$(mt_accepted_lines "$MILTER" "$WORK/probe.conf" \
    "ControlSocket $WORK/control.sock" "StateFile $WORK/milter.state")
OPTIONAL=${OPTIONAL//$WORK/@DIR@}

# instance NAME BASE SINK MILTERPORT SPFCHECK
instance() {
	local name=$1 base=$2 sink=$3 mport=$4 mode=$5 dir
	pf_mktemp "$name" || return 1
	dir=${!name}
	cat >"$dir/milter.conf" <<EOF
Socket          inet:$mport@127.0.0.1
${OPTIONAL//@DIR@/$dir}
AccountDomain   test.example
SenderPolicy    any
CheckHeaderFrom no
SPFCheck        $mode
SPFRelayAddress $RELAY
Resolver        127.0.0.1:$DNS_PORT
OriginStamp     yes
OriginKeyFile   $WORK/origin.key
EOF
	pf_init "$dir" "$base" "inet:127.0.0.1:$mport" &&
	    pf_add_user "$dir" alice test.example "$PASS" &&
	    sink_start "$dir" "$sink" &&
	    mt_start "$dir/milter.conf" "$dir/milter.out" "inet:$mport" &&
	    pf_start "$dir"
}

# send_as PORT NAME FROM: send_auth (t/lib/milter.sh), Subject "NAME $$".
send_as() {
	send_auth "$1" "$2" --from "$3" --header "Subject: $2 $$"
}

instance PA $A_BASE $A_SINK $A_MILTER reject || { echo "Bail out! instance A"; exit 1; }
instance PB $B_BASE $B_SINK $B_MILTER header || { echo "Bail out! instance B"; exit 1; }

# 1. stamped, traced back to the account.
send_as $A_BASE stamped alice@good.example
if f=$(sink_find "$PA" "stamped $$"); then
	if grep -q '^X-Portcullis-Origin: 1\.cur\.' "$f"; then
		pass "the delivered message carries the stamp (newest key)"
	else
		fail "the delivered message carries the stamp" "$(head -20 "$f")"
	fi
	out=$("$CTL" trace --key-file "$WORK/origin.key" "$f" 2>&1)
	if grep -q 'account=alice@test.example address=127.0.0.1 .*key=cur' <<<"$out"; then
		pass "portcullisctl trace names the account"
	else
		fail "portcullisctl trace names the account" "$out"
	fi
	out=$("$CTL" -m "$PA/milter.conf" trace --json - <"$f" 2>&1)
	if grep -q '"status":"ok".*"account":"alice@test.example"' <<<"$out"; then
		pass "trace --json, keys from the milter configuration"
	else
		fail "trace --json, keys from the milter configuration" "$out"
	fi
	# An ARF report around the delivered message.
	{ printf 'Content-Type: multipart/report; report-type=feedback-report; boundary="b1"\r\n\r\n'
	  printf -- '--b1\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nSource-IP: 127.0.0.1\r\n\r\n'
	  printf -- '--b1\r\nContent-Type: message/rfc822\r\n\r\n'; cat "$f"
	  printf -- '\r\n--b1--\r\n'; } >"$WORK/report.eml"
	out=$("$CTL" trace --key-file "$WORK/origin.key" "$WORK/report.eml" 2>&1)
	if grep -q 'feedback-type=abuse' <<<"$out" &&
	    grep -q 'reported message.*account=alice@test.example' <<<"$out"; then
		pass "trace reads an ARF report"
	else
		fail "trace reads an ARF report" "$out"
	fi
	sed 's/^\(X-Portcullis-Origin: 1\.cur\.....\)A/\1B/;t;s/^\(X-Portcullis-Origin: 1\.cur\.....\)./\1A/' \
	    "$f" >"$WORK/tampered.eml"
	out=$("$CTL" trace --key-file "$WORK/origin.key" "$WORK/tampered.eml" 2>&1); rc=$?
	if [ $rc = 1 ] && grep -q INVALID <<<"$out" && ! grep -q 'account=' <<<"$out"; then
		pass "a tampered stamp is reported, not printed"
	else
		fail "a tampered stamp is reported, not printed" "rc=$rc" "$out"
	fi
else
	fail "the stamped message arrives at smtp-sink" "$(tail -5 "$SW_OUT")"
fi

# 2. SPF reject.
send_as $A_BASE refused alice@bad.example
r=$(mail_reply)
if grep -Eq '^550[ -]5\.7\.23 SPF of bad\.example does not authorize this provider.s relays' <<<"$r"; then
	pass "SPFCheck reject: 550 5.7.23 for a domain that does not list the relay"
else
	fail "SPFCheck reject: 550 5.7.23" "got: $r" "$(tail -5 "$SW_OUT")"
fi

# 3. SPF header.
send_as $B_BASE marked alice@bad.example
if f=$(sink_find "$PB" "marked $$"); then
	if grep -q '^X-Portcullis-SPF: fail domain=bad.example; relay=192.0.2.25' "$f"; then
		pass "SPFCheck header marks the message"
	else
		fail "SPFCheck header marks the message" "$(head -20 "$f")"
	fi
else
	fail "SPFCheck header: the message arrives" "$(tail -5 "$SW_OUT")"
fi

mt_done
