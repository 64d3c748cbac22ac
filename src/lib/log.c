/*
 * log.c - diagnostics to syslog/stderr and structured events as logfmt
 * (syslog) and JSON lines (LogFile); the escaping is in logfmt.c.
 *
 * Events are formatted, sent to syslog and appended to the JSON file
 * without any lock of ours held for long (see log_lock below); where no
 * syslog daemon listens, syslog() is not called at all (see
 * syslog_wanted()).
 */
#include "log.h"
#include "logfmt.h"

#include "server.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <paths.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* A diagnostic is free text we format; cap it so a runaway %s stays sane. */
#define DIAG_CAP 8192

/*
 * log_lock guards the settings below and stderr; json_lock guards the
 * JSON file's descriptor against a reopen.  Events take json_lock shared
 * and call syslog() (which has its own lock) outside log_lock, so milter
 * threads logging at once do not queue behind each other.
 *
 * Nor behind each other's write(2): the kernel serialises writes to one
 * file, and on a busy machine a thread descheduled inside its write
 * holds up every other one (with 32 milter threads on 2 CPUs, one write
 * in ten took over a millisecond, some 20 ms: doc/performance.md).  So
 * one thread at a time writes the LogFile, and a thread that finds
 * another writing leaves its line in json_pending and goes on; the
 * writer writes what was left before it gives up the role, in one
 * write(2) per batch, so no line waits for a writer that has gone.
 * Lines stay whole and in the order they were handed over.
 */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t json_lock = PTHREAD_RWLOCK_INITIALIZER;
static char log_ident[64] = "portcullis";	/* openlog() keeps the pointer */
/* Written under log_lock; events read them without it. */
static atomic_int log_facility = LOG_MAIL;
static atomic_int log_opened;
static atomic_int log_foreground;
static int json_fd = -1;
static char *json_path;
/* Warn once per failure streak, not per event; changed under log_lock. */
static atomic_int json_failing;
/* The writer's role and the lines left for it; under json_q_lock. */
static pthread_mutex_t json_q_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dstr json_pending, json_spare;
static int json_writing;
static atomic_ulong json_handed;
/* Past this much waiting, a thread writes its line itself. */
#define JSON_PENDING_MAX (4u << 20)

/*
 * Whether a syslog daemon listens at _PATH_LOG.  Without one, glibc's
 * syslog() tries socket() and connect() again on every call, inside its
 * own lock, and then drops the message (we never ask for LOG_CONS): for
 * a milter that logs every message that is four system calls per event
 * and a queue of threads on glibc's lock, for nothing.  So we look for
 * the daemon ourselves, at most once a second, and skip syslog() while
 * none listens; one that starts or comes back is used within a second.
 * Where a daemon listens every message goes to syslog() as before.  The
 * look is a connect() to the same path glibc uses, so it sees what
 * glibc would see (this process does not chroot).
 */
#define SYSLOG_PROBE_NS 1000000000LL
static atomic_int syslog_absent;
static atomic_llong syslog_probe_at;	/* CLOCK_MONOTONIC ns of the next look */

#ifndef NDEBUG
/* "ts" is the event line's own first member. */
static int
key_is_ts(const char *k)
{
	return k[0] == 't' && k[1] == 's' && k[2] == '\0';
}
#endif

/* ---- state ------------------------------------------------------------- */

