#!/bin/bash
# api.sh - the JSON API end to end: curl against the built portcullisd,
# subscribers checked by Cyrus SASL against a real sasldb, for every
# status code the API answers: 200 201 202 204 304 400 401 403 404 405
# 409 413 415 422 429 500 (503 is in dns.sh, where DNS can fail).  Also:
# a suspended entry cannot be deleted into a fresh registration.
# TrustedProxies 127.0.0.1 lets each request claim its client address
# with X-Forwarded-For, so source-address ownership is exercised too.
set -u
. "$(dirname "$0")/lib.sh"
http_setup api
sasl_setup
PORT=13110
URL=http://127.0.0.1:$PORT
echo "router-secret-token-1" > "$dir/tokens"
write_conf() {	# approval-mode
	cat <<CONF
Database $dir/registry.db
Listen 127.0.0.1:$PORT
SubscriberNetworks 192.0.2.0/24, 2001:db8::/32
DynamicPools 192.0.2.128/25
TrustedProxies 127.0.0.1
SASLService portcullis
SASLConfigPath $dir/sasl
RouterTokenFile $dir/tokens
OwnershipCheck source-address
RequirePTR no
ApprovalMode $1
ContactAddress port25@isp.example
RuleFormat plain
RuleFile $dir/egress.rules
CONF
}
write_conf auto > "$dir/d.conf"
daemon_start "$dir/d.conf" $PORT

# req METHOD PATH [curl args...]: sets $code, body in $dir/body, headers in $dir/hdr
req() {
	local m=$1 p=$2; shift 2
	code=$(curl -s -o "$dir/body" -D "$dir/hdr" -w '%{http_code}' -X "$m" \
	    --max-time 10 "$@" "$URL$p")
}
A=(-u alice@test.example:alice-pw)
B=(-u bob@test.example:bob-pw)
J=(-H 'Content-Type: application/json')
jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$dir/body" "$1"; }
is() { [ "$code" = "$1" ]; }
hdr() { grep -qi "^$1" "$dir/hdr"; }
not_in() { ! grep -q "$1" "$2"; }

req GET /api/v1/registrations
check "401 without credentials" is 401
check "401 asks for Basic" hdr 'WWW-Authenticate: Basic realm="portcullis"'
check "401 body is {error, detail}" [ "$(jget 'd["error"]')" = unauthorized ]
req GET /api/v1/registrations -u alice@test.example:wrong
check "401 with a wrong password" is 401
req GET /api/v1/registrations -u nobody@test.example:x
check "401 for an unknown account" is 401
req GET /api/v1/registrations "${A[@]}"
check "200 list, empty" is 200
check "empty list" [ "$(jget 'len(d["registrations"])')" = 0 ]

req POST /api/v1/registrations "${A[@]}" -H 'X-Forwarded-For: 192.0.2.10' \
    -H 'Content-Type: text/plain' -d '{}'
check "415 for a body that is not JSON" is 415
req POST /api/v1/registrations "${A[@]}" "${J[@]}" -H 'X-Forwarded-For: 192.0.2.10' -d '{"address": 5}'
check "400 for a wrong type" is 400
check "400 names the member" grep -q '\\"address\\" must be a string' "$dir/body"
req POST /api/v1/registrations "${A[@]}" "${J[@]}" -d '{"address":"1.2.3.4","address":"5.6.7.8"}'
check "400 for duplicate keys" is 400
req POST /api/v1/registrations "${A[@]}" "${J[@]}" -d '{"address":"192.0.2.10"'
check "400 for broken JSON" is 400
req POST /api/v1/registrations "${A[@]}" "${J[@]}" -d '{"address":"192.0.2.300"}'
check "400 for a bad address" is 400
head -c 70000 /dev/zero | tr '\0' 'x' > "$dir/big"
req POST /api/v1/registrations "${A[@]}" "${J[@]}" --data-binary @"$dir/big"
check "413 for a body over 64 KiB" is 413
check "413 body is the API's JSON {error, detail}" [ "$(jget 'd["error"]')" = too_large ]
check "413 is application/json" hdr 'Content-Type: application/json'
# Beyond 256 KiB libevent itself refuses, before portcullisd sees the
# request, with its own (HTML) body: still a 413, and still no crash.
head -c 300000 /dev/zero | tr '\0' 'x' > "$dir/huge"
req POST /api/v1/feedback "${J[@]}" --data-binary @"$dir/huge"
check "413 for a body over libevent's 256 KiB limit" is 413

