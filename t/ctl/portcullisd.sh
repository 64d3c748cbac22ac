#!/bin/bash
# portcullisd.sh - runs the built portcullisd in the foreground on a
# temporary registry, changes the registry with portcullisctl and checks
# what reaches the applied rule file, within bounded waits: an added
# entry appears, a revoked one leaves, a short-lived one expires and
# leaves, a failing ApplyCommand is logged with its output, SIGHUP with a
# broken file keeps the old configuration, SIGTERM stops cleanly.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
daemon=$top_builddir/src/daemon/portcullisd
ctl=$top_builddir/src/ctl/portcullisctl
for p in "$daemon" "$ctl"; do
	[ -x "$p" ] || { echo "FAIL: $p not built"; exit 1; }
done

dir=$(mktemp -d /tmp/pc-daemon.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
conf=$dir/portcullisd.conf
applied=$dir/applied.rules
log=$dir/portcullisd.log

write_conf() {	# lifetime apply-command
	cat <<CONF
Database $dir/registry.db
PidFile $dir/portcullisd.pid
SubscriberNetworks 192.0.2.0/24, 2001:db8::/32
DynamicPools 192.0.2.128/25
EntryLifetime $1
RuleFormat plain
RuleFile $dir/egress.rules
ApplyCommand $2
CONF
}
write_conf 1h "cp $dir/egress.rules $applied" > "$conf"
# portcullisctl adds short-lived entries through a file with a 2 s lifetime.
write_conf 2s "cp $dir/egress.rules $applied" > "$dir/short.conf"

fail=0
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; sed 's/^/#   log: /' "$log" | tail -20; fail=1; }

# until_true SECONDS COMMAND...: polls every 0.1 s, at most SECONDS.
until_true() {
	local limit=$(($1 * 10)) i=0
	shift
	while [ $i -lt $limit ]; do
		"$@" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
has() { [ -f "$applied" ] && grep -qx "$1" "$applied"; }
hasnt() { [ -f "$applied" ] && ! grep -qx "$1" "$applied"; }
logged() { grep -q "$1" "$log"; }
alive() { kill -0 "$pid" 2>/dev/null; }
pc() { "$ctl" -c "$conf" "$@" >/dev/null; }

# -n and -V.
if "$daemon" -n -c "$conf" >/dev/null; then ok "-n accepts a good file"; else notok "-n good"; fi
printf 'SubscriberNetworks 192.0.2.0/24\nNftHook sideways\n' > "$dir/bad.conf"
if "$daemon" -n -c "$dir/bad.conf" 2>"$dir/n.err"; then notok "-n accepted a bad file"
elif grep -q 'bad.conf:2: NftHook' "$dir/n.err"; then ok "-n refuses a bad file, naming file and line"
else notok "-n message: $(cat "$dir/n.err")"; fi
if "$daemon" -V | grep -q '^portcullisd '; then ok "-V"; else notok "-V"; fi

"$daemon" -f -c "$conf" 2>"$log" &
pid=$!
if until_true 5 test -f "$applied"; then ok "initial rules applied at start"; else notok "no initial apply"; fi
if until_true 2 test -s "$dir/portcullisd.pid" && [ "$(cat "$dir/portcullisd.pid")" = "$pid" ]; then
	ok "PidFile holds the pid"
else
	notok "PidFile"
fi

# A registration reaches the rules within seconds.
start=$(date +%s%N)
pc registry add 192.0.2.10 --account alice
if until_true 5 has 192.0.2.10; then
	ok "added entry applied in $((($(date +%s%N) - start) / 1000000)) ms"
else
	notok "added entry not applied within 5 s"
fi
pc registry add 2001:db8::25 --account alice
if until_true 5 has 2001:db8::25; then ok "IPv6 entry applied"; else notok "IPv6 entry"; fi

# A revoked entry leaves.
pc registry revoke 1 --reason test
if until_true 5 hasnt 192.0.2.10; then ok "revoked entry removed"; else notok "revoked entry still applied"; fi
if has 2001:db8::25; then ok "the other entry stays"; else notok "other entry lost"; fi

# A suspended account leaves.
pc registry suspend --account alice
if until_true 5 hasnt 2001:db8::25; then ok "suspended account removed"; else notok "suspended account still applied"; fi

# A short-lived entry expires on time and leaves the rules.
"$ctl" -c "$dir/short.conf" registry add 192.0.2.20 --account bob >/dev/null
if until_true 5 has 192.0.2.20; then ok "short-lived entry applied"; else notok "short-lived entry not applied"; fi
if until_true 6 hasnt 192.0.2.20; then ok "expired entry removed"; else notok "expired entry still applied"; fi
if until_true 3 sh -c "'$ctl' -c '$conf' registry show 3 | grep -q '^status: *expired'"; then
	ok "entry marked expired"
else
	notok "entry not marked expired"
fi
if "$ctl" -c "$conf" registry history 3 | tail -1 | grep -q 'expire .* by portcullisd'; then
	ok "expiry audited as portcullisd"
else
	notok "expiry audit"
fi

# SIGHUP with a broken file: the daemon keeps running on the old one.
cp "$conf" "$dir/good.conf"
echo "RuleFormat ipfw" >> "$conf"
kill -HUP "$pid"
if until_true 5 logged "reload failed, keeping the old configuration"; then
	ok "broken reload logged"
else
	notok "broken reload not logged"
fi
if grep -q 'portcullisd.conf:9: RuleFormat' "$log"; then ok "reload error names file and line"; else notok "reload error text"; fi
cp "$dir/good.conf" "$conf"
pc registry add 192.0.2.30 --account carol
if alive && until_true 5 has 192.0.2.30; then ok "still applying after a broken reload"; else notok "dead after a broken reload"; fi

# A good reload takes effect: a failing ApplyCommand is logged with its output.
write_conf 1h "echo apply-output-marker >&2; exit 3" > "$conf"
kill -HUP "$pid"
if until_true 5 logged "configuration reloaded"; then ok "good reload"; else notok "good reload"; fi
if until_true 5 logged "apply-output-marker"; then ok "ApplyCommand failure logged with its output"; else notok "ApplyCommand failure not logged"; fi
if has 192.0.2.30; then ok "failed apply left the last applied rules"; else notok "applied rules lost"; fi

# SIGTERM: a clean stop.
kill -TERM "$pid"
i=0
while alive && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if alive; then
	notok "still running 5 s after SIGTERM"
else
	wait "$pid"
	rc=$?
	pid=
	if [ $rc = 0 ] && [ ! -e "$dir/portcullisd.pid" ] && logged stopped; then
		ok "SIGTERM: exit 0, PidFile removed"
	else
		notok "SIGTERM: exit $rc"
	fi
fi

echo "1..$n"
exit $fail
