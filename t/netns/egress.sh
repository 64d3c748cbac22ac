#!/bin/bash
# t/netns/egress.sh - end-to-end test of the port-25 egress rules with the
# real nft, iptables and ipset, inside network namespaces made here:
#
#   subscriber A (dual stack) --\
#                                router -- internet (smtp-sink on 25, 587)
#   subscriber B (dual stack) --/
#
# Subscribers are 192.0.2.0/24 and 2001:db8:1::/48, the internet is
# 203.0.113.0/24 and 2001:db8:ff::/64; all of them exist only inside
# these namespaces.  Rules are rendered and applied by t/netns/render_rules
# (the rules module: rules_render, rules_apply, rules_render_delta,
# rules_apply_delta) and checked with real TCP connections made from the
# subscriber namespaces.
#
# Prints "ok - NAME" / "not ok - NAME" per check; exit 0 when all pass, 1
# when any fails, 77 (skip) when not root or nft is missing.
# Environment: top_builddir, top_srcdir (automake sets them); PC_KEEP=1
# keeps the scratch directory.

set -u

here=$(cd "$(dirname "$0")" && pwd) || exit 1
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
PATH=$PATH:/usr/sbin:/sbin

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: $0 needs root (it creates network namespaces)"
	exit 77
fi
if ! command -v nft >/dev/null 2>&1; then
	echo "SKIP: $0 needs nft (apt-get install nftables)"
	exit 77
fi
missing=
for t in ip iptables-restore ip6tables-restore iptables ipset smtp-sink \
    python3 timeout awk cmp; do
	command -v "$t" >/dev/null 2>&1 || missing="$missing$t "
done
if [ -n "$missing" ]; then
	echo "Bail out! missing programs: $missing(packages: iproute2" \
	    "nftables iptables ipset postfix python3 coreutils gawk diffutils)"
	exit 1
fi

RENDER=
for b in "${top_builddir:-}" "${abs_top_builddir:-}" "$PWD" "$top_srcdir"; do
	if [ -n "$b" ] && [ -x "$b/t/netns/render_rules" ]; then
		RENDER=$b/t/netns/render_rules
		break
	fi
done
if [ -z "$RENDER" ]; then
	echo "Bail out! t/netns/render_rules is not built (make check builds it)"
	exit 1
fi

id=pc-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
R=$id-r; A=$id-a; B=$id-b; I=$id-i; X=$id-x
work=$(mktemp -d "/tmp/$id.XXXXXX") || exit 1
sink_pids=

