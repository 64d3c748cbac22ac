/*
 * test_checks.c - the registration checks' decisions with a DNS made of
 * tables: networks and pools, the three OwnershipCheck modes, forward-
 * confirmed reverse DNS (match, wrong name, no PTR, forward mismatch),
 * SPF pass/fail, DNSBL listed, and every DNS failure reported as
 * temporary, never as a pass.  And NotifyCommand: its environment,
 * and its whole process group killed at the time limit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <errno.h>
#include <pthread.h>
#include <cmocka.h>

#include "checks.h"
#include "checks_revalidate.h"
#include "dns.h"
#include "maps.h"
#include "util.h"

/* The fake DNS: one PTR name, its forward address, SPF and DNSBL answers. */
static struct {
	int ptr_rc;
	const char *ptr_name;
	int fwd_rc;
	const char *fwd_addr;
	int spf_rc;
	int dnsbl_rc;
	int queries;
} F;

static int
f_ptr(void *ctx, const struct pc_addr *a, struct pc_strlist *names, char *err,
    size_t errlen)
{
	(void)ctx; (void)a; (void)err; (void)errlen;
	F.queries++;
	if (F.ptr_rc == DNS_OK)
		pc_strlist_add(names, F.ptr_name);
	return F.ptr_rc;
}

static int
f_addrs(void *ctx, const char *name, struct pc_addr **v, size_t *n, char *err,
    size_t errlen)
{
	(void)ctx; (void)name;
	F.queries++;
	*v = NULL;
	*n = 0;
	if (F.fwd_rc != DNS_OK)
		return F.fwd_rc;
	*v = xcalloc(1, sizeof(**v));
	*n = 1;
	assert_int_equal(pc_addr_parse(F.fwd_addr, *v, err, errlen), 0);
	return DNS_OK;
}

static int
f_dnsbl(void *ctx, const struct pc_addr *a, const char *zone, char *answer,
    size_t alen, char *err, size_t errlen)
{
	(void)ctx; (void)a; (void)zone; (void)err; (void)errlen;
	F.queries++;
	pc_strlcpy(answer, "127.0.0.2", alen);
	return F.dnsbl_rc;
}

static int
f_spf(void *ctx, const struct pc_addr *a, const char *domain, char *result,
    size_t rlen, char *err, size_t errlen)
{
	(void)ctx; (void)a; (void)domain; (void)err; (void)errlen;
	F.queries++;
	pc_strlcpy(result, F.spf_rc == DNS_SPF_PASS ? "pass" : "fail", rlen);
	return F.spf_rc;
}

static const struct check_dns fake = { f_ptr, f_addrs, f_dnsbl, f_spf, NULL };

static struct dconf *
conf(const char *extra)
{
	char path[] = "/tmp/pc-test-checks.XXXXXX", err[512];
	struct dconf *c;
	FILE *fp;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	fprintf(fp, "SubscriberNetworks 192.0.2.0/24, 2001:db8::/32\n"
	    "DynamicPools 192.0.2.128/25\n%s", extra);
	fclose(fp);
	c = dconf_load(path, err, sizeof(err));
	if (c == NULL)
		fail_msg("%s", err);
	unlink(path);
	return c;
}

static void
reset(void)
{
	memset(&F, 0, sizeof(F));
	F.ptr_rc = DNS_OK;
	F.ptr_name = "mx.alice.example";
	F.fwd_rc = DNS_OK;
	F.fwd_addr = "192.0.2.10";
	F.spf_rc = DNS_SPF_PASS;
	F.dnsbl_rc = DNS_NOTFOUND;
}

