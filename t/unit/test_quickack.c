/*
 * test_quickack.c - src/milter/quickack.c, linked here as it is into
 * portcullis-milter: reading a packet that gets no reply (macros, abort,
 * the steps of steps.h) from an accepted TCP connection must acknowledge
 * it at once when nothing answered is queued behind it, reading one that
 * is answered must not spend a system call on it, and other descriptors
 * must be left alone.  The framing (quickack_feed) and the look behind a
 * packet (quickack_ahead) are tested byte by byte.
 *
 * The tests put the server's socket into delayed-ACK ("pingpong") mode
 * by hand, have the client send, read through the interposed read(), and
 * ask the client's TCP_INFO whether its data is acknowledged.  A control
 * read through the raw system call shows that reading alone does not
 * acknowledge; if the control fails (a slow machine where the 40 ms
 * delayed-ACK timer fires first), the test skips instead of passing by
 * accident.
 * Ports 13095-13099 on 127.0.0.1.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "quickack.h"

struct pair {
	int lfd, cli, srv;
};

static int
listen_loopback(void)
{
	struct sockaddr_in sin;
	int fd, port, one = 1;

	for (port = 13095; port <= 13099; port++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		assert_true(fd >= 0);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)port);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
		    listen(fd, 4) == 0)
			return fd;
		close(fd);
	}
	fail_msg("no free port in 13095-13099");
	return -1;
}

static void
tcp_pair(struct pair *p)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	p->lfd = listen_loopback();
	assert_int_equal(getsockname(p->lfd, (struct sockaddr *)&sin, &len), 0);
	p->cli = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(p->cli >= 0);
	assert_int_equal(connect(p->cli, (struct sockaddr *)&sin, len), 0);
	p->srv = accept(p->lfd, NULL, NULL);	/* the interposed one */
	assert_true(p->srv >= 0);
}

static void
pair_close(struct pair *p)
{
	close(p->cli);
	close(p->srv);
	close(p->lfd);
}

static int
nodelay(int fd)
{
	int v = -1;
	socklen_t len = sizeof(v);

	assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
	return v != 0;
}

static int
quickack(int fd)
{
	int v = -1;
	socklen_t len = sizeof(v);

	assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &v, &len), 0);
	return v;
}

/* A milter packet: 4-byte length (command + data), command, data. */
static size_t
packet(unsigned char *buf, char cmd, const char *data)
{
	size_t n = strlen(data) + 1;

	buf[0] = (unsigned char)(n >> 24);
	buf[1] = (unsigned char)(n >> 16);
	buf[2] = (unsigned char)(n >> 8);
	buf[3] = (unsigned char)n;
	buf[4] = (unsigned char)cmd;
	memcpy(buf + 5, data, n - 1);
	return n + 4;
}

/* Delayed-ACK mode, then a packet from the peer waiting to be read. */
static size_t
disarm_and_send(struct pair *p, char cmd, const char *data)
{
	unsigned char buf[64];
	size_t n = packet(buf, cmd, data);
	int zero = 0;

	assert_int_equal(setsockopt(p->srv, IPPROTO_TCP, TCP_QUICKACK, &zero,
	    sizeof(zero)), 0);
	assert_int_equal(write(p->cli, buf, n), (ssize_t)n);
	return n;
}

/* Reads a packet as libmilter does: the 5-byte header, then the data. */
static void
read_packet(int fd, size_t n)
{
	unsigned char buf[64];

	assert_int_equal(read(fd, buf, 5), 5);
	if (n > 5)
		assert_int_equal(read(fd, buf, n - 5), (ssize_t)(n - 5));
}

/*
 * Whether the client's data has all been acknowledged, looking for up to
 * 10 ms: well inside the 40 ms of a delayed ACK, and plenty for one that
 * was sent (over loopback it has usually arrived when the call returns).
 */
static int
acked(const struct pair *p)
{
	struct tcp_info ti;
	socklen_t len;
	int i;

	for (i = 0; i < 10; i++) {
		len = sizeof(ti);
		assert_int_equal(getsockopt(p->cli, IPPROTO_TCP, TCP_INFO, &ti,
		    &len), 0);
		if (ti.tcpi_unacked == 0)
			return 1;
		usleep(1000);
	}
	return 0;
}