req POST /api/v1/registrations "${A[@]}" "${J[@]}" -H 'X-Forwarded-For: 192.0.2.10' \
    -d '{"address":"198.51.100.7"}'
check "422 outside SubscriberNetworks" is 422
check "422 says which check failed" [ "$(jget 'd["checks"]["subscriber_networks"]["result"]')" = fail ]
check "422 detail in plain words" grep -q 'not on one of our subscriber networks' "$dir/body"
req POST /api/v1/registrations "${A[@]}" "${J[@]}" -H 'X-Forwarded-For: 192.0.2.200' -d '{}'
check "422 in DynamicPools" is 422
check "422 names dynamic_pools" [ "$(jget 'd["checks"]["dynamic_pools"]["result"]')" = fail ]
req POST /api/v1/registrations "${A[@]}" "${J[@]}" -H 'X-Forwarded-For: 192.0.2.11' \
    -d '{"address":"192.0.2.10"}'
check "422 when registering another address (source-address)" is 422
check "422 names ownership" [ "$(jget 'd["checks"]["ownership"]["result"]')" = fail ]
req POST /api/v1/registrations "${A[@]}" "${J[@]}" -H 'X-Forwarded-For: 203.0.113.9, 192.0.2.10' \
    -d '{"hostname":"mx.alice.example","domain":"alice.example"}'
check "201 registered (address from the proxy's X-Forwarded-For)" is 201
check "201 entry is active" [ "$(jget 'd["status"]')" = active ]
check "201 entry is the client's address" [ "$(jget 'd["address"]')" = 192.0.2.10 ]
check "201 has a Location" hdr 'Location: /api/v1/registrations/'
id=$(jget 'd["id"]')
check "security header: CSP" hdr "Content-Security-Policy: default-src 'none'"
check "security header: X-Frame-Options" hdr 'X-Frame-Options: DENY'
check "API replies are not cached" hdr 'Cache-Control: no-store'
req POST /api/v1/registrations "${B[@]}" "${J[@]}" -H 'X-Forwarded-For: 192.0.2.10' -d '{}'
check "409 for an address already registered" is 409

req GET /api/v1/registrations "${A[@]}"
if [ "$code" = 200 ] && [ "$(jget 'd["registrations"][0]["address"]')" = 192.0.2.10 ]; then ok "200 list has the entry"; else notok "200 list has the entry"; fi
req GET /api/v1/registrations "${B[@]}"
check "bob sees none of alice's entries" [ "$(jget 'len(d["registrations"])')" = 0 ]
req GET "/api/v1/registrations/$id" "${B[@]}"
check "404 for someone else's entry" is 404
req DELETE "/api/v1/registrations/$id" "${B[@]}"
check "404 deleting someone else's entry" is 404
req PUT "/api/v1/registrations/$id" "${A[@]}"
check "405 for PUT" is 405
check "405 says what is allowed" hdr 'Allow: GET, DELETE'
req GET /api/v1/nothing "${A[@]}"
check "404 for an unknown endpoint" is 404

# Rules for routers: tokens, formats, ETag.
req GET /api/v1/rules
check "401 rules without a token" is 401
req GET /api/v1/rules -H 'Authorization: Bearer wrong'
check "401 rules with a wrong token" is 401
req GET '/api/v1/rules?format=plain' -H 'Authorization: Bearer router-secret-token-1'
check "200 rules" is 200
check "rules hold the active address" grep -qx '192.0.2.10' "$dir/body"
etag=$(sed -n 's/^ETag: *//Ip' "$dir/hdr" | tr -d '\r')
check "rules have an ETag" [ -n "$etag" ]
req GET '/api/v1/rules?format=plain' -H 'Authorization: Bearer router-secret-token-1' -H "If-None-Match: $etag"
check "304 when unchanged" is 304
req GET '/api/v1/rules?format=ipfw' -H 'Authorization: Bearer router-secret-token-1'
check "400 for an unknown format" is 400

