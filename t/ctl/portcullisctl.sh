#!/bin/bash
# portcullisctl.sh - drives the built portcullisctl on a temporary
# registry: exit codes 0/1/2, one-line reasons on stderr, --json that
# parses, the SubscriberNetworks and DynamicPools checks of "registry
# add", the audit of --skip-checks, and the history of an entry.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
ctl=$top_builddir/src/ctl/portcullisctl
[ -x "$ctl" ] || { echo "FAIL: $ctl not built"; exit 1; }
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }

dir=$(mktemp -d /tmp/pc-ctl.XXXXXX)
trap 'rm -rf "$dir"' EXIT
conf=$dir/portcullisd.conf
cat > "$conf" <<CONF
Database $dir/registry.db
SubscriberNetworks 192.0.2.0/24, 2001:db8::/32
DynamicPools 192.0.2.128/25, 2001:db8:ff::/48
EntryLifetime 30d
RuleFormat plain
RuleFile $dir/egress.rules
ApplyCommand cp $dir/egress.rules $dir/applied.rules
CONF

fail=0
n=0
out=$dir/out
err=$dir/err

# expect RC DESCRIPTION ARGS...: runs portcullisctl -c $conf ARGS.
expect() {
	local want=$1 desc=$2 rc lines
	shift 2
	n=$((n + 1))
	"$ctl" -c "$conf" "$@" >"$out" 2>"$err"
	rc=$?
	if [ "$rc" != "$want" ]; then
		echo "not ok $n - $desc: exit $rc, wanted $want"
		sed 's/^/#   /' "$err"
		fail=1
		return 1
	fi
	lines=$(wc -l <"$err")
	if [ "$want" = 1 ] && { [ "$lines" != 1 ] || ! grep -q '^portcullisctl: ' "$err"; }; then
		echo "not ok $n - $desc: stderr is not one reason line:"
		sed 's/^/#   /' "$err"
		fail=1
		return 1
	fi
	if [ "$want" = 0 ] && [ -s "$err" ]; then
		echo "not ok $n - $desc: stderr on success:"
		sed 's/^/#   /' "$err"
		fail=1
		return 1
	fi
	echo "ok $n - $desc"
}

# check DESCRIPTION COMMAND...: a shell condition on the last output.
check() {
	local desc=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc"
		sed 's/^/#   out: /' "$out"
		sed 's/^/#   err: /' "$err"
		fail=1
	fi
}

me=$(id -un)

# Usage errors: 2.
expect 2 "no command"
expect 2 "unknown command" frobnicate
expect 2 "registry without a command" registry
expect 2 "unknown registry command" registry frob
expect 2 "unknown option" registry list --bogus
expect 2 "unknown status" registry list --status sleeping
expect 2 "add without --account" registry add 192.0.2.10
expect 2 "add without address" registry add --account alice
expect 2 "add with two addresses" registry add 192.0.2.10 192.0.2.11 --account alice
expect 2 "show without id" registry show
expect 2 "show with a non-number" registry show abc
expect 2 "revoke with id 0" registry revoke 0
expect 2 "option without its value" registry revoke 1 --reason
expect 2 "suspend with id and --account" registry suspend 1 --account alice
expect 2 "--account is only for suspend" registry revoke --account alice
expect 2 "unknown format" rules render --format ipfw
expect 2 "unknown rules command" rules flush

# Refusals: 1, one line.
expect 1 "outside SubscriberNetworks" registry add 203.0.113.7 --account alice
check "reason names SubscriberNetworks" grep -q 'not inside SubscriberNetworks' "$err"
expect 1 "inside DynamicPools (v4)" registry add 192.0.2.200 --account alice
check "reason names DynamicPools" grep -q 'inside DynamicPools (192.0.2.128/25)' "$err"
expect 1 "inside DynamicPools (v6)" registry add 2001:db8:ff::25 --account alice
expect 1 "v4-mapped form of a pool address" registry add ::ffff:192.0.2.130 --account alice
expect 1 "not an address" registry add mail.example.net --account alice
expect 1 "a network, not a host" registry add 192.0.2.0/24 --account alice
expect 1 "no such entry" registry show 999
expect 1 "history of no entry" registry history 999
printf 'ControlSocket %s/no-milter.sock  # nothing listens\n' "$dir" >"$dir/milter.conf"
expect 1 "milter stats without a running milter" -m "$dir/milter.conf" milter stats
check "says it cannot reach the milter" grep -q "cannot reach the milter at $dir/no-milter.sock" "$err"
expect 2 "milter usage needs an account" -m "$dir/milter.conf" milter usage
expect 2 "milter frob is no command" -m "$dir/milter.conf" milter frob
expect 1 "trace is later" trace /dev/null
expect 0 "list of an empty registry" registry list --json
check "empty JSON list" python3 -c 'import json,sys; assert json.load(open(sys.argv[1])) == []' "$out"

