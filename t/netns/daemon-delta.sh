#!/bin/bash
# daemon-delta.sh - portcullisd keeping a real nft table in step with the
# registry inside a network namespace of its own: the first apply loads
# the whole table, and later single changes (add, revoke) reach the kernel
# as element additions and deletions (the daemon logs "delta"), never by
# listing the set back.  Exit 77 only when not root or nft is missing.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
daemon=$top_builddir/src/daemon/portcullisd
ctl=$top_builddir/src/ctl/portcullisctl

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root for network namespaces"; exit 77; }
command -v nft >/dev/null || { echo "SKIP: nft missing (apt-get install nftables)"; exit 77; }
for p in "$daemon" "$ctl"; do
	[ -x "$p" ] || { echo "FAIL: $p not built"; exit 1; }
done

ns=pc-$$-delta
dir=$(mktemp -d /tmp/pc-delta.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
ip netns add "$ns" || { echo "FAIL: ip netns add"; exit 1; }

conf=$dir/portcullisd.conf
log=$dir/portcullisd.log
cat > "$conf" <<CONF
Database $dir/registry.db
SubscriberNetworks 192.0.2.0/24, 2001:db8::/32
RuleFormat nft
RuleFile $dir/egress.rules
ApplyCommand nft -f $dir/egress.rules
CONF

fail=0
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; sed 's/^/#   log: /' "$log" | tail -20; fail=1; }
until_true() {	# SECONDS COMMAND...
	local limit=$(($1 * 10)) i=0
	shift
	while [ $i -lt $limit ]; do
		"$@" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
in_set() {	# SET ADDRESS
	ip netns exec "$ns" nft list set inet portcullis "$1" 2>/dev/null | grep -qw -- "$2"
}
not_in_set() { ! in_set "$@"; }
logged() { grep -q -- "$1" "$log"; }
count_logged() { grep -c -- "$1" "$log"; }

"$ctl" -c "$conf" registry add 192.0.2.10 --account alice@isp.example >/dev/null ||
	notok "registry add 192.0.2.10"
ip netns exec "$ns" "$daemon" -f -c "$conf" >"$log" 2>&1 &
pid=$!

if until_true 10 in_set allowed_v4 192.0.2.10; then
	ok "the first apply loads the table with the registered address"
else
	notok "the first apply loads the table with the registered address"
fi
until_true 5 logged "rules applied: 1 allowed" && ok "the first apply is a full one" ||
	notok "the first apply is a full one"

"$ctl" -c "$conf" registry add 192.0.2.11 --account bob@isp.example >/dev/null
"$ctl" -c "$conf" registry add 2001:db8::25 --account carol@isp.example >/dev/null
if until_true 10 in_set allowed_v6 2001:db8::25 && in_set allowed_v4 192.0.2.11 &&
    in_set allowed_v4 192.0.2.10; then
	ok "added entries reach the kernel's sets"
else
	notok "added entries reach the kernel's sets"
fi
until_true 5 logged "as a delta of" && ok "small changes are applied as a delta" ||
	notok "small changes are applied as a delta"
fulls=$(count_logged "rules applied: ")
[ "$fulls" -eq 1 ] && ok "no full reload after the first" ||
	notok "no full reload after the first ($fulls full applies)"

id=$("$ctl" -c "$conf" registry list --json | python3 -c '
import json, sys
print([e["id"] for e in json.load(sys.stdin) if e["address"] == "192.0.2.10"][0])')
"$ctl" -c "$conf" registry revoke "$id" --reason "test" >/dev/null
if until_true 10 not_in_set allowed_v4 192.0.2.10 && in_set allowed_v4 192.0.2.11; then
	ok "a revoked address leaves the set, the others stay"
else
	notok "a revoked address leaves the set, the others stay"
fi
# RuleFile is refreshed just after the delta reaches the kernel, not
# before: give it the same time the set had.
rulefile_lists() { grep -q -- "$1" "$dir/egress.rules"; }
rulefile_lacks() { ! rulefile_lists "$1"; }
if until_true 10 rulefile_lacks 192.0.2.10 && rulefile_lists 192.0.2.11; then
	ok "RuleFile describes what the kernel holds"
else
	notok "RuleFile still lists the revoked address"
fi

echo "1..$n"
exit $fail
