#!/bin/bash
# https.sh - portcullisd with TLSCertificate/TLSKey: HTTPS end to end with
# curl.  A self-signed certificate is made at test time; curl checks it
# with --cacert.  TLS 1.2 and later are served, TLS 1.1 is refused (an
# "openssl s_server" that does allow TLS 1.1 shows that this client can
# really offer it, so the refusal is the daemon's), plain HTTP on the
# HTTPS port gets no page, and the subscriber API with HTTP Basic checked
# by Cyrus SASL works over HTTPS.  Ports 13140-13149.
set -u
# shellcheck source=t/http/lib.sh
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" != 0 ]; then echo "SKIP: run as root"; exit 77; fi
command -v openssl >/dev/null || { echo "SKIP: openssl is not installed"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl is not installed"; exit 77; }
http_setup https
sasl_setup

# free_port [EXCEPT]: the first port of 13140-13149 nobody listens on.
free_port() {
	local p
	for p in $(seq 13140 13149); do
		[ "$p" = "${1:-}" ] && continue
		timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$p" 2>/dev/null ||
		    { echo "$p"; return 0; }
	done
	return 1
}
PORT=$(free_port) || { echo "not ok - no free port in 13140-13149"; exit 1; }
URL=https://127.0.0.1:$PORT

if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -nodes -days 2 -subj /CN=localhost \
    -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
    -keyout "$dir/key.pem" -out "$dir/cert.pem" >"$dir/openssl.log" 2>&1; then
	echo "not ok - openssl could not make a certificate"
	sed 's/^/#   /' "$dir/openssl.log"
	exit 1
fi
chmod 600 "$dir/key.pem"

cat >"$dir/d.conf" <<CONF
Database $dir/registry.db
Listen 127.0.0.1:$PORT
TLSCertificate $dir/cert.pem
TLSKey $dir/key.pem
SubscriberNetworks 127.0.0.0/8
SASLService portcullis
SASLConfigPath $dir/sasl
OwnershipCheck source-address
RequirePTR no
ContactAddress port25@isp.example
RuleFormat plain
RuleFile $dir/egress.rules
CONF

C=(-s --max-time 10 --cacert "$dir/cert.pem")
"$daemon" -n -c "$dir/d.conf" >/dev/null 2>&1
check "portcullisd -n accepts the TLS configuration" [ $? = 0 ]

# Start it and wait (at most 10 s) until it answers over HTTPS.
"$daemon" -f -c "$dir/d.conf" >>"$log" 2>&1 &
dpid=$!
up=0
for _ in $(seq 1 100); do
	if curl "${C[@]}" -o /dev/null "$URL/policy"; then up=1; break; fi
	kill -0 "$dpid" 2>/dev/null || break
	sleep 0.1
done
if [ $up = 0 ]; then
	echo "not ok - portcullisd did not answer over HTTPS"
	sed 's/^/#   /' "$log"
	exit 1
fi

# get PATH [curl args...]: sets $code, body in $dir/body, headers in $dir/hdr
get() {
	local p=$1; shift
	code=$(curl "${C[@]}" -o "$dir/body" -D "$dir/hdr" -w '%{http_code}' \
	    "$@" "$URL$p")
}
# shellcheck disable=SC2317  # called through check
is() { [ "$code" = "$1" ]; }
# shellcheck disable=SC2317
hdr() { grep -qi "^$1" "$dir/hdr"; }

get /policy
check "HTTPS GET /policy is 200" is 200
check "the policy page is served" grep -q 'port25@isp.example' "$dir/body"
get /
check "HTTPS GET / (sign-up page) is 200" is 200
check "cookies over HTTPS are Secure" hdr 'Set-Cookie: pc_csrf=.*; Secure'
code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$URL/policy")
check "an unknown certificate is refused without --cacert" [ "$code" = 000 ]

# TLS versions.  OpenSSL's default security level keeps a client from
# offering TLS 1.1; SECLEVEL=0 lifts that, so the refusal below comes
# from the server.
OLD=(--tls-max 1.1 --tlsv1 --ciphers 'DEFAULT:@SECLEVEL=0')
curl "${C[@]}" -S "${OLD[@]}" -o /dev/null "$URL/policy" 2>"$dir/tls11.err"
rc=$?
# 35: the TLS handshake failed (not a timeout or a refused connection).
if [ $rc = 35 ]; then
	ok "TLS 1.1 is refused ($(tr -d '\n' <"$dir/tls11.err" | cut -c1-90))"
else
	notok "TLS 1.1 is refused (curl exit $rc, want 35)"
	sed 's/^/#   /' "$dir/tls11.err"
fi
curl "${C[@]}" --tls-max 1.1 -o /dev/null "$URL/policy"
check "curl --tls-max 1.1 fails" [ $? != 0 ]
if P2=$(free_port "$PORT"); then
	# Control: a server that allows TLS 1.1; curl must get through to it.
	openssl s_server -quiet -www -accept "127.0.0.1:$P2" \
	    -cert "$dir/cert.pem" -key "$dir/key.pem" \
	    -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' >"$dir/s_server.log" 2>&1 </dev/null &
	sp=$!
	EXTRA_PIDS+=("$sp")
	ctl11=1
	for _ in $(seq 1 50); do
		if curl "${C[@]}" "${OLD[@]}" -o /dev/null \
		    "https://127.0.0.1:$P2/" 2>/dev/null; then ctl11=0; break; fi
		kill -0 "$sp" 2>/dev/null || break
		sleep 0.1
	done
	kill "$sp" 2>/dev/null && wait "$sp" 2>/dev/null
	if [ $ctl11 = 0 ]; then
		ok "control: this curl does speak TLS 1.1 to a server that allows it"
	else
		ok "# SKIP control: this curl/OpenSSL cannot speak TLS 1.1 at all"
	fi
fi
code=$(curl "${C[@]}" -v --tls-max 1.2 --tlsv1.2 -o /dev/null -w '%{http_code}' \
    "$URL/policy" 2>"$dir/tls12.err")
check "TLS 1.2 works (--tls-max 1.2 --tlsv1.2)" [ "$code" = 200 ]
check "TLS 1.2 was negotiated" grep -q 'SSL connection using TLSv1.2' "$dir/tls12.err"
code=$(curl "${C[@]}" -v --tlsv1.3 -o /dev/null -w '%{http_code}' \
    "$URL/policy" 2>"$dir/tls13.err")
check "TLS 1.3 works" [ "$code" = 200 ]

# Plain HTTP on the HTTPS port: no page, and the daemon lives on.
code=$(curl -s --max-time 5 -o "$dir/plain" -w '%{http_code}' \
    "http://127.0.0.1:$PORT/policy")
if [ "$code" != 200 ] && ! grep -q 'port25@isp.example' "$dir/plain" 2>/dev/null; then
	ok "plain HTTP to the HTTPS port gets no page (status $code)"
else
	notok "plain HTTP to the HTTPS port gets no page (status $code)"
fi
get /policy
check "HTTPS still works after the plain HTTP attempt" is 200

# The subscriber API with HTTP Basic (Cyrus SASL) over HTTPS.
A=(-u alice@test.example:alice-pw)
J=(-H 'Content-Type: application/json')
get /api/v1/registrations
check "API without credentials is 401" is 401
get /api/v1/registrations -u alice@test.example:wrong
check "API with a wrong password is 401" is 401
get /api/v1/registrations "${A[@]}" -X POST "${J[@]}" -d '{}'
check "HTTPS registration with Basic auth is 201" is 201
check "the entry is the client's address, active" \
    grep -q '"address":"127.0.0.1".*"status":"active"' "$dir/body"
check "the API reply is not cached" hdr 'Cache-Control: no-store'
get /api/v1/registrations "${A[@]}"
check "HTTPS list with Basic auth is 200" is 200
check "the list holds the entry" grep -q '"address":"127.0.0.1"' "$dir/body"
for _ in $(seq 1 50); do
	grep -qx 127.0.0.1 "$dir/egress.rules" 2>/dev/null && break
	sleep 0.1
done
check "the rule file holds the address" grep -qx 127.0.0.1 "$dir/egress.rules"
finish
