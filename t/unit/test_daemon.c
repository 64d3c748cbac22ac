/*
 * test_daemon.c - pc_daemon_options(), the options portcullis-milter and
 * portcullisd share, and the pid file helpers of src/lib/daemon.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"

/* Runs the parser on a NULL-terminated list, as a fresh program would. */
static int
parse(struct pc_daemon_opts *o, char **args)
{
	int argc = 0;

	while (args[argc] != NULL)
		argc++;
	optind = 0;	/* glibc: start over, forgetting earlier calls */
	return pc_daemon_options(argc, args, "prog", "/etc/prog.conf", o);
}

static void
test_options(void **state)
{
	struct pc_daemon_opts o;
	char *none[] = { "prog", NULL };
	char *all[] = { "prog", "-f", "-n", "-c", "/tmp/x.conf", NULL };
	char *version[] = { "prog", "-V", NULL };
	char *help[] = { "prog", "-h", NULL };
	char *bad[] = { "prog", "-x", NULL };
	char *stray[] = { "prog", "-f", "extra", NULL };
	char *noarg[] = { "prog", "-c", NULL };

	(void)state;
	/* Nothing given: go on, with the caller's defaults untouched. */
	o.conf = "default";
	o.foreground = o.check = 0;
	assert_int_equal(parse(&o, none), -1);
	assert_string_equal(o.conf, "default");
	assert_int_equal(o.foreground, 0);
	assert_int_equal(o.check, 0);

	assert_int_equal(parse(&o, all), -1);
	assert_string_equal(o.conf, "/tmp/x.conf");
	assert_int_equal(o.foreground, 1);
	assert_int_equal(o.check, 1);

	/* -V and -h end the program with 0; usage errors with 2. */
	assert_int_equal(parse(&o, version), 0);
	assert_int_equal(parse(&o, help), 0);
	assert_int_equal(parse(&o, bad), 2);
	assert_int_equal(parse(&o, stray), 2);
	assert_int_equal(parse(&o, noarg), 2);
}

static void
test_pidfile(void **state)
{
	char dir[] = "/tmp/pc-test-daemon.XXXXXX", path[64], buf[32], err[256];
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/x.pid", dir);
	assert_int_equal(pc_pidfile_write(path, err, sizeof(err)), 0);
	assert_non_null(fp = fopen(path, "r"));
	assert_non_null(fgets(buf, sizeof(buf), fp));
	fclose(fp);
	assert_int_equal(atol(buf), (long)getpid());
	pc_pidfile_remove(path);
	assert_int_equal(access(path, F_OK), -1);
	/* A directory that is not there: an error that names the file. */
	snprintf(path, sizeof(path), "%s/no/x.pid", dir);
	assert_int_equal(pc_pidfile_write(path, err, sizeof(err)) < 0, 1);
	assert_non_null(strstr(err, path));
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_pidfile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
