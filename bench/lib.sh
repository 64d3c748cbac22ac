# bench/lib.sh - sourced by bench/run, bench/postfix-e2e,
# bench/instructions and t/bench/smoke.sh: what they must do alike.
#
# bench_conf FILE SOCKET [LOGFILE [LINE...]]: writes FILE, the
# portcullis-milter configuration that every submission-path figure is
# taken with (issue 7: RequireAuth, SenderPolicy, CheckHeaderFrom,
# logging and two rate limits), so the scripts measure and check the same
# milter; the pid file goes beside it (FILE without .conf, plus .pid),
# LogFile when LOGFILE is not empty, then the extra LINEs.  The rate
# limits (high enough that no run hits them: the limiter does all its
# work and refuses nothing) are added only when this build accepts them;
# pf_accepted_lines (t/lib/postfix.sh) says on stderr why one was left
# out.  Needs $MILTER.
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

# median_of_ratios: reads "A B" pairs, one per line, and prints the
# median of A / B to three places (0 when no B is positive).  A ratio of
# rounds run side by side moves less than a ratio of means when the
# machine's speed drifts during a run.
median_of_ratios() {
	awk '$2 > 0 { print $1 / $2 }' | sort -g | awk '{ x[NR] = $1 }
	    END { if (NR == 0) m = 0; else if (NR % 2) m = x[(NR + 1) / 2];
	    else m = (x[NR / 2] + x[NR / 2 + 1]) / 2; printf "%.3f", m }'
}

# bench_own_pid DIR FILE: prints the pid in FILE when that process has DIR
# in its command line (one this script started), else nothing.
bench_own_pid() {
	local p
	[ -s "$2" ] || return 0
	p=$(tr -dc 0-9 <"$2")
	if [ -n "$p" ] && tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null |
	    grep -qF -- "$1/"; then
		printf '%s\n' "$p"
	fi
}

# bench_stop TENTHS PID...: SIGTERM to each, up to TENTHS tenths of a
# second for all of them to go, then SIGKILL to what is left.
bench_stop() {
	local tenths=$1 p i alive
	shift
	for p in "$@"; do kill "$p" 2>/dev/null; done
	for ((i = 0; i < tenths; i++)); do
		alive=0
		for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for p in "$@"; do kill -9 "$p" 2>/dev/null; done
}