/* Runs the checks for address from client; returns the result, *failed. */
static enum check_result
run(const struct dconf *c, const char *address, const char *client,
    char *failed, size_t flen)
{
	struct check_request q;
	struct check_outcome o;
	struct pc_addr cl;
	char err[128];
	enum check_result r;

	memset(&q, 0, sizeof(q));
	assert_int_equal(pc_addr_parse(address, &q.addr, err, sizeof(err)), 0);
	if (client != NULL) {
		assert_int_equal(pc_addr_parse(client, &cl, err, sizeof(err)), 0);
		q.client = &cl;
	}
	q.account = "alice@test.example";
	q.hostname = "mx.alice.example";
	q.domain = "alice.example";
	r = checks_run(c, &fake, &q, &o);
	pc_strlcpy(failed, o.failed, flen);
	assert_non_null(o.results);
	if (r != CHECK_PASS)	/* the refusal speaks in plain words */
		assert_true(strlen(o.detail) > 10);
	json_decref(o.results);
	return r;
}

static void
test_networks(void **state)
{
	struct dconf *c = conf("RequirePTR no\nOwnershipCheck none\n");
	char f[32];

	(void)state;
	reset();
	assert_int_equal(run(c, "192.0.2.10", NULL, f, sizeof(f)), CHECK_PASS);
	assert_int_equal(run(c, "198.51.100.1", NULL, f, sizeof(f)), CHECK_FAIL);
	assert_string_equal(f, CHECK_NETWORKS);
	assert_int_equal(run(c, "192.0.2.200", NULL, f, sizeof(f)), CHECK_FAIL);
	assert_string_equal(f, CHECK_POOLS);
	assert_int_equal(run(c, "::ffff:192.0.2.200", NULL, f, sizeof(f)),
	    CHECK_FAIL);
	assert_int_equal(run(c, "2001:db8::25", NULL, f, sizeof(f)), CHECK_PASS);
	assert_int_equal(F.queries, 0);
	dconf_free(c);
}

static void
test_ownership(void **state)
{
	struct dconf *c = conf("RequirePTR no\n");
	char f[32], map[] = "/tmp/pc-test-own.XXXXXX", line[200];
	int fd;

	(void)state;
	reset();
	assert_int_equal(run(c, "192.0.2.10", "192.0.2.10", f, sizeof(f)),
	    CHECK_PASS);
	assert_int_equal(run(c, "192.0.2.10", "192.0.2.11", f, sizeof(f)),
	    CHECK_FAIL);
	assert_string_equal(f, CHECK_OWNERSHIP);
	/* Revalidation has no client: source-address is not re-proven. */
	assert_int_equal(run(c, "192.0.2.10", NULL, f, sizeof(f)), CHECK_PASS);
	dconf_free(c);

	fd = mkstemp(map);
	assert_true(fd >= 0);
	assert_true(write(fd, "ALICE@test.example 192.0.2.10, 2001:db8:1::/48\n"
	    "bob@test.example garbage\n", 72) == 72);
	close(fd);
	snprintf(line, sizeof(line), "RequirePTR no\nOwnershipCheck map:%s\n",
	    map);
	c = conf(line);
	assert_int_equal(run(c, "192.0.2.10", NULL, f, sizeof(f)), CHECK_PASS);
	assert_int_equal(run(c, "2001:db8:1::25", NULL, f, sizeof(f)),
	    CHECK_PASS);
	assert_int_equal(run(c, "192.0.2.12", "192.0.2.12", f, sizeof(f)),
	    CHECK_FAIL);
	assert_string_equal(f, CHECK_OWNERSHIP);
	dconf_free(c);
	unlink(map);
}

static void
test_ptr(void **state)
{
	struct dconf *c = conf("OwnershipCheck none\nRequirePTR yes\n");
	char f[32];

	(void)state;
	reset();
	assert_int_equal(run(c, "192.0.2.10", NULL, f, sizeof(f)), CHECK_PASS);
	F.ptr_name = "MX.Alice.Example.";	/* case and final dot */
	assert_int_equal(run(c, "192.0.2.10", NULL, f, sizeof(f)), CHECK_PASS);
	F.ptr_name = "dsl-10.isp.example";
	assert_int_equal(run(c, "192.0.2.10", NULL, f, sizeof(f)), CHECK_FAIL);
	assert_string_equal(f, CHECK_PTR);
	reset();
	F.ptr_rc = DNS_NOTFOUND;
	assert_int_equal(run(c, "192.0.2.10", NULL, f, sizeof(f)), CHECK_FAIL);
	reset();
	F.fwd_addr = "192.0.2.99";	/* the name points elsewhere */
	assert_int_equal(run(c, "192.0.2.10", NULL, f, sizeof(f)), CHECK_FAIL);
	reset();
	F.fwd_rc = DNS_NOTFOUND;
	assert_int_equal(run(c, "192.0.2.10", NULL, f, sizeof(f)), CHECK_FAIL);
	reset();
	F.ptr_rc = DNS_TEMP;
	assert_int_equal(run(c, "192.0.2.10", NULL, f, sizeof(f)), CHECK_TEMP);
	assert_string_equal(f, CHECK_PTR);
	reset();
	F.fwd_rc = DNS_TEMP;
	assert_int_equal(run(c, "192.0.2.10", NULL, f, sizeof(f)), CHECK_TEMP);
	dconf_free(c);
}

