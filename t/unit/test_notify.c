/*
 * test_notify.c - what a NotifyCommand starts with, seen from outside:
 * no blocked or ignored signals although the milter blocks and ignores
 * some, /dev/null on 0-2 and no other descriptor although the milter
 * holds some without FD_CLOEXEC (one above 1024), a process group of its
 * own; and that the timeout kills that whole group, not only the shell.
 *
 * The command writes its shell's pid and then execs sleep, so the test
 * reads the state of the very process notify.c started through /proc.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <sys/wait.h>

#include "child.h"
#include "notify.h"
#include "util.h"

#define HIGH_FD 1500

static char dir[] = "/tmp/pc-test-notify-XXXXXX";

static void
pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The pids a command wrote to file (one a line), waiting up to 10 s. */
static int
read_pids(const char *file, pid_t pids[], int max)
{
	char path[PATH_MAX];
	long v;
	int i, n = 0;
	FILE *fp = NULL;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	for (i = 0; i < 100 && (fp = fopen(path, "r")) == NULL; i++)
		pause_ms(100);
	if (fp == NULL)
		return 0;
	while (n < max && fscanf(fp, "%ld", &v) == 1)
		pids[n++] = (pid_t)v;
	fclose(fp);
	return n;
}

/* A line of /proc/PID/status ("SigBlk:" ...), value only. */
static int
proc_status(pid_t pid, const char *key, char *out, size_t outlen)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	FILE *fp;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, key, klen) == 0) {
			pc_strlcpy(out, pc_str_trim(line + klen), outlen);
			found = 1;
		}
	fclose(fp);
	return found;
}

/* Gone, or a zombie nobody reaped yet (init in a container may not). */
static int
is_dead(pid_t pid)
{
	char state[64];

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return 1;
	return proc_status(pid, "State:", state, sizeof(state)) &&
	    state[0] == 'Z';
}

/* The milter's state, made by milter_like() and undone by restore(). */
static sigset_t old_mask;
static struct sigaction old_pipe, old_usr2;
static int low_fd = -1, high_fd = -1;
static pid_t started = -1;

/* Signals blocked and ignored as in the milter, loose descriptors. */
static int
milter_like(void **state)
{
	struct sigaction ign;
	struct rlimit rl;
	sigset_t block;

	(void)state;
	sigemptyset(&block);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGUSR1);
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	if (sigprocmask(SIG_BLOCK, &block, &old_mask) < 0 ||
	    sigaction(SIGPIPE, &ign, &old_pipe) < 0 ||
	    sigaction(SIGUSR2, &ign, &old_usr2) < 0)
		return -1;
	if ((low_fd = open("/dev/null", O_RDONLY)) < 3)	/* no O_CLOEXEC */
		return -1;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur <= HIGH_FD &&
	    rl.rlim_max > HIGH_FD) {
		rl.rlim_cur = HIGH_FD + 1;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((high_fd = dup2(low_fd, HIGH_FD)) < 0)
		print_message("no descriptor %d here (%s): not checked\n",
		    HIGH_FD, strerror(errno));
	return 0;
}

static int
restore(void **state)
{
	(void)state;
	if (started > 0)
		kill(-started, SIGKILL);
	started = -1;
	if (high_fd >= 0)
		close(high_fd);
	if (low_fd >= 0)
		close(low_fd);
	high_fd = low_fd = -1;
	sigaction(SIGPIPE, &old_pipe, NULL);
	sigaction(SIGUSR2, &old_usr2, NULL);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	return 0;
}

