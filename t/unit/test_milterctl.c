/*
 * test_milterctl.c - MilterControlSocket's client: the "usage" answer
 * read (suspended or not, since= and reason= kept, anything malformed
 * is "unknown", never "not suspended"), and the socket conversation
 * against a scripted server: what is sent, an answer, ERR, a server that
 * closes without answering, one that hangs past the timeout, no server.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control_client.h"
#include "milterctl.h"
#include "util.h"

static const struct {
	const char *answer;
	enum milterctl_status want;
	const char *since, *reason;
} rows[] = {
	{ "account a@x\nsuspended no\nmessages used=0 limit=unlimited\n",
	    MILTERCTL_NOT_SUSPENDED, "", "" },
	{ "account a@x\nsuspended yes\n", MILTERCTL_SUSPENDED, "", "" },
	{ "account a@x\nsuspended yes since=2026-01-02T03:04:05Z "
	    "reason=\"rate limit: 5 in 1h\"\nmessages used=9\n",
	    MILTERCTL_SUSPENDED, "2026-01-02T03:04:05Z", "rate limit: 5 in 1h" },
	/* The reason is not escaped by the milter: up to the last quote. */
	{ "suspended yes since=2026-01-02T03:04:05Z reason=\"said \"hi\" x\"",
	    MILTERCTL_SUSPENDED, "2026-01-02T03:04:05Z", "said \"hi\" x" },
	/* A since= that is not a timestamp is dropped, not passed on. */
	{ "suspended yes since=<script> reason=\"r\"\n", MILTERCTL_SUSPENDED,
	    "", "r" },
	{ "suspended yes since=2026-01-02T03:04:05Z0123456789012345\n",
	    MILTERCTL_SUSPENDED, "", "" },
	{ "suspended yes reason=\"unterminated\n", MILTERCTL_SUSPENDED, "", "" },
	/* The first "suspended" line decides; no fishing for a later one. */
	{ "suspended maybe\nsuspended no\n", MILTERCTL_UNKNOWN, "", "" },
	{ "suspended yesterday\n", MILTERCTL_UNKNOWN, "", "" },
	{ "suspended no \n", MILTERCTL_UNKNOWN, "", "" },
	{ "suspended\n", MILTERCTL_UNKNOWN, "", "" },
	{ "account a@x\nmessages used=0\n", MILTERCTL_UNKNOWN, "", "" },
	{ "", MILTERCTL_UNKNOWN, "", "" },
	{ "  suspended no\n", MILTERCTL_UNKNOWN, "", "" },
};

static void
test_parse(void **state)
{
	struct milterctl_suspension s;
	size_t i;

	(void)state;
	for (i = 0; i < PC_ARRAY_LEN(rows); i++) {
		if (milterctl_parse_usage(rows[i].answer, &s) != rows[i].want)
			fail_msg("row %zu: wrong status", i);
		if (strcmp(s.since, rows[i].since) != 0 ||
		    strcmp(s.reason, rows[i].reason) != 0)
			fail_msg("row %zu: since \"%s\" reason \"%s\"", i,
			    s.since, s.reason);
	}
}

static void
test_parse_huge_reason(void **state)
{
	struct milterctl_suspension s;
	struct dstr d;
	int i;

	(void)state;
	dstr_init(&d);
	dstr_puts(&d, "suspended yes reason=\"");
	for (i = 0; i < 5000; i++)
		dstr_putc(&d, 'r');
	dstr_puts(&d, "\"\n");
	assert_int_equal(milterctl_parse_usage(d.buf, &s), MILTERCTL_SUSPENDED);
	assert_int_equal(strlen(s.reason), sizeof(s.reason) - 1);
	dstr_free(&d);
}

/* A scripted ControlSocket: one client, its line kept, answer sent. */
struct fake {
	char path[108];
	int fd;
	const char *answer;	/* NULL: close without a word */
	unsigned hang_ms;	/* before answering */
	char got[256];
	pthread_t th;
};