static void
test_spf_dnsbl(void **state)
{
	struct dconf *c = conf("OwnershipCheck none\nRequirePTR no\n"
	    "RequireSPF yes\nDNSBL bl.test, zen.test\n");
	char f[32];

	(void)state;
	reset();
	assert_int_equal(run(c, "192.0.2.10", NULL, f, sizeof(f)), CHECK_PASS);
	assert_int_equal(F.queries, 3);		/* SPF + two zones */
	F.spf_rc = DNS_SPF_FAIL;
	assert_int_equal(run(c, "192.0.2.10", NULL, f, sizeof(f)), CHECK_FAIL);
	assert_string_equal(f, CHECK_SPF);
	reset();
	F.spf_rc = DNS_SPF_TEMP;
	assert_int_equal(run(c, "192.0.2.10", NULL, f, sizeof(f)), CHECK_TEMP);
	reset();
	F.dnsbl_rc = DNS_OK;
	assert_int_equal(run(c, "192.0.2.10", NULL, f, sizeof(f)), CHECK_FAIL);
	assert_string_equal(f, CHECK_DNSBL);
	reset();
	F.dnsbl_rc = DNS_TEMP;
	assert_int_equal(run(c, "192.0.2.10", NULL, f, sizeof(f)), CHECK_TEMP);
	/* A failure outranks a temporary failure: retrying will not help. */
	F.spf_rc = DNS_SPF_FAIL;
	assert_int_equal(run(c, "192.0.2.10", NULL, f, sizeof(f)), CHECK_FAIL);
	assert_string_equal(f, CHECK_SPF);
	/* No DNS queries at all for an address that is not ours. */
	reset();
	assert_int_equal(run(c, "203.0.113.5", NULL, f, sizeof(f)), CHECK_FAIL);
	assert_int_equal(F.queries, 0);
	dconf_free(c);
}