static void
test_read_rearms_tcp(void **state)
{
	unsigned char buf[64];
	unsigned long before;
	struct pair p;
	size_t n;

	(void)state;
	tcp_pair(&p);
	assert_true(quickack_tracked(p.srv));
	/* Our own answers are not held back by Nagle either. */
	assert_int_equal(nodelay(p.srv), 1);
	assert_int_equal(nodelay(p.cli), 0);

	/* Control: the bare system call leaves the ACK delayed. */
	n = disarm_and_send(&p, 'D', "Mi");
	assert_int_equal(syscall(SYS_read, p.srv, buf, n), (ssize_t)n);
	if (quickack(p.srv) != 0 || acked(&p)) {
		pair_close(&p);
		skip();
	}

	/* Macros get no reply: the interposed read() acknowledges them. */
	n = disarm_and_send(&p, 'D', "Mi");
	before = quickack_rearmed();
	assert_int_equal(read(p.srv, buf, 5), 5);
	/* Not mid-packet. */
	assert_int_equal(quickack_rearmed(), before);
	assert_int_equal(read(p.srv, buf, n - 5), (ssize_t)(n - 5));
	assert_int_equal(quickack_rearmed(), before + 1);
	assert_true(acked(&p));
	/* And again: every such packet, alone in the queue, is acknowledged. */
	n = disarm_and_send(&p, 'D', "Hfoo");
	read_packet(p.srv, n);
	assert_true(acked(&p));
	/* An abort has no data and gets no reply either. */
	n = disarm_and_send(&p, 'A', "");
	before = quickack_rearmed();
	read_packet(p.srv, n);
	assert_true(acked(&p));
	assert_int_equal(quickack_rearmed(), before + 1);
	/* Steps negotiated without an answer: connect, HELO, header, body. */
	n = disarm_and_send(&p, 'L', "From");
	before = quickack_rearmed();
	read_packet(p.srv, n);
	assert_true(acked(&p));
	assert_int_equal(quickack_rearmed(), before + 1);
	n = disarm_and_send(&p, 'B', "hi\r\n");
	read_packet(p.srv, n);
	assert_true(acked(&p));
	assert_int_equal(quickack_rearmed(), before + 2);
	/* MAIL FROM is answered, and the answer carries the ACK. */
	n = disarm_and_send(&p, 'M', "<a@b>");
	before = quickack_rearmed();
	read_packet(p.srv, n);
	assert_int_equal(quickack_rearmed(), before);
	assert_false(acked(&p));
	pair_close(&p);
}

/* Sends the packets (command letters, no data) in one write. */
static void
send_together(struct pair *p, const char *cmds)
{
	unsigned char buf[64];
	size_t i, n = 0;
	int zero = 0;

	assert_int_equal(setsockopt(p->srv, IPPROTO_TCP, TCP_QUICKACK, &zero,
	    sizeof(zero)), 0);
	for (i = 0; cmds[i] != '\0'; i++)
		n += packet(buf + n, cmds[i], "x");
	assert_int_equal(write(p->cli, buf, n), (ssize_t)n);
}

/* Waits (at most a second) until the server has n bytes queued. */
static void
wait_queued(int fd, size_t n)
{
	unsigned char buf[64];
	int i;

	for (i = 0; i < 1000; i++) {
		if (recv(fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT) >= (ssize_t)n)
			return;
		usleep(1000);
	}
	fail_msg("%zu bytes never arrived", n);
}

/*
 * Packets without an answer that arrive with an answered one behind
 * them (macros and MAIL in one write, as Postfix sends them) spend no
 * system call on re-arming: the answer will carry the acknowledgement.
 * Alone at the end of the queue, they re-arm as before.
 */