static const struct {
	const char *name;
	int value;
} facilities[] = {
	{ "auth", LOG_AUTH },
#ifdef LOG_AUTHPRIV
	{ "authpriv", LOG_AUTHPRIV },
#endif
	{ "cron", LOG_CRON },
	{ "daemon", LOG_DAEMON },
#ifdef LOG_FTP
	{ "ftp", LOG_FTP },
#endif
	{ "kern", LOG_KERN },
	{ "lpr", LOG_LPR },
	{ "mail", LOG_MAIL },
	{ "news", LOG_NEWS },
	{ "syslog", LOG_SYSLOG },
	{ "user", LOG_USER },
	{ "uucp", LOG_UUCP },
	{ "local0", LOG_LOCAL0 },
	{ "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 },
	{ "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 },
	{ "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 },
	{ "local7", LOG_LOCAL7 },
};

int
pc_log_facility_parse(const char *name, int *facility)
{
	size_t i;

	if (name == NULL)
		return -1;
	for (i = 0; i < PC_ARRAY_LEN(facilities); i++) {
		if (strcasecmp(name, facilities[i].name) == 0) {
			*facility = facilities[i].value;
			return 0;
		}
	}
	return -1;
}

int
pc_log_open(const char *ident, const char *facility_name, int foreground,
    char *err, size_t errlen)
{
	int fac = LOG_MAIL;

	if (facility_name != NULL &&
	    pc_log_facility_parse(facility_name, &fac) < 0)
		return pc_err(err, errlen, "unknown syslog facility \"%s\"",
		    facility_name);
	if (ident == NULL || *ident == '\0')
		ident = "portcullis";

	pthread_mutex_lock(&log_lock);
	if (log_opened)
		closelog();
	/*
	 * libmilter calls syslog() itself, outside our lock, and reads the
	 * ident buffer then; rewrite it only when it really changes.
	 */
	if (strcmp(log_ident, ident) != 0)
		pc_strlcpy(log_ident, ident, sizeof(log_ident));
	/* LOG_NDELAY: connect now, before a chroot or privilege drop. */
	openlog(log_ident, LOG_PID | LOG_NDELAY, fac);
	atomic_store(&syslog_probe_at, 0);	/* look again at the next line */
	log_facility = fac;
	log_foreground = foreground;
	log_opened = 1;
	pthread_mutex_unlock(&log_lock);
	return 0;
}

int
pc_log_set_jsonfile(const char *path, char *err, size_t errlen)
{
	int fd = -1, old;
	char *newpath = NULL, *oldpath;

	if (path != NULL) {
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
		    O_NOCTTY, 0640);
		if (fd < 0)
			return pc_err(err, errlen, "%s: %s", path,
			    strerror(errno));
		newpath = xstrdup(path);
	}
	pthread_rwlock_wrlock(&json_lock);
	pthread_mutex_lock(&log_lock);
	old = json_fd;
	oldpath = json_path;
	json_fd = fd;
	json_path = newpath;
	json_failing = 0;
	pthread_mutex_unlock(&log_lock);
	pthread_rwlock_unlock(&json_lock);
	if (old >= 0)
		close(old);
	free(oldpath);
	return 0;
}

/* ---- output ------------------------------------------------------------ */

static long long
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/*
 * 0 when nothing listens at _PATH_LOG (no socket there, or nobody bound
 * to it), 1 otherwise, including whenever we cannot tell: then syslog()
 * is called and decides.  Tries a datagram socket, then a stream one,
 * as glibc does.
 */
static int
syslog_listening(void)
{
	static const int types[] = { SOCK_DGRAM, SOCK_STREAM };
	struct sockaddr_un sun;
	size_t i;
	int fd, r, e = 0;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (pc_strlcpy(sun.sun_path, _PATH_LOG, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		return 1;
	for (i = 0; i < PC_ARRAY_LEN(types); i++) {
		fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return 1;
		r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
		e = errno;
		close(fd);
		if (r == 0)
			return 1;
		if (e != EPROTOTYPE)
			break;
	}
	return e != ENOENT && e != ECONNREFUSED;
}

/* Whether to call syslog() now; looks again at most once a second. */
static int
syslog_wanted(void)
{
	long long now = mono_ns(),
	    at = atomic_load_explicit(&syslog_probe_at, memory_order_relaxed);

	/* One thread looks; the others go by the last answer meanwhile. */
	if (now >= at && atomic_compare_exchange_strong(&syslog_probe_at, &at,
	    now + SYSLOG_PROBE_NS))
		atomic_store_explicit(&syslog_absent, !syslog_listening(),
		    memory_order_relaxed);
	return !atomic_load_explicit(&syslog_absent, memory_order_relaxed);
}

/* "ident: msg\n" in one write, so lines from threads do not interleave. */
static void
echo_stderr(const char *msg, size_t len)
{
	struct dstr line;

	dstr_init(&line);
	dstr_puts(&line, log_ident);
	dstr_append(&line, ": ", 2);
	dstr_append(&line, msg, len);
	dstr_putc(&line, '\n');
	(void)pc_write_all(STDERR_FILENO, line.buf, line.len);
	dstr_free(&line);
}

static void
diag(int level, const char *label, const char *fmt, va_list ap)
{
	struct dstr raw, msg;
	int saved = errno;

	dstr_init(&raw);
	dstr_vappendf(&raw, fmt, ap);
	dstr_init(&msg);
	if (label != NULL) {
		dstr_puts(&msg, label);
		dstr_append(&msg, ": ", 2);
	}
	/* Diagnostics quote client data too (a bad HELO, a path): no CR/LF. */
	pc_text_escape(&msg, raw.buf, raw.len, DIAG_CAP);
	dstr_free(&raw);

	pthread_mutex_lock(&log_lock);
	if (syslog_wanted())
		syslog(log_facility | level, "%s", msg.buf);
	if (!log_opened || log_foreground)
		echo_stderr(msg.buf, msg.len);
	pthread_mutex_unlock(&log_lock);
	dstr_free(&msg);
	errno = saved;
}

void
pc_log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag(LOG_INFO, NULL, fmt, ap);
	va_end(ap);
}

void
pc_log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag(LOG_WARNING, "warning", fmt, ap);
	va_end(ap);
}

void
pc_log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag(LOG_ERR, "error", fmt, ap);
	va_end(ap);
}

void
pc_log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag(LOG_CRIT, "fatal", fmt, ap);
	va_end(ap);
	exit(1);
}

