/*
 * quickack.c - keeps the milter's TCP connections out of the delayed-ACK
 * stall, although libmilter owns the sockets.
 *
 * The stall: an MTA sends a macro packet, which gets no reply, and then
 * the command as a second small write.  Nagle on the MTA's side holds the
 * second write until the first is acknowledged, and Linux delays that
 * acknowledgement by up to 40 ms because the milter has nothing to send
 * back yet.  Every message pays it several times over (FACTS.md: 22
 * messages/s over one inet: connection against 490 over a unix socket).
 * TCP_NODELAY on our side changes nothing there: it is the MTA's Nagle
 * that waits.  What helps is acknowledging at once, i.e. TCP_QUICKACK;
 * the kernel clears it again by itself, so it has to be re-armed.
 *
 * The same stall runs the other way when the milter answers in several
 * writes: at end of message libmilter writes each header change (the
 * origin stamp) and then the verdict, and our Nagle would hold the
 * verdict until the MTA acknowledged the change, which it delays (22
 * messages/s with OriginStamp over inet:).  So accepted TCP connections
 * also get TCP_NODELAY.
 *
 * Only where it matters: after a packet that gets no reply (macros,
 * abort, and the steps negotiated without one: connect, HELO, headers,
 * body; steps.h), and only when nothing already queued behind it will
 * be answered.  An answered command is answered within microseconds,
 * and the answer carries the acknowledgement; re-arming ahead of it
 * sends a pure ACK just before the answer, one more packet each way for
 * the kernel to handle.  Postfix writes macros and their command in one
 * go, and the headers, body and end of message of a message back to
 * back, so most packets without an answer arrive with an answered one
 * behind them.  So reads are followed through the protocol's framing (a
 * 4-byte length, then the command byte and its data), counting bytes
 * only; after a packet without an answer, a peek at what is queued
 * behind it (MSG_PEEK, up to a page) decides.  When the queue ends in
 * the middle of a packet, or is longer than the peek without an answered
 * packet in it, the rest may be held back by the MTA's Nagle until it is
 * acknowledged, and it is re-armed at once as before.
 *
 * libmilter does its reads with plain read() through the dynamic linker,
 * the same way it calls sigwait() (see signals.c), so the read() defined
 * here in the executable is the one it gets.  accept() is taken over too,
 * so the accepted TCP connections are known by descriptor and unix
 * sockets, files and pipes pay nothing beyond one table lookup.  A
 * descriptor that was TCP, was closed behind our back and reused for
 * something else is found out by the first failing setsockopt() and
 * dropped from the table.
 *
 * Only this program is affected: the library that unit tests link does
 * not contain this file.
 */
#include "quickack.h"
#include "steps.h"

#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Descriptors past this are handled by trying setsockopt() every time. */
#define QA_TABLE 65536
/* How far a peek looks behind a packet without an answer. */
#define QA_PEEK 4096

ssize_t read(int fd, void *buf, size_t len);
int accept(int fd, struct sockaddr *addr, socklen_t *addrlen);

typedef ssize_t read_fn(int, void *, size_t);

/* Set once, last in resolve(): read() looks at it without pthread_once(). */
static _Atomic(read_fn *) real_read;
static int (*real_accept)(int, struct sockaddr *, socklen_t *);
static pthread_once_t resolved = PTHREAD_ONCE_INIT;

static atomic_uchar is_tcp[QA_TABLE];
/*
 * One connection's framing.  A connection is read by one libmilter
 * worker at a time, and handing it to another goes through libmilter's
 * own locks, so the state needs no lock of its own.
 */
static struct qa_stream streams[QA_TABLE];
static atomic_ulong rearmed;

static void
resolve(void)
{
	read_fn *rd = (read_fn *)dlsym(RTLD_NEXT, "read");

	real_accept = (int (*)(int, struct sockaddr *, socklen_t *))
	    dlsym(RTLD_NEXT, "accept");
	if (rd == NULL || real_accept == NULL) {
		/* Nothing sensible can run without them: a broken build. */
		fputs("quickack: cannot find read() or accept() in the C "
		    "library\n", stderr);
		abort();
	}
	atomic_store_explicit(&real_read, rd, memory_order_release);
}

static int
socket_is_tcp(int fd)
{
	int v = 0;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &len) < 0)
		return 0;
	return v == IPPROTO_TCP;
}

static void
mark(int fd, int tcp)
{
	if (fd >= 0 && fd < QA_TABLE) {
		memset(&streams[fd], 0, sizeof(streams[fd]));
		atomic_store_explicit(&is_tcp[fd], (unsigned char)tcp,
		    memory_order_relaxed);
	}
}

/*
 * Commands the milter does not answer (steps.h).  Against an MTA that
 * lacks "no reply", libmilter answers connect, HELO, headers and body
 * itself; re-arming there costs one pure ACK, not a stall.
 */
static int
unanswered(unsigned char cmd)
{
	return cmd != '\0' && strchr(PC_STEPS_UNANSWERED, cmd) != NULL;
}

