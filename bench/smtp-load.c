/*
 * smtp-load.c - a concurrent SMTP submission client for
 * bench/postfix-e2e: N connections, one thread each, every session
 * EHLO, AUTH PLAIN, then m messages (MAIL, RCPT, DATA) and QUIT, until
 * the time is up.  smtp-source cannot authenticate, hence this.
 *
 * Every reply code is checked (220, 250, 235, 354, 221); anything else,
 * a timeout or a dropped connection counts as an error.  Output: "name
 * value unit" lines, messages per second counted at the 250 after the
 * final dot, and the latency of that reply.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "loadstat.h"

#define MAX_CONNS 256
#define ERRORS_SHOWN 5

static struct {
	const char *host;
	int port;
	unsigned conns, msgs, users;
	double seconds;
	size_t body;
	int timeout_ms;
	const char *domain, *password, *label, *outfile;
} opt = { "127.0.0.1", 0, 1, 10, 16, 2.0, 1000, 10000, "bench.test",
	"bench-secret", "smtpload", NULL };

static atomic_int stopping;
static atomic_int errors_shown;

struct conn {
	int fd;
	char buf[8192];
	size_t have, off;
};

struct worker {
	pthread_t tid;
	unsigned id;
	uint64_t msgs, errors;
	struct lhist lat;
	struct conn c;
	char *msgbuf;		/* headers + body + final dot */
};

static uint64_t
now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000ULL + (uint64_t)t.tv_nsec / 1000;
}

static void
fail(struct worker *w, const char *what)
{
	w->errors++;
	if (atomic_fetch_add(&errors_shown, 1) < ERRORS_SHOWN)
		fprintf(stderr, "smtp-load: connection %u: %s\n", w->id, what);
}

static void
base64(const unsigned char *in, size_t n, char *out, size_t outlen)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	for (i = 0; i < n && o + 5 < outlen; i += 3) {
		unsigned v = (unsigned)in[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? tab[v & 63] : '=';
	}
	out[o] = '\0';
}

/* One line into line[], CRLF removed.  0, or -1 on EOF/error/timeout. */
static int
read_line(struct conn *c, char *line, size_t len)
{
	size_t o = 0;

	for (;;) {
		while (c->off < c->have) {
			char ch = c->buf[c->off++];

			if (ch == '\n') {
				if (o > 0 && line[o - 1] == '\r')
					o--;
				line[o] = '\0';
				return 0;
			}
			if (o + 1 < len)
				line[o++] = ch;
		}
		{
			struct pollfd p = { c->fd, POLLIN, 0 };
			ssize_t n;
			int r = poll(&p, 1, opt.timeout_ms);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return -1;
			n = read(c->fd, c->buf, sizeof(c->buf));
			if (n <= 0)
				return -1;
			c->have = (size_t)n;
			c->off = 0;
		}
	}
}

/* Reads a (multi-line) reply; its code, or -1. */
static int
reply(struct conn *c, char *last, size_t len)
{
	int i;

	for (i = 0; i < 100; i++) {
		if (read_line(c, last, len) < 0 || strlen(last) < 3)
			return -1;
		if (last[3] != '-')
			return atoi(last);
	}
	return -1;
}

/* Sends cmd (may be empty) and expects code; 0 or -1 (error counted). */
static int
chat(struct worker *w, const char *cmd, size_t len, int want)
{
	char line[512], msg[600];
	int code;

	if (len > 0 && write_full(w->c.fd, cmd, len) < 0) {
		fail(w, "write failed");
		return -1;
	}
	code = reply(&w->c, line, sizeof(line));
	if (code != want) {
		snprintf(msg, sizeof(msg), "expected %d, got %s", want,
		    code < 0 ? "nothing (timeout or closed)" : line);
		fail(w, msg);
		return -1;
	}
	return 0;
}

static int
dial(void)
{
	struct sockaddr_in sin;
	int fd, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)opt.port);
	if (inet_pton(AF_INET, opt.host, &sin.sin_addr) != 1)
		return -1;
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -1;
	}
	/* Every command is one write; nothing for Nagle to merge. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static char *body;	/* the body, then CRLF . CRLF */
static size_t body_len;

static int
session(struct worker *w)
{
	char user[96], cmd[512], b64[512];
	unsigned char plain[256];
	char *msg;
	size_t pl;
	unsigned i;
	int n;

	snprintf(user, sizeof(user), "u%u@%s", w->id % opt.users, opt.domain);
	if (chat(w, "", 0, 220) < 0 ||
	    chat(w, "EHLO client.bench.test\r\n", 24, 250) < 0)
		return -1;
	/* AUTH PLAIN: authzid NUL authcid NUL password. */
	pl = (size_t)snprintf((char *)plain + 1, sizeof(plain) - 1, "%s", user) + 1;
	plain[0] = '\0';
	plain[pl++] = '\0';
	pl += (size_t)snprintf((char *)plain + pl, sizeof(plain) - pl, "%s",
	    opt.password);
	base64(plain, pl, b64, sizeof(b64));
	n = snprintf(cmd, sizeof(cmd), "AUTH PLAIN %s\r\n", b64);
	if (chat(w, cmd, (size_t)n, 235) < 0)
		return -1;
	msg = w->msgbuf;
	for (i = 0; i < opt.msgs && !atomic_load(&stopping); i++) {
		char head[512];
		uint64_t t0;
		int h;

		n = snprintf(cmd, sizeof(cmd), "MAIL FROM:<%s>\r\n", user);
		if (chat(w, cmd, (size_t)n, 250) < 0 ||
		    chat(w, "RCPT TO:<sink@example.net>\r\n", 28, 250) < 0 ||
		    chat(w, "DATA\r\n", 6, 354) < 0)
			return -1;
		/* The message and its final dot in one write, as an MTA does. */
		h = snprintf(head, sizeof(head), "From: <%s>\r\n"
		    "To: <sink@example.net>\r\nSubject: smtp-load %u\r\n"
		    "Message-ID: <%u.%llu.%ld@bench.test>\r\n\r\n", user, i,
		    w->id, (unsigned long long)w->msgs, (long)getpid());
		memcpy(msg, head, (size_t)h);
		memcpy(msg + h, body, body_len);
		t0 = now_us();
		if (chat(w, msg, (size_t)h + body_len, 250) < 0)
			return -1;
		if (!atomic_load(&stopping)) {
			w->msgs++;
			lh_add(&w->lat, now_us() - t0);
		}
	}
	return chat(w, "QUIT\r\n", 6, 221);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	while (!atomic_load(&stopping)) {
		memset(&w->c, 0, sizeof(w->c));
		if ((w->c.fd = dial()) < 0) {
			struct timespec pause = { 0, 20 * 1000 * 1000 };

			fail(w, "cannot connect");
			nanosleep(&pause, NULL);
			continue;
		}
		(void)session(w);
		close(w->c.fd);
	}
	return NULL;
}