cleanup() {
	local p ns
	for p in $sink_pids; do
		kill "$p" 2>/dev/null
	done
	for ns in $R $A $B $I $X; do
		ip netns del "$ns" 2>/dev/null
	done
	if [ "${PC_KEEP:-0}" = 1 ]; then
		echo "# kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

failed=0
ok() { echo "ok - $1"; }
nok() { echo "not ok - $1"; failed=1; }
check() {	# check NAME COMMAND...
	local name=$1
	shift
	if "$@"; then ok "$name"; else nok "$name"; fi
}

SUBS="192.0.2.0/24,2001:db8:1::/48"
A4=192.0.2.10; A6=2001:db8:1:a::10
B4=192.0.2.70; B6=2001:db8:1:b::70
N4=203.0.113.25; N6=2001:db8:ff::25
RF=$work/egress.rules

# ---- the namespaces ----
setup() {
	local ns
	for ns in $R $A $B $I $X; do
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up || return 1
	done
	ip link add ra netns "$R" type veth peer name eth0 netns "$A" &&
	ip link add rb netns "$R" type veth peer name eth0 netns "$B" &&
	ip link add ri netns "$R" type veth peer name eth0 netns "$I" ||
		return 1
	ip -n "$R" addr add 192.0.2.1/26 dev ra &&
	ip -n "$R" addr add 2001:db8:1:a::1/64 dev ra nodad &&
	ip -n "$R" addr add 192.0.2.65/26 dev rb &&
	ip -n "$R" addr add 2001:db8:1:b::1/64 dev rb nodad &&
	ip -n "$R" addr add 203.0.113.1/24 dev ri &&
	ip -n "$R" addr add 2001:db8:ff::1/64 dev ri nodad || return 1
	ip -n "$A" addr add $A4/26 dev eth0 &&
	ip -n "$A" addr add $A6/64 dev eth0 nodad &&
	ip -n "$B" addr add $B4/26 dev eth0 &&
	ip -n "$B" addr add $B6/64 dev eth0 nodad &&
	ip -n "$I" addr add $N4/24 dev eth0 &&
	ip -n "$I" addr add $N6/64 dev eth0 nodad || return 1
	for ns in $A $B $I; do
		ip -n "$ns" link set eth0 up || return 1
	done
	ip -n "$R" link set ra up && ip -n "$R" link set rb up &&
	ip -n "$R" link set ri up || return 1
	ip -n "$A" route add default via 192.0.2.1 &&
	ip -n "$A" -6 route add default via 2001:db8:1:a::1 &&
	ip -n "$B" route add default via 192.0.2.65 &&
	ip -n "$B" -6 route add default via 2001:db8:1:b::1 &&
	ip -n "$I" route add default via 203.0.113.1 &&
	ip -n "$I" -6 route add default via 2001:db8:ff::1 || return 1
	ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1 &&
	ip netns exec "$R" sysctl -qw net.ipv6.conf.all.forwarding=1 ||
		return 1
	# smtp-sink, one per address and port, in the internet namespace.
	local l
	for l in $N4:25 $N4:587 "[$N6]:25" "[$N6]:587"; do
		(cd "$work" && exec ip netns exec "$I" smtp-sink -u root "$l" 64) \
		    >>"$work/sink.log" 2>&1 &
		sink_pids="$sink_pids $!"
	done
	return 0
}

# probe NS HOST PORT: prints open (SMTP banner read), refused (TCP reset),
# timeout or error, within 3 seconds.
probe() {
	ip netns exec "$1" timeout 5 python3 - "$2" "$3" <<'EOF' 2>/dev/null ||
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
    s.settimeout(3)
    print("open" if s.recv(64).startswith(b"220") else "error")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")
except OSError:
    print("error")
EOF
	echo timeout
}

# expect NAME NS HOST PORT WANT
expect() {
	local got
	got=$(probe "$2" "$3" "$4")
	if [ "$got" = "$5" ]; then
		ok "$1"
	else
		nok "$1 (got $got, want $5)"
	fi
}

# render_in_router ARGS...: the rules module, run inside the router.
rr() {
	ip netns exec "$R" "$RENDER" -S "$SUBS" "$@"
}

if ! setup; then
	echo "Bail out! could not build the namespaces"
	exit 1
fi

# Bounded wait for the four listeners.
up=0
for _ in $(seq 1 50); do
	up=0
	for p in "$N4 25" "$N4 587" "$N6 25" "$N6 587"; do
		# shellcheck disable=SC2086
		[ "$(probe "$I" $p)" = open ] && up=$((up + 1))
	done
	[ "$up" = 4 ] && break
	sleep 0.1
done
if [ "$up" != 4 ]; then
	echo "Bail out! smtp-sink did not come up:"; cat "$work/sink.log"
	exit 1
fi

# ---- before any rules: the topology itself works ----
expect "no rules: A reaches 25 over IPv4" "$A" $N4 25 open
expect "no rules: B reaches 25 over IPv6" "$B" $N6 25 open

# ---- full apply: A's IPv4 address registered ----
check "full apply with nft" rr -r "$RF" -c 'nft -f "$PORTCULLIS_RULE_FILE"' $A4
check "RuleFile written" test -s "$RF"
expect "registered A reaches 25 (IPv4)" "$A" $N4 25 open
expect "unregistered B is reset on 25 (IPv4)" "$B" $N4 25 refused
expect "A reaches 587 (IPv4)" "$A" $N4 587 open
expect "B reaches 587 (IPv4)" "$B" $N4 587 open
expect "A's unregistered IPv6 address is reset on 25" "$A" $N6 25 refused
expect "B reaches 587 (IPv6)" "$B" $N6 587 open
expect "the internet side is not filtered" "$I" 203.0.113.1 25 refused
check "table is inet portcullis, chain hooked on forward" \
    sh -c "ip netns exec $R nft list chain inet portcullis port25 |
    grep -q 'hook forward'"

# ---- delta: A's IPv6 address added ----
out=$(rr -r "$RF" -c 'nft -f "$PORTCULLIS_RULE_FILE"' -p "$A4" $A4 $A6)
check "adding A's IPv6 address is applied as a delta of 1 ($out)" \
    test "$out" = "delta 1"
expect "registered A reaches 25 (IPv6)" "$A" $N6 25 open
expect "unregistered B is reset on 25 (IPv6)" "$B" $N6 25 refused
expect "A still reaches 25 (IPv4)" "$A" $N4 25 open
check "RuleFile holds the new full set after the delta" \
    grep -q "$A6" "$RF"
check "no delta file left behind" test ! -e "$RF.delta"

# ---- delta: A's IPv4 address revoked ----
out=$(rr -r "$RF" -c 'nft -f "$PORTCULLIS_RULE_FILE"' -p "$A4 $A6" $A6)
check "revoking A's IPv4 address is a delta of 1 ($out)" test "$out" = "delta 1"
expect "revoked A is reset on 25 again (IPv4)" "$A" $N4 25 refused
expect "A still reaches 587 (IPv4)" "$A" $N4 587 open
expect "A's IPv6 address still reaches 25" "$A" $N6 25 open

# ---- a failing ApplyCommand keeps the old rules and the old file ----
cp "$RF" "$work/before"
ip netns exec "$R" nft list ruleset >"$work/ruleset.before"
rr -r "$RF" -c 'echo simulated failure; exit 1' $A6 $B4 2>"$work/fail.err"
check "a failing ApplyCommand exits 1" test $? = 1
check "the failure names the exit status and the output" \
    grep -q 'exit status 1.*simulated failure' "$work/fail.err"
check "the previous RuleFile is back in place" cmp -s "$RF" "$work/before"
check "no .prev or temp files left" \
    test -z "$(find "$work" -name 'egress.rules.*')"
ip netns exec "$R" nft list ruleset >"$work/ruleset.after"
check "the kernel ruleset is unchanged" \
    cmp -s "$work/ruleset.before" "$work/ruleset.after"
expect "after the failure, B is still reset on 25" "$B" $N4 25 refused
expect "after the failure, A still reaches 25 (IPv6)" "$A" $N6 25 open

# ---- a delta against state the kernel does not hold falls back ----
out=$(rr -r "$RF" -c 'nft -f "$PORTCULLIS_RULE_FILE"' -p "$A6 192.0.2.99" \
    $A6 $B4 2>/dev/null)
check "a stale delta falls back to a full apply ($out)" test "$out" = full
expect "after the fallback, B reaches 25 (IPv4)" "$B" $N4 25 open
expect "after the fallback, A is still reset on 25 (IPv4)" "$A" $N4 25 refused

# ---- drop instead of reject ----
check "full apply with BlockAction drop" \
    rr -d -r "$RF" -c 'nft -f "$PORTCULLIS_RULE_FILE"' $A6
expect "with drop, B's port-25 SYN is dropped (timeout)" "$B" $N4 25 timeout
expect "with drop, B still reaches 587" "$B" $N4 587 open

# ---- a full reload never passes through an empty whitelist ----
# 10,000 other entries make each transaction take a while; A connects
# over and over while the table is replaced again and again.
big=$(python3 -c 'print(" ".join("192.0.2.%d" % i for i in range(100, 200)) + " " +
    " ".join("2001:db8:1:c::%x" % i for i in range(1, 10000)))')
rr -r "$RF" -c 'nft -f "$PORTCULLIS_RULE_FILE"' $A4 $big || nok "big apply"
ip netns exec "$A" timeout 60 python3 - $N4 >"$work/loop.out" 2>&1 <<'EOF' &
import socket, sys, time
bad = n = 0
end = time.time() + 8
while time.time() < end:
    try:
        s = socket.create_connection((sys.argv[1], 25), timeout=2)
        s.recv(64)
        s.close()
    except OSError:
        bad += 1
    n += 1
print(n, bad)
EOF
loop=$!
reloads=0
for _ in $(seq 1 15); do
	rr -r "$RF" -c 'nft -f "$PORTCULLIS_RULE_FILE"' $A4 $big &&
	    reloads=$((reloads + 1))
done
wait $loop
read -r conns bad <"$work/loop.out"
check "15 full reloads during $conns connections from A: $bad refused" \
    test "$reloads" = 15 -a "${conns:-0}" -gt 0 -a "${bad:-1}" = 0

# ---- every golden .nft file loads (check mode) ----
for g in "$top_srcdir"/t/golden/*.nft; do
	case $g in */delta-*) continue ;; esac
	check "nft -c accepts $(basename "$g")" \
	    ip netns exec "$X" nft -c -f "$g"