req DELETE "/api/v1/registrations/$id" "${A[@]}"
check "204 deleted" is 204
req GET '/api/v1/rules?format=plain' -H 'Authorization: Bearer router-secret-token-1' -H "If-None-Match: $etag"
if [ "$code" = 200 ] && ! grep -q '192.0.2.10' "$dir/body"; then ok "200 and new rules after the delete"; else notok "200 and new rules after the delete"; fi
req GET "/api/v1/registrations/$id" "${A[@]}"
check "404 for a deleted entry" is 404

# A suspended entry is no way out of its suspension: its subscriber
# cannot delete it to register the address afresh, and a new
# registration of the account waits for an administrator.
req POST /api/v1/registrations "${A[@]}" "${J[@]}" -H 'X-Forwarded-For: 192.0.2.30' -d '{}'
check "201 registered 192.0.2.30" is 201
sid=$(jget 'd["id"]')
ctl_q() { "$ctl" -c "$dir/d.conf" "$@" >/dev/null; }
check "portcullisctl registry suspend" ctl_q registry suspend "$sid" --reason "abuse report"
req DELETE "/api/v1/registrations/$sid" "${A[@]}"
check "409 deleting a suspended entry" is 409
check "409 error is entry_suspended" [ "$(jget 'd["error"]')" = entry_suspended ]
check "409 detail says why and whom to contact" \
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["detail"]; assert "suspended" in d and "port25@isp.example" in d, d' "$dir/body"
req GET "/api/v1/registrations/$sid" "${A[@]}"
check "the entry stays suspended" [ "$(jget 'd["status"]')" = suspended ]
req POST /api/v1/registrations "${A[@]}" "${J[@]}" -H 'X-Forwarded-For: 192.0.2.30' -d '{}'
check "409 registering the suspended address again" is 409
req POST /api/v1/registrations "${A[@]}" "${J[@]}" -H 'X-Forwarded-For: 192.0.2.31' -d '{}'
check "202 for another address while the account holds a suspended entry" is 202
check "... and it is pending, not active" [ "$(jget 'd["status"]')" = pending ]
req GET '/api/v1/rules?format=plain' -H 'Authorization: Bearer router-secret-token-1'
if [ "$code" = 200 ] && ! grep -q '192.0.2.3[01]' "$dir/body"; then ok "neither address is in the rules"; else notok "neither address is in the rules"; fi
req POST /api/v1/registrations "${B[@]}" "${J[@]}" -H 'X-Forwarded-For: 192.0.2.32' -d '{}'
check "201 for another account still" is 201
# The page offers no Delete for it, and refuses a forged one.
jar=$dir/jar
page_login alice@test.example alice-pw
check "the page lists the suspended entry as under review" grep -q 'under review' "$dir/page"
check "... with no Delete button for it" not_in 'aria-label="Delete 192.0.2.30"' "$dir/page"
csrf=$(page_csrf register)
code=$(curl -s -c "$jar" -b "$jar" --max-time 10 -o "$dir/page" -w '%{http_code}' \
    --data-urlencode "id=$sid" --data-urlencode "csrf=$csrf" "$URL/delete")
check "409 for a forged delete form of it" is 409
check "... saying it cannot be deleted" grep -q 'cannot be deleted' "$dir/page"

