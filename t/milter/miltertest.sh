#!/bin/bash
# miltertest.sh - runs the Lua scripts in t/milter against the built
# portcullis-milter with miltertest (from OpenDKIM), a milter client
# portcullis did not write.  Each script starts its own filter.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
milter=$top_builddir/src/milter/portcullis-milter

if ! command -v miltertest >/dev/null; then
	echo "SKIP: miltertest is not installed (apt-get install miltertest)"
	exit 77
fi
[ -x "$milter" ] || { echo "FAIL: $milter not built"; exit 1; }

dir=$(mktemp -d /tmp/pc-miltertest.XXXXXX)
trap 'rm -rf "$dir"' EXIT

write_conf() {	# name port extra-lines
	cat > "$dir/$1.conf" <<CONF
Socket inet:$2@127.0.0.1
PidFile $dir/$1.pid
LogFile $dir/$1.json
AccountDomain isp.example
TrustedNetworks 192.0.2.0/24, 2001:db8::/32
SenderPolicy domain
StateFile none
ControlSocket none
$3
CONF
}

fail=0
# script  port  config  extra config lines
runs="auth:12611:auth: header_from:12612:auth: tls:12613:tls:RequireTLS_yes sigterm:12614:auth:"
for r in $runs; do
	IFS=: read -r script port conf extra <<<"$r"
	write_conf "$conf" "$port" "${extra//_/ }"
	echo "# $script.lua"
	if ! miltertest -D srcdir="$top_srcdir" -D milter="$milter" \
	    -D confdir="$dir" -D port="$port" -s "$top_srcdir/t/milter/$script.lua"; then
		echo "not ok - $script.lua failed"
		fail=1
	fi
	# Each script's filter must leave an origin line per decision, as JSON.
	if [ "$script" = auth ]; then
		n=$(grep -c '"event":' "$dir/auth.json" 2>/dev/null || true)
		# 7 refusals at MAIL and 3 accepted messages: one line each.
		if [ "${n:-0}" -ne 10 ]; then
			echo "not ok - auth.lua logged ${n:-0} origin events"
			fail=1
		fi
		if ! python3 - "$dir/auth.json" <<'PY'
import json, sys
fields = "event qid account auth_type ip port ptr helo daemon tls cipher from header_from rcpts size msgid action reason".split()
for line in open(sys.argv[1]):
    ev = json.loads(line)
    missing = [f for f in fields if f not in ev]
    if missing:
        sys.exit("missing fields %s in %s" % (missing, line))
PY
		then
			echo "not ok - origin log lines lack SPEC fields"
			fail=1
		else
			echo "ok - every origin line is JSON with every SPEC field"
		fi
	fi
done
exit $fail
