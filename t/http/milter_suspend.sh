#!/bin/bash
# milter_suspend.sh - MilterControlSocket end to end: the real
# portcullis-milter with a ControlSocket, portcullisd asking it, and
# `portcullisctl milter suspend|resume` in between.  A suspended account
# is refused (403 on the API, plain words on the page, audited with the
# milter's reason, renewals too) while another account registers; after
# resume it registers; a milter that hangs or is gone means 503 within
# the 2-second timeout, never a pass.  Ports 13150-13159, loopback only.
set -u
. "$(dirname "$0")/lib.sh"
http_setup milter
milter=$top_builddir/src/milter/portcullis-milter
[ -x "$milter" ] || { echo "FAIL: $milter not built"; exit 1; }
[ -x "$ctl" ] || { echo "FAIL: $ctl not built"; exit 1; }
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
sasl_setup
PORT=13150
MPORT=13151
URL=http://127.0.0.1:$PORT
mpid=

# The milter may be stopped (SIGSTOP) when a check fails: wake it first.
milter_stop() {
	local i
	[ -n "$mpid" ] || return 0
	kill -CONT "$mpid" 2>/dev/null
	kill "$mpid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$mpid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$mpid" 2>/dev/null
	wait "$mpid" 2>/dev/null
	mpid=
}
trap 'milter_stop; http_cleanup' EXIT

# dave logs in with a bare name (the sasldb's default realm); the milter
# calls him dave@test.example (AccountDomain), and its NotifyCommand
# suspends his entries by that name.  Only dave's suspensions are wired
# through, so the steps for alice test MilterControlSocket alone.
echo dave-pw | saslpasswd2 -p -c -f "$dir/sasldb2" dave
cat >"$dir/notify.sh" <<SH
#!/bin/sh
case "\$PORTCULLIS_EVENT:\$PORTCULLIS_ACCOUNT" in
suspend:dave@*) exec "$ctl" -c "$dir/d.conf" registry suspend --account "\$PORTCULLIS_ACCOUNT" --reason "portcullis-milter: \$PORTCULLIS_REASON" >>"$dir/notify.log" 2>&1 ;;
esac
SH
chmod 755 "$dir/notify.sh"
cat >"$dir/milter.conf" <<CONF
Socket inet:$MPORT@127.0.0.1
ControlSocket $dir/control.sock
StateFile $dir/milter.state
AccountDomain test.example
NotifyCommand $dir/notify.sh
CONF
"$milter" -f -c "$dir/milter.conf" >>"$dir/milter.log" 2>&1 </dev/null &
mpid=$!
for ((i = 0; i < 100; i++)); do
	[ -S "$dir/control.sock" ] && break
	kill -0 "$mpid" 2>/dev/null || break
	sleep 0.1
done
if [ ! -S "$dir/control.sock" ]; then
	echo "not ok - portcullis-milter did not start"; sed 's/^/#   /' "$dir/milter.log"
	exit 1
fi

cat >"$dir/d.conf" <<CONF
Database $dir/registry.db
Listen 127.0.0.1:$PORT
SubscriberNetworks 192.0.2.0/24
TrustedProxies 127.0.0.1
SASLService portcullis
SASLConfigPath $dir/sasl
OwnershipCheck source-address
RequirePTR no
ContactAddress abuse@isp.example
RuleFormat plain
RuleFile $dir/egress.rules
MilterControlSocket $dir/control.sock
CONF
daemon_start "$dir/d.conf" $PORT

mctl() { timeout 20 "$ctl" -m "$dir/milter.conf" milter "$@"; }
# reg USER FROM: POST a registration of FROM (its own address) as USER.
reg() {
	code=$(curl -s -o "$dir/body" -D "$dir/hdr" -w '%{http_code}' \
	    --max-time 10 -u "$1@test.example:$1-pw" \
	    -H 'Content-Type: application/json' -H "X-Forwarded-For: $2" \
	    -d '{}' "$URL/api/v1/registrations")
}
jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$dir/body" "$1"; }
is() { [ "$code" = "$1" ]; }
not_in() { ! grep -q "$1" "$2"; }

check "portcullisctl milter suspend alice" mctl suspend alice@test.example --reason "spam run 42"
mctl usage alice@test.example >"$dir/usage" 2>&1
check "the milter reports alice suspended" grep -q '^suspended yes' "$dir/usage"

