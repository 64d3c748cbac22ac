/*
 * test_spf_limits.c - the SPF time budget and the concurrency cap,
 * through the real stack (libspf2, the screen, portcullis' resolver)
 * against a deliberately slow DNS server on loopback (spf_slowdns.py,
 * ports 13200-13249):
 *   - a chain of slow includes ends in temperror and the DNS-error
 *     action within SPF_BUDGET_MS (plus a margin), not after all of it;
 *   - the budget is per sender, across every relay, not per relay;
 *   - with SPF_CONCURRENT_MAX evaluations waiting on DNS, one more is
 *     refused at once with the DNS-error action, and is let through
 *     again once they have finished.
 * Needs python3; skipped (77) without it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mconf.h"
#include "spf.h"
#include "spf_dns.h"
#include "spf_resolver.h"
#include "util.h"

/* What "at once" and "within the budget" allow for a loaded machine. */
#define REFUSE_MS_MAX 500
#define BUDGET_MARGIN_MS 1000

static pid_t server_pid = -1;
static int server_stdin = -1;
static char resolver[64];

/* Starts spf_slowdns.py; 0 when it listens, -1 when it cannot run. */
static int
server_start(void)
{
	const char *top = getenv("top_srcdir");
	char script[4096], line[64];
	int out[2], in[2], port;
	FILE *fp;

	snprintf(script, sizeof(script), "%s/t/unit/spf_slowdns.py",
	    top != NULL ? top : ".");
	if (pipe(out) < 0 || pipe(in) < 0)
		return -1;
	if ((server_pid = fork()) < 0)
		return -1;
	if (server_pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]); close(in[1]); close(out[0]); close(out[1]);
		execlp("python3", "python3", script, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	server_stdin = in[1];
	if ((fp = fdopen(out[0], "r")) == NULL)
		return -1;
	/* Bounded: the server prints its port or exits. */
	if (fgets(line, sizeof(line), fp) == NULL ||
	    sscanf(line, "PORT %d", &port) != 1) {
		fclose(fp);
		return -1;
	}
	fclose(fp);
	snprintf(resolver, sizeof(resolver), "127.0.0.1:%d", port);
	return 0;
}

static void
server_stop(void)
{
	if (server_stdin >= 0)
		close(server_stdin);	/* the server exits on EOF */
	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		waitpid(server_pid, NULL, 0);
	}
	server_pid = -1;
	server_stdin = -1;
}

static struct mconf cfg;

static struct mconf *
conf(const char *relays)
{
	char err[256];

	if (cfg.spf != NULL)
		spf_conf_free(&cfg);
	assert_int_equal(spf_conf_parse_check(&cfg, "reject", err, sizeof(err)), 0);
	assert_int_equal(spf_conf_parse_relay(&cfg, relays, err, sizeof(err)), 0);
	assert_int_equal(spf_conf_parse_resolver(&cfg, resolver, err,
	    sizeof(err)), 0);
	assert_int_equal(spf_conf_finish(&cfg, "test", err, sizeof(err)), 0);
	return &cfg;
}

static enum spf_action
decide(const struct mconf *m, const char *domain, struct spf_outcome *o,
    long long *ms)
{
	struct pc_mailbox mb;
	enum spf_action a;
	long long t0 = pc_now_ms();

	memset(&mb, 0, sizeof(mb));
	pc_strlcpy(mb.local, "user", sizeof(mb.local));
	pc_strlcpy(mb.domain, domain, sizeof(mb.domain));
	a = spf_decide(m, &mb, o);
	*ms = pc_now_ms() - t0;
	return a;
}

/* Asks the test server a control name ("pending.ctl", "release.ctl"). */
static int
control(const struct mconf *m, const char *name, char *buf, size_t len)
{
	struct spf_budget b;
	SPF_dns_server_t *d = spf_dns_net_new(&m->spf->ns, m->spf->nslen, &b);
	SPF_dns_rr_t *rr;
	int rc = -1;

	spf_budget_start(&b, 2000);
	rr = SPF_dns_lookup(d, name, ns_t_txt, 0);
	if (rr != NULL && rr->herrno == NETDB_SUCCESS && rr->num_rr == 1) {
		pc_strlcpy(buf, rr->rr[0]->txt, len);
		rc = 0;
	}
	if (rr != NULL)
		SPF_dns_rr_free(rr);
	spf_dns_layer_free(d);
	return rc;
}

