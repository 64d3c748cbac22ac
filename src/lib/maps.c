/*
 * maps.c - loads Postfix-style "key value" files into a read-only hash
 * table (SenderMap, RateLimitMap, OwnershipCheck map:FILE).
 *
 * Maps may have a million lines, so the loader streams the file through a
 * fixed buffer (bounded memory even for a hostile line), strings go into a
 * bump-allocated pool instead of two mallocs per entry, and the table is
 * open addressing with linear probing kept at most half full.  Entries stay
 * in an array in file order for pc_map_foreach().
 */
#include "maps.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define POOL_CHUNK (64 * 1024)

struct entry {
	const char *key;	/* lowercased */
	const char *value;
	unsigned line;
	uint32_t hash;
};

struct pool_chunk {
	struct pool_chunk *next;
	size_t used, size;
	char data[];
};

struct pc_map {
	struct entry *ent;	/* file order */
	size_t n, nalloc;
	uint32_t *slot;		/* entry index + 1; 0 = empty */
	size_t nslot;		/* power of two */
	struct pool_chunk *pool;
};

/* ---- strings and hashing ----------------------------------------------- */

/*
 * ASCII only, not tolower(): the result must not depend on the locale,
 * and bytes of UTF-8 local parts must compare exactly.
 */
static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* FNV-1a over the lowercased key, so lookups need no lowercased copy. */
static uint32_t
key_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= lower((unsigned char)s[i]);
		h *= 16777619u;
	}
	return h;
}

static int
key_eq(const char *stored, const char *key, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)stored[i] != lower((unsigned char)key[i]))
			return 0;
	return stored[len] == '\0';
}

static char *
pool_strdup(struct pc_map *m, const char *s, size_t len)
{
	struct pool_chunk *c = m->pool;
	char *p;

	if (c == NULL || c->size - c->used < len + 1) {
		size_t size = len + 1 > POOL_CHUNK / 4 ? len + 1 : POOL_CHUNK;

		c = xmalloc(sizeof(*c) + size);
		c->used = 0;
		c->size = size;
		/* A big string gets a chunk of its own behind the current one. */
		if (size != POOL_CHUNK && m->pool != NULL) {
			c->next = m->pool->next;
			m->pool->next = c;
		} else {
			c->next = m->pool;
			m->pool = c;
		}
	}
	p = c->data + c->used;
	memcpy(p, s, len);
	p[len] = '\0';
	c->used += len + 1;
	return p;
}

/* ---- the table --------------------------------------------------------- */

/* Slot holding key, or the empty slot where it would go. */
static size_t
find_slot(const struct pc_map *m, const char *key, size_t len, uint32_t h)
{
	size_t mask = m->nslot - 1, i = h & mask;

	while (m->slot[i] != 0) {
		const struct entry *e = &m->ent[m->slot[i] - 1];

		if (e->hash == h && key_eq(e->key, key, len))
			break;
		i = (i + 1) & mask;
	}
	return i;
}

static void
grow_slots(struct pc_map *m)
{
	size_t i, j, mask;

	free(m->slot);
	m->nslot = m->nslot ? m->nslot * 2 : 64;
	m->slot = xcalloc(m->nslot, sizeof(*m->slot));
	mask = m->nslot - 1;
	for (i = 0; i < m->n; i++) {
		for (j = m->ent[i].hash & mask; m->slot[j] != 0;
		    j = (j + 1) & mask)
			;
		m->slot[j] = (uint32_t)(i + 1);
	}
}

static const struct entry *
lookup(const struct pc_map *m, const char *key)
{
	size_t len, i;

	if (m == NULL || m->n == 0 || key == NULL)
		return NULL;
	len = strlen(key);
	i = find_slot(m, key, len, key_hash(key, len));
	return m->slot[i] ? &m->ent[m->slot[i] - 1] : NULL;
}

const char *
pc_map_get(const struct pc_map *m, const char *key)
{
	const struct entry *e = lookup(m, key);

	return e ? e->value : NULL;
}

unsigned
pc_map_line(const struct pc_map *m, const char *key)
{
	const struct entry *e = lookup(m, key);

	return e ? e->line : 0;
}

size_t
pc_map_count(const struct pc_map *m)
{
	return m ? m->n : 0;
}

void
pc_map_foreach(const struct pc_map *m,
    void (*fn)(const char *key, const char *value, void *arg), void *arg)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++)
		fn(m->ent[i].key, m->ent[i].value, arg);
}