reg alice 192.0.2.10
check "403 for an account the milter has suspended" is 403
check "403 error is account_suspended" [ "$(jget 'd["error"]')" = account_suspended ]
check "403 detail says suspended and names the contact" \
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["detail"]; assert "alice@test.example is suspended" in d and "abuse@isp.example" in d, d' "$dir/body"
check "403 does not leak the milter's internal reason" not_in "spam run 42" "$dir/body"
check "the refusal is audited with the milter's reason" \
    grep -q 'event=registration-refused account=alice@test.example .*spam run 42' "$log"
code=$(curl -s -o "$dir/body" -w '%{http_code}' --max-time 10 \
    -u alice@test.example:alice-pw "$URL/api/v1/registrations")
check "nothing was registered for alice" [ "$(jget 'len(d["registrations"])')" = 0 ]

# The sign-up page: sign in, then the register form.
jar=$dir/jar
page_login alice@test.example alice-pw
csrf=$(page_csrf register)
code=$(curl -s -c "$jar" -b "$jar" --max-time 10 -o "$dir/page" -w '%{http_code}' \
    -H 'X-Forwarded-For: 192.0.2.10' --data-urlencode address=192.0.2.10 \
    --data-urlencode "csrf=$csrf" "$URL/register")
check "the page refuses alice's registration (403)" is 403
check "the page says so in plain words" grep -q 'Not registered: your account alice@test.example is suspended by our mail service.*contact abuse@isp.example' "$dir/page"

reg bob 192.0.2.20
check "201 for an account that is not suspended" is 201

check "portcullisctl milter resume alice" mctl resume alice@test.example
reg alice 192.0.2.10
check "201 for alice after the milter resumed her" is 201
aid=$(jget 'd["id"]')

# Renewing keeps port 25 open: refused as well while suspended.
mctl suspend alice@test.example >/dev/null 2>&1
code=$(curl -s -o "$dir/body" -w '%{http_code}' --max-time 10 -X POST \
    -u alice@test.example:alice-pw "$URL/api/v1/registrations/$aid/renew")
check "403 renewing while suspended" is 403
mctl resume alice@test.example >/dev/null 2>&1

# The milter's form of an account reaches the entry registered under the
# login as typed: dave registers as "dave", the milter suspends
# "dave@test.example", and its NotifyCommand suspends dave's entry.
code=$(curl -s -o "$dir/body" -w '%{http_code}' --max-time 10 -u dave:dave-pw \
    -H 'Content-Type: application/json' -H 'X-Forwarded-For: 192.0.2.40' \
    -d '{}' "$URL/api/v1/registrations")
check "201 for dave, logged in with a bare name" is 201
check "dave's entry is stored as he typed it" [ "$(jget 'd["account"]')" = dave ]
did=$(jget 'd["id"]')
mctl suspend dave --reason "stolen password" >/dev/null 2>&1
dstatus() {
	curl -s -o "$dir/body" --max-time 10 -u dave:dave-pw "$URL/api/v1/registrations/$did"
	jget 'd["status"]'
}
for ((i = 0; i < 100; i++)); do
	[ "$(dstatus)" = suspended ] && break
	sleep 0.1
done
check "NotifyCommand's registry suspend --account dave@test.example suspended dave's entry" \
    [ "$(dstatus)" = suspended ]
"$ctl" -c "$dir/d.conf" registry history "$did" >"$dir/out" 2>&1
check "the audit has the milter's reason" grep -q 'portcullis-milter: .*stolen password' "$dir/out"
check "the milter's NotifyCommand used its form of the name" \
    grep -q 'of account dave@test.example' "$dir/notify.log"
mctl resume dave >/dev/null 2>&1

# A milter that does not answer: 503 after the 2-second timeout.
kill -STOP "$mpid"
start=$(date +%s%N)
reg carol 192.0.2.30
took=$((($(date +%s%N) - start) / 1000000))
kill -CONT "$mpid"
check "503 while the milter hangs" is 503
check "503 came after about the timeout ($took ms)" [ "$took" -ge 1500 -a "$took" -lt 6000 ]

milter_stop
reg carol 192.0.2.30
check "503 with the milter stopped, not a pass" is 503
check "503 error is temporary" [ "$(jget 'd["error"]')" = temporary ]
check "503 has Retry-After" grep -qi '^Retry-After: [0-9]' "$dir/hdr"
check "the unreachable milter is logged" grep -q 'MilterControlSocket: cannot reach the milter at' "$log"
code=$(curl -s -o "$dir/body" -w '%{http_code}' --max-time 10 \
    -u carol@test.example:carol-pw "$URL/api/v1/registrations")
check "nothing was registered for carol" [ "$(jget 'len(d["registrations"])')" = 0 ]
finish
