# shellcheck shell=bash
# t/http/lib.sh - shared by the portcullisd HTTP tests: a private
# directory, a real Cyrus sasldb with test accounts, portcullisd started
# in the foreground on a loopback port, bounded waits, TAP-ish output.
#
#   http_setup NAME          temp dir in $dir, cleanup on exit
#   sasl_setup               $dir/sasl/portcullis.conf + sasldb with
#                            alice@test.example/alice-pw, bob@test.example/bob-pw
#   daemon_start CONF PORT   portcullisd -f -c CONF, waits for PORT
#   daemon_stop
#   ok/notok/check NAME CMD..., finish
#   page_login ACCOUNT PASSWORD   sign in through the page's form (cookies
#                            in $jar, $URL); the signed-in page in $dir/page
#   page_csrf ACTION         the CSRF token of the form posting to /ACTION
#                            in $dir/page

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
daemon=$top_builddir/src/daemon/portcullisd
ctl=$top_builddir/src/ctl/portcullisctl
PATH=$PATH:/usr/sbin:/sbin
n=0
fail=0
dpid=
EXTRA_PIDS=()

http_setup() {
	[ -x "$daemon" ] || { echo "FAIL: $daemon not built"; exit 1; }
	command -v curl >/dev/null || { echo "SKIP: curl is not installed"; exit 77; }
	command -v saslpasswd2 >/dev/null || { echo "SKIP: saslpasswd2 (sasl2-bin) is not installed"; exit 77; }
	dir=$(mktemp -d "/tmp/pc-$1.XXXXXX")
	trap http_cleanup EXIT
	log=$dir/portcullisd.log
}

http_cleanup() {
	local p
	daemon_stop
	for p in "${EXTRA_PIDS[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	[ -n "${PC_KEEP:-}" ] || rm -rf "$dir"
}

sasl_setup() {
	mkdir -p "$dir/sasl"
	cat >"$dir/sasl/portcullis.conf" <<CONF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN
sasldb_path: $dir/sasldb2
CONF
	echo alice-pw | saslpasswd2 -p -c -f "$dir/sasldb2" -u test.example alice
	echo bob-pw | saslpasswd2 -p -c -f "$dir/sasldb2" -u test.example bob
	echo carol-pw | saslpasswd2 -p -c -f "$dir/sasldb2" -u test.example carol
}

# wait_http PORT: until something answers, at most 10 s.
wait_http() {
	local i
	for i in $(seq 1 100); do
		curl -s -o /dev/null "http://127.0.0.1:$1/policy" && return 0
		kill -0 "$dpid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

daemon_start() {
	"$daemon" -f -c "$1" >>"$log" 2>&1 &
	dpid=$!
	if ! wait_http "$2"; then
		echo "not ok - portcullisd did not start"; sed 's/^/#   /' "$log"
		exit 1
	fi
}

daemon_stop() {
	if [ -n "$dpid" ]; then
		kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
		dpid=
	fi
}

ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() {
	n=$((n + 1)); echo "not ok $n - $1"; fail=1
	[ -f "$dir/body" ] && sed 's/^/#   body: /' "$dir/body" | head -5
	tail -5 "$log" | sed 's/^/#   log: /'
}
check() { local name=$1; shift; if "$@"; then ok "$name"; else notok "$name"; fi; }
finish() { echo "1..$n"; exit $fail; }

page_csrf() {
	sed -n "s/.*action=\"\/$1\"><input type=\"hidden\" name=\"csrf\" value=\"\([0-9a-f]*\)\".*/\1/p" "$dir/page"
}
page_login() {
	curl -s -c "$jar" -b "$jar" --max-time 10 -o "$dir/page" "$URL/"
	curl -s -c "$jar" -b "$jar" --max-time 10 -o /dev/null \
	    --data-urlencode "account=$1" --data-urlencode "password=$2" \
	    --data-urlencode "csrf=$(page_csrf login)" "$URL/login"
	curl -s -c "$jar" -b "$jar" --max-time 10 -o "$dir/page" "$URL/"
}