static void
emit(FILE *out, const char *name, double v, const char *unit)
{
	char line[256];

	snprintf(line, sizeof(line), "%s_%s %.*f %s\n", opt.label, name,
	    v == (double)(long long)v ? 0 : 1, v, unit);
	fputs(line, stdout);
	if (out != NULL)
		fputs(line, out);
}

static void
usage(void)
{
	fprintf(stderr, "usage: smtp-load -P port [-H host] [-c conns] "
	    "[-d seconds] [-m msgs/session]\n"
	    "       [-U users] [-D domain] [-w password] [-b body-bytes] "
	    "[-t timeout-ms] [-l label] [-o file]\n"
	    "  logins are u0@DOMAIN .. u(U-1)@DOMAIN, connection i uses "
	    "u(i mod U)\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static struct worker ws[MAX_CONNS];
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	uint64_t t0, t1, msgs = 0, errs = 0;
	struct lhist lat;
	FILE *out = NULL;
	unsigned i;
	size_t k;
	int ch;

	while ((ch = getopt(argc, argv, "H:P:c:d:m:U:D:w:b:t:l:o:")) != -1) {
		switch (ch) {
		case 'H': opt.host = optarg; break;
		case 'P': opt.port = atoi(optarg); break;
		case 'c': opt.conns = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'd': opt.seconds = strtod(optarg, NULL); break;
		case 'm': opt.msgs = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'U': opt.users = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'D': opt.domain = optarg; break;
		case 'w': opt.password = optarg; break;
		case 'b': opt.body = strtoul(optarg, NULL, 10); break;
		case 't': opt.timeout_ms = atoi(optarg); break;
		case 'l': opt.label = optarg; break;
		case 'o': opt.outfile = optarg; break;
		default: usage();
		}
	}
	if (opt.port <= 0 || opt.port > 65535 || optind != argc ||
	    opt.conns == 0 || opt.conns > MAX_CONNS || opt.msgs == 0 ||
	    opt.users == 0 || opt.seconds <= 0 || opt.seconds > 3600 ||
	    opt.body > 16 * 1024 * 1024 || opt.timeout_ms <= 0)
		usage();
	if (opt.outfile != NULL && (out = fopen(opt.outfile, "a")) == NULL) {
		fprintf(stderr, "smtp-load: %s: %s\n", opt.outfile,
		    strerror(errno));
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	/* Lines of 76 letters and CRLF, then the final dot. */
	body = malloc(opt.body + 8);
	if (body == NULL)
		return 2;
	for (k = 0; k < opt.body; k++)
		body[k] = (k % 78 == 76) ? '\r' : (k % 78 == 77) ? '\n' :
		    (char)('a' + k % 26);
	memcpy(body + k, "\r\n.\r\n", 6);
	body_len = k + 5;

	t0 = now_us();
	for (i = 0; i < opt.conns; i++) {
		ws[i].id = i;
		if ((ws[i].msgbuf = malloc(512 + body_len)) == NULL)
			return 2;
		if (pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]) != 0) {
			fprintf(stderr, "smtp-load: cannot start thread %u\n", i);
			opt.conns = i;
			break;
		}
	}
	while ((double)(now_us() - t0) / 1e6 < opt.seconds)
		nanosleep(&tick, NULL);
	atomic_store(&stopping, 1);
	t1 = now_us();
	memset(&lat, 0, sizeof(lat));
	for (i = 0; i < opt.conns; i++) {
		pthread_join(ws[i].tid, NULL);
		msgs += ws[i].msgs;
		errs += ws[i].errors;
		lh_merge(&lat, &ws[i].lat);
		free(ws[i].msgbuf);
	}
	emit(out, "mps", (double)(long long)((double)msgs * 1e6 /
	    (double)(t1 - t0) + 0.5), "msg/s");
	emit(out, "msgs", (double)msgs, "count");
	emit(out, "errors", (double)errs, "count");
	emit(out, "dot_p50", (double)lh_quantile(&lat, 0.50), "us");
	emit(out, "dot_p99", (double)lh_quantile(&lat, 0.99), "us");
	if (out != NULL)
		fclose(out);
	free(body);
	return errs == 0 && msgs > 0 ? 0 : 1;
}
