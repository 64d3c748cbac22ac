/*
 * log.h - diagnostics and structured event logging for every portcullis
 * program.
 *
 * Diagnostics (pc_log_info ... pc_log_fatal) are free text for the
 * administrator: syslog, plus stderr in the foreground or before
 * pc_log_open().  Events (pc_log_event) are the origin/decision records
 * that scripts parse: one logfmt line on syslog and the same fields as one
 * JSON object per line in the optional JSON file.  Every value is escaped
 * so that no client-supplied string can split a line or forge a field.
 *
 * All functions may be called from any thread; none from a signal handler.
 */
#ifndef PC_LOG_H
#define PC_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Bytes of one client-supplied value kept before truncation. */
#define PC_LOG_VALUE_CAP 512
/* Cap argument meaning "keep everything" (trusted values). */
#define PC_LOG_NO_CAP SIZE_MAX

struct pc_logfield {
	const char *key;	/* trusted, [a-z0-9_]+ */
	const char *value;	/* NULL is logged as an empty string */
	int trusted;		/* 0 = client-supplied: escape AND cap length */
};

/*
 * Names the program in every line and selects the syslog facility
 * ("mail", "daemon", "user", "local0".."local7", ...; NULL = "mail").
 * May be called again on reload.  With foreground set, diagnostics and
 * events are also written to stderr.
 */
int pc_log_open(const char *ident, const char *facility_name, int foreground,
    char *err, size_t errlen);

/*
 * Opens (or reopens, for log rotation on reload) the JSON-lines file; NULL
 * closes it.  On failure the previously open file stays in use.
 */
int pc_log_set_jsonfile(const char *path, char *err, size_t errlen);

/* Maps a facility name to LOG_*; 0 ok, -1 unknown. */
int pc_log_facility_parse(const char *name, int *facility);

void pc_log_info(const char *fmt, ...) PC_PRINTF(1, 2);
void pc_log_warn(const char *fmt, ...) PC_PRINTF(1, 2);
void pc_log_err(const char *fmt, ...) PC_PRINTF(1, 2);
/* Logs, then exit(1).  Never call from a milter callback thread. */
void PC_NORETURN pc_log_fatal(const char *fmt, ...) PC_PRINTF(1, 2);

/*
 * One event: a logfmt line to syslog (LOG_INFO) and, when a JSON file is
 * set, {"ts":"<RFC 3339 UTC ms>",<fields>}\n, appended whole by this
 * thread or, if another is writing the file, by that one right after.
 */
void pc_log_event(const struct pc_logfield *f, size_t n);
/*
 * How many LogFile lines a thread left to another thread that was
 * writing at the time (see log.c); for tests and debugging.
 */
unsigned long pc_log_json_handed(void);

/*
 * The formatters (logfmt.c), exposed for tests and reuse.  No trailing
 * newline.
 */
void pc_logfmt_append(struct dstr *d, const struct pc_logfield *f, size_t n);
void pc_json_append(struct dstr *d, const struct pc_logfield *f, size_t n);
/* JSON string body (without the quotes) of the NUL-terminated s. */
void pc_json_escape(struct dstr *d, const char *s, size_t cap);

/*
 * Explicit-length forms: the value may contain NUL bytes (they are
 * escaped like any control byte).  pc_logfmt_value_len appends the value
 * as it appears after "key=", quoted when needed.
 */
void pc_json_escape_len(struct dstr *d, const char *s, size_t len, size_t cap);
void pc_logfmt_value_len(struct dstr *d, const char *s, size_t len, size_t cap);

#endif
