/*
 * milter-load.c - a load generator that plays the MTA to a milter over
 * the milter protocol (version 6), on a unix or inet socket.
 *
 * N connections, one thread each, run whole SMTP-like sessions until the
 * time is up: negotiate, connect with macros, HELO, then per message MAIL
 * with {auth_authen} from an account population (uniform or Zipf), k
 * recipients, headers, a body of the chosen size and end of message;
 * after m messages QUIT and a new connection.  Every reply is checked:
 * anything but "continue" (or "accept") is an error, and so is a
 * malformed packet, a timeout or a dropped connection.  It honours the
 * milter's negotiated "no such step" and "no reply" flags, as an MTA does.
 *
 * Output: one "name value unit" line per figure (stdout, and -o FILE).
 * Latencies are from our own timestamps: from just before the write of
 * a command to the complete reply.
 *
 * -W writes every packet on its own, as Postfix does (a macro packet,
 * then the command): over TCP this is what meets the delayed-ACK stall.
 * Without it each step goes out in one write.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "loadstat.h"
#include "mproto.h"

#define MAX_CONNS 1024
#define MAX_RCPTS 100
#define BODY_CHUNK 65535	/* MILTER_CHUNK_SIZE */
#define ERRORS_SHOWN 5

/* What an MTA offers: every step can be skipped or go unanswered. */
#define OFFER_PROTOCOL (SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL | \
    SMFIP_NORCPT | SMFIP_NOBODY | SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NR_HDR | \
    SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_SKIP | SMFIP_NR_CONN | \
    SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_DATA | \
    SMFIP_NR_UNKN | SMFIP_NR_EOH | SMFIP_NR_BODY)
#define OFFER_ACTIONS 0x1ff

static struct {
	const char *socket;
	unsigned conns, msgs, rcpts;
	size_t body;
	double seconds;
	uint32_t accounts;
	double zipf;
	int sequential;
	int split;
	int timeout_ms;
	long pid;
	uint64_t max_tx;
	const char *label, *domain, *outfile;
} opt = {
	NULL, 8, 10, 1, 1000, 2.0, 1000, 0, 0, 0, 5000, 0, 0, "milterload",
	"bench.test", NULL
};

static struct population pop;
static atomic_uint_fast64_t seq_next;
static atomic_int stopping;
static atomic_int errors_shown;
static atomic_uint_fast64_t tx_total;	/* for -N */
static struct timespec t_start, t_stop;
static char *body;

struct worker {
	pthread_t tid;
	unsigned id;
	uint64_t rng;
	uint64_t tx, errors, sessions, replies;
	struct lhist all, mail;
	struct mp_out out;
	struct mp_in in;
	int fd;
	uint32_t proto;		/* negotiated protocol flags */
	char qid[32];
};

static uint64_t
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static uint64_t
ts_ns(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * 1000000000ULL + (uint64_t)t->tv_nsec;
}

static void
fail(struct worker *w, const char *what, const char *detail)
{
	w->errors++;
	if (atomic_fetch_add(&errors_shown, 1) < ERRORS_SHOWN)
		fprintf(stderr, "milter-load: connection %u: %s%s%s\n", w->id,
		    what, detail[0] ? ": " : "", detail);
}

static int
dial(const char *spec, char *err, size_t errlen)
{
	int fd;

	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
		struct sockaddr_un sun;
		const char *path = strchr(spec, ':') + 1;

		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (strlen(path) >= sizeof(sun.sun_path)) {
			snprintf(err, errlen, "socket path too long");
			return -1;
		}
		memcpy(sun.sun_path, path, strlen(path) + 1);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			goto sys;
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
			close(fd);
			goto sys;
		}
		return fd;
	}
	if (strncmp(spec, "inet:", 5) == 0) {
		struct sockaddr_in sin;
		char host[64];
		const char *at = strchr(spec, '@');
		long port = strtol(spec + 5, NULL, 10);

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)port);
		snprintf(host, sizeof(host), "%s", at != NULL ? at + 1 : "127.0.0.1");
		if (port <= 0 || port > 65535 ||
		    inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
			snprintf(err, errlen, "bad socket %s (inet:PORT@IPv4)", spec);
			return -1;
		}
		if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			goto sys;
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
			close(fd);
			goto sys;
		}
		return fd;
	}
	snprintf(err, errlen, "bad socket %s (unix:PATH or inet:PORT@HOST)", spec);
	return -1;
sys:
	snprintf(err, errlen, "%s: %s", spec, strerror(errno));
	return -1;
}