static void
test_clean_start(void **state)
{
	char cmd[512], path[PATH_MAX], target[PATH_MAX], value[64], comm[64];
	pid_t pid;
	int n, i, fds[8], nfds = 0;
	FILE *fp;

	(void)state;
	snprintf(cmd, sizeof(cmd), "echo $$ >%s/pid.tmp && mv %s/pid.tmp "
	    "%s/pid && exec sleep 30", dir, dir, dir);
	assert_int_equal(notify_run(cmd, "suspend", "a@x", "test", NULL), 0);
	assert_int_equal(read_pids("pid", &pid, 1), 1);
	started = pid;
	/* Wait for the exec, so what follows is sleep's state, not sh's. */
	for (i = 0; i < 100; i++) {
		snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
		comm[0] = '\0';
		if ((fp = fopen(path, "r")) != NULL) {
			if (fgets(comm, sizeof(comm), fp) == NULL)
				comm[0] = '\0';
			fclose(fp);
		}
		if (strcmp(comm, "sleep\n") == 0)
			break;
		pause_ms(50);
	}
	assert_string_equal(comm, "sleep\n");

	assert_true(proc_status(pid, "SigBlk:", value, sizeof(value)));
	assert_string_equal(value, "0000000000000000");
	assert_true(proc_status(pid, "SigIgn:", value, sizeof(value)));
	assert_string_equal(value, "0000000000000000");

	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "/proc/%ld/fd/%d", (long)pid, i);
		n = (int)readlink(path, target, sizeof(target) - 1);
		assert_true(n > 0);
		target[n] = '\0';
		assert_string_equal(target, "/dev/null");
	}
	/* Nothing else in /proc/PID/fd, up to and including HIGH_FD. */
	for (i = 3; i <= HIGH_FD; i++) {
		snprintf(path, sizeof(path), "/proc/%ld/fd/%d", (long)pid, i);
		if (access(path, F_OK) == 0 && nfds < (int)PC_ARRAY_LEN(fds))
			fds[nfds++] = i;
	}
	for (i = 0; i < nfds; i++)
		print_message("inherited descriptor %d\n", fds[i]);
	assert_int_equal(nfds, 0);

	assert_int_equal(getpgid(pid), pid);
	assert_true(getpgid(pid) != getpgrp());
}

/* Past the timeout the whole group goes, the shell's background job too. */
static void
test_timeout_kills_group(void **state)
{
	char cmd[512];
	pid_t pids[2];
	time_t start = time(NULL);
	int i;

	(void)state;
	snprintf(cmd, sizeof(cmd), "sleep 30 & echo $! >%s/group.tmp; "
	    "echo $$ >>%s/group.tmp; mv %s/group.tmp %s/group; sleep 30",
	    dir, dir, dir, dir);
	assert_int_equal(notify_run_within(1, cmd, "limit", "b@x", "test",
	    "192.0.2.1"), 0);
	assert_true(time(NULL) - start < 5);	/* it did not wait for it */
	assert_int_equal(read_pids("group", pids, 2), 2);
	for (i = 0; i < 150 && !(is_dead(pids[0]) && is_dead(pids[1])); i++)
		pause_ms(100);
	if (!is_dead(pids[0]) || !is_dead(pids[1])) {
		const char *job = is_dead(pids[0]) ? "dead" : "alive";
		const char *sh = is_dead(pids[1]) ? "dead" : "alive";

		kill(pids[0], SIGKILL);
		kill(pids[1], SIGKILL);
		fail_msg("background job %s, shell %s after the timeout",
		    job, sh);
	}
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/*
 * pc_child_exec() in a child whose descriptors 0-2 were closed, so that
 * the command's stdout is descriptor 0 and its stdin descriptor 1: each
 * must still land where it belongs ("hi" reaches the pipe).
 */
static void
test_child_low_descriptors(void **state)
{
	char buf[16] = "";
	int p[2], st = 0;
	ssize_t n;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct pc_child c;
		static char *envp[] = { NULL };
		int null;

		close(0);
		close(1);
		close(2);
		if (dup2(p[1], 0) != 0)
			_exit(90);
		if ((null = open("/dev/null", O_RDWR)) != 1)
			_exit(91);
		pc_child_prepare(&c, "echo hi", envp, 1, 0, 0);
		pc_child_exec(&c);
	}
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(n, 3);
	assert_string_equal(buf, "hi\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_clean_start, milter_like,
		    restore),
		cmocka_unit_test(test_timeout_kills_group),
		cmocka_unit_test(test_child_low_descriptors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
