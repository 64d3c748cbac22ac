/*
 * util.h - memory helpers that never return NULL, bounded string helpers
 * and a small growable string, shared by every portcullis program.
 */
#ifndef PC_UTIL_H
#define PC_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PC_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define PC_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define PC_NORETURN __attribute__((noreturn))
#else
#define PC_PRINTF(f, a)
#define PC_NORETURN
#endif

/* Allocation failure is fatal: the process logs and exits. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* BSD semantics: always terminate, return strlen(src) (or the would-be length). */
size_t pc_strlcpy(char *dst, const char *src, size_t size);
size_t pc_strlcat(char *dst, const char *src, size_t size);

/* snprintf into err/errlen; tolerates err == NULL. Returns -1 for convenience. */
int pc_err(char *err, size_t errlen, const char *fmt, ...) PC_PRINTF(3, 4);

int pc_strcaseeq(const char *a, const char *b);
void pc_str_lower(char *s);
/* Trims ASCII white space in place and returns the first non-space byte. */
char *pc_str_trim(char *s);
/*
 * Length of the well-formed UTF-8 sequence at s, avail bytes available
 * (Unicode table 3-7: no overlongs, no surrogates, nothing above
 * U+10FFFF), or 0 when s[0] starts none.
 */
size_t pc_utf8_len(const unsigned char *s, size_t avail);
/* Room for any uint64_t in decimal and its NUL. */
#define PC_U64_STRLEN 21
/* v in decimal into buf; returns buf.  snprintf() costs ten times more. */
char *pc_u64_str(char buf[PC_U64_STRLEN], uint64_t v);
/* CLOCK_MONOTONIC in milliseconds, for deadlines. */
int64_t pc_now_ms(void);

/*
 * A growable, always NUL-terminated byte string.  It starts on the heap
 * (dstr_init) or in the caller's storage (dstr_init_buf), which it leaves
 * for the heap when it outgrows it; a zeroed one is empty and grows too.
 */
struct dstr {
	char *buf;
	size_t len;
	size_t cap;
	int borrowed;		/* buf is the caller's: never freed here */
};

void dstr_init(struct dstr *d);
/*
 * Starts d in buf[0..size) (size >= 1), a stack array say, so that the
 * short strings of a message cost no malloc()/free(); buf must outlive d
 * or dstr_free(d), whichever comes first.
 */
void dstr_init_buf(struct dstr *d, char *buf, size_t size);
void dstr_free(struct dstr *d);
void dstr_clear(struct dstr *d);
/* Makes room for extra more bytes and the NUL (grows by doubling). */
void dstr_reserve(struct dstr *d, size_t extra);

/*
 * The appends are inline: a log event's JSON line is a few dozen of them,
 * and a call into another file for each byte cost more than the bytes.
 */
static inline void
dstr_append(struct dstr *d, const char *s, size_t n)
{
	if (n >= d->cap - d->len)
		dstr_reserve(d, n);
	memcpy(d->buf + d->len, s, n);
	d->len += n;
	d->buf[d->len] = '\0';
}

static inline void
dstr_puts(struct dstr *d, const char *s)
{
	dstr_append(d, s, strlen(s));
}

static inline void
dstr_putc(struct dstr *d, char c)
{
	if (d->cap - d->len < 2)
		dstr_reserve(d, 1);
	d->buf[d->len++] = c;
	d->buf[d->len] = '\0';
}

void dstr_appendf(struct dstr *d, const char *fmt, ...) PC_PRINTF(2, 3);
void dstr_vappendf(struct dstr *d, const char *fmt, va_list ap);
/* Hands the buffer to the caller (never NULL) and resets d. */
char *dstr_steal(struct dstr *d);

#endif