/* Sends what is in w->out: packet by packet with -W, else in one write. */
static int
flush(struct worker *w)
{
	size_t i, from = 0;
	int r = 0;

	if (w->out.overflow) {
		fail(w, "internal", "packet buffer overflow");
		mp_out_reset(&w->out);
		return -1;
	}
	if (!opt.split)
		r = write_full(w->fd, w->out.buf, w->out.len);
	else
		for (i = 0; i < w->out.npkt && r == 0; i++) {
			r = write_full(w->fd, w->out.buf + from, w->out.ends[i] - from);
			from = w->out.ends[i];
		}
	mp_out_reset(&w->out);
	if (r < 0)
		fail(w, "write", strerror(errno));
	return r;
}

enum { STEP_OK, STEP_DONE, STEP_SKIP, STEP_FAIL, STEP_CLOSE };

/*
 * Sends the packets built so far and, when reply is set, waits for the
 * answer.  STEP_OK to go on, STEP_DONE when the milter accepted the
 * message, STEP_SKIP for "skip the rest of the body", STEP_FAIL for an
 * unexpected verdict (the connection is still usable), STEP_CLOSE when
 * the connection cannot be used any more.
 */
static int
step(struct worker *w, int reply, int at_eom, int is_mail)
{
	uint64_t t0 = now_ns(), us;
	struct mp_packet pk;
	char why[128] = "";
	int r;

	if (flush(w) < 0)
		return STEP_CLOSE;
	if (!reply)
		return STEP_OK;
	for (;;) {
		r = mp_read_packet(w->fd, &w->in, &pk, opt.timeout_ms);
		if (r == MP_MALFORMED) {
			fail(w, "malformed reply", "bad packet length");
			return STEP_CLOSE;
		}
		if (r != MP_PACKET) {
			fail(w, "read", errno == ETIMEDOUT ? "timeout" :
			    strerror(errno));
			return STEP_CLOSE;
		}
		switch (mp_verdict(&pk, at_eom, why, sizeof(why))) {
		case MP_PROGRESS:
		case MP_MODIFY:
			continue;
		case MP_CONTINUE:
			r = STEP_OK;
			break;
		case MP_ACCEPT:
			r = STEP_DONE;
			break;
		case MP_SKIP:
			r = STEP_SKIP;
			break;
		case MP_REJECT:
		case MP_TEMPFAIL:
		case MP_DISCARD:
			snprintf(why, sizeof(why), "unexpected reply '%c'%s%.*s",
			    pk.cmd, pk.cmd == SMFIR_REPLYCODE ? " " : "",
			    pk.cmd == SMFIR_REPLYCODE ? (int)(pk.len > 80 ? 80 :
			    pk.len) : 0, (const char *)pk.data);
			fail(w, "verdict", why);
			r = STEP_FAIL;
			break;
		default:
			fail(w, "malformed reply", why);
			return STEP_CLOSE;
		}
		break;
	}
	us = (now_ns() - t0) / 1000;
	w->replies++;
	lh_add(&w->all, us);
	if (is_mail)
		lh_add(&w->mail, us);
	return r;
}

#define NR(flag) (!(w->proto & (flag)))
#define MACROS(cmd, n, v) mp_macros(&w->out, (cmd), (n), (v), \
    sizeof(n) / sizeof((n)[0]))

static int
negotiate(struct worker *w)
{
	struct mp_optneg o;
	struct mp_packet pk;
	char why[128];
	int r;

	mp_begin(&w->out, SMFIC_OPTNEG);
	mp_u32(&w->out, SMFI_PROT_VERSION);
	mp_u32(&w->out, OFFER_ACTIONS);
	mp_u32(&w->out, OFFER_PROTOCOL);
	mp_end(&w->out);
	if (flush(w) < 0)
		return -1;
	r = mp_read_packet(w->fd, &w->in, &pk, opt.timeout_ms);
	if (r != MP_PACKET) {
		fail(w, "negotiation", r == MP_MALFORMED ? "malformed" :
		    errno == ETIMEDOUT ? "timeout" : strerror(errno));
		return -1;
	}
	if (mp_parse_optneg(&pk, &o, why, sizeof(why)) < 0) {
		fail(w, "negotiation", why);
		return -1;
	}
	if (o.protocol & ~(uint32_t)(OFFER_PROTOCOL | SMFIP_MDS_256K |
	    SMFIP_MDS_1M)) {
		snprintf(why, sizeof(why), "asks for protocol flags 0x%x we did "
		    "not offer", o.protocol & ~(uint32_t)OFFER_PROTOCOL);
		fail(w, "negotiation", why);
		return -1;
	}
	w->proto = o.protocol;
	return 0;
}

