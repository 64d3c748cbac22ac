#!/bin/bash
# dns.sh - the DNS checks against a real DNS server: dnsmasq on loopback
# serves PTR, A, SPF TXT and DNSBL records; portcullisd's Resolver points
# at it.  Checks: a good registration passes all, a PTR naming another
# host is refused, an SPF fail is refused, a listed address is refused
# naming the zone, a resolver that never answers gives 503 "temporary"
# (never a pass), and revalidation suspends an entry whose PTR changed,
# with an audit row and NotifyCommand.
set -u
. "$(dirname "$0")/lib.sh"
command -v dnsmasq >/dev/null || { echo "SKIP: dnsmasq (dnsmasq-base) is not installed"; exit 77; }
http_setup dns
sasl_setup
PORT=13120 DNSPORT=13121 DEADPORT=13122 PORT2=13123
URL=http://127.0.0.1:$PORT

dns_start() {	# extra dnsmasq arguments
	dnsmasq --no-daemon --port=$DNSPORT --listen-address=127.0.0.1 \
	    --bind-interfaces --no-resolv --no-hosts --conf-file=/dev/null \
	    --local=/example/ --local=/test/ --local=/2.0.192.in-addr.arpa/ \
	    --host-record=mx.alice.example,192.0.2.10 \
	    --txt-record=alice.example,"v=spf1 ip4:192.0.2.10 -all" \
	    --host-record=mx.bob.example,192.0.2.11 \
	    --txt-record=bob.example,"v=spf1 -all" \
	    --ptr-record=12.2.0.192.in-addr.arpa,dsl-12.isp.example \
	    --host-record=mx.dan.example,192.0.2.13 \
	    --txt-record=dan.example,"v=spf1 ip4:192.0.2.0/24 -all" \
	    --address=/13.2.0.192.zen.test/127.0.0.2 \
	    --txt-record=eve.example,"v=spf1 a:mx.eve.example -all" \
	    "$@" >>"$dir/dnsmasq.log" 2>&1 &
	dnspid=$!
	EXTRA_PIDS+=("$dnspid")
	local i
	for i in $(seq 1 50); do
		dig +short +time=1 +tries=1 -p $DNSPORT @127.0.0.1 mx.alice.example A 2>/dev/null | grep -q 192.0.2.10 && return 0
		sleep 0.1
	done
	echo "not ok - dnsmasq did not start"; cat "$dir/dnsmasq.log"; exit 1
}
command -v dig >/dev/null || { echo "SKIP: dig (dnsutils) is not installed"; exit 77; }
dns_start --host-record=mx.eve.example,192.0.2.14

write_conf() {	# port resolver-port db
	cat <<CONF
Database $dir/$3
Listen 127.0.0.1:$1
SubscriberNetworks 192.0.2.0/24
SASLConfigPath $dir/sasl
OwnershipCheck none
RequirePTR yes
RequireSPF yes
DNSBL zen.test
Resolver 127.0.0.1:$2
RevalidateEvery 2s
NotifyCommand env | grep ^PORTCULLIS_ >> $dir/notified
RuleFormat plain
RuleFile $dir/egress-$1.rules
CONF
}
write_conf $PORT $DNSPORT registry.db > "$dir/d.conf"
daemon_start "$dir/d.conf" $PORT

A=(-u alice@test.example:alice-pw -H 'Content-Type: application/json')
reg() {	# address hostname domain [url]
	code=$(curl -s -o "$dir/body" -D "$dir/hdr" -w '%{http_code}' --max-time 30 \
	    "${A[@]}" -d "{\"address\":\"$1\",\"hostname\":\"$2\",\"domain\":\"$3\"}" \
	    "${4:-$URL}/api/v1/registrations")
}
jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$dir/body" "$1"; }

reg 192.0.2.10 mx.alice.example alice.example
check "FCrDNS, SPF pass and not listed: 201" [ "$code" = 201 ]
check "every check recorded as pass" [ "$(jget '",".join(sorted(k+"="+v["result"] for k,v in d["checks"].items()))')" = \
    "dnsbl=pass,dynamic_pools=pass,ownership=skipped,ptr=pass,spf=pass,subscriber_networks=pass" ]
reg 192.0.2.12 mx.carol.example alice.example
check "PTR naming another host: 422" [ "$code" = 422 ]
check "the refusal names the PTR check and the name found" grep -q 'ptr check failed: the reverse DNS of 192.0.2.12 names dsl-12.isp.example' "$dir/body"
reg 192.0.2.10 mx.bob.example alice.example
check "a host name that is not the address's PTR: 422" [ "$code" = 422 ]
check "... and the failed check is ptr" [ "$(jget 'd["checks"]["ptr"]["result"]')" = fail ]
reg 192.0.2.11 mx.bob.example bob.example
check "SPF fail: 422" [ "$code" = 422 ]
check "the refusal names SPF" [ "$(jget 'd["checks"]["spf"]["result"]')" = fail ]
reg 192.0.2.13 mx.dan.example dan.example
check "listed address: 422" [ "$code" = 422 ]
check "the refusal names the zone" grep -q 'listed on zen.test' "$dir/body"
reg 192.0.2.14 mx.eve.example eve.example
check "eve registered: 201" [ "$code" = 201 ]
eve=$(jget 'd["id"]')