/* The bytes a packet takes, from its 4-byte length (0: a bare header). */
static uint64_t
packet_size(const unsigned char *len)
{
	uint32_t v = (uint32_t)len[0] << 24 | (uint32_t)len[1] << 16 |
	    (uint32_t)len[2] << 8 | len[3];

	return 4 + (uint64_t)(v > 0 ? v : 1);
}

int
quickack_feed(struct qa_stream *s, const unsigned char *p, size_t n)
{
	int ack = 0;
	size_t take;

	while (n > 0) {
		if (s->got < sizeof(s->hdr)) {
			s->hdr[s->got++] = *p++;
			n--;
			if (s->quiet > 0)
				s->quiet--;
			if (s->got < sizeof(s->hdr))
				continue;
			/* The length counts the command byte and its data. */
			s->left = ((uint32_t)s->hdr[0] << 24 |
			    (uint32_t)s->hdr[1] << 16 |
			    (uint32_t)s->hdr[2] << 8 | s->hdr[3]);
			s->left = s->left > 0 ? s->left - 1 : 0;
		} else {
			take = n < s->left ? n : s->left;
			s->left -= (uint32_t)take;
			s->quiet -= take < s->quiet ? (uint32_t)take : s->quiet;
			p += take;
			n -= take;
		}
		if (s->left == 0) {	/* the packet is complete */
			ack |= unanswered(s->hdr[4]) && s->quiet == 0;
			s->got = 0;
		}
	}
	return ack;
}

int
quickack_ahead(struct qa_stream *s, const unsigned char *p, size_t n,
    int complete)
{
	uint64_t off = 0, end;

	s->quiet = 0;
	while (off + 5 <= n) {
		end = off + packet_size(p + off);
		if (end > n)
			return 1;	/* ends in the middle of a packet */
		if (!unanswered(p[off + 4])) {
			s->quiet = (uint32_t)end;	/* its answer acknowledges */
			return 0;
		}
		off = end;
	}
	if (off == n && n > 0 && complete) {
		/* Only packets without an answer, all here: look again at the last. */
		s->quiet = (uint32_t)n;
		return 0;
	}
	return 1;
}

int
quickack_tracked(int fd)
{
	if (fd < 0)
		return 0;
	if (fd >= QA_TABLE)
		return 1;
	return atomic_load_explicit(&is_tcp[fd], memory_order_relaxed);
}

unsigned long
quickack_rearmed(void)
{
	return atomic_load_explicit(&rearmed, memory_order_relaxed);
}

int
accept(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	int c, tcp, one = 1, saved = errno;

	pthread_once(&resolved, resolve);
	c = real_accept(fd, addr, addrlen);
	if (c < 0)
		return c;
	tcp = socket_is_tcp(c);
	mark(c, tcp);
	/* Our own answers in several writes go out at once (see above). */
	if (tcp)
		(void)setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	errno = saved;
	return c;
}

/* What is queued behind a packet without an answer decides (see above). */
static int
must_rearm(int fd)
{
	unsigned char ahead[QA_PEEK];
	ssize_t k;

	k = recv(fd, ahead, sizeof(ahead), MSG_PEEK | MSG_DONTWAIT);
	if (k < 0)
		k = 0;	/* nothing queued, or not a socket: setsockopt() tells */
	return quickack_ahead(&streams[fd], ahead, (size_t)k,
	    (size_t)k < sizeof(ahead));
}

/*
 * After a read from a tracked descriptor: re-arms TCP_QUICKACK when the
 * bytes ended a packet that gets no answer.  Out of line, so that read()
 * for everything else (the unix sockets, most of all) stays a short call.
 */
static __attribute__((noinline)) ssize_t
after_tcp_read(int fd, const void *buf, ssize_t n)
{
	/*
	 * An even value: Linux sends the pending ACK now and then goes back
	 * to delayed ACKs, so the next packet's ACK can ride on the answer
	 * to it (1 would also ACK the next packet at once, one more pure ACK
	 * per message; with no ACK pending both leave delayed-ACK mode).
	 */
	int saved, ack_now = 2;

	/* Past the table: no framing kept, so re-arm after every read. */
	if (fd < QA_TABLE && !quickack_feed(&streams[fd], buf, (size_t)n))
		return n;
	saved = errno;
	if (fd < QA_TABLE && !must_rearm(fd)) {
		errno = saved;
		return n;
	}
	if (setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &ack_now,
	    sizeof(ack_now)) == 0)
		atomic_fetch_add_explicit(&rearmed, 1, memory_order_relaxed);
	else
		mark(fd, 0);	/* not (or no longer) a TCP socket */
	errno = saved;
	return n;
}

ssize_t
read(int fd, void *buf, size_t len)
{
	read_fn *rd = atomic_load_explicit(&real_read, memory_order_acquire);
	ssize_t n;

	if (rd == NULL) {
		pthread_once(&resolved, resolve);
		rd = atomic_load_explicit(&real_read, memory_order_acquire);
	}
	n = rd(fd, buf, len);
	if (n <= 0 || !quickack_tracked(fd))
		return n;
	return after_tcp_read(fd, buf, n);
}