static int
session_start(struct worker *w)
{
	static const char *const cn[] = { "j", "{daemon_name}",
	    "{client_addr}", "{client_port}", "{client_name}" };
	static const char *const hn[] = { "{tls_version}", "{cipher}",
	    "{cipher_bits}" };
	static const char *const hv[] = { "TLSv1.3", "TLS_AES_256_GCM_SHA384",
	    "256" };
	char port[8];
	const char *cv[] = { "mail.bench.test", "submission", "127.0.0.1",
	    port, "client.bench.test" };
	int r;

	snprintf(port, sizeof(port), "%u", 40000 + w->id % 20000);
	if (negotiate(w) < 0)
		return -1;
	if (!(w->proto & SMFIP_NOCONNECT)) {
		MACROS(SMFIC_CONNECT, cn, cv);
		mp_begin(&w->out, SMFIC_CONNECT);
		mp_str(&w->out, "client.bench.test");
		mp_bytes(&w->out, "4", 1);
		mp_u16(&w->out, (uint16_t)(40000 + w->id % 20000));
		mp_str(&w->out, "127.0.0.1");
		mp_end(&w->out);
		if ((r = step(w, NR(SMFIP_NR_CONN), 0, 0)) != STEP_OK)
			return -1;
	}
	if (!(w->proto & SMFIP_NOHELO)) {
		MACROS(SMFIC_HELO, hn, hv);
		mp_begin(&w->out, SMFIC_HELO);
		mp_str(&w->out, "client.bench.test");
		mp_end(&w->out);
		if ((r = step(w, NR(SMFIP_NR_HELO), 0, 0)) != STEP_OK)
			return -1;
	}
	return 0;
}

static uint32_t
pick_account(struct worker *w)
{
	if (opt.sequential)
		return (uint32_t)(atomic_fetch_add(&seq_next, 1) % opt.accounts);
	return pop_pick(&pop, rng_unit(&w->rng));
}