# Adding.
expect 0 "add inside SubscriberNetworks" registry add 192.0.2.10 --account Alice@ISP.example --hostname MX.Example.NET --domain example.net --note 'tab	and "quotes" \ backslash'
check "prints the id" grep -q '^entry 1 added: 192.0.2.10 active' "$out"
expect 0 "add IPv6, v4-mapped folds" registry add ::ffff:192.0.2.11 --account bob
expect 0 "add IPv6" registry add 2001:DB8::25 --account bob
expect 1 "duplicate address" registry add 192.0.2.10 --account carol
check "reason names the entry" grep -q 'already registered (entry 1, active)' "$err"
expect 1 "duplicate in another spelling" registry add ::ffff:c000:020a --account carol
expect 0 "--skip-checks outside the ranges" registry add 203.0.113.9 --account carol --skip-checks
id_skip=$(awk '{print $2}' "$out")

expect 0 "list --json" registry list --json
check "--json parses, canonical addresses, escaped note" python3 - "$out" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
assert [e["address"] for e in v] == ["192.0.2.10", "192.0.2.11", "2001:db8::25", "203.0.113.9"], v
assert [e["family"] for e in v] == [4, 4, 6, 4]
a = v[0]
assert a["account"] == "alice@isp.example" and a["hostname"] == "mx.example.net", a
assert a["note"] == 'tab and "quotes" \\ backslash', repr(a["note"])
assert a["status"] == "active" and a["expires"].endswith("Z")
assert json.loads(a["checks"]) == {"subscriber_networks": "pass", "dynamic_pools": "pass"}
assert json.loads(v[3]["checks"]) == {"skipped": "--skip-checks"}
PY
expect 0 "--skip-checks is audited" registry history "$id_skip" --json
check "audit names --skip-checks and the user" python3 - "$out" "$me" <<'PY'
import json, sys
h = json.load(open(sys.argv[1]))
assert len(h) == 1 and h[0]["action"] == "add", h
assert "--skip-checks" in h[0]["reason"], h
assert h[0]["who"].split()[0] == sys.argv[2], h
PY

# The lifecycle and its trail.
expect 0 "suspend" registry suspend 1 --reason "spam complaint #42"
expect 1 "renew a suspended entry" registry renew 1
check "reason explains the transition" grep -q 'cannot renew entry 1: it is suspended' "$err"
expect 1 "suspend twice" registry suspend 1
expect 0 "approve" registry approve 1 --reason "customer fixed the host"
expect 0 "renew" registry renew 1
expect 0 "revoke" registry revoke 1 --reason "contract ended"
expect 1 "approve a revoked entry" registry approve 1
expect 0 "the address is free again" registry add 192.0.2.10 --account dave
expect 0 "history" registry history 1
check "history has five lines" [ "$(wc -l <"$out")" = 5 ]
check "history reads in order" python3 - "$out" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
want = [("add", "(new)", "active"), ("suspend", "active", "suspended"),
        ("approve", "suspended", "active"), ("renew", "active", "active"),
        ("revoke", "active", "revoked")]
for line, (act, old, new) in zip(lines, want):
    f = line.split()
    assert f[1] == act and f[2] == old and f[4] == new, line
assert "spam complaint #42" in lines[1] and "contract ended" in lines[4]
PY
expect 0 "history --json" registry history 1 --json
check "history --json parses" python3 -c 'import json,sys; h=json.load(open(sys.argv[1])); assert [x["new_status"] for x in h] == ["active","suspended","active","active","revoked"]' "$out"
expect 0 "show" registry show 2
check "show gives the status" grep -q '^status: *active' "$out"
expect 0 "show --json" registry show 3 --json
check "show --json parses" python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["address"] == "2001:db8::25"' "$out"