static void
put_digits(char *p, unsigned v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/*
 * RFC 3339, UTC, milliseconds: 2024-05-01T12:34:56.789Z.  Written digit
 * by digit: strftime() and snprintf() cost more than the rest of an
 * event's JSON.  Each thread keeps the date and time of the last second
 * it formatted, so gmtime_r() runs once a second, not once an event.
 * len must be at least 25.
 */
static void
format_ts(char *buf, size_t len)
{
	static __thread int cached_set;
	static __thread time_t cached_sec;
	static __thread char cached[20];	/* "2024-05-01T12:34:56" */
	struct timespec now;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &now);
	if (len >= 25 && cached_set && now.tv_sec == cached_sec) {
		memcpy(buf, cached, 19);
		memcpy(buf + 19, ".000Z", 6);
		put_digits(buf + 20, (unsigned)(now.tv_nsec / 1000000), 3);
		return;
	}
	gmtime_r(&now.tv_sec, &tm);
	if (len < 25 || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900) {
		n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(buf + n, len - n, ".%03dZ", (int)(now.tv_nsec / 1000000));
		return;
	}
	memcpy(buf, "0000-00-00T00:00:00.000Z", 25);
	put_digits(buf, (unsigned)(tm.tm_year + 1900), 4);
	put_digits(buf + 5, (unsigned)(tm.tm_mon + 1), 2);
	put_digits(buf + 8, (unsigned)tm.tm_mday, 2);
	put_digits(buf + 11, (unsigned)tm.tm_hour, 2);
	put_digits(buf + 14, (unsigned)tm.tm_min, 2);
	put_digits(buf + 17, (unsigned)tm.tm_sec, 2);
	put_digits(buf + 20, (unsigned)(now.tv_nsec / 1000000), 3);
	memcpy(cached, buf, 19);
	cached_sec = now.tv_sec;
	cached_set = 1;
}

/* How many LogFile lines were left to another thread's write. */
unsigned long
pc_log_json_handed(void)
{
	return atomic_load(&json_handed);
}

/*
 * Writes a line to the LogFile (json_lock held shared), or leaves it to
 * the thread writing now: the errno of the writes made here, 0, or -1
 * when the line was left to another thread, whose write reports.
 */
