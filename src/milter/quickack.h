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
	uint8_t got;		/* bytes of its header (length, command) seen */
	uint8_t hdr[5];
};

/*
 * Follows n bytes read from a connection; 1 when a packet that gets no
 * reply ended in them (TCP_QUICKACK is then worth re-arming).
 */
int quickack_feed(struct qa_stream *s, const unsigned char *p, size_t n);

/*
 * How many times TCP_QUICKACK was re-armed since start; for tests and
 * for a debug line, not for decisions.
 */
unsigned long quickack_rearmed(void);

/* Nonzero when reads on fd re-arm TCP_QUICKACK (an accepted TCP socket). */
int quickack_tracked(int fd);

#endif