# Suspending an account (the milter's NotifyCommand).
expect 0 "suspend --account" registry suspend --account BOB --reason "milter: rate limit"
check "two entries suspended" grep -q '^suspended 2 active entries of account BOB' "$out"
expect 0 "list --status suspended" registry list --status suspended --json
check "exactly bob's entries" python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); assert sorted(e["id"] for e in v) == [2,3], v' "$out"
expect 0 "suspend --account with nothing active" registry suspend --account nobody

# Rules from the registry: only active entries.
expect 0 "rules render" rules render
check "plain rules hold the active addresses only" [ "$(cat "$out")" = "$(printf '192.0.2.10\n203.0.113.9')" ]
expect 0 "rules render --format nft" rules render --format nft
check "nft output names the table" grep -q 'table inet portcullis' "$out"
expect 0 "rules apply" rules apply
check "ApplyCommand ran on RuleFile" cmp -s "$dir/egress.rules" "$dir/applied.rules"
sed -i 's|^ApplyCommand .*|ApplyCommand echo apply-broke >\&2; exit 3|' "$conf"
expect 1 "rules apply with a failing ApplyCommand" rules apply
check "the reason carries the command's output" grep -q 'apply-broke' "$err"

# A broken configuration: 1, naming file and line.
printf 'SubscriberNetworks 192.0.2.0/24\nRuleFormat ipfw\n' > "$dir/bad.conf"
n=$((n + 1))
"$ctl" -c "$dir/bad.conf" registry list >"$out" 2>"$err"
if [ $? = 1 ] && grep -q "bad.conf:2: RuleFormat: \"ipfw\" is not one of" "$err" && [ "$(wc -l <"$err")" = 1 ]; then
	echo "ok $n - bad configuration refused with file and line"
else
	echo "not ok $n - bad configuration"; sed 's/^/#   /' "$err"; fail=1
fi

# MilterControlSocket: an absolute path is taken (the registry commands
# never ask the milter), anything else refused naming the key.
printf 'Database %s\nSubscriberNetworks 192.0.2.0/24\nMilterControlSocket %s\n' \
    "$dir/registry.db" "$dir/no-milter.sock" > "$dir/mcs.conf"
n=$((n + 1))
if "$ctl" -c "$dir/mcs.conf" registry list >"$out" 2>"$err" && [ ! -s "$err" ]; then
	echo "ok $n - MilterControlSocket with an absolute path is accepted"
else
	echo "not ok $n - MilterControlSocket /path refused"; sed 's/^/#   /' "$err"; fail=1
fi
printf 'Database %s\nSubscriberNetworks 192.0.2.0/24\nMilterControlSocket run/control.sock\n' \
    "$dir/registry.db" > "$dir/mcs.conf"
n=$((n + 1))
"$ctl" -c "$dir/mcs.conf" registry list >"$out" 2>"$err"
if [ $? = 1 ] && grep -q 'mcs.conf: MilterControlSocket: "run/control.sock" is not an absolute path' "$err" && [ "$(wc -l <"$err")" = 1 ]; then
	echo "ok $n - a relative MilterControlSocket is refused, naming file and key"
else
	echo "not ok $n - relative MilterControlSocket"; sed 's/^/#   /' "$err"; fail=1
fi

# As root, the registry's owner is kept: a new database in a directory
# of the daemon's user belongs to that user, not to root.
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	chmod 755 "$dir"
	mkdir "$dir/owned"
	chown nobody "$dir/owned"
	sed "s|^Database .*|Database $dir/owned/registry.db|" "$conf" > "$dir/owned.conf"
	chmod 644 "$dir/owned.conf"
	n=$((n + 1))
	if "$ctl" -c "$dir/owned.conf" registry add 192.0.2.99 --account eve >"$out" 2>"$err" &&
	    [ "$(stat -c %U "$dir/owned/registry.db")" = nobody ]; then
		echo "ok $n - root switches to the registry's owner"
	else
		echo "not ok $n - registry owner"; sed 's/^/#   /' "$err"; ls -l "$dir/owned"; fail=1
	fi
fi

echo "1..$n"
exit $fail
