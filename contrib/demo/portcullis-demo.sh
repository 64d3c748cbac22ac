#!/bin/bash
# portcullis-demo.sh - the README's Quick start: a private Postfix submission
# service on loopback with portcullis-milter from the build tree in front of
# it, so you can watch AUTH enforcement, sender ownership and the origin log
# with swaks.  Nothing is delivered anywhere: an smtp-sink next hop writes
# every accepted message to a file.  Next to it portcullisd serves the
# self-service port-25 sign-up page, the policy page and the JSON API,
# checking the same demo account through Cyrus SASL; its rules go to a
# plain file in the demo directory and never reach the host's firewall.
#
#   contrib/demo/portcullis-demo.sh [start]   (re)start the demo
#   contrib/demo/portcullis-demo.sh stop      stop it
#   contrib/demo/portcullis-demo.sh status    show what runs
#
# Runs as root (Postfix's master and smtp-sink need it).  Everything lives in
# PORTCULLIS_DEMO_DIR (default /var/lib/portcullis-demo); the system's own
# Postfix, if any, is not touched.  The milter binary is PORTCULLIS_MILTER,
# else src/milter/portcullis-milter under top_builddir or this source tree;
# likewise PORTCULLISD (src/daemon/portcullisd) and PORTCULLISCTL
# (src/ctl/portcullisctl, optional: only used in the printed hints).
#
# Ports: submission 127.0.0.1:587 (2587 when 587 is taken), submissions
# (implicit TLS) 127.0.0.1:465 (2465), milter 127.0.0.1:18891, smtp-sink
# 127.0.0.1:12525, portcullisd's pages and API 127.0.0.1:8025 (18025).

set -u

here=$(cd "$(dirname "$0")" && pwd) || exit 1
top_srcdir=$(cd "$here/../.." && pwd) || exit 1
lib=$top_srcdir/t/lib/postfix.sh
if [ ! -r "$lib" ]; then
	echo "portcullis-demo: $lib is missing; run this from a portcullis source tree" >&2
	exit 1
fi
# shellcheck source=SCRIPTDIR/../../t/lib/postfix.sh
. "$lib"
PATH=$PATH:/usr/sbin:/sbin

DIR=${PORTCULLIS_DEMO_DIR:-/var/lib/portcullis-demo}
MILTER_PORT=18891
SINK_PORT=12525
ACCOUNT=demo DOMAIN=demo.example PASSWORD=demo
CONF=$DIR/portcullis-milter.conf
DCONF=$DIR/portcullisd.conf
SASL_SERVICE=portcullis

die() { echo "portcullis-demo: $*" >&2; exit 1; }

# find_prog OVERRIDE RELPATH [BUILDDIR]: OVERRIDE when set, else RELPATH
# under the build directory (BUILDDIR, top_builddir, the current
# directory) or the source tree.
find_prog() {
	local b
	if [ -n "$1" ]; then
		printf '%s\n' "$1"; return
	fi
	for b in "${3:-}" "${abs_top_builddir:-}" "${top_builddir:-}" "$PWD" "$top_srcdir"; do
		[ -n "$b" ] || continue
		[ -x "$b/$2" ] || continue
		(cd "$b" && printf '%s\n' "$PWD/$2")
		return
	done
	printf '%s\n' "$top_srcdir/$2"
}

find_milter() { find_prog "${PORTCULLIS_MILTER:-}" src/milter/portcullis-milter; }
# The build tree the milter came from (PORTCULLIS_MILTER=BUILD/src/milter/
# portcullis-milter) is the first place to look for the other two.
milter_builddir() {
	local d
	d=$(dirname "$1")
	case $d in */src/milter) printf '%s\n' "${d%/src/milter}" ;; esac
}
find_daemon() { find_prog "${PORTCULLISD:-}" src/daemon/portcullisd "$(milter_builddir "$1")"; }
find_ctl() { find_prog "${PORTCULLISCTL:-}" src/ctl/portcullisctl "$(milter_builddir "$1")"; }

