# t/lib/sendmail.sh - a private Sendmail for tests, sourced by bash scripts.
# shellcheck shell=bash
#
# Debian's sendmail-bin conflicts with postfix, so the packages are never
# installed: `apt-get download` fetches sendmail-bin, sendmail-base,
# sendmail-cf and libwrap0 once, `dpkg -x` unpacks them into a cache
# directory, and the binary runs from there with LD_LIBRARY_PATH pointing at
# the unpacked libwrap.  Each instance lives in its own root-owned directory
# outside /tmp (Sendmail refuses queue directories, maps and sockets below
# world-writable parents) and runs in its own UTS namespace with a dotted
# host name (else Sendmail sleeps 60 s at start-up looking for one).
#
#   sm_fetch                  unpack the packages into $SM_CACHE/root (once;
#                             later runs reuse it).  Returns 2 when the
#                             packages cannot be downloaded, with the reason
#                             in $SM_WHY
#   sm_missing_libs           print the shared libraries the binary lacks
#   sm_mkdir VAR              a fresh instance directory, path in VAR
#   sm_adapt_mc SRC DST SOCKET MSAPORT TLSPORT   copy our sendmail.mc lines
#                             with the milter socket and daemon ports moved
#                             to the test's loopback ones
#   sm_write_mc DIR PORTCULLIS_MC [EXTRA]   DIR/test.mc and DIR/test.cf: a
#                             minimal configuration around the given lines
#   sm_add_user DIR USER DOMAIN PASSWORD   a Cyrus sasldb login USER@DOMAIN
#   sm_start DIR PORT...      run the daemon, wait for each PORT
#   sm_stop DIR               stop it and anything it left behind (bounded)
#
# Environment: PORTCULLIS_SENDMAIL_CACHE (default
# /var/cache/portcullis-test/sendmail; delete it to fetch newer packages).

SM_CACHE=${PORTCULLIS_SENDMAIL_CACHE:-/var/cache/portcullis-test/sendmail}
SM_ROOT=$SM_CACHE/root
SM_BIN=$SM_ROOT/usr/libexec/sendmail/sendmail
SM_CF_M4=$SM_ROOT/usr/share/sendmail/cf/m4/cf.m4
SM_HOSTNAME=mx.test.example
SM_WHY=
SM_DIRS=()

sm_msg() { printf '# %s\n' "$*" >&2; }

# sm_libdir: the unpacked directory that holds libwrap.so.0.
sm_libdir() {
	local f
	f=$(find "$SM_ROOT/usr/lib" "$SM_ROOT/lib" -name 'libwrap.so.0' \
	    2>/dev/null | head -n 1)
	[ -n "$f" ] && dirname "$f"
}

sm_fetch() {
	local tmp deb lockfd rc=0
	SM_WHY=
	if ! mkdir -p "$SM_CACHE" || ! chmod 755 "$SM_CACHE"; then
		SM_WHY="cannot create the cache directory $SM_CACHE"; return 1
	fi
	# Two runs at once must not unpack over each other.
	exec {lockfd}>"$SM_CACHE/.lock" || return 1
	if ! flock -w 300 "$lockfd"; then
		SM_WHY="$SM_CACHE/.lock stayed locked for 300 s"
		exec {lockfd}>&-
		return 1
	fi
	if [ -x "$SM_BIN" ] && [ -r "$SM_CF_M4" ] && [ -s "$SM_ROOT/.packages" ] &&
	    [ -n "$(sm_libdir)" ]; then
		exec {lockfd}>&-
		return 0
	fi
	tmp=$(mktemp -d "$SM_CACHE/.new.XXXXXXXX") || { exec {lockfd}>&-; return 1; }
	# apt-get download writes into the current directory.  As root it
	# warns that _apt cannot write there; the download still works.
	if ! (cd "$tmp" && timeout 300 apt-get download -q \
	    sendmail-bin sendmail-base sendmail-cf libwrap0) >"$tmp/download.log" 2>&1; then
		SM_WHY="apt-get download sendmail-bin sendmail-base sendmail-cf libwrap0 failed (has 'apt-get update' run?): $(grep -E '^(E|W):' "$tmp/download.log" | head -n 3 | tr '\n' ' ')"
		rc=2
	else
		for deb in "$tmp"/*.deb; do
			if ! dpkg -x "$deb" "$tmp/root" 2>>"$tmp/download.log"; then
				SM_WHY="dpkg -x $deb failed: $(tail -n 2 "$tmp/download.log")"
				rc=1
				break
			fi
			dpkg-deb -f "$deb" Package Version | sed 's/^[^:]*: *//' |
			    paste -sd' ' >>"$tmp/root/.packages"
		done
	fi
	if [ "$rc" = 0 ]; then
		# The binary is setgid mail: as root that would put it in
		# secure-execution mode, where LD_LIBRARY_PATH is ignored.
		if ! chmod -R g-s,o-w "$tmp/root" || ! rm -rf "$SM_ROOT" ||
		    ! mv "$tmp/root" "$SM_ROOT"; then
			# shellcheck disable=SC2034  # read by the caller
			SM_WHY="could not move the unpacked packages to $SM_ROOT"
			rc=1
		fi
	fi
	rm -rf "$tmp"
	exec {lockfd}>&-
	return "$rc"
}

