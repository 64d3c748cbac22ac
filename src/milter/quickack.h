/*
 * quickack.h - keeps the milter's TCP connections out of the delayed-ACK
 * stall by re-arming TCP_QUICKACK after libmilter reads a packet that
 * gets no reply (macros, abort, and the steps of steps.h).
 *
 * Linking quickack.c into a program is all it takes: it defines read()
 * and accept() in the executable, so libmilter's calls (through the
 * dynamic linker) come here first.  See quickack.c for why.
 */
#ifndef PC_QUICKACK_H
#define PC_QUICKACK_H

#include <stddef.h>
#include <stdint.h>

/* Where a connection's bytes stand in the milter protocol's framing. */
struct qa_stream {
	uint32_t left;		/* data bytes of the current packet to come */
	uint32_t quiet;		/* bytes known queued with an answer ahead */
	uint8_t got;		/* bytes of its header (length, command) seen */
	uint8_t hdr[5];
};

/*
 * Follows n bytes read from a connection; 1 when a packet that gets no
 * reply ended in them outside the quiet bytes (quickack_ahead() then
 * decides whether TCP_QUICKACK must be re-armed).
 */
int quickack_feed(struct qa_stream *s, const unsigned char *p, size_t n);

/*
 * After such a packet: p holds the n bytes already queued behind it, a
 * peek (complete: nonzero when they are the whole queue).  0 when they
 * reach an answered packet, or end where a packet ends, so that an
 * answer or another look is bound to come first (s->quiet covers them);
 * 1 when TCP_QUICKACK must be re-armed now.
 */
int quickack_ahead(struct qa_stream *s, const unsigned char *p, size_t n,
    int complete);

/*
 * How many times TCP_QUICKACK was re-armed since start; for tests and
 * for a debug line, not for decisions.
 */
unsigned long quickack_rearmed(void);

/* Nonzero when reads on fd re-arm TCP_QUICKACK (an accepted TCP socket). */
int quickack_tracked(int fd);

#endif