static void
test_describe_and_reverse(void **state)
{
	struct dstr d;
	struct pc_addr a;
	char buf[128], err[64];

	(void)state;
	dstr_init(&d);
	checks_describe_failures("{\"ptr\":{\"result\":\"fail\",\"detail\":"
	    "\"no PTR\"},\"spf\":{\"result\":\"pass\",\"detail\":\"ok\"}}", &d);
	assert_string_equal(d.buf, "no PTR");
	dstr_clear(&d);
	checks_describe_failures("not json", &d);
	checks_describe_failures(NULL, &d);
	assert_int_equal(d.len, 0);
	dstr_free(&d);
	assert_int_equal(pc_addr_parse("192.0.2.10", &a, err, sizeof(err)), 0);
	dns_reverse_name(&a, "zen.test", buf, sizeof(buf));
	assert_string_equal(buf, "10.2.0.192.zen.test");
	assert_int_equal(pc_addr_parse("2001:db8::1", &a, err, sizeof(err)), 0);
	dns_reverse_name(&a, "ip6.arpa", buf, sizeof(buf));
	assert_string_equal(buf, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
}

/* The first line of path, or "" when there is none. */
static void
first_line(const char *path, char *buf, size_t len)
{
	FILE *fp = fopen(path, "r");

	buf[0] = '\0';
	if (fp == NULL)
		return;
	if (fgets(buf, (int)len, fp) == NULL)
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(fp);
}

/* 1 if pid is gone or a zombie waiting for a reaper that is not us. */
static int
gone(pid_t pid)
{
	char path[64], line[256];
	const char *p;

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return 1;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	first_line(path, line, sizeof(line));
	p = strrchr(line, ')');
	return p == NULL || (p[1] == ' ' && p[2] == 'Z');
}

static void *
idle_thread(void *arg)
{
	(void)arg;
	pause();
	return NULL;
}

static void
test_notify(void **state)
{
	char dir[] = "/tmp/pc-test-notify-XXXXXX", cmd[512], out[256],
	    err[1200], pidfile[300];
	pthread_t th;
	time_t t0;
	long pid;
	int i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* A threaded caller, as portcullisd is. */
	assert_int_equal(pthread_create(&th, NULL, idle_thread, NULL), 0);
	setenv("PORTCULLIS_EVENT", "stale", 1);
	snprintf(cmd, sizeof(cmd), "echo \"$PORTCULLIS_EVENT|$PORTCULLIS_ENTRY|"
	    "$PORTCULLIS_ACCOUNT|$PORTCULLIS_ADDRESS|$PORTCULLIS_REASON\" "
	    "> %s/env", dir);
	assert_int_equal(checks_notify_run(cmd, 5000, "revalidation-suspend",
	    42, "alice@test.example", "192.0.2.10", "PTR check failed", err,
	    sizeof(err)), 0);
	snprintf(out, sizeof(out), "%s/env", dir);
	first_line(out, err, sizeof(err));
	assert_string_equal(err, "revalidation-suspend|42|alice@test.example|"
	    "192.0.2.10|PTR check failed");
	unlink(out);

	/* A failure is reported with what the command said. */
	assert_int_equal(checks_notify_run("echo no mailer; exit 4", 5000, "e",
	    1, "a", "192.0.2.1", "r", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "exit status 4"));
	assert_non_null(strstr(err, "no mailer"));

	/*
	 * A command that hangs in a child of the shell, with its output
	 * closed (so no EOF tells us it ended): at the limit the whole
	 * process group is killed, not just the shell.
	 */
	snprintf(pidfile, sizeof(pidfile), "%s/pid", dir);
	snprintf(cmd, sizeof(cmd), "exec >/dev/null 2>&1; sleep 60 & "
	    "echo $! > %s; wait", pidfile);
	t0 = time(NULL);
	assert_int_equal(checks_notify_run(cmd, 1000, "e", 1, "a", "192.0.2.1",
	    "r", err, sizeof(err)), -1);
	assert_true(time(NULL) - t0 < 5);
	assert_non_null(strstr(err, "timed out"));
	first_line(pidfile, out, sizeof(out));
	pid = strtol(out, NULL, 10);
	assert_true(pid > 1);
	for (i = 0; i < 50 && !gone((pid_t)pid); i++)
		usleep(20000);
	assert_true(gone((pid_t)pid));
	unlink(pidfile);

	/*
	 * A command that ends at once but leaves a job holding its output:
	 * the shell's exit ends the wait, not the job's EOF or the limit.
	 */
	snprintf(cmd, sizeof(cmd), "echo started; sleep 30 & echo $! > %s",
	    pidfile);
	t0 = time(NULL);
	assert_int_equal(checks_notify_run(cmd, 10000, "e", 1, "a",
	    "192.0.2.1", "r", err, sizeof(err)), 0);
	assert_true(time(NULL) - t0 < 5);
	first_line(pidfile, out, sizeof(out));
	pid = strtol(out, NULL, 10);
	if (pid > 1)
		kill((pid_t)pid, SIGKILL);
	unlink(pidfile);
	rmdir(dir);
	pthread_cancel(th);
	pthread_join(th, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_networks),
		cmocka_unit_test(test_notify),
		cmocka_unit_test(test_ownership),
		cmocka_unit_test(test_ptr),
		cmocka_unit_test(test_spf_dnsbl),
		cmocka_unit_test(test_describe_and_reverse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