/* One message.  0 done (accepted or failed cleanly), -1 connection lost. */
static int
message(struct worker *w)
{
	static const char *const mn[] = { "i", "{auth_type}", "{auth_authen}",
	    "{mail_addr}" };
	static const char *const rn[] = { "i", "{rcpt_addr}" };
	static const char *const qn[] = { "i" };
	char login[96], addr[100], rcpt[64], msgid[96];
	const char *mv[] = { w->qid, "PLAIN", login, login };
	const char *rv[] = { w->qid, rcpt };
	const char *qv[] = { w->qid };
	uint32_t acct = pick_account(w);
	size_t off;
	unsigned i;
	int r = STEP_OK;

	snprintf(w->qid, sizeof(w->qid), "%X%08llX", w->id,
	    (unsigned long long)(w->tx + w->errors));
	snprintf(login, sizeof(login), "u%u@%s", acct, opt.domain);
	snprintf(addr, sizeof(addr), "<%s>", login);

	if (!(w->proto & SMFIP_NOMAIL)) {
		MACROS(SMFIC_MAIL, mn, mv);
		mp_begin(&w->out, SMFIC_MAIL);
		mp_str(&w->out, addr);
		mp_str(&w->out, "SIZE=1000");
		mp_end(&w->out);
		r = step(w, NR(SMFIP_NR_MAIL), 0, 1);
	}
	for (i = 0; i < opt.rcpts && r == STEP_OK && !(w->proto & SMFIP_NORCPT);
	    i++) {
		snprintf(rcpt, sizeof(rcpt), "<r%u@example.net>", i);
		MACROS(SMFIC_RCPT, rn, rv);
		mp_begin(&w->out, SMFIC_RCPT);
		mp_str(&w->out, rcpt);
		mp_end(&w->out);
		r = step(w, NR(SMFIP_NR_RCPT), 0, 0);
	}
	if (r == STEP_OK && !(w->proto & SMFIP_NODATA)) {
		MACROS(SMFIC_DATA, qn, qv);
		mp_begin(&w->out, SMFIC_DATA);
		mp_end(&w->out);
		r = step(w, NR(SMFIP_NR_DATA), 0, 0);
	}
	if (r == STEP_OK && !(w->proto & SMFIP_NOHDRS)) {
		const char *hdr[][2] = {
			{ "From", addr },
			{ "To", "<r0@example.net>" },
			{ "Subject", "milter-load" },
			{ "Date", "Mon, 1 Jan 2024 00:00:00 +0000" },
			{ "Message-ID", msgid },
		};

		snprintf(msgid, sizeof(msgid), "<%s@bench.test>", w->qid);
		for (i = 0; i < 5 && r == STEP_OK; i++) {
			mp_begin(&w->out, SMFIC_HEADER);
			mp_str(&w->out, hdr[i][0]);
			mp_str(&w->out, hdr[i][1]);
			mp_end(&w->out);
			r = step(w, NR(SMFIP_NR_HDR), 0, 0);
		}
	}
	if (r == STEP_OK && !(w->proto & SMFIP_NOEOH)) {
		MACROS(SMFIC_EOH, qn, qv);
		mp_begin(&w->out, SMFIC_EOH);
		mp_end(&w->out);
		r = step(w, NR(SMFIP_NR_EOH), 0, 0);
	}
	for (off = 0; r == STEP_OK && off < opt.body &&
	    !(w->proto & SMFIP_NOBODY); off += BODY_CHUNK) {
		size_t n = opt.body - off < BODY_CHUNK ? opt.body - off : BODY_CHUNK;

		mp_begin(&w->out, SMFIC_BODY);
		mp_bytes(&w->out, body + off, n);
		mp_end(&w->out);
		r = step(w, NR(SMFIP_NR_BODY), 0, 0);
	}
	if (r == STEP_SKIP)
		r = STEP_OK;
	if (r == STEP_OK) {
		MACROS(SMFIC_BODYEOB, qn, qv);
		mp_begin(&w->out, SMFIC_BODYEOB);
		mp_end(&w->out);
		r = step(w, 1, 1, 0);
	}
	if (r == STEP_CLOSE)
		return -1;
	if (r == STEP_OK || r == STEP_DONE) {
		/* Counted only inside the measured window. */
		if (!atomic_load(&stopping)) {
			w->tx++;
			atomic_fetch_add_explicit(&tx_total, 1,
			    memory_order_relaxed);
		}
		if (r == STEP_OK)
			return 0;
	}
	/* After a refusal or an early accept the MTA aborts the message. */
	if (r == STEP_FAIL || r == STEP_DONE) {
		mp_begin(&w->out, SMFIC_ABORT);
		mp_end(&w->out);
		if (step(w, 0, 0, 0) == STEP_CLOSE)
			return -1;
	}
	return 0;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	char err[256];
	unsigned i;

	while (!atomic_load(&stopping)) {
		w->fd = dial(opt.socket, err, sizeof(err));
		if (w->fd < 0) {
			struct timespec pause = { 0, 20 * 1000 * 1000 };

			fail(w, "connect", err);
			nanosleep(&pause, NULL);
			continue;
		}
		w->sessions++;
		if (session_start(w) == 0) {
			for (i = 0; i < opt.msgs && !atomic_load(&stopping); i++)
				if (message(w) < 0)
					break;
			if (i == opt.msgs || atomic_load(&stopping)) {
				mp_begin(&w->out, SMFIC_QUIT);
				mp_end(&w->out);
				(void)flush(w);
			}
		}
		close(w->fd);
		w->fd = -1;
		mp_in_free(&w->in);
	}
	return NULL;
}

static void
usage(void)
{
	fprintf(stderr, "usage: milter-load -s unix:PATH|inet:PORT@HOST "
	    "[-c conns] [-d seconds] [-m msgs/conn]\n"
	    "       [-r rcpts] [-b body-bytes] [-a accounts] [-z zipf-s | -q] "
	    "[-W] [-t timeout-ms]\n"
	    "       [-p milter-pid] [-l label] [-D domain] [-o file] "
	    "[-N max-transactions]\n"
	    "  -q: accounts in turn (each once per -a), -W: one write per "
	    "packet, like Postfix\n");
	exit(2);
}

/* Threads and VmRSS of the milter, read while the load is still on. */
static void
sample_milter(long pid, long *threads, long *rss_kb)
{
	char path[64], line[256];
	FILE *fp;

	*threads = *rss_kb = -1;
	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	if ((fp = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, "Threads:", 8) == 0)
			*threads = strtol(line + 8, NULL, 10);
		else if (strncmp(line, "VmRSS:", 6) == 0)
			*rss_kb = strtol(line + 6, NULL, 10);
	}
	fclose(fp);
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

