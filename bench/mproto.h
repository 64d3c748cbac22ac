/*
 * mproto.h - the MTA side of the milter protocol (version 6), as much as
 * bench/milter-load needs: building packets, cutting replies out of a
 * byte stream that arrives in arbitrary pieces, and judging them.
 *
 * A packet is a 4-byte length in network order (covering the command
 * byte and the data), the command byte, then the data.  No I/O here
 * except mp_read_packet(), so the framing is tested byte by byte.
 */
#ifndef BENCH_MPROTO_H
#define BENCH_MPROTO_H

#include <stddef.h>
#include <stdint.h>

#include <libmilter/mfdef.h>

/* Largest reply accepted: libmilter's own limit is 1 MB of data. */
#define MP_MAX_PACKET (1024 * 1024 + 64)

/* An outgoing buffer holding one or more whole packets. */
struct mp_out {
	unsigned char *buf;
	size_t len, cap;
	size_t open;		/* offset of the packet being built, or SIZE_MAX */
	size_t npkt;		/* packets completed */
	size_t ends[64];	/* end offset of each, for one-write-per-packet */
	int overflow;		/* something did not fit; the buffer is unusable */
};

void mp_out_init(struct mp_out *o, size_t cap);
void mp_out_free(struct mp_out *o);
void mp_out_reset(struct mp_out *o);
void mp_begin(struct mp_out *o, char cmd);
void mp_bytes(struct mp_out *o, const void *p, size_t n);
void mp_str(struct mp_out *o, const char *s);	/* with its NUL */
void mp_u16(struct mp_out *o, uint16_t v);
void mp_u32(struct mp_out *o, uint32_t v);
void mp_end(struct mp_out *o);
/*
 * A macro packet (SMFIC_MACRO) for command cmd: names[i] = values[i].
 */
void mp_macros(struct mp_out *o, char cmd, const char *const *names,
    const char *const *values, size_t n);

/* Incoming bytes, and the packets cut out of them. */
struct mp_in {
	unsigned char *buf;
	size_t have, cap, start;
};

struct mp_packet {
	char cmd;
	const unsigned char *data;	/* points into the mp_in; valid until
					   the next mp_feed/mp_next */
	size_t len;
};

enum { MP_NEED_MORE = 0, MP_PACKET = 1, MP_MALFORMED = -1 };

void mp_in_init(struct mp_in *in);
void mp_in_free(struct mp_in *in);
/* Appends received bytes; returns -1 when a packet would exceed the limit. */
int mp_feed(struct mp_in *in, const void *p, size_t n);
/* MP_PACKET with *pk filled, MP_NEED_MORE, or MP_MALFORMED (bad length). */
int mp_next(struct mp_in *in, struct mp_packet *pk);

/*
 * Reads from fd until one packet is complete, at most timeout_ms in all.
 * Returns MP_PACKET, MP_MALFORMED, or -2 on EOF/error/timeout (errno says).
 */
int mp_read_packet(int fd, struct mp_in *in, struct mp_packet *pk,
    int timeout_ms);

/* The option negotiation reply. */
struct mp_optneg {
	uint32_t version, actions, protocol;
};
/* 0, or -1 with a reason when the reply is no well-formed SMFIC_OPTNEG. */
int mp_parse_optneg(const struct mp_packet *pk, struct mp_optneg *o,
    char *why, size_t whylen);

/* What a reply to a command means to the MTA. */
enum mp_verdict {
	MP_CONTINUE,	/* c */
	MP_ACCEPT,	/* a */
	MP_REJECT,	/* r, or y with 5xx */
	MP_TEMPFAIL,	/* t, or y with 4xx */
	MP_DISCARD,	/* d */
	MP_SKIP,	/* s */
	MP_PROGRESS,	/* p: keep waiting */
	MP_MODIFY,	/* a modification action at end of message: keep waiting */
	MP_BAD		/* anything else, or a malformed one */
};
enum mp_verdict mp_verdict(const struct mp_packet *pk, int at_eom,
    char *why, size_t whylen);

#endif