sm_missing_libs() {
	LD_LIBRARY_PATH=$(sm_libdir) ldd "$SM_BIN" 2>&1 |
	    sed -n 's/^[[:space:]]*\([^ ]*\) => not found.*/\1/p' | paste -sd' '
}

# sm_mkdir VAR: Sendmail checks every directory above its queue, maps,
# milter socket and SASL files: none may be group- or world-writable, so
# nothing goes under /tmp.  /run suits (root, 0755); else the cache.
sm_mkdir() {
	local base=/run sm__d
	if [ ! -d "$base" ] || [ ! -O "$base" ] ||
	    [ -n "$(find "$base" -maxdepth 0 -perm /022 2>/dev/null)" ]; then
		base=$SM_CACHE
	fi
	sm__d=$(mktemp -d "$base/portcullis-sm.XXXXXXXX") || return 1
	chmod 755 "$sm__d"
	SM_DIRS+=("$sm__d")
	printf -v "$1" '%s' "$sm__d"
}

# sm_adapt_mc SRC DST SOCKETPATH MSAPORT TLSPORT: SRC's lines with only the
# milter's S= moved to local:SOCKETPATH, the submission daemon (Port=587 or
# submission) to 127.0.0.1:MSAPORT and the implicit-TLS one (Port=465,
# smtps or submissions) to 127.0.0.1:TLSPORT.  Fails, saying why, when SRC
# no longer has the shape this expects.
sm_adapt_mc() {
	local src=$1 dst=$2 sock=$3 msa=$4 tls=$5 n
	sed -e "/^[[:space:]]*\(INPUT_\)\{0,1\}MAIL_FILTER(/s|S=[^,']*|S=local:$sock|" \
	    -e "/^[[:space:]]*DAEMON_OPTIONS(/{
		s/,[[:space:]]*Addr=[^,']*//
		s/Addr=[^,']*,[[:space:]]*//
		s/Port=\(submission\|587\)\([,']\)/Port=$msa, Addr=127.0.0.1\2/
		s/Port=\(465\|smtps\|submissions\)\([,']\)/Port=$tls, Addr=127.0.0.1\2/
	    }" "$src" >"$dst" || return 1
	n=$(grep -c "MAIL_FILTER(.*S=local:$sock" "$dst")
	if [ "$n" != 1 ]; then
		sm_msg "$src: expected one (INPUT_)MAIL_FILTER line with S=, found $n"
		return 1
	fi
	if ! grep -q "DAEMON_OPTIONS(.*Port=$msa, Addr=127.0.0.1" "$dst" ||
	    ! grep -q "DAEMON_OPTIONS(.*Port=$tls, Addr=127.0.0.1" "$dst"; then
		sm_msg "$src: expected a DAEMON_OPTIONS line for Port=submission (or 587) and one for Port=465"
		return 1
	fi
	if grep '^[[:space:]]*DAEMON_OPTIONS(' "$dst" | grep -v 'Addr=127\.0\.0\.1' | grep -q .; then
		sm_msg "$src: a DAEMON_OPTIONS line this test does not know how to move to loopback:"
		grep '^[[:space:]]*DAEMON_OPTIONS(' "$dst" | grep -v 'Addr=127\.0\.0\.1' | sed 's/^/#   /' >&2
		return 1
	fi
}

# sm_write_mc DIR PORTCULLIS_MC [EXTRA]: a minimal sendmail.mc around the
# lines in PORTCULLIS_MC (already adapted), and the sendmail.cf m4 makes of
# it.  EXTRA is more .mc text (test-only daemons).  Mail that is accepted
# stays in DIR/mqueue (queue-only delivery, no queue runner): the test looks
# at the SMTP replies and the milter's log, not at delivery.
sm_write_mc() {
	local dir=$1 pmc=$2 extra=${3:-} helpfile
	mkdir -p "$dir/mqueue" "$dir/sasl" "$dir/tls" || return 1
	chmod 700 "$dir/mqueue" "$dir/tls"
	chmod 755 "$dir/sasl"
	: >"$dir/aliases"
	: >"$dir/statistics"
	helpfile=$SM_ROOT/etc/mail/helpfile
	[ -r "$helpfile" ] || helpfile=/dev/null
	# No DNS here: host names come from files only.
	printf 'hosts\tfiles\naliases\tfiles\n' >"$dir/service.switch"
	sm_make_cert "$dir/tls" || return 1
	# Cyrus SASL reads <app>.conf from SASL_CONF_PATH; Sendmail passes
	# its own environment only through E lines (LOCAL_CONFIG below).
	cat >"$dir/sasl/Sendmail.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $dir/sasldb2
EOF
	cat >"$dir/test.mc" <<EOF
divert(-1)
# Written by t/lib/sendmail.sh for a throwaway test instance.
divert(0)dnl
include(\`$SM_CF_M4')dnl
VERSIONID(\`portcullis test instance')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`$SM_HOSTNAME')dnl
define(\`QUEUE_DIR', \`$dir/mqueue')dnl
define(\`ALIAS_FILE', \`$dir/aliases')dnl
define(\`HELP_FILE', \`$helpfile')dnl
define(\`STATUS_FILE', \`$dir/statistics')dnl
define(\`confPID_FILE', \`$dir/sendmail.pid')dnl
define(\`confSERVICE_SWITCH_FILE', \`$dir/service.switch')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confDELIVERY_MODE', \`queueonly')dnl
define(\`confQUEUE_LA', \`500')dnl
define(\`confREFUSE_LA', \`500')dnl
define(\`confDELAY_LA', \`500')dnl
define(\`confAUTH_MECHANISMS', \`PLAIN LOGIN')dnl
TRUST_AUTH_MECH(\`PLAIN LOGIN')dnl
define(\`confSERVER_CERT', \`$dir/tls/cert.pem')dnl
define(\`confSERVER_KEY', \`$dir/tls/key.pem')dnl
define(\`confCACERT', \`$dir/tls/cert.pem')dnl
define(\`confCACERT_PATH', \`$dir/tls')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
dnl ---- portcullis lines (contrib/sendmail/portcullis.mc, ports moved)
include(\`$pmc')dnl
dnl ---- test-only additions
$extra
MAILER(\`local')dnl
MAILER(\`smtp')dnl
LOCAL_CONFIG
ESASL_CONF_PATH=$dir/sasl
EOF
	m4 "$dir/test.mc" >"$dir/test.cf" 2>"$dir/m4.err" || {
		sm_msg "m4 failed on $dir/test.mc:"; sed 's/^/#   /' "$dir/m4.err" >&2
		return 1
	}
	if [ -s "$dir/m4.err" ]; then
		sm_msg "m4 warned on $dir/test.mc:"; sed 's/^/#   /' "$dir/m4.err" >&2
	fi
}

# sm_make_cert DIR: a self-signed P-256 certificate for $SM_HOSTNAME.
# Sendmail wants the key readable by its owner only.
sm_make_cert() {
	local t=$1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -days 30 -subj "/CN=$SM_HOSTNAME" \
	    -keyout "$t/key.pem" -out "$t/cert.pem" >"$t/openssl.log" 2>&1 || {
		sm_msg "openssl could not make a certificate:"
		sed 's/^/#   /' "$t/openssl.log" >&2
		return 1
	}
	chmod 600 "$t/key.pem"
}

# sm_add_user DIR USER DOMAIN PASSWORD: the login is USER@DOMAIN.  A
# group-readable sasldb is "unsafe" to Sendmail: mode 0600.
sm_add_user() {
	local dir=$1 user=$2 domain=$3 pass=$4
	printf '%s' "$pass" |
	    saslpasswd2 -p -c -f "$dir/sasldb2" -u "$domain" "$user" || {
		sm_msg "saslpasswd2 failed for $user@$domain"; return 1
	}
	chmod 600 "$dir/sasldb2"
}

sm_port_busy() {
	timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# sm_start DIR PORT...: the daemon in the foreground (-bD, backgrounded by
# us), debug output of milter traffic (-d64.10) in DIR/debug.log (-D keeps
# it off the SMTP connections); wait at most 20 s for every PORT.
sm_start() {
	local dir=$1 pid p i libdir; shift
	for p in "$@"; do
		if sm_port_busy "$p"; then
			sm_msg "port $p is already in use"; return 1
		fi
	done
	libdir=$(sm_libdir)
	# unshare without --fork execs in place, and so does sh: $! is
	# Sendmail's own pid.
	# shellcheck disable=SC2016  # $1 and $@ are the inner shell's
	LD_LIBRARY_PATH=$libdir unshare --uts sh -c \
	    'hostname "$1" && shift && exec "$@"' sh "$SM_HOSTNAME" \
	    "$SM_BIN" -C "$dir/test.cf" -bD -D "$dir/debug.log" -d64.10 \
	    >"$dir/sendmail.out" 2>&1 </dev/null &
	pid=$!
	printf '%s\n' "$pid" >"$dir/daemon.pid"
	for p in "$@"; do
		for ((i = 0; i < 200; i++)); do
			sm_port_busy "$p" && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if ! sm_port_busy "$p"; then
			sm_msg "sendmail is not listening on 127.0.0.1:$p; its output:"
			sed 's/^/#   /' "$dir/sendmail.out" >&2
			return 1
		fi
	done
}

# sm_pids_of DIR: every process whose command line names DIR/test.cf
# (the daemon and its per-connection children).
sm_pids_of() {
	local d p
	for d in /proc/[0-9]*; do
		p=${d#/proc/}
		{ tr '\0' ' ' <"$d/cmdline"; } 2>/dev/null | grep -qF -- "$1/test.cf" &&
		    printf '%s\n' "$p"
	done
}

sm_stop() {
	local dir=$1 pid i left
	[ -r "$dir/daemon.pid" ] || return 0
	pid=$(tr -dc 0-9 <"$dir/daemon.pid")
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null
		for ((i = 0; i < 100; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	# Children that were still talking to a client when the daemon went.
	for ((i = 0; i < 50; i++)); do
		left=$(sm_pids_of "$dir")
		[ -z "$left" ] && break
		# shellcheck disable=SC2086
		[ "$i" = 0 ] && kill $left 2>/dev/null
		sleep 0.1
	done
	# shellcheck disable=SC2086
	[ -n "$left" ] && kill -9 $left 2>/dev/null
	rm -f "$dir/daemon.pid"
}

# sm_cleanup: stop every instance, remove its directory unless SM_KEEP=1.
sm_cleanup() {
	local d
	for d in "${SM_DIRS[@]}"; do sm_stop "$d"; done
	for d in "${SM_DIRS[@]}"; do
		if [ "${SM_KEEP:-0}" = 1 ]; then
			sm_msg "kept $d"
		else
			case $d in */portcullis-sm.*) rm -rf -- "$d" ;; esac
		fi
	done
	SM_DIRS=()
}