done
ip netns exec "$X" nft -f "$top_srcdir/t/golden/mixed.nft"
check "nft -c accepts delta-mixed.nft on top of mixed.nft" \
    ip netns exec "$X" nft -c -f "$top_srcdir/t/golden/delta-mixed.nft"
ip netns exec "$X" nft flush ruleset

# ---- iptables: ipset restore, iptables-restore --test ----
section() {	# section FILE NAME
	awk -v s="$2" '/^# portcullis-section: /{on=($3==s);next} on' "$1"
}
for g in "$top_srcdir"/t/golden/*.iptables; do
	n=$(basename "$g")
	check "ipset restore accepts $n" \
	    sh -c "$(declare -f section); section '$g' ipset |
	    ip netns exec $X ipset restore"
	check "iptables-restore --test accepts $n" \
	    sh -c "$(declare -f section); section '$g' iptables |
	    ip netns exec $X iptables-restore --noflush --test"
	check "ip6tables-restore --test accepts $n" \
	    sh -c "$(declare -f section); section '$g' ip6tables |
	    ip netns exec $X ip6tables-restore --noflush --test"
done

# And the iptables rules do what the nft ones do, in the router.
ip netns exec "$R" nft delete table inet portcullis
rr -f iptables $A4 $A6 >"$work/ipt.rules"
apply_ipt() {
	section "$work/ipt.rules" ipset | ip netns exec "$R" ipset restore &&
	section "$work/ipt.rules" iptables |
	    ip netns exec "$R" iptables-restore --noflush &&
	section "$work/ipt.rules" ip6tables |
	    ip netns exec "$R" ip6tables-restore --noflush
}
check "iptables sections apply in the router" apply_ipt
check "applying them twice works (sets swapped, chain refilled)" apply_ipt
ip netns exec "$R" iptables -I FORWARD -j PORTCULLIS
ip netns exec "$R" ip6tables -I FORWARD -j PORTCULLIS
check "one rule per kind, not per address" \
    test "$(ip netns exec "$R" iptables -S PORTCULLIS | grep -c -- -A)" = 2
expect "iptables: registered A reaches 25 (IPv4)" "$A" $N4 25 open
expect "iptables: registered A reaches 25 (IPv6)" "$A" $N6 25 open
expect "iptables: B is reset on 25 (IPv4)" "$B" $N4 25 refused
expect "iptables: B is reset on 25 (IPv6)" "$B" $N6 25 refused
expect "iptables: B reaches 587" "$B" $N4 587 open

exit $failed
