# bench/conf.sh - sourced: the portcullis-milter configuration that every
# submission-path figure is taken with (issue 7: RequireAuth, SenderPolicy,
# CheckHeaderFrom, logging and two rate limits), so bench/run,
# bench/postfix-e2e, bench/instructions and t/bench/smoke.sh measure and
# check the same milter.  Needs $MILTER and pf_accepted_lines
# (t/lib/postfix.sh).
#
# bench_conf FILE SOCKET [LOGFILE [LINE...]]: writes FILE, with the pid
# file beside it (FILE without .conf, plus .pid), LogFile when LOGFILE is
# not empty, and the extra LINEs.  The rate limits (high enough that no
# run hits them: the limiter does all its work and refuses nothing) are
# added only when this build accepts them; pf_accepted_lines says on
# stderr why one was left out.
bench_conf() {
	local file=$1 sock=$2 log=${3:-}
	shift 2
	if [ $# -gt 0 ]; then shift; fi
	{
		printf 'Socket %s\nPidFile %s\n' "$sock" "${file%.conf}.pid"
		printf '%s\n' "RequireAuth yes" "SenderPolicy exact" \
		    "CheckHeaderFrom yes"
		if [ -n "$log" ]; then printf 'LogFile %s\n' "$log"; fi
		if [ $# -gt 0 ]; then printf '%s\n' "$@"; fi
	} >"$file" || return 1
	pf_accepted_lines "$MILTER" "$file" \
	    "RateLimit messages 1000000/1h" "RateLimit recipients 1000000/1d" \
	    >>"$file"
}