# A resolver that never answers: temporary, 503 with Retry-After.
python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", '$DEADPORT'))
end = time.time() + 120
s.settimeout(1)
while time.time() < end:
    try: s.recvfrom(4096)
    except OSError: pass
' &
EXTRA_PIDS+=("$!")
write_conf $PORT2 $DEADPORT dead.db > "$dir/dead.conf"
"$daemon" -f -c "$dir/dead.conf" >>"$dir/dead.log" 2>&1 &
dead=$!
EXTRA_PIDS+=("$dead")
for i in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT2/policy" && break; sleep 0.1; done
reg 192.0.2.10 mx.alice.example alice.example "http://127.0.0.1:$PORT2"
check "DNS timeout: 503, not a pass" [ "$code" = 503 ]
check "503 says temporary" [ "$(jget 'd["error"]')" = temporary ]
check "503 has Retry-After" grep -qi '^Retry-After: [0-9]' "$dir/hdr"
code=$(curl -s -o "$dir/body" -w '%{http_code}' -u alice@test.example:alice-pw "http://127.0.0.1:$PORT2/api/v1/registrations")
if [ "$code" = 200 ] && [ "$(jget 'len(d["registrations"])')" = 0 ]; then ok "nothing was registered on a timeout"; else notok "nothing was registered on a timeout"; fi

# One registration waiting seconds on the silent resolver stalls nobody
# else: the page, the rules and another subscriber's login (a SASL check,
# on a second worker) are answered at once while it waits.
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
curl -s -o "$dir/slow.body" -w '%{http_code}' --max-time 30 "${A[@]}" \
    -d '{"address":"192.0.2.10","hostname":"mx.alice.example","domain":"alice.example"}' \
    "http://127.0.0.1:$PORT2/api/v1/registrations" > "$dir/slow.code" &
slow=$!
slow_t0=$(date +%s%N)
# A client that gives up long before its answer is ready.
curl -s -o /dev/null --max-time 1 "${A[@]}" \
    -d '{"address":"192.0.2.11","hostname":"mx.bob.example","domain":"bob.example"}' \
    "http://127.0.0.1:$PORT2/api/v1/registrations" &
EXTRA_PIDS+=("$!")
sleep 0.5
t0=$(date +%s%N)
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$PORT2/policy")
took=$(ms_since "$t0")
check "GET /policy answered in $took ms while a registration waits on DNS" [ "$code" = 200 -a "$took" -lt 1000 ]
t0=$(date +%s%N)
code=$(curl -s -o "$dir/body" -w '%{http_code}' --max-time 10 -u bob@test.example:bob-pw \
    "http://127.0.0.1:$PORT2/api/v1/registrations")
took=$(ms_since "$t0")
check "another subscriber's login answered in $took ms meanwhile" [ "$code" = 200 -a "$took" -lt 1000 ]
check "... and the registration was still waiting then" kill -0 "$slow"
wait "$slow"
took=$(ms_since "$slow_t0")
check "the slow registration got its 503 ($took ms)" [ "$(cat "$dir/slow.code")" = 503 ]
sleep 0.5
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$PORT2/policy")
check "the answer to the client that gave up did no harm" [ "$code" = 200 ]
check "... and the daemon is still running" kill -0 "$dead"

# Revalidation: eve's PTR changes; within a few passes the entry is suspended.
kill "$dnspid"; wait "$dnspid" 2>/dev/null
dns_start --ptr-record=14.2.0.192.in-addr.arpa,dsl-14.isp.example
status=
for i in $(seq 1 100); do
	status=$(curl -s -u alice@test.example:alice-pw "$URL/api/v1/registrations/$eve" |
	    python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
	[ "$status" = suspended ] && break
	sleep 0.2
done
check "revalidation suspended the entry whose PTR changed" [ "$status" = suspended ]
if [ -x "$ctl" ]; then
	"$ctl" -c "$dir/d.conf" registry history "$eve" > "$dir/hist" 2>&1
	check "the suspension is audited with the reason" grep -q 'revalidation: ptr check failed' "$dir/hist"
fi
for i in $(seq 1 50); do [ -s "$dir/notified" ] && break; sleep 0.1; done
check "NotifyCommand was told" grep -q 'PORTCULLIS_EVENT=revalidation-suspend' "$dir/notified"
check "NotifyCommand got the address" grep -q 'PORTCULLIS_ADDRESS=192.0.2.14' "$dir/notified"
code=$(curl -s -o "$dir/body" -w '%{http_code}' -u alice@test.example:alice-pw "$URL/api/v1/registrations/1")
check "alice's good entry stays active" [ "$(jget 'd["status"]')" = active ]
finish