# Feedback.
req POST /api/v1/feedback "${J[@]}" -d '{"message":"Please open port 25 faster","contact":"x@example.org"}'
check "201 feedback stored" is 201
# 500: the registry refuses a write (a trigger stands in for a full or
# broken disk, which root cannot provoke with file modes); the client
# gets the JSON error without SQLite's words, and the daemon carries on.
python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("CREATE TRIGGER t500 BEFORE INSERT ON feedback BEGIN SELECT RAISE(ABORT, '"'"'disk on fire'"'"'); END"); c.commit()' "$dir/registry.db"
req POST /api/v1/feedback "${J[@]}" -H 'X-Forwarded-For: 192.0.2.99' -d '{"message":"second"}'
check "500 when the registry refuses a write" is 500
check "500 body is {error: internal, detail}" [ "$(jget 'd["error"]')" = internal ]
check "500 detail does not leak the database's words" not_in 'disk on fire' "$dir/body"
check "500 is logged with the reason" grep -q 'disk on fire' "$log"
python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("DROP TRIGGER t500"); c.commit()' "$dir/registry.db"
req POST /api/v1/feedback "${J[@]}" -d '{"contact":"x@example.org"}'
check "400 feedback without a message" is 400
# A member name whose error text would be cut inside a UTF-8 character
# once made portcullisd exit, then answer 500: the text is cut between
# characters, and the client gets the 400 its body deserves.
req POST /api/v1/feedback "${J[@]}" -d $'{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9":"x"}'
check "400 for a key cut mid-character" is 400
check "... naming the member, cut before the character" \
    grep -q '"unknown member \\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\"\.\.\."' "$dir/body"
req POST /api/v1/feedback "${J[@]}" -d $'{"a\xff":"x"}'
check "400 for a body that is not UTF-8" is 400
req GET /policy
check "portcullisd still serves after it" is 200

# Manual approval: 202 and pending until approved.
write_conf manual > "$dir/d.conf"
kill -HUP "$dpid"; sleep 1.5
req POST /api/v1/registrations "${A[@]}" "${J[@]}" -H 'X-Forwarded-For: 192.0.2.20' -d '{}'
check "202 under ApprovalMode manual" is 202
check "202 entry is pending" [ "$(jget 'd["status"]')" = pending ]

# A reload's EntryLifetime reaches registrations made through the API.
{ write_conf auto; echo "EntryLifetime 7d"; } > "$dir/d.conf"
kill -HUP "$dpid"; sleep 1.5
req POST /api/v1/registrations "${B[@]}" "${J[@]}" -H 'X-Forwarded-For: 192.0.2.23' -d '{}'
check "201 after the lifetime reload" is 201
days() { python3 -c 'import json,sys,datetime as D
d=json.load(open(sys.argv[1])); f=lambda s: D.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
print(round((f(d["expires"]) - f(d["created"])).total_seconds() / 86400))' "$dir/body"; }
check "... expires after the reloaded 7 days" [ "$(days)" = 7 ]
write_conf manual > "$dir/d.conf"
kill -HUP "$dpid"; sleep 1.5

# Throttle: carol fails five times for free, then 429 with Retry-After,
# even with the right password.
for i in 1 2 3 4 5; do
	req GET /api/v1/registrations -u carol@test.example:bad -H 'X-Forwarded-For: 192.0.2.50'
done
check "5th failure still 401" is 401
req GET /api/v1/registrations -u carol@test.example:bad -H 'X-Forwarded-For: 192.0.2.50'
req GET /api/v1/registrations -u carol@test.example:carol-pw -H 'X-Forwarded-For: 192.0.2.51'
check "429 after repeated failures" is 429
check "429 has Retry-After" hdr 'Retry-After: [0-9]'
req GET /api/v1/registrations "${A[@]}" -H 'X-Forwarded-For: 192.0.2.52'
check "another account is not throttled" is 200

# The pages' forms refuse posts without their CSRF token.
code=$(curl -s -o "$dir/body" -w '%{http_code}' --max-time 10 \
    -d 'account=alice@test.example&password=alice-pw&csrf=x' "$URL/login")
check "403 for a form post without the CSRF token" is 403
code=$(curl -s -o "$dir/body" -w '%{http_code}' --max-time 10 -H 'Origin: http://evil.example' \
    -d 'account=a&password=b' "$URL/login")
check "403 for a cross-site form post" is 403
req GET /policy
check "200 policy page" is 200
check "policy names the contact" grep -q 'port25@isp.example' "$dir/body"
check "policy names the networks" grep -q '192.0.2.0/24' "$dir/body"

if [ -x "$ctl" ]; then
	out=$("$ctl" -c "$dir/d.conf" feedback list 2>&1)
	check "portcullisctl feedback list shows it" grep -q 'Please open port 25 faster' <<<"$out"
fi
grep -q 'login-failed' "$log"
check "failed logins are logged" [ $? = 0 ]
finish