void
pc_map_free(struct pc_map *m)
{
	struct pool_chunk *c, *next;

	if (m == NULL)
		return;
	for (c = m->pool; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(m->ent);
	free(m->slot);
	free(m);
}

/* ---- reading ----------------------------------------------------------- */

/*
 * Line reader over read(2).  The buffer holds two maximal lines, so the
 * occasional memmove of a partial line is amortised over a full read.
 */
struct reader {
	int fd;
	char *buf;
	size_t size, start, end, scan;
	int eof;
};

enum { RD_EOF = 0, RD_LINE = 1, RD_ERRNO = -1, RD_TOOLONG = -2 };

/* *line is not NUL-terminated (a NUL byte in the file must stay visible). */
static int
read_line(struct reader *r, char **line, size_t *len)
{
	for (;;) {
		char *nl = memchr(r->buf + r->scan, '\n', r->end - r->scan);
		ssize_t n;

		if (nl != NULL) {
			*line = r->buf + r->start;
			*len = (size_t)(nl - *line);
			r->start = r->scan = (size_t)(nl - r->buf) + 1;
			return RD_LINE;
		}
		r->scan = r->end;
		/* +1: a CR before the LF does not count against the limit. */
		if (r->end - r->start > PC_MAP_LINE_MAX + 1)
			return RD_TOOLONG;
		if (r->eof) {
			if (r->start == r->end)
				return RD_EOF;
			*line = r->buf + r->start;
			*len = r->end - r->start;
			r->start = r->scan = r->end;
			return RD_LINE;
		}
		if (r->start > 0) {
			memmove(r->buf, r->buf + r->start, r->end - r->start);
			r->end -= r->start;
			r->scan -= r->start;
			r->start = 0;
		}
		n = read(r->fd, r->buf + r->end, r->size - r->end);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return RD_ERRNO;
		}
		if (n == 0)
			r->eof = 1;
		r->end += (size_t)n;
	}
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static size_t
rtrim_len(const char *s, size_t len)
{
	while (len > 0 && is_blank(s[len - 1]))
		len--;
	return len;
}

struct loader {
	const char *path;
	struct pc_map *m;
	struct dstr logical;	/* current entry: key line + continuations */
	unsigned logical_line;	/* 0 = none yet */
	char *err;
	size_t errlen;
};

/* Turns the pending logical line into an entry. */
static int
flush_entry(struct loader *L)
{
	struct pc_map *m = L->m;
	char *s = L->logical.buf, *end = s + L->logical.len, *v;
	size_t klen, i;
	uint32_t h;
	struct entry *e;

	if (L->logical_line == 0)
		return 0;
	for (v = s; v < end && !is_blank(*v); v++)
		;
	klen = (size_t)(v - s);
	while (v < end && is_blank(*v))
		v++;
	if (v == end)
		return pc_err(L->err, L->errlen, "%s:%u: key \"%.*s\" has no "
		    "value", L->path, L->logical_line,
		    (int)(klen > 100 ? 100 : klen), s);
	for (i = 0; i < klen; i++)
		s[i] = (char)lower((unsigned char)s[i]);
	h = key_hash(s, klen);

	if ((m->n + 1) * 2 > m->nslot)
		grow_slots(m);
	i = find_slot(m, s, klen, h);
	if (m->slot[i] != 0)
		return pc_err(L->err, L->errlen, "%s:%u: duplicate key \"%.*s\" "
		    "(first defined at line %u)", L->path, L->logical_line,
		    (int)(klen > 100 ? 100 : klen), s,
		    m->ent[m->slot[i] - 1].line);
	if (m->n >= UINT32_MAX - 1)
		return pc_err(L->err, L->errlen, "%s:%u: too many entries",
		    L->path, L->logical_line);
	if (m->n == m->nalloc) {
		m->nalloc = m->nalloc ? m->nalloc * 2 : 64;
		m->ent = xrealloc(m->ent, m->nalloc * sizeof(*m->ent));
	}
	e = &m->ent[m->n];
	e->key = pool_strdup(m, s, klen);
	e->value = pool_strdup(m, v, (size_t)(end - v));
	e->line = L->logical_line;
	e->hash = h;
	m->slot[i] = (uint32_t)(++m->n);

	dstr_clear(&L->logical);
	L->logical_line = 0;
	return 0;
}

static int
load_line(struct loader *L, char *line, size_t len, unsigned lineno)
{
	size_t start = 0;

	if (memchr(line, '\0', len) != NULL)
		return pc_err(L->err, L->errlen, "%s:%u: NUL byte in line",
		    L->path, lineno);
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > PC_MAP_LINE_MAX)
		return pc_err(L->err, L->errlen, "%s:%u: line longer than %d "
		    "bytes", L->path, lineno, PC_MAP_LINE_MAX);
	len = rtrim_len(line, len);
	while (start < len && is_blank(line[start]))
		start++;
	/* Like Postfix, comments and blank lines may sit inside an entry. */
	if (start == len || line[start] == '#')
		return 0;
	if (start > 0) {
		if (L->logical_line == 0)
			return pc_err(L->err, L->errlen, "%s:%u: continuation "
			    "line (starts with white space) with no entry "
			    "before it", L->path, lineno);
		dstr_putc(&L->logical, ' ');
		dstr_append(&L->logical, line + start, len - start);
		return 0;
	}
	if (flush_entry(L) < 0)
		return -1;
	dstr_append(&L->logical, line, len);
	L->logical_line = lineno;
	return 0;
}

int
pc_map_load(const char *path, struct pc_map **out, char *err, size_t errlen)
{
	struct reader r = { .fd = -1 };
	struct loader L = { .path = path, .err = err, .errlen = errlen };
	unsigned lineno = 0;
	char *line;
	size_t len;
	int rc = 0, st;

	r.fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (r.fd < 0)
		return pc_err(err, errlen, "%s: %s", path, strerror(errno));
	r.size = 2 * (PC_MAP_LINE_MAX + 2);
	r.buf = xmalloc(r.size);
	L.m = xcalloc(1, sizeof(*L.m));
	dstr_init(&L.logical);

	while (rc == 0 && (st = read_line(&r, &line, &len)) != RD_EOF) {
		lineno++;
		if (st == RD_LINE)
			rc = load_line(&L, line, len, lineno);
		else if (st == RD_TOOLONG)
			rc = pc_err(err, errlen, "%s:%u: line longer than %d "
			    "bytes", path, lineno, PC_MAP_LINE_MAX);
		else
			rc = pc_err(err, errlen, "%s:%u: read error: %s", path,
			    lineno, strerror(errno));
	}
	if (rc == 0)
		rc = flush_entry(&L);

	close(r.fd);
	free(r.buf);
	dstr_free(&L.logical);
	if (rc < 0) {
		pc_map_free(L.m);
		return -1;
	}
	*out = L.m;
	return 0;
}
