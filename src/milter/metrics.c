/*
 * metrics.c - Prometheus text metrics over a minimal HTTP/1.0 responder.
 *
 * The responder answers every request on its socket with the metrics
 * and closes: one client at a time, a 2-second read timeout, the request
 * read only to find its end.  It is meant for a scraper on loopback, not
 * for the Internet, which is why MetricsListen has no default.
 */
#include "metrics.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "rlconf.h"
#include "log.h"
#include "server.h"
#include "netaddr.h"
#include "ratelimit.h"
#include "suspend.h"

static const char *const action_names[MA_N] = {
	"accept", "tempfail", "reject", "quarantine", "log",
};

/* Upper bounds of the latency buckets, in seconds. */
static const double lat_bounds[] = {
	0.000001, 0.000005, 0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.01,
};
#define NLAT (sizeof(lat_bounds) / sizeof(lat_bounds[0]))

static atomic_uint_fast64_t messages[MA_N];
static atomic_uint_fast64_t hits[RL_NKINDS];
static atomic_uint_fast64_t suspensions;
static atomic_uint_fast64_t lat_bucket[NLAT + 1];
static atomic_uint_fast64_t lat_sum_ns, lat_count;

void
metrics_message(enum metrics_action a)
{
	atomic_fetch_add_explicit(&messages[a], 1, memory_order_relaxed);
}

void
metrics_hit(int kind)
{
	if (kind >= 0 && kind < RL_NKINDS)
		atomic_fetch_add_explicit(&hits[kind], 1, memory_order_relaxed);
}

void
metrics_suspension(void)
{
	atomic_fetch_add_explicit(&suspensions, 1, memory_order_relaxed);
}

void
metrics_decision_ns(uint64_t ns)
{
	size_t i;

	for (i = 0; i < NLAT && (double)ns > lat_bounds[i] * 1e9; i++)
		;
	atomic_fetch_add_explicit(&lat_bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&lat_sum_ns, ns, memory_order_relaxed);
	atomic_fetch_add_explicit(&lat_count, 1, memory_order_relaxed);
}

static uint64_t
get(atomic_uint_fast64_t *a)
{
	return (uint64_t)atomic_load_explicit(a, memory_order_relaxed);
}

void
metrics_render(struct dstr *d)
{
	struct rl_table *t = suspend_table();
	uint64_t cum = 0;
	size_t i;

	dstr_puts(d, "# HELP portcullis_messages_total Messages by the action "
	    "the milter took.\n# TYPE portcullis_messages_total counter\n");
	for (i = 0; i < MA_N; i++)
		dstr_appendf(d, "portcullis_messages_total{action=\"%s\"} %llu\n",
		    action_names[i], (unsigned long long)get(&messages[i]));
	dstr_puts(d, "# HELP portcullis_ratelimit_hits_total Rate limit hits "
	    "by kind.\n# TYPE portcullis_ratelimit_hits_total counter\n");
	for (i = 0; i < RL_NLIMITS; i++)
		dstr_appendf(d, "portcullis_ratelimit_hits_total{kind=\"%s\"} "
		    "%llu\n", rl_kind_names[i], (unsigned long long)get(&hits[i]));
	dstr_appendf(d, "# HELP portcullis_suspensions_total Accounts "
	    "suspended.\n# TYPE portcullis_suspensions_total counter\n"
	    "portcullis_suspensions_total %llu\n",
	    (unsigned long long)get(&suspensions));
	dstr_appendf(d, "# HELP portcullis_suspended_accounts Accounts "
	    "suspended now.\n# TYPE portcullis_suspended_accounts gauge\n"
	    "portcullis_suspended_accounts %zu\n", suspend_count());
	dstr_appendf(d, "# HELP portcullis_active_accounts Accounts the "
	    "limiter tracks.\n# TYPE portcullis_active_accounts gauge\n"
	    "portcullis_active_accounts %zu\n", t != NULL ? rl_count(t) : 0);
	dstr_appendf(d, "# HELP portcullis_ratelimit_evictions_total Idle "
	    "entries dropped to bound memory.\n"
	    "# TYPE portcullis_ratelimit_evictions_total counter\n"
	    "portcullis_ratelimit_evictions_total %llu\n",
	    (unsigned long long)(t != NULL ? rl_evictions(t) : 0));
	dstr_puts(d, "# HELP portcullis_decision_seconds Time of one rate "
	    "limit decision.\n# TYPE portcullis_decision_seconds histogram\n");
	for (i = 0; i < NLAT; i++) {
		cum += get(&lat_bucket[i]);
		dstr_appendf(d, "portcullis_decision_seconds_bucket{le=\"%g\"} "
		    "%llu\n", lat_bounds[i], (unsigned long long)cum);
	}
	cum += get(&lat_bucket[NLAT]);
	dstr_appendf(d, "portcullis_decision_seconds_bucket{le=\"+Inf\"} %llu\n"
	    "portcullis_decision_seconds_sum %.9f\n"
	    "portcullis_decision_seconds_count %llu\n",
	    (unsigned long long)cum, (double)get(&lat_sum_ns) / 1e9,
	    (unsigned long long)get(&lat_count));
}

static int listen_fd = -1;

static void
serve_one(int fd)
{
	char req[4096];
	size_t have = 0;
	ssize_t r;
	struct dstr body, out;

	/* Read the request head; its content does not matter. */
	while (have < sizeof(req) - 1 &&
	    (r = read(fd, req + have, sizeof(req) - 1 - have)) > 0) {
		have += (size_t)r;
		req[have] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL || strstr(req, "\n\n") != NULL)
			break;
	}
	dstr_init(&body);
	dstr_init(&out);
	metrics_render(&body);
	dstr_appendf(&out, "HTTP/1.0 200 OK\r\nContent-Type: text/plain; "
	    "version=0.0.4\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
	    body.len);
	dstr_append(&out, body.buf, body.len);
	(void)pc_write_all(fd, out.buf, out.len);
	dstr_free(&body);
	dstr_free(&out);
}

int
metrics_start(const char *listen_spec, char *err, size_t errlen)
{
	char host[64];
	unsigned port;
	struct pc_addr a;
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1;

	if (listen_spec == NULL || listen_fd >= 0)
		return 0;	/* a reload cannot move it: restart */
	if (limits_split_hostport(listen_spec, host, sizeof(host), &port) < 0 ||
	    pc_addr_parse(host, &a, NULL, 0) < 0)
		return pc_err(err, errlen, "MetricsListen: bad address \"%s\"",
		    listen_spec);
	memset(&ss, 0, sizeof(ss));
	if (a.family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		memcpy(&sin->sin_addr, a.a, 4);
		sl = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		memcpy(&sin6->sin6_addr, a.a, 16);
		sl = sizeof(*sin6);
	}
	if ((fd = socket(a.family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return pc_err(err, errlen, "MetricsListen: socket: %s",
		    strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 16) < 0) {
		pc_err(err, errlen, "MetricsListen %s: %s", listen_spec,
		    strerror(errno));
		close(fd);
		return -1;
	}
	listen_fd = fd;
	return 0;
}

int
metrics_run(char *err, size_t errlen)
{
	if (listen_fd >= 0 && pc_serve_start(listen_fd, 2, serve_one) < 0)
		return pc_err(err, errlen, "MetricsListen: cannot start a thread");
	return 0;
}
