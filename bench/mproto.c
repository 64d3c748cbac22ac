/*
 * mproto.c - milter protocol framing and reply checks for
 * bench/milter-load.  See mproto.h.
 */
#include "mproto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);

	if (q == NULL) {
		fputs("mproto: out of memory\n", stderr);
		abort();
	}
	return q;
}

void
mp_out_init(struct mp_out *o, size_t cap)
{
	memset(o, 0, sizeof(*o));
	o->buf = xrealloc(NULL, cap);
	o->cap = cap;
	o->open = SIZE_MAX;
}

void
mp_out_free(struct mp_out *o)
{
	free(o->buf);
	memset(o, 0, sizeof(*o));
}

void
mp_out_reset(struct mp_out *o)
{
	o->len = 0;
	o->npkt = 0;
	o->open = SIZE_MAX;
	o->overflow = 0;
}

void
mp_bytes(struct mp_out *o, const void *p, size_t n)
{
	if (o->overflow || n > o->cap - o->len) {
		o->overflow = 1;
		return;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

void
mp_begin(struct mp_out *o, char cmd)
{
	static const unsigned char zero[4];

	if (o->open != SIZE_MAX)
		o->overflow = 1;	/* a caller bug: nested packets */
	o->open = o->len;
	mp_bytes(o, zero, sizeof(zero));
	mp_bytes(o, &cmd, 1);
}

void
mp_str(struct mp_out *o, const char *s)
{
	mp_bytes(o, s, strlen(s) + 1);
}

void
mp_u16(struct mp_out *o, uint16_t v)
{
	uint16_t n = htons(v);

	mp_bytes(o, &n, sizeof(n));
}

void
mp_u32(struct mp_out *o, uint32_t v)
{
	uint32_t n = htonl(v);

	mp_bytes(o, &n, sizeof(n));
}

void
mp_end(struct mp_out *o)
{
	uint32_t n;

	if (o->open == SIZE_MAX || o->overflow) {
		o->overflow = 1;
		return;
	}
	n = htonl((uint32_t)(o->len - o->open - 4));
	memcpy(o->buf + o->open, &n, sizeof(n));
	o->open = SIZE_MAX;
	if (o->npkt >= sizeof(o->ends) / sizeof(o->ends[0])) {
		o->overflow = 1;
		return;
	}
	o->ends[o->npkt++] = o->len;
}

void
mp_macros(struct mp_out *o, char cmd, const char *const *names,
    const char *const *values, size_t n)
{
	size_t i;

	mp_begin(o, SMFIC_MACRO);
	mp_bytes(o, &cmd, 1);
	for (i = 0; i < n; i++) {
		mp_str(o, names[i]);
		mp_str(o, values[i]);
	}
	mp_end(o);
}

void
mp_in_init(struct mp_in *in)
{
	memset(in, 0, sizeof(*in));
}

void
mp_in_free(struct mp_in *in)
{
	free(in->buf);
	memset(in, 0, sizeof(*in));
}

int
mp_feed(struct mp_in *in, const void *p, size_t n)
{
	size_t need;

	if (in->start > 0) {
		/* Slide the unread bytes down before growing. */
		memmove(in->buf, in->buf + in->start, in->have - in->start);
		in->have -= in->start;
		in->start = 0;
	}
	if (n > MP_MAX_PACKET + 4 || in->have + n > 2 * (MP_MAX_PACKET + 4))
		return -1;
	need = in->have + n;
	if (need > in->cap) {
		size_t cap = in->cap ? in->cap : 4096;

		while (cap < need)
			cap *= 2;
		in->buf = xrealloc(in->buf, cap);
		in->cap = cap;
	}
	memcpy(in->buf + in->have, p, n);
	in->have += n;
	return 0;
}

int
mp_next(struct mp_in *in, struct mp_packet *pk)
{
	size_t avail = in->have - in->start;
	uint32_t len;

	if (avail < 4)
		return MP_NEED_MORE;
	memcpy(&len, in->buf + in->start, 4);
	len = ntohl(len);
	/* Zero has no room for the command byte. */
	if (len == 0 || len > MP_MAX_PACKET)
		return MP_MALFORMED;
	if (avail < 4 + (size_t)len)
		return MP_NEED_MORE;
	pk->cmd = (char)in->buf[in->start + 4];
	pk->data = in->buf + in->start + 5;
	pk->len = len - 1;
	in->start += 4 + (size_t)len;
	if (in->start == in->have)
		in->start = in->have = 0;	/* data stays valid: not overwritten yet */
	return MP_PACKET;
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000L +
	    (now.tv_nsec - t0->tv_nsec) / 1000000L;
}

int
mp_read_packet(int fd, struct mp_in *in, struct mp_packet *pk, int timeout_ms)
{
	unsigned char buf[16384];
	struct timespec t0;
	struct pollfd p;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		ssize_t n;
		long left;

		r = mp_next(in, pk);
		if (r != MP_NEED_MORE)
			return r;
		left = timeout_ms - ms_since(&t0);
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -2;
		}
		p.fd = fd;
		p.events = POLLIN;
		r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = ETIMEDOUT;
			return -2;
		}
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ECONNRESET;
			return -2;
		}
		if (mp_feed(in, buf, (size_t)n) < 0) {
			errno = EMSGSIZE;
			return MP_MALFORMED;
		}
	}
}