static void
test_answer_queued_behind(void **state)
{
	struct pair p;
	unsigned long before;

	(void)state;
	tcp_pair(&p);
	send_together(&p, "ADM");	/* abort, macros, MAIL */
	wait_queued(p.srv, 18);
	before = quickack_rearmed();
	read_packet(p.srv, 6);
	read_packet(p.srv, 6);
	read_packet(p.srv, 6);
	assert_int_equal(quickack_rearmed(), before);

	/* Headers, body and macros all here, the last without an answer. */
	send_together(&p, "LLBD");
	wait_queued(p.srv, 24);
	read_packet(p.srv, 6);
	read_packet(p.srv, 6);
	read_packet(p.srv, 6);
	assert_int_equal(quickack_rearmed(), before);
	read_packet(p.srv, 6);
	assert_int_equal(quickack_rearmed(), before + 1);
	assert_true(acked(&p));
	pair_close(&p);
}

static size_t
feed_str(struct qa_stream *s, const unsigned char *p, size_t n, size_t step,
    int *acks)
{
	size_t i, k;

	*acks = 0;
	for (i = 0; i < n; i += k) {
		k = n - i < step ? n - i : step;
		*acks += quickack_feed(s, p + i, k);
	}
	return i;
}

static void
test_framing(void **state)
{
	unsigned char buf[256];
	struct qa_stream s;
	size_t n = 0, step;
	int acks;

	(void)state;
	/* D, M, D, R, A, D, L: two answered, five not (L: SMFIP_NR_HDR). */
	n += packet(buf + n, 'D', "Mi\0001");
	n += packet(buf + n, 'M', "<a@b>");
	n += packet(buf + n, 'D', "R{rcpt_addr}\000x");
	n += packet(buf + n, 'R', "<c@d>");
	n += packet(buf + n, 'A', "");
	n += packet(buf + n, 'D', "");
	n += packet(buf + n, 'L', "Subject\000hi");
	/* However the bytes arrive, the same packets end. */
	for (step = 1; step <= n; step++) {
		memset(&s, 0, sizeof(s));
		feed_str(&s, buf, n, step, &acks);
		if (step == n)
			assert_int_equal(acks, 1);	/* one read: one re-arm */
		else
			assert_true(acks >= 1 && acks <= 5);
		assert_int_equal(s.got, 0);	/* between packets */
		assert_int_equal(s.left, 0);
	}
	/* Byte by byte, each unanswered packet counts once. */
	memset(&s, 0, sizeof(s));
	feed_str(&s, buf, n, 1, &acks);
	assert_int_equal(acks, 5);

	/* A length of 0 (malformed) ends the packet at its header. */
	memset(&s, 0, sizeof(s));
	memcpy(buf, "\0\0\0\0D", 5);
	assert_int_equal(quickack_feed(&s, buf, 5), 1);
	assert_int_equal(s.got, 0);
	/* A huge length is counted down, not allocated. */
	memset(&s, 0, sizeof(s));
	memcpy(buf, "\xff\xff\xff\xff" "B", 5);
	assert_int_equal(quickack_feed(&s, buf, 5), 0);
	assert_int_equal(s.left, 0xfffffffeu);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(quickack_feed(&s, buf, sizeof(buf)), 0);
	assert_int_equal(s.left, 0xfffffffeu - sizeof(buf));
	/* Nothing read, nothing changed. */
	assert_int_equal(quickack_feed(&s, buf, 0), 0);
	assert_int_equal(s.left, 0xfffffffeu - sizeof(buf));
}