static void
test_budget_chain(void **state)
{
	struct mconf *m = conf("192.0.2.25");
	struct spf_outcome o;
	long long ms;

	(void)state;
	spf_cache_flush();
	/* Nine lookups of 1.2 s each would end in a pass after ~11 s. */
	assert_int_equal(decide(m, "slow0.example", &o, &ms), SPF_ACT_DNSERR);
	print_message("slow include chain: %s after %lld ms (%s)\n",
	    spf_result_name(o.result), ms, o.reason);
	assert_int_equal(o.result, SPFR_TEMPERROR);
	assert_true(ms <= SPF_BUDGET_MS + BUDGET_MARGIN_MS);
	assert_non_null(strstr(o.reason, "time budget"));
	/* It was the budget that ended it: the server did answer, slowly. */
	assert_true(ms >= SPF_BUDGET_MS - BUDGET_MARGIN_MS);
	/* A temperror is not cached: the next message asks again. */
	assert_int_equal(decide(m, "free.example", &o, &ms), SPF_ACT_CONTINUE);
	assert_int_equal(o.result, SPFR_PASS);
}

static void
test_budget_across_relays(void **state)
{
	struct mconf *m = conf("192.0.2.25, 192.0.2.26");
	struct spf_outcome o;
	long long ms;

	(void)state;
	spf_cache_flush();
	/* 3 lookups of 1.2 s per relay: each fits, both together do not. */
	assert_int_equal(decide(m, "half0.example", &o, &ms), SPF_ACT_DNSERR);
	print_message("two relays, 3 slow lookups each: %s after %lld ms "
	    "(%s)\n", spf_result_name(o.result), ms, o.reason);
	assert_int_equal(o.result, SPFR_TEMPERROR);
	assert_non_null(strstr(o.reason, "time budget"));
	assert_true(ms <= SPF_BUDGET_MS + BUDGET_MARGIN_MS);
}

struct worker {
	pthread_t tid;
	const struct mconf *m;
	char domain[32];
	struct spf_outcome o;
	enum spf_action a;
	long long ms;
};

static void *
work(void *arg)
{
	struct worker *w = arg;

	w->a = decide(w->m, w->domain, &w->o, &w->ms);
	return NULL;
}

static void
test_concurrency_cap(void **state)
{
	struct mconf *m = conf("192.0.2.25");
	struct worker w[SPF_CONCURRENT_MAX];
	struct spf_outcome o;
	char buf[64];
	long long ms;
	int i, waiting = 0;

	(void)state;
	spf_cache_flush();
	for (i = 0; i < SPF_CONCURRENT_MAX; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].m = m;
		snprintf(w[i].domain, sizeof(w[i].domain), "hold%d.example", i);
		assert_int_equal(pthread_create(&w[i].tid, NULL, work, &w[i]), 0);
	}
	/* Bounded wait until every one of them waits on the server. */
	for (i = 0; i < 60 && waiting < SPF_CONCURRENT_MAX; i++) {
		if (control(m, "pending.ctl", buf, sizeof(buf)) == 0)
			waiting = atoi(buf);
		if (waiting < SPF_CONCURRENT_MAX)
			usleep(50000);
	}
	assert_int_equal(waiting, SPF_CONCURRENT_MAX);
	/* One more, for a domain the server answers at once: refused. */
	assert_int_equal(decide(m, "free.example", &o, &ms), SPF_ACT_DNSERR);
	print_message("evaluation %d of %d at once: %s after %lld ms (%s)\n",
	    SPF_CONCURRENT_MAX + 1, SPF_CONCURRENT_MAX + 1,
	    spf_result_name(o.result), ms, o.reason);
	assert_int_equal(o.result, SPFR_TEMPERROR);
	assert_non_null(strstr(o.reason, "too many"));
	assert_true(ms <= REFUSE_MS_MAX);
	assert_int_equal(control(m, "release.ctl", buf, sizeof(buf)), 0);
	for (i = 0; i < SPF_CONCURRENT_MAX; i++) {
		assert_int_equal(pthread_join(w[i].tid, NULL), 0);
		/* They were evaluated, not refused. */
		if (w[i].o.result != SPFR_PASS || w[i].a != SPF_ACT_CONTINUE)
			fail_msg("%s: %s (%s)", w[i].domain,
			    spf_result_name(w[i].o.result), w[i].o.reason);
	}
	/* Their places are free again. */
	assert_int_equal(decide(m, "free.example", &o, &ms), SPF_ACT_CONTINUE);
	assert_int_equal(o.result, SPFR_PASS);
	assert_int_equal(o.cached, 0);
}

static int
teardown(void **state)
{
	(void)state;
	spf_conf_free(&cfg);
	spf_cache_flush();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_budget_chain),
		cmocka_unit_test(test_budget_across_relays),
		cmocka_unit_test(test_concurrency_cap),
	};
	int rc;

	signal(SIGPIPE, SIG_IGN);
	if (server_start() < 0) {
		server_stop();
		printf("SKIP: test_spf_limits needs python3 (t/unit/spf_slowdns.py)\n");
		return 77;
	}
	rc = cmocka_run_group_tests(tests, NULL, teardown);
	server_stop();
	return rc;
}