demo_stop() {
	pf_stop_pidfile "$DIR/portcullisd.pid" portcullisd 10
	pf_stop_pidfile "$DIR/milter.pid" portcullis-milter 10
	pf_stop "$DIR"
}

# http_url: the pages' base URL from the Listen line of the demo's config.
http_url() {
	local l
	l=$(sed -n 's/^Listen[[:space:]]\{1,\}//p' "$DCONF" 2>/dev/null | head -n 1)
	printf 'http://%s\n' "${l:-127.0.0.1:8025}"
}

pidof_file() {
	[ -r "$1" ] && tr -dc 0-9 <"$1"
}

demo_status() {
	local p rc=0
	if p=$(pf_master_pid "$DIR"); then
		echo "postfix:  running (master pid $p), ports $(cat "$DIR/ports" 2>/dev/null)"
	else
		echo "postfix:  stopped"; rc=1
	fi
	p=$(pidof_file "$DIR/milter.pid")
	if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
		echo "milter:   running (pid $p), config $CONF"
	else
		echo "milter:   stopped"; rc=1
	fi
	p=$(pidof_file "$DIR/sink.pid")
	if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
		echo "smtp-sink: running (pid $p), $(sink_count "$DIR") message(s) in $DIR/sink"
	else
		echo "smtp-sink: stopped"; rc=1
	fi
	p=$(pidof_file "$DIR/portcullisd.pid")
	if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
		echo "portcullisd: running (pid $p), sign-up page $(http_url)/, config $DCONF"
	else
		echo "portcullisd: stopped"; rc=1
	fi
	return $rc
}

# pick_port PREFERRED FALLBACK: the first of the two nobody listens on.
pick_port() {
	if ! port_busy "$1"; then echo "$1"
	elif ! port_busy "$2"; then echo "$2"
	else return 1
	fi
}

write_milter_conf() {
	local milter=$1 extra
	cat >"$CONF" <<EOF
# portcullis-milter configuration for the demo; edit it and reload with
#   kill -USR1 \$(cat $DIR/milter.pid)
Socket          inet:$MILTER_PORT@127.0.0.1
PidFile         $DIR/milter.pid
LogFile         $DIR/origin.json
RequireAuth     yes
RequireTLS      no
AccountDomain   $DOMAIN
SenderPolicy    domain
CheckHeaderFrom yes
OnInternalError tempfail
EOF
	# Keep the milter's files in $DIR when this milter has those keys.
	extra=$(pf_accepted_lines "$milter" "$CONF" \
	    "ControlSocket $DIR/control.sock" "StateFile $DIR/milter.state" 2>/dev/null)
	if [ -n "$extra" ]; then printf '%s\n' "$extra" >>"$CONF"; fi
}

start_milter() {
	local milter=$1 i pid
	# -f keeps it in the foreground of its own session, so its output
	# goes to milter.log and it outlives this script.
	setsid "$milter" -f -c "$CONF" >>"$DIR/milter.log" 2>&1 </dev/null &
	pid=$!
	if ! wait_port "$MILTER_PORT" 10; then
		tail -n 20 "$DIR/milter.log" >&2
		die "the milter did not start (log: $DIR/milter.log)"
	fi
	for ((i = 0; i < 50; i++)); do
		[ -s "$DIR/milter.pid" ] && return 0
		sleep 0.1
	done
	# No PidFile written: remember the pid ourselves, so stop works.
	printf '%s\n' "$pid" >"$DIR/milter.pid"
}

