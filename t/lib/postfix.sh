# shellcheck shell=bash
# t/lib/postfix.sh - run private, throwaway Postfix instances for tests.
#
# Source this file from bash; it defines functions and sets no options of
# the caller's shell.  Every instance lives in its own directory DIR: main.cf
# and master.cf, the queue (DIR/q), the log (DIR/maillog, so no syslog is
# needed), a Cyrus SASL sasldb (DIR/sasldb2), a self-signed certificate made
# at set-up time (DIR/tls) and the smtp-sink capture directory (DIR/sink).
# Nothing outside DIR is touched, so two instances on different ports can run
# at once.  Needs root (Postfix's master and smtp-sink -u root).
#
#   pf_require TOOL...               SKIP unless root with Postfix; bail out
#                                    when a tool is missing
#   pf_mktemp VAR                    new instance dir in $VAR, removed by pf_cleanup
#   pf_cleanup_on_exit               stop everything we started on any exit
#   pf_init DIR PORTBASE [MILTER [SMTPSPORT]]   write the configuration:
#                                      127.0.0.1:PORTBASE   submission (STARTTLS)
#                                      127.0.0.1:SMTPSPORT  submissions (implicit
#                                                           TLS), default PORTBASE+1
#                                    MILTER is a Postfix milter address such as
#                                    inet:127.0.0.1:18891 or unix:/path (none: no milter)
#   pf_add_user DIR USER DOMAIN PASSWORD   login is then USER@DOMAIN
#   sink_start DIR PORT              smtp-sink on 127.0.0.1:PORT as the next hop
#   pf_start DIR / pf_stop DIR / pf_reload DIR
#   sink_count DIR / sink_wait DIR N [SECS] / sink_find DIR TEXT [SECS]
#   pf_set DIR NAME=VALUE... / pf_master_pid DIR / pf_tail_log DIR [LINES]
#   wait_port PORT [SECS] [HOST]     wait until something listens
#   port_busy PORT [HOST]            true if something listens already
#   pf_track_pid PID                 pf_cleanup sends it SIGTERM (then SIGKILL)
#   pf_stop_pid PID [SECS]           the same, now
#   pf_stop_pidfile FILE NAME        the same for the pid in FILE, only if that
#                                    process's command line contains NAME
#   pf_accepted_lines PROG BASE LINE...   print the config LINEs that
#                                    `PROG -n` accepts after the lines in BASE
#
# Set PF_TMPDIR to make instance directories somewhere else than /tmp (the
# benchmark puts them on tmpfs), PF_KEEP=1 to keep temporary directories
# after pf_cleanup (debugging),
# PF_DETACH=1 to start smtp-sink in its own session (for a demo that must
# outlive the shell that started it).
#
# It loads t/lib/milter.sh too (the milter, checks, swaks), so a test of
# portcullis-milter behind Postfix sources this file alone.

# shellcheck source=SCRIPTDIR/milter.sh
. "$(dirname "${BASH_SOURCE[0]}")/milter.sh" || return 1

PF_INSTANCES=()         # dirs whose postfix/smtp-sink pf_cleanup stops
PF_TEMPDIRS=()          # dirs pf_cleanup removes
PF_PIDS=()              # other processes (milters) pf_cleanup stops
PF_CLEANED=

pf_msg() { printf '# %s\n' "$*" >&2; }