int
mp_parse_optneg(const struct mp_packet *pk, struct mp_optneg *o, char *why,
    size_t whylen)
{
	uint32_t v[3];

	if (pk->cmd != SMFIC_OPTNEG) {
		snprintf(why, whylen, "negotiation answered with '%c'", pk->cmd);
		return -1;
	}
	if (pk->len < 12) {
		snprintf(why, whylen, "negotiation reply of %zu bytes", pk->len);
		return -1;
	}
	memcpy(v, pk->data, sizeof(v));
	o->version = ntohl(v[0]);
	o->actions = ntohl(v[1]);
	o->protocol = ntohl(v[2]);
	if (o->version < 2 || o->version > SMFI_PROT_VERSION) {
		snprintf(why, whylen, "milter protocol version %u", o->version);
		return -1;
	}
	return 0;
}

/* "NNN " or "NNN-" then text, NUL-terminated, first digit 4 or 5. */
static int
replycode_ok(const struct mp_packet *pk)
{
	const unsigned char *d = pk->data;

	if (pk->len < 4 || d[pk->len - 1] != '\0')
		return 0;
	if ((d[0] != '4' && d[0] != '5') || d[1] < '0' || d[1] > '9' ||
	    d[2] < '0' || d[2] > '9')
		return 0;
	return d[3] == ' ' || d[3] == '-' || d[3] == '\0';
}

enum mp_verdict
mp_verdict(const struct mp_packet *pk, int at_eom, char *why, size_t whylen)
{
	switch (pk->cmd) {
	case SMFIR_CONTINUE: return MP_CONTINUE;
	case SMFIR_ACCEPT: return MP_ACCEPT;
	case SMFIR_REJECT: return MP_REJECT;
	case SMFIR_TEMPFAIL: return MP_TEMPFAIL;
	case SMFIR_DISCARD: return MP_DISCARD;
	case SMFIR_SKIP: return MP_SKIP;
	case SMFIR_PROGRESS: return MP_PROGRESS;
	case SMFIR_REPLYCODE:
		if (!replycode_ok(pk)) {
			snprintf(why, whylen, "malformed reply code packet");
			return MP_BAD;
		}
		return pk->data[0] == '5' ? MP_REJECT : MP_TEMPFAIL;
	case SMFIR_ADDRCPT: case SMFIR_DELRCPT: case SMFIR_ADDRCPT_PAR:
	case SMFIR_REPLBODY: case SMFIR_CHGFROM: case SMFIR_ADDHEADER:
	case SMFIR_INSHEADER: case SMFIR_CHGHEADER: case SMFIR_QUARANTINE:
		if (at_eom)
			return MP_MODIFY;
		snprintf(why, whylen, "modification '%c' before end of message",
		    pk->cmd);
		return MP_BAD;
	default:
		if (pk->cmd >= 0x20 && pk->cmd < 0x7f)
			snprintf(why, whylen, "unknown reply '%c'", pk->cmd);
		else
			snprintf(why, whylen, "unknown reply 0x%02x",
			    (unsigned char)pk->cmd);
		return MP_BAD;
	}
}