int
main(int argc, char **argv)
{
	static struct worker ws[MAX_CONNS];
	struct lhist all, mail;
	uint64_t tx = 0, errs = 0, sessions = 0;
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	long threads = -1, rss = -1;
	double elapsed;
	FILE *out = NULL;
	unsigned i;
	int ch;

	while ((ch = getopt(argc, argv, "s:c:d:m:r:b:a:z:qWt:p:l:D:o:N:")) != -1) {
		switch (ch) {
		case 's': opt.socket = optarg; break;
		case 'c': opt.conns = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'd': opt.seconds = strtod(optarg, NULL); break;
		case 'm': opt.msgs = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': opt.rcpts = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'b': opt.body = strtoul(optarg, NULL, 10); break;
		case 'a': opt.accounts = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'z': opt.zipf = strtod(optarg, NULL); break;
		case 'q': opt.sequential = 1; break;
		case 'W': opt.split = 1; break;
		case 't': opt.timeout_ms = atoi(optarg); break;
		case 'p': opt.pid = strtol(optarg, NULL, 10); break;
		case 'l': opt.label = optarg; break;
		case 'D': opt.domain = optarg; break;
		case 'o': opt.outfile = optarg; break;
		case 'N': opt.max_tx = strtoull(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (opt.socket == NULL || optind != argc || opt.conns == 0 ||
	    opt.conns > MAX_CONNS || opt.msgs == 0 || opt.rcpts == 0 ||
	    opt.rcpts > MAX_RCPTS || opt.seconds <= 0 || opt.seconds > 3600 ||
	    opt.accounts == 0 || opt.body > 64 * 1024 * 1024 ||
	    opt.timeout_ms <= 0)
		usage();
	if (pop_init(&pop, opt.accounts, opt.zipf) < 0) {
		fprintf(stderr, "milter-load: cannot build the population\n");
		return 2;
	}
	if (opt.outfile != NULL && (out = fopen(opt.outfile, "a")) == NULL) {
		fprintf(stderr, "milter-load: %s: %s\n", opt.outfile,
		    strerror(errno));
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	body = malloc(opt.body + 1);
	if (body == NULL)
		return 2;
	for (i = 0; i < opt.body; i++)
		body[i] = (i % 78 == 76) ? '\r' : (i % 78 == 77) ? '\n' :
		    (char)('a' + i % 26);

	clock_gettime(CLOCK_MONOTONIC, &t_start);
	for (i = 0; i < opt.conns; i++) {
		ws[i].id = i;
		ws[i].fd = -1;
		ws[i].rng = 0x9E3779B97F4A7C15ULL * (i + 1) ^ (uint64_t)getpid();
		mp_out_init(&ws[i].out, 2 * BODY_CHUNK + 4096);
		mp_in_init(&ws[i].in);
		if (pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]) != 0) {
			fprintf(stderr, "milter-load: cannot start thread %u\n", i);
			atomic_store(&stopping, 1);
			opt.conns = i;
			break;
		}
	}
	/* Bounded by -d: wake every 10 ms to look at the clock (and -N). */
	while ((double)(now_ns() - ts_ns(&t_start)) / 1e9 < opt.seconds &&
	    (opt.max_tx == 0 || atomic_load(&tx_total) < opt.max_tx))
		nanosleep(&tick, NULL);
	if (opt.pid > 0)
		sample_milter(opt.pid, &threads, &rss);
	atomic_store(&stopping, 1);
	clock_gettime(CLOCK_MONOTONIC, &t_stop);
	memset(&all, 0, sizeof(all));
	memset(&mail, 0, sizeof(mail));
	for (i = 0; i < opt.conns; i++) {
		/* Each ends within one reply timeout of the stop. */
		pthread_join(ws[i].tid, NULL);
		tx += ws[i].tx;
		errs += ws[i].errors;
		sessions += ws[i].sessions;
		lh_merge(&all, &ws[i].all);
		lh_merge(&mail, &ws[i].mail);
		mp_out_free(&ws[i].out);
		mp_in_free(&ws[i].in);
	}
	elapsed = (double)(ts_ns(&t_stop) - ts_ns(&t_start)) / 1e9;
	emit(out, "tps", (double)(long long)((double)tx / elapsed + 0.5), "tx/s");
	emit(out, "tx", (double)tx, "count");
	emit(out, "errors", (double)errs, "count");
	emit(out, "mail_p50", (double)lh_quantile(&mail, 0.50), "us");
	emit(out, "mail_p99", (double)lh_quantile(&mail, 0.99), "us");
	emit(out, "mail_p999", (double)lh_quantile(&mail, 0.999), "us");
	emit(out, "reply_p50", (double)lh_quantile(&all, 0.50), "us");
	emit(out, "reply_p99", (double)lh_quantile(&all, 0.99), "us");
	emit(out, "reply_p999", (double)lh_quantile(&all, 0.999), "us");
	if (opt.pid > 0) {
		emit(out, "milter_threads", (double)threads, "count");
		emit(out, "milter_rss", (double)rss, "kB");
	}
	(void)sessions;
	if (out != NULL)
		fclose(out);
	free(body);
	pop_free(&pop);
	return errs == 0 && tx > 0 ? 0 : 1;
}