/* quickack_ahead(): what is queued behind a packet without an answer. */
static void
test_ahead(void **state)
{
	unsigned char buf[256] = { 0 }, one[16];
	struct qa_stream s;
	size_t n;

	(void)state;
	memset(&s, 0, sizeof(s));
	/* Nothing queued: re-arm now. */
	assert_int_equal(quickack_ahead(&s, buf, 0, 1), 1);
	assert_int_equal(s.quiet, 0);

	/* Macros, then MAIL: quiet until MAIL's end, which is answered. */
	n = packet(buf, 'D', "Mi\0001");
	n += packet(buf + n, 'M', "<a@b>");
	assert_int_equal(quickack_ahead(&s, buf, n, 1), 0);
	assert_int_equal(s.quiet, n);
	assert_int_equal(quickack_feed(&s, buf, n - 3), 0);	/* the macros end */
	assert_int_equal(quickack_feed(&s, buf + n - 3, 3), 0);
	assert_int_equal(s.quiet, 0);
	/* The same even when more than the peek's view follows. */
	assert_int_equal(quickack_ahead(&s, buf, n, 0), 0);

	/* Only packets without an answer, all of the queue: the last one
	 * looks again. */
	memset(&s, 0, sizeof(s));
	n = packet(buf, 'L', "From");
	n += packet(buf + n, 'B', "hi");
	assert_int_equal(quickack_ahead(&s, buf, n, 1), 0);
	assert_int_equal(quickack_feed(&s, buf, 10), 0);	/* the header */
	assert_int_equal(quickack_feed(&s, buf + 10, n - 10), 1);	/* body */
	/* ... but when the peek may not have seen all of it: now. */
	assert_int_equal(quickack_ahead(&s, buf, n, 0), 1);

	/* The queue ends inside a packet: the rest may wait for our ACK. */
	n = packet(buf, 'D', "Mi");
	n += packet(buf + n, 'M', "<a@b>");
	assert_int_equal(quickack_ahead(&s, buf, n - 1, 1), 1);
	assert_int_equal(quickack_ahead(&s, buf, 3, 1), 1);	/* a bare length */
	assert_int_equal(s.quiet, 0);

	/* Hostile lengths: a packet longer than what is here, or 0. */
	memcpy(one, "\xff\xff\xff\xff" "M", 5);
	assert_int_equal(quickack_ahead(&s, one, 5, 1), 1);
	memcpy(one, "\0\0\0\0D\0\0\0\1E", 10);
	assert_int_equal(quickack_ahead(&s, one, 10, 1), 0);
	assert_int_equal(s.quiet, 10);
}

static void
test_unix_and_files_untouched(void **state)
{
	int sv[2], lfd, cfd, afd, fd;
	struct sockaddr_un sun;
	unsigned long before;
	char c, path[] = "/tmp/pc-test-quickack.XXXXXX";

	(void)state;
	/* An accepted unix connection is not tracked. */
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "/tmp/pc-test-qa.%ld",
	    (long)getpid());
	unlink(sun.sun_path);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	cfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(connect(cfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	assert_false(quickack_tracked(afd));
	before = quickack_rearmed();
	assert_int_equal(write(cfd, "y", 1), 1);
	assert_int_equal(read(afd, &c, 1), 1);
	assert_int_equal(c, 'y');
	assert_int_equal(quickack_rearmed(), before);
	close(afd);
	close(cfd);
	close(lfd);
	unlink(sun.sun_path);

	/* Files and pipes read as before. */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(read(fd, &c, 1), 1);
	assert_int_equal(c, 'a');
	close(fd);
	unlink(path);
	assert_int_equal(pipe(sv), 0);
	assert_int_equal(write(sv[1], "z", 1), 1);
	assert_int_equal(read(sv[0], &c, 1), 1);
	assert_int_equal(c, 'z');
	close(sv[0]);
	close(sv[1]);
}

/* A TCP descriptor reused for a pipe is dropped at its first read. */
static void
test_reused_descriptor_dropped(void **state)
{
	unsigned char buf[8];
	struct pair p;
	int sv[2], fd;

	(void)state;
	tcp_pair(&p);
	fd = p.srv;
	assert_true(quickack_tracked(fd));
	close(p.srv);
	assert_int_equal(pipe(sv), 0);
	/* Put the pipe's read end on the old number (pipe() may already). */
	if (sv[0] != fd) {
		assert_int_equal(dup2(sv[0], fd), fd);
		close(sv[0]);
	}
	/* An abort packet: the read that ends it tries setsockopt(). */
	assert_int_equal(write(sv[1], "\0\0\0\1A", 5), 5);
	errno = 0;
	assert_int_equal(read(fd, buf, 5), 5);
	assert_int_equal(errno, 0);	/* the failed setsockopt is hidden */
	assert_false(quickack_tracked(fd));
	close(fd);
	close(sv[1]);
	close(p.cli);
	close(p.lfd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_rearms_tcp),
		cmocka_unit_test(test_framing),
		cmocka_unit_test(test_ahead),
		cmocka_unit_test(test_answer_queued_behind),
		cmocka_unit_test(test_unix_and_files_untouched),
		cmocka_unit_test(test_reused_descriptor_dropped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