static void *
fake_serve(void *arg)
{
	struct fake *f = arg;
	struct timespec ts;
	ssize_t r;
	size_t have = 0;
	int c = accept(f->fd, NULL, NULL);

	if (c < 0)
		return NULL;
	while (have < sizeof(f->got) - 1 && (r = read(c, f->got + have,
	    sizeof(f->got) - 1 - have)) > 0) {
		have += (size_t)r;
		if (memchr(f->got, '\n', have) != NULL)
			break;
	}
	f->got[have] = '\0';
	ts.tv_sec = f->hang_ms / 1000;
	ts.tv_nsec = (long)(f->hang_ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
	/* The client may be gone (timed out): no SIGPIPE for that. */
	if (f->answer != NULL) {
		ssize_t w = send(c, f->answer, strlen(f->answer), MSG_NOSIGNAL);

		(void)w;
	}
	close(c);
	return NULL;
}

static void
fake_start(struct fake *f, const char *answer, unsigned hang_ms)
{
	struct sockaddr_un sun;

	memset(f, 0, sizeof(*f));
	snprintf(f->path, sizeof(f->path), "/tmp/pc-test-milterctl-%ld.sock",
	    (long)getpid());
	unlink(f->path);
	f->answer = answer;
	f->hang_ms = hang_ms;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	pc_strlcpy(sun.sun_path, f->path, sizeof(sun.sun_path));
	f->fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(f->fd >= 0);
	assert_int_equal(bind(f->fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(f->fd, 1), 0);
	assert_int_equal(pthread_create(&f->th, NULL, fake_serve, f), 0);
}

static void
fake_stop(struct fake *f)
{
	pthread_join(f->th, NULL);
	close(f->fd);
	unlink(f->path);
}

static void
test_suspended(void **state)
{
	struct milterctl_suspension s;
	struct fake f;
	char err[512];

	(void)state;
	fake_start(&f, "account alice@x\nsuspended yes since=2026-01-02T03:04:05Z "
	    "reason=\"abuse\"\nmessages used=1\nOK\n", 0);
	assert_int_equal(milterctl_account(f.path, "Alice@X", 2000, &s, err,
	    sizeof(err)), MILTERCTL_SUSPENDED);
	fake_stop(&f);
	assert_string_equal(f.got, "usage Alice@X\n");
	assert_string_equal(s.since, "2026-01-02T03:04:05Z");
	assert_string_equal(s.reason, "abuse");

	fake_start(&f, "account bob@x\nsuspended no\nOK\n", 0);
	assert_int_equal(milterctl_account(f.path, "bob@x", 2000, &s, err,
	    sizeof(err)), MILTERCTL_NOT_SUSPENDED);
	fake_stop(&f);
}

static void
test_unknown(void **state)
{
	struct milterctl_suspension s;
	struct fake f;
	char err[512];
	struct timespec a, b;
	long ms;

	(void)state;
	/* An answer without OK is not an answer, even if it says "no". */
	fake_start(&f, "suspended no\n", 0);
	assert_int_equal(milterctl_account(f.path, "a@x", 2000, &s, err,
	    sizeof(err)), MILTERCTL_UNKNOWN);
	fake_stop(&f);
	assert_non_null(strstr(err, "without OK or ERR"));

	fake_start(&f, NULL, 0);
	assert_int_equal(milterctl_account(f.path, "a@x", 2000, &s, err,
	    sizeof(err)), MILTERCTL_UNKNOWN);
	fake_stop(&f);

	fake_start(&f, "ERR no configuration loaded\n", 0);
	assert_int_equal(milterctl_account(f.path, "a@x", 2000, &s, err,
	    sizeof(err)), MILTERCTL_UNKNOWN);
	fake_stop(&f);
	assert_non_null(strstr(err, "no configuration loaded"));

	fake_start(&f, "account a@x\nOK\n", 0);
	assert_int_equal(milterctl_account(f.path, "a@x", 2000, &s, err,
	    sizeof(err)), MILTERCTL_UNKNOWN);
	fake_stop(&f);

	/* A hung milter costs the timeout, not more. */
	fake_start(&f, "suspended no\nOK\n", 1500);
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(milterctl_account(f.path, "a@x", 200, &s, err,
	    sizeof(err)), MILTERCTL_UNKNOWN);
	clock_gettime(CLOCK_MONOTONIC, &b);
	fake_stop(&f);
	ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	assert_true(ms >= 150 && ms < 1000);
	assert_non_null(strstr(err, "no answer within 200 ms"));

	assert_int_equal(milterctl_account("/nonexistent/pc-control.sock", "a@x",
	    200, &s, err, sizeof(err)), MILTERCTL_UNKNOWN);
	assert_non_null(strstr(err, "cannot reach the milter at "
	    "/nonexistent/pc-control.sock"));
}

static void
test_names_not_asked(void **state)
{
	struct milterctl_suspension s;
	struct fake f;
	char err[512];

	(void)state;
	/* Names the milter cannot hold are not sent (no server needed). */
	assert_int_equal(milterctl_account("/nonexistent/x.sock", "a b@x", 200,
	    &s, err, sizeof(err)), MILTERCTL_NOT_SUSPENDED);
	assert_int_equal(milterctl_account("/nonexistent/x.sock",
	    "a@x\nsuspend b@x", 200, &s, err, sizeof(err)),
	    MILTERCTL_NOT_SUSPENDED);
	assert_int_equal(milterctl_account("/nonexistent/x.sock", "", 200, &s,
	    err, sizeof(err)), MILTERCTL_NOT_SUSPENDED);
	/* ... nor is one the milter itself calls unusable. */
	fake_start(&f, "ERR unusable account name\n", 0);
	assert_int_equal(milterctl_account(f.path, "a@x", 2000, &s, err,
	    sizeof(err)), MILTERCTL_NOT_SUSPENDED);
	fake_stop(&f);
}

static void
test_control_call(void **state)
{
	struct dstr out;
	struct fake f;
	char err[512], longpath[300];

	(void)state;
	dstr_init(&out);
	fake_start(&f, "line one\nline two\n\nOK\n", 0);
	assert_int_equal(pc_control_call(f.path, "stats", 2000, &out, err,
	    sizeof(err)), PC_CONTROL_OK);
	fake_stop(&f);
	assert_string_equal(f.got, "stats\n");
	assert_string_equal(out.buf, "line one\nline two\n\n");	/* as sent */

	dstr_clear(&out);
	fake_start(&f, "OK\n", 0);
	assert_int_equal(pc_control_call(f.path, "reload", 2000, &out, err,
	    sizeof(err)), PC_CONTROL_OK);
	fake_stop(&f);
	assert_int_equal(out.len, 0);

	fake_start(&f, "ERR x is not suspended\n", 0);
	assert_int_equal(pc_control_call(f.path, "resume x", 2000, &out, err,
	    sizeof(err)), PC_CONTROL_ERR);
	fake_stop(&f);
	assert_string_equal(err, "x is not suspended");

	assert_int_equal(pc_control_call("/tmp", "stats\nreset a", 200, &out,
	    err, sizeof(err)), PC_CONTROL_LOCAL);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(pc_control_call(longpath, "stats", 200, &out, err,
	    sizeof(err)), PC_CONTROL_LOCAL);
	assert_non_null(strstr(err, "path too long"));
	assert_int_equal(pc_control_call("/nonexistent/x.sock", "stats", 200,
	    &out, err, sizeof(err)), PC_CONTROL_UNREACHABLE);
	dstr_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_huge_reason),
		cmocka_unit_test(test_suspended),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_names_not_asked),
		cmocka_unit_test(test_control_call),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