# write_daemon_conf HTTPPORT: portcullisd on loopback, everything in $DIR.
# SubscriberNetworks holds loopback, so a browser on this host (which
# connects from 127.0.0.1) is a "subscriber"; OwnershipCheck
# source-address then lets it register exactly the address it connects
# from.  No PTR or SPF checks: loopback has no DNS of its own.  RuleFormat
# plain and no ApplyCommand: the host's firewall is never touched.
write_daemon_conf() {
	cat >"$DCONF" <<EOF
# portcullisd configuration for the demo; edit it and reload with
#   kill -HUP \$(cat $DIR/portcullisd.pid)
Database           $DIR/registry.db
PidFile            $DIR/portcullisd.pid
Listen             127.0.0.1:$1
SASLService        $SASL_SERVICE
SASLConfigPath     $DIR/sasl
RouterTokenFile    $DIR/router-tokens
SubscriberNetworks 127.0.0.0/8, 192.0.2.0/24
OwnershipCheck     source-address
RequirePTR         no
RequireSPF         no
ApprovalMode       auto
ContactAddress     postmaster@$DOMAIN
RuleFormat         plain
RuleFile           $DIR/egress.rules
EOF
	# The same sasldb Postfix uses (pf_init's smtpd.conf), under the
	# application name portcullisd asks Cyrus SASL for.
	cat >"$DIR/sasl/$SASL_SERVICE.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN
sasldb_path: $DIR/sasldb2
EOF
	# A bearer token for GET /api/v1/rules (what an edge router fetches).
	if [ ! -s "$DIR/router-tokens" ]; then
		(umask 077 && openssl rand -hex 16 >"$DIR/router-tokens") ||
		    return 1
	fi
}

start_daemon() {
	local daemon=$1 port=$2 pid i
	setsid "$daemon" -f -c "$DCONF" >>"$DIR/portcullisd.log" 2>&1 </dev/null &
	pid=$!
	for ((i = 0; i < 100; i++)); do
		port_busy "$port" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if ! port_busy "$port"; then
		tail -n 20 "$DIR/portcullisd.log" >&2
		return 1
	fi
	for ((i = 0; i < 50; i++)); do
		[ -s "$DIR/portcullisd.pid" ] && return 0
		sleep 0.1
	done
	printf '%s\n' "$pid" >"$DIR/portcullisd.pid"
}