# pf_require TOOL...: what an end-to-end test needs before it starts.  Not
# root, or no Postfix: SKIP (exit 77).  One of Postfix's tools or of TOOL
# missing: "Bail out!" (exit 1).  Adds /usr/sbin and /sbin to PATH.
pf_require() {
	local t missing
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: $0 needs root (it runs Postfix's master and smtp-sink)"
		exit 77
	fi
	if ! command -v postfix >/dev/null 2>&1 && [ ! -x /usr/sbin/postfix ]; then
		echo "SKIP: $0 needs Postfix (apt-get install postfix)"
		exit 77
	fi
	PATH=$PATH:/usr/sbin:/sbin
	missing=$(pf_missing_tools)
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || missing="$missing$t "
	done
	if [ -n "$missing" ]; then
		echo "Bail out! missing programs: $missing(contrib/install-deps.sh" \
		    "installs them)"
		exit 1
	fi
}

# pf_missing_tools: print the names of the programs this library needs that
# are not installed; empty output means all are there.
pf_missing_tools() {
	local t
	for t in postfix postconf postsuper smtp-sink saslpasswd2 openssl; do
		command -v "$t" >/dev/null 2>&1 ||
		    [ -x "/usr/sbin/$t" ] || printf '%s ' "$t"
	done
}

# pf_mktemp VAR: create a fresh instance directory under $PF_TMPDIR (default /tmp), store its
# path in the variable VAR, and remember it for pf_cleanup.  (Not a command
# substitution: that would run in a subshell and forget the directory.)
# Postfix's daemons run as the postfix user and must traverse it, so the
# directory is made world-searchable.
pf_mktemp() {
	local pf__d
	pf__d=$(mktemp -d "${PF_TMPDIR:-/tmp}/portcullis-pf.XXXXXXXX") || return 1
	chmod 755 "$pf__d"
	PF_TEMPDIRS+=("$pf__d")
	printf -v "$1" '%s' "$pf__d"
}

# port_busy PORT [HOST]: true when a TCP listener answers on HOST:PORT.
port_busy() { mt_listening "$@"; }

# ports_free NEED PORT...: bails out of the test (TAP) when one of the
# ports on 127.0.0.1 is in use; NEED, when not empty, says which the
# test needs ("12510-12523").
ports_free() {
	local need=$1 p
	shift
	for p in "$@"; do
		if port_busy "$p"; then
			echo "Bail out! port $p is in use${need:+; this test needs $need}"
			exit 1
		fi
	done
}

# wait_port PORT [SECS] [HOST]: wait, at most SECS seconds (default 10),
# until HOST:PORT accepts connections.
wait_port() {
	local port=$1 secs=${2:-10} host=${3:-127.0.0.1} i
	for ((i = 0; i < secs * 10; i++)); do
		port_busy "$port" "$host" && return 0
		sleep 0.1
	done
	pf_msg "nothing listens on $host:$port after ${secs}s"
	return 1
}

# pf_init DIR PORTBASE [MILTER [SMTPSPORT]]: write a complete instance
# configuration.
pf_init() {
	local dir=${1:-} base=${2:-} milter=${3:-} smtps=${4:-} sub
	if [ -z "$dir" ] || [ -z "$base" ]; then
		pf_msg "usage: pf_init DIR PORTBASE [MILTER [SMTPSPORT]]"; return 2
	fi
	case $dir in /*) ;; *) pf_msg "pf_init: DIR must be absolute"; return 2 ;; esac
	sub=$base smtps=${smtps:-$((base + 1))}
	mkdir -p "$dir/q" "$dir/sasl" "$dir/tls" "$dir/sink" || return 1
	# data_directory must NOT be created here: Postfix makes it, owned by
	# the postfix user; a root-owned one breaks its lock files.
	chmod 755 "$dir" "$dir/sasl" "$dir/tls"

	pf_make_cert "$dir/tls" || return 1

	cat >"$dir/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $dir/sasldb2
EOF

	cat >"$dir/main.cf" <<EOF
# Private test instance written by t/lib/postfix.sh; throwaway.
compatibility_level = 3.6
queue_directory = $dir/q
data_directory = $dir/data
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
syslog_name = postfix-$(basename "$dir")
mail_owner = postfix
setgid_group = postdrop
myhostname = mail.portcullis.test
mydomain = portcullis.test
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
relay_domains =
local_recipient_maps =
local_transport = error:5.1.1 local delivery is disabled in this test instance
alias_maps =
alias_database =
biff = no
append_dot_mydomain = no
relayhost =
smtp_tls_security_level = none
smtpd_tls_security_level = may
smtpd_tls_cert_file = $dir/tls/cert.pem
smtpd_tls_key_file = $dir/tls/key.pem
smtpd_tls_loglevel = 1
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $dir/sasl
smtpd_sasl_auth_enable = no
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions =
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
in_flow_delay = 0
queue_run_delay = 10s
minimal_backoff_time = 10s
maximal_backoff_time = 20s
delay_warning_time = 0
smtpd_milters = $milter
milter_default_action = tempfail
milter_protocol = 6
milter_connect_macros = j _ v {daemon_name} {daemon_addr} {daemon_port} {client_addr} {client_port} {client_name} {client_ptr}
milter_helo_macros = {tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}
milter_mail_macros = i {auth_type} {auth_authen} {auth_author} {tls_version} {cipher} {cipher_bits} {mail_addr} {mail_host} {mail_mailer} {client_addr} {client_port} {client_name} {daemon_name}
milter_rcpt_macros = i {rcpt_addr} {rcpt_host} {rcpt_mailer}
milter_data_macros = i
milter_end_of_header_macros = i
milter_end_of_data_macros = i
EOF

	# Our own service list (Debian's, with chroot off and no port 25),
	# so an administrator's edits to /etc/postfix/master.cf never leak in.
	cat >"$dir/master.cf" <<EOF
# service type  private unpriv chroot wakeup maxproc command + args
127.0.0.1:$sub inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_sasl_auth_enable=yes
  -o milter_macro_daemon_name=submission
127.0.0.1:$smtps inet n - n - - smtpd
  -o syslog_name=postfix/submissions
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
  -o milter_macro_daemon_name=submissions
pickup     unix  n - n 60    1 pickup
cleanup    unix  n - n -     0 cleanup
qmgr       unix  n - n 300   1 qmgr
tlsmgr     unix  - - n 1000? 1 tlsmgr
rewrite    unix  - - n -     - trivial-rewrite
bounce     unix  - - n -     0 bounce
defer      unix  - - n -     0 bounce
trace      unix  - - n -     0 bounce
verify     unix  - - n -     1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n -     - proxymap
proxywrite unix  - - n -     1 proxymap
smtp       unix  - - n -     - smtp
relay      unix  - - n -     - smtp
showq      unix  n - n -     - showq
error      unix  - - n -     - error
retry      unix  - - n -     - error
discard    unix  - - n -     - discard
local      unix  - n n -     - local
virtual    unix  - n n -     - virtual
lmtp       unix  - - n -     - lmtp
anvil      unix  - - n -     1 anvil
scache     unix  - - n -     1 scache
postlog    unix-dgram n - n - 1 postlogd
EOF
	printf '%s %s\n' "$sub" "$smtps" >"$dir/ports"
}

# pf_make_cert TLSDIR: a self-signed P-256 certificate for mail.portcullis.test.
pf_make_cert() {
	local t=$1
	[ -s "$t/cert.pem" ] && [ -s "$t/key.pem" ] && return 0
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -days 30 -subj /CN=mail.portcullis.test \
	    -addext subjectAltName=DNS:mail.portcullis.test,IP:127.0.0.1 \
	    -keyout "$t/key.pem" -out "$t/cert.pem" >"$t/openssl.log" 2>&1 || {
		pf_msg "openssl could not make a certificate:"
		cat "$t/openssl.log" >&2
		return 1
	}
	chmod 600 "$t/key.pem"
}

# pf_set DIR NAME=VALUE...: change main.cf (pf_reload a running instance).
pf_set() {
	local dir=$1; shift
	postconf -c "$dir" -e "$@"
}

# pf_add_user DIR USER DOMAIN PASSWORD: a SASL login USER@DOMAIN.
pf_add_user() {
	local dir=$1 user=$2 domain=$3 pass=$4
	printf '%s' "$pass" |
	    saslpasswd2 -p -c -f "$dir/sasldb2" -u "$domain" "$user" || {
		pf_msg "saslpasswd2 failed for $user@$domain"; return 1
	}
	# smtpd reads it as the postfix user; root keeps ownership so
	# postfix-script's start-up check stays quiet.
	chgrp postfix "$dir/sasldb2" && chmod 640 "$dir/sasldb2"
}

# pf_master_pid DIR: print the pid of the instance's running master.
pf_master_pid() {
	local f=$1/q/pid/master.pid pid
	[ -r "$f" ] || return 1
	pid=$(tr -dc 0-9 <"$f")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && printf '%s\n' "$pid"
}

# pf_start DIR: start the instance and wait for its submission port.
pf_start() {
	local dir=$1 sub smtps out
	read -r sub smtps <"$dir/ports" 2>/dev/null || {
		pf_msg "$dir: not initialised by pf_init"; return 1
	}
	if port_busy "$sub" || port_busy "$smtps"; then
		pf_msg "port $sub or $smtps is already in use"; return 1
	fi
	pf_register "$dir"
	# Postfix prints start-up errors only to a terminal; script(1) gives
	# it one so a failure says why.
	if ! out=$(script -qec "postfix -c '$dir' start" /dev/null 2>&1); then
		pf_msg "postfix -c $dir start failed:"
		printf '%s\n' "$out" | sed 's/^/#   /' >&2
		pf_tail_log "$dir"
		return 1
	fi
	if ! wait_port "$sub" 15 || ! wait_port "$smtps" 5; then
		pf_tail_log "$dir"
		return 1
	fi
}

# pf_reload DIR: make a running instance reread main.cf and master.cf.
pf_reload() {
	postfix -c "$1" reload >/dev/null 2>&1
}

# pf_stop DIR: stop the instance's Postfix and smtp-sink; bounded waits.
pf_stop() {
	local dir=$1 pid i
	if pid=$(pf_master_pid "$dir"); then
		postfix -c "$dir" stop >/dev/null 2>&1 || kill "$pid" 2>/dev/null
		for ((i = 0; i < 100; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			pf_msg "postfix master $pid ignored stop; killing it"
			kill -9 "$pid" 2>/dev/null
		fi
	fi
	sink_stop "$dir"
}

# pf_tail_log DIR [LINES]: show the end of the instance's maillog.
pf_tail_log() {
	[ -r "$1/maillog" ] || return 0
	pf_msg "last lines of $1/maillog:"
	tail -n "${2:-20}" "$1/maillog" | sed 's/^/#   /' >&2
}

# sink_start DIR PORT: an smtp-sink on 127.0.0.1:PORT that writes every
# message it receives to its own file in DIR/sink, and make it the instance's
# next hop for all mail.
sink_start() {
	local dir=$1 port=$2
	if port_busy "$port"; then
		pf_msg "sink port $port is already in use"; return 1
	fi
	pf_register "$dir"
	mkdir -p "$dir/sink"
	# smtp-sink refuses to run as root without -u.  setsid(1) execs in
	# place here (a background job is no group leader), so $! stays right.
	if [ "${PF_DETACH:-0}" = 1 ]; then
		setsid smtp-sink -u root -d "$dir/sink/%Y%m%d%H%M%S." \
		    "127.0.0.1:$port" 64 >"$dir/sink.log" 2>&1 </dev/null &
	else
		smtp-sink -u root -d "$dir/sink/%Y%m%d%H%M%S." \
		    "127.0.0.1:$port" 64 >"$dir/sink.log" 2>&1 </dev/null &
	fi
	printf '%s\n' $! >"$dir/sink.pid"
	wait_port "$port" 5 || return 1
	pf_set "$dir" "relayhost = [127.0.0.1]:$port"
	if pf_master_pid "$dir" >/dev/null; then pf_reload "$dir"; fi
}

sink_stop() {
	pf_stop_pidfile "$1/sink.pid" smtp-sink 5
}

# sink_count DIR: how many messages smtp-sink has captured.
sink_count() {
	find "$1/sink" -type f 2>/dev/null | wc -l
}

# sink_wait DIR N [SECS]: wait at most SECS (default 20) for N captures.
sink_wait() {
	local dir=$1 n=$2 secs=${3:-20} i
	for ((i = 0; i < secs * 10; i++)); do
		[ "$(sink_count "$dir")" -ge "$n" ] && return 0
		sleep 0.1
	done
	return 1
}

# sink_find DIR TEXT [SECS]: print the capture file that contains TEXT,
# waiting at most SECS (default 20) for it to arrive.
sink_find() {
	local dir=$1 text=$2 secs=${3:-20} i f
	for ((i = 0; i < secs * 10; i++)); do
		f=$(grep -rlF -- "$text" "$dir/sink" 2>/dev/null | head -n 1)
		if [ -n "$f" ]; then printf '%s\n' "$f"; return 0; fi
		sleep 0.1
	done
	return 1
}

pf_register() {
	local d
	for d in "${PF_INSTANCES[@]}"; do [ "$d" = "$1" ] && return 0; done
	PF_INSTANCES+=("$1")
}

pf_track_pid() {
	PF_PIDS+=("$1")
}

# pf_stop_pid PID [SECS]: SIGTERM, wait at most SECS (default 10), SIGKILL.
pf_stop_pid() {
	local pid=$1 secs=${2:-10} i
	kill -0 "$pid" 2>/dev/null || return 0
	kill "$pid" 2>/dev/null
	for ((i = 0; i < secs * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		pf_msg "process $pid ignored SIGTERM for ${secs}s; killing it"
		kill -9 "$pid" 2>/dev/null
	fi
	# Reap it when it is our child, so no zombie outlives the test.
	wait "$pid" 2>/dev/null
	return 0
}

# pf_stop_pidfile FILE NAME [SECS]: stop the process named in FILE, but only
# when its command line contains NAME (a stale file may name a pid that now
# belongs to something else), and remove FILE.
pf_stop_pidfile() {
	local f=$1 name=$2 secs=${3:-10} pid
	[ -r "$f" ] || return 0
	pid=$(tr -dc 0-9 <"$f")
	if [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
	    grep -qF -- "$name"; then
		pf_stop_pid "$pid" "$secs"
	fi
	rm -f "$f"
}

# pf_accepted_lines PROG BASEFILE LINE...: print each LINE that the program
# under test accepts (`PROG -n -c FILE` exits 0 for BASEFILE's content plus
# LINE); say on stderr why each other LINE was left out.  For optional keys
# a program may not implement yet.
pf_accepted_lines() { mt_accepted_lines "$@"; }

# pf_cleanup: stop every tracked process, instance and sink; remove the
# temporary directories unless PF_KEEP=1.  Safe to call more than once.
pf_cleanup() {
	local p d
	[ -n "$PF_CLEANED" ] && return 0
	PF_CLEANED=1
	for p in "${PF_PIDS[@]}"; do pf_stop_pid "$p" 10; done
	for d in "${PF_INSTANCES[@]}"; do pf_stop "$d"; done
	if [ "${PF_KEEP:-0}" = 1 ]; then
		for d in "${PF_TEMPDIRS[@]}"; do pf_msg "kept $d"; done
	else
		for d in "${PF_TEMPDIRS[@]}"; do
			case $d in /tmp/portcullis-pf.*) rm -rf -- "$d" ;; esac
		done
	fi
	return 0
}

# pf_cleanup_on_exit: run pf_cleanup however the shell ends.  The exit
# status of the script is kept.
pf_cleanup_on_exit() {
	# shellcheck disable=SC2154  # pf__rc is set inside the trap string
	trap 'pf__rc=$?; pf_cleanup; exit $pf__rc' EXIT
	trap 'pf_cleanup; exit 130' INT
	trap 'pf_cleanup; exit 143' TERM
	trap 'pf_cleanup; exit 129' HUP
}
