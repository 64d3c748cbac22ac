/*
 * util.c - allocation that never returns NULL, bounded string copies and
 * the dstr growable string.
 */
#include "util.h"

#include <assert.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static void PC_NORETURN
oom(size_t n)
{
	/* Nothing sensible can continue; stderr needs no allocation. */
	fprintf(stderr, "portcullis: out of memory allocating %zu bytes\n", n);
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom(n);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		oom(nmemb * size);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		oom(n);
	return q;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

size_t
pc_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size > 0) {
		size_t n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

size_t
pc_strlcat(char *dst, const char *src, size_t size)
{
	size_t dlen = strnlen(dst, size);

	if (dlen == size)
		return size + strlen(src);
	return dlen + pc_strlcpy(dst + dlen, src, size - dlen);
}

int
pc_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int
pc_strcaseeq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

void
pc_str_lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

char *
pc_str_trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\r' || end[-1] == '\n'))
		*--end = '\0';
	return s;
}

void
dstr_init(struct dstr *d)
{
	d->cap = 64;
	d->len = 0;
	d->buf = xmalloc(d->cap);
	d->buf[0] = '\0';
	d->borrowed = 0;
}

void
dstr_init_buf(struct dstr *d, char *buf, size_t size)
{
	assert(size > 0);
	d->buf = buf;
	d->cap = size;
	d->len = 0;
	d->buf[0] = '\0';
	d->borrowed = 1;
}

void
dstr_free(struct dstr *d)
{
	if (!d->borrowed)
		free(d->buf);
	d->buf = NULL;
	d->len = d->cap = 0;
	d->borrowed = 0;
}

void
dstr_clear(struct dstr *d)
{
	d->len = 0;
	d->buf[0] = '\0';
}

void
dstr_reserve(struct dstr *d, size_t extra)
{
	size_t need = d->len + extra + 1;

	if (need < d->len)
		oom(SIZE_MAX);
	if (need <= d->cap)
		return;
	if (d->cap == 0)
		d->cap = 64;	/* a zeroed dstr, never initialised */
	while (d->cap < need)
		d->cap = d->cap > SIZE_MAX / 2 ? need : d->cap * 2;
	if (d->borrowed) {
		/* Out of the caller's storage, with the byte after the text. */
		char *p = xmalloc(d->cap);

		memcpy(p, d->buf, d->len + 1);
		d->buf = p;
		d->borrowed = 0;
	} else {
		d->buf = xrealloc(d->buf, d->cap);
	}
}

void
dstr_vappendf(struct dstr *d, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(d->buf + d->len, d->cap - d->len, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	if ((size_t)n >= d->cap - d->len) {
		dstr_reserve(d, (size_t)n);
		vsnprintf(d->buf + d->len, d->cap - d->len, fmt, ap);
	}
	d->len += (size_t)n;
}

void
dstr_appendf(struct dstr *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dstr_vappendf(d, fmt, ap);
	va_end(ap);
}

char *
dstr_steal(struct dstr *d)
{
	char *p = d->buf;

	if (d->borrowed) {
		/* A copy of all len bytes: a dstr may hold NULs. */
		p = xmalloc(d->len + 1);
		memcpy(p, d->buf, d->len + 1);
	}
	d->buf = NULL;
	d->len = d->cap = 0;
	d->borrowed = 0;
	return p;
}

size_t
pc_utf8_len(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (avail < n || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

char *
pc_u64_str(char buf[PC_U64_STRLEN], uint64_t v)
{
	char tmp[PC_U64_STRLEN];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
	return buf;
}

int64_t
pc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