demo_start() {
	local milter daemon ctl sub smtps http missing p
	milter=$(find_milter)
	[ -x "$milter" ] ||
	    die "no milter at $milter; build the tree first (./configure && make)," \
		"or name the binary: PORTCULLIS_MILTER=/path/to/portcullis-milter $0," \
		"or run this from the build directory of a VPATH build"
	daemon=$(find_daemon "$milter")
	[ -x "$daemon" ] ||
	    die "no portcullisd at $daemon; build the tree first (./configure && make)," \
		"or name the binary: PORTCULLISD=/path/to/portcullisd $0"
	ctl=$(find_ctl "$milter")
	missing=$(pf_missing_tools)
	[ -z "$missing" ] || die "missing programs: $missing(apt-get install" \
	    "postfix sasl2-bin libsasl2-modules openssl)"

	demo_stop
	for p in "$MILTER_PORT" "$SINK_PORT"; do
		port_busy "$p" && die "port 127.0.0.1:$p is in use by something else"
	done
	sub=$(pick_port 587 2587) || die "ports 587 and 2587 are both in use"
	smtps=$(pick_port 465 2465) || die "ports 465 and 2465 are both in use"
	http=$(pick_port 8025 18025) || die "ports 8025 and 18025 are both in use"

	mkdir -p "$DIR" || die "cannot create $DIR"
	chmod 755 "$DIR"
	write_milter_conf "$milter"
	"$milter" -n -c "$CONF" >/dev/null || die "the milter refuses $CONF"
	pf_init "$DIR" "$sub" "inet:127.0.0.1:$MILTER_PORT" "$smtps" ||
	    die "could not write the Postfix configuration in $DIR"
	rm -f "$DIR/sasldb2"
	pf_add_user "$DIR" "$ACCOUNT" "$DOMAIN" "$PASSWORD" || die "saslpasswd2 failed"
	write_daemon_conf "$http" || die "could not write $DCONF"
	"$daemon" -n -c "$DCONF" >/dev/null || die "portcullisd refuses $DCONF"
	PF_DETACH=1 sink_start "$DIR" "$SINK_PORT" || die "smtp-sink did not start"
	start_milter "$milter"
	if ! pf_start "$DIR"; then
		demo_stop
		die "Postfix did not start (log: $DIR/maillog)"
	fi
	if ! start_daemon "$daemon" "$http"; then
		demo_stop
		die "portcullisd did not start (log: $DIR/portcullisd.log)"
	fi

	local url="http://127.0.0.1:$http" api
	api="curl -u $ACCOUNT@$DOMAIN:$PASSWORD $url/api/v1/registrations"
	local auth="--auth PLAIN --auth-user $ACCOUNT@$DOMAIN --auth-password $PASSWORD"
	cat <<EOF

portcullis demo is running.
  submission, STARTTLS:          127.0.0.1:$sub
  submissions, implicit TLS:     127.0.0.1:$smtps
  account (Cyrus SASL sasldb):   $ACCOUNT@$DOMAIN  password: $PASSWORD
  milter:                        $milter
  milter config:                 $CONF
  portcullisd (pages and API):   $url  ($daemon)
  portcullisd config:            $DCONF

Send a message as the demo account (accepted, 250 ... queued as ...):
  swaks --server 127.0.0.1:$sub --tls $auth --from $ACCOUNT@$DOMAIN --to friend@example.net

A sender the account does not own (refused, 553 5.7.1 ... not owned by user $ACCOUNT@$DOMAIN):
  swaks --server 127.0.0.1:$sub --tls $auth --from ceo@bank.example --to friend@example.net

No AUTH at all (refused, 530 5.7.0 Authentication required):
  swaks --server 127.0.0.1:$sub --from $ACCOUNT@$DOMAIN --to friend@example.net

Implicit TLS (port 465 style):
  swaks --server 127.0.0.1:$smtps --tlsc $auth --from $ACCOUNT@$DOMAIN --to friend@example.net

Where to look:
  accepted messages:    $DIR/sink/  (one file per message)
  origin log (JSON):    $DIR/origin.json
  milter output:        $DIR/milter.log
  Postfix log:          $DIR/maillog
  portcullisd log:      $DIR/portcullisd.log
  port-25 rules:        $DIR/egress.rules
                        (RuleFormat plain, no ApplyCommand: the demo never
                        touches this host's firewall)
Reload after editing the config:  kill -USR1 \$(cat $DIR/milter.pid)
                                  kill -HUP \$(cat $DIR/portcullisd.pid)
Stop the demo:                    $0 stop
EOF
	if [ -x "$ctl" ]; then
		cat <<EOF

The registry, as the administrator sees it:
  $ctl -c $DCONF registry list
EOF
	fi
	cat <<EOF

The rules an edge router fetches (token in $DIR/router-tokens):
  curl -H "Authorization: Bearer \$(cat $DIR/router-tokens)" '$url/api/v1/rules?format=plain'

Self-service port-25 sign-up (portcullisd).  The demo's SubscriberNetworks
are 127.0.0.0/8 and 192.0.2.0/24, with OwnershipCheck source-address
(register the address you connect from) and no PTR or SPF check (loopback
has no DNS of its own).  A browser on this host connects from 127.0.0.1: sign
in as $ACCOUNT@$DOMAIN (password $PASSWORD) and the page fills in 127.0.0.1;
registering it passes and the address appears in $DIR/egress.rules.
  sign-up page:  $url/
  policy page:   $url/policy
  the API, the account's registrations:
    $api
  register 127.0.0.2 through the API (curl connects from that address):
    curl --interface 127.0.0.2 -u $ACCOUNT@$DOMAIN:$PASSWORD -H 'Content-Type: application/json' -d '{}' $url/api/v1/registrations
EOF
}

[ "$(id -u)" = 0 ] || die "run me as root (Postfix's master and smtp-sink need it)"
case ${1:-start} in
start|restart) demo_start ;;
stop) demo_stop; echo "portcullis demo stopped (files kept in $DIR)" ;;
status) demo_status ;;
*) echo "usage: $0 [start|stop|status]" >&2; exit 2 ;;
esac