static int
json_submit(const char *buf, size_t len)
{
	struct dstr batch;
	int werr, e;

	pthread_mutex_lock(&json_q_lock);
	if (json_writing && json_pending.len + len <= JSON_PENDING_MAX) {
		if (json_pending.buf == NULL)
			dstr_init(&json_pending);
		dstr_append(&json_pending, buf, len);
		pthread_mutex_unlock(&json_q_lock);
		atomic_fetch_add_explicit(&json_handed, 1, memory_order_relaxed);
		return -1;
	}
	if (json_writing) {
		/* A writer stuck with 4 MiB behind it: not one more byte of it. */
		pthread_mutex_unlock(&json_q_lock);
		return pc_write_all(json_fd, buf, len);
	}
	json_writing = 1;
	pthread_mutex_unlock(&json_q_lock);
	werr = pc_write_all(json_fd, buf, len);
	for (;;) {
		pthread_mutex_lock(&json_q_lock);
		if (json_pending.len == 0) {
			json_writing = 0;
			pthread_mutex_unlock(&json_q_lock);
			return werr;
		}
		/*
		 * Swap the buffers: new lines collect in the spare one (or in
		 * one made when the first comes) while this batch is written.
		 */
		batch = json_pending;
		json_pending = json_spare;
		memset(&json_spare, 0, sizeof(json_spare));
		pthread_mutex_unlock(&json_q_lock);
		if ((e = pc_write_all(json_fd, batch.buf, batch.len)) != 0)
			werr = e;
		dstr_clear(&batch);
		pthread_mutex_lock(&json_q_lock);
		json_spare = batch;
		pthread_mutex_unlock(&json_q_lock);
	}
}

void
pc_log_event(const struct pc_logfield *f, size_t n)
{
	struct dstr line, json;
	/* A typical line fits on the stack; a longer one moves to the heap. */
	char line_buf[1024], json_buf[1024], ts[64], path[256] = "";
	int saved = errno, werr = 0, report = 0, recovered = 0, facility;
	int to_stderr = log_opened && log_foreground, to_syslog = syslog_wanted();

	for (size_t i = 0; i < n; i++)
		assert(!key_is_ts(f[i].key));	/* ours, in JSON */
	/*
	 * Each form is built only for someone who reads it, and outside any
	 * lock that serialises threads: stderr's mutex is held only for the
	 * write, and the JSON line is built under json_lock taken shared.
	 */
	if (to_stderr || to_syslog) {
		dstr_init_buf(&line, line_buf, sizeof(line_buf));
		pc_logfmt_append(&line, f, n);
		facility = log_facility;
		if (to_stderr) {
			pthread_mutex_lock(&log_lock);	/* stderr */
			echo_stderr(line.buf, line.len);
			pthread_mutex_unlock(&log_lock);
		}
		if (to_syslog)
			syslog(facility | LOG_INFO, "%s", line.buf);
		dstr_free(&line);
	}

	pthread_rwlock_rdlock(&json_lock);
	if (json_fd >= 0) {
		format_ts(ts, sizeof(ts));
		dstr_init_buf(&json, json_buf, sizeof(json_buf));
		dstr_append(&json, "{\"ts\":\"", 7);
		dstr_puts(&json, ts);
		dstr_putc(&json, '"');
		pc_json_members(&json, f, n);
		dstr_append(&json, "}\n", 2);
		werr = json_submit(json.buf, json.len);
		dstr_free(&json);
		/* The lock only when the streak changes, i.e. rarely. */
		if (werr >= 0 && (werr != 0) != (json_failing != 0)) {
			pthread_mutex_lock(&log_lock);
			if ((werr != 0) != (json_failing != 0)) {
				report = werr != 0;
				recovered = werr == 0;
				json_failing = werr != 0;
				pc_strlcpy(path, json_path, sizeof(path));
			}
			pthread_mutex_unlock(&log_lock);
		}
	}
	pthread_rwlock_unlock(&json_lock);

	if (report)
		pc_log_err("cannot write log file %s: %s (events go to syslog "
		    "only until it works again)", path, strerror(werr));
	else if (recovered)
		pc_log_info("log file %s is writable again", path);
	errno = saved;
}
