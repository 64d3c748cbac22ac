# shellcheck shell=bash
# t/lib/milter.sh - what the end-to-end tests of portcullis-milter share,
# whichever MTA stands in front of it: finding the built programs,
# starting a milter and waiting until it serves, the probe for optional
# keys, swaks sessions and their transcripts, and the "ok - NAME" /
# "not ok - NAME" lines with their count.
#
# Source it from bash (top_srcdir set); it defines functions and the
# counters checks, failures and nsend, and sets no options of the
# caller's shell.  Nothing here knows Postfix or Sendmail; when
# t/lib/postfix.sh is loaded, mt_start hands its milter to pf_cleanup.
#
#   mt_find_prog RELPATH          the built program: the first of
#                                 $abs_top_builddir, $top_builddir, $PWD,
#                                 $PWD/.. and $top_srcdir that has it
#   mt_start CONF OUT READY...    run $MILTER -f -c CONF in the background
#                                 (output appended to OUT), its pid in
#                                 MT_PID; wait at most 10 s until every
#                                 READY holds: inet:PORT (127.0.0.1:PORT
#                                 listens), else a path (a socket, or a
#                                 file that is not empty)
#   mt_listening PORT [HOST]      true when HOST:PORT accepts connections
#   mt_accepted_lines PROG BASE LINE...   print the LINEs `PROG -n`
#                                 accepts after the lines of file BASE
#   pass NAME / fail NAME DETAIL...   count and print one check
#   mt_done                       print the plan and the totals; false
#                                 when a check failed
#   send PORT NAME SWAKS-ARGS...  one swaks session to 127.0.0.1:PORT; its
#                                 transcript in $SW_OUT, under $SW_DIR
#   send_auth PORT NAME SWAKS-ARGS...   the same, AUTH PLAIN as
#                                 $USER_ADDR with $PASS
#   reply_to REGEX / mail_reply / dot_reply / last_reply   server replies
#                                 in $SW_OUT
#   expect_reply NAME REPLY REGEX  pass when REPLY matches the ERE REGEX

checks=0 failures=0 nsend=0

mt_msg() { printf '# %s\n' "$*" >&2; }

mt_find_prog() {
	local b
	for b in "${abs_top_builddir:-}" "${top_builddir:-}" "$PWD" "$PWD/.." \
	    "${top_srcdir:-.}"; do
		[ -n "$b" ] || continue
		if [ -x "$b/$1" ]; then
			(cd "$b" && printf '%s\n' "$PWD/$1")
			return
		fi
	done
	printf '%s\n' "${top_srcdir:-.}/$1"
}

mt_listening() {
	local port=$1 host=${2:-127.0.0.1}
	timeout 2 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null
}

mt_ready() {
	case $1 in
	inet:*) mt_listening "${1#inet:}" ;;
	*) [ -S "$1" ] || [ -s "$1" ] ;;
	esac
}

mt_start() {
	local conf=$1 out=$2 r i waiting=; shift 2
	"$MILTER" -f -c "$conf" >>"$out" 2>&1 </dev/null &
	MT_PID=$!
	if declare -F pf_track_pid >/dev/null; then pf_track_pid "$MT_PID"; fi
	for ((i = 0; i < 100; i++)); do
		waiting=
		for r in "$@"; do
			mt_ready "$r" || { waiting=$r; break; }
		done
		[ -z "$waiting" ] && return 0
		kill -0 "$MT_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "# the milter ($conf) is not ready: no $waiting; its output:"
	sed 's/^/#   /' "$out"
	return 1
}

mt_accepted_lines() {
	local prog=$1 base=$2 line out probe; shift 2
	probe=$(mktemp /tmp/portcullis-probe.XXXXXXXX) || return 1
	for line in "$@"; do
		{ cat "$base"; printf '%s\n' "$line"; } >"$probe"
		if out=$("$prog" -n -c "$probe" 2>&1); then
			printf '%s\n' "$line"
		else
			mt_msg "leaving out '$line': $out"
		fi
	done
	rm -f "$probe"
}

pass() { checks=$((checks + 1)); printf 'ok - %s\n' "$1"; }
fail() {
	checks=$((checks + 1)) failures=$((failures + 1))
	printf 'not ok - %s\n' "$1"; shift
	local l
	for l in "$@"; do printf '%s\n' "$l" | sed 's/^/#   /'; done
}

mt_done() {
	echo "1..$checks"
	if [ "$failures" -ne 0 ]; then
		echo "# $failures of $checks checks failed"
		return 1
	fi
	echo "# all $checks checks passed"
}

# swaks's exit status is ignored: the replies are what the tests check.
send() {
	local port=$1 name=$2; shift 2
	nsend=$((nsend + 1))
	SW_OUT=$SW_DIR/swaks.$nsend.$name.txt
	timeout 60 swaks --server "127.0.0.1:$port" --ehlo client.test.example \
	    --to bob@remote.example --timeout 20 "$@" >"$SW_OUT" 2>&1 </dev/null
	return 0
}

send_auth() {
	local port=$1 name=$2; shift 2
	send "$port" "$name" --auth PLAIN --auth-user "$USER_ADDR" \
	    --auth-password "$PASS" "$@"
}

# reply_to REGEX: the server's reply to the first client line matching
# REGEX, without swaks's "<-" / "<**" / "<~" marker.
reply_to() {
	awk -v re="$1" '
	    seen && /^<[-~*]/ { sub(/^<[-~*]+ +/, ""); print; exit }
	    $0 ~ re { seen = 1 }' "$SW_OUT"
}
mail_reply() { reply_to '^ *[-~]> MAIL FROM:'; }
dot_reply() { reply_to '^ *[-~]> \.$'; }

# last_reply: the last refusal (else the last reply at all).
last_reply() {
	local r
	r=$(sed -n 's/^<\(\*\*\|~\*\) *//p' "$SW_OUT" | tail -n 1)
	[ -n "$r" ] || r=$(sed -n 's/^<[-~*]* *//p' "$SW_OUT" | tail -n 1)
	printf '%s\n' "$r"
}

expect_reply() {
	local name=$1 got=$2 re=$3
	if printf '%s\n' "$got" | grep -Eq -- "$re"; then
		pass "$name"
		return 0
	fi
	[ -n "$got" ] || got="(nothing; its last reply was: $(last_reply))"
	fail "$name" "wanted a reply matching: $re" "server replied: $got" \
	    "transcript: $SW_OUT, ending:" "$(tail -n 8 "$SW_OUT")"
	return 1
}
