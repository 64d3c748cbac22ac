/*
 * notify.c - runs NotifyCommand detached from the milter's threads.
 *
 * Three processes.  The milter forks a child that forks again and exits
 * at once, so the milter reaps it straight away and the grandchild, the
 * watchdog, is inherited by init.  The watchdog forks the command into a
 * process group of its own, waits for it and, when it overruns
 * NOTIFY_TIMEOUT, kills that whole group: /bin/sh and whatever it
 * started.
 *
 * In a threaded process another thread may hold malloc's or stdio's lock
 * at the moment of fork(), so after fork() only async-signal-safe calls
 * are made: argv, the environment, /dev/null and the bound of the
 * descriptor loop are all prepared before, and the children only make
 * system calls.  The milter's signal state is not the command's: its
 * threads block the signals libmilter waits for and it ignores SIGPIPE,
 * and both would otherwise survive execve().
 */
#include "notify.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "log.h"
#include "util.h"

#define NOTIFY_VALUE_MAX 512

/* What the children need, made before fork(). */
struct spawn {
	struct pc_child child;
	char *envp[8];
	unsigned timeout;
};

/* NAME=value with value made printable ASCII and capped. */
static char *
env_pair(const char *name, const char *value)
{
	struct dstr d;
	size_t i;

	dstr_init(&d);
	dstr_puts(&d, name);
	dstr_putc(&d, '=');
	for (i = 0; value[i] != '\0' && i < NOTIFY_VALUE_MAX; i++) {
		unsigned char c = (unsigned char)value[i];

		dstr_putc(&d, c < 0x20 || c > 0x7e ? '?' : (char)c);
	}
	return dstr_steal(&d);
}

/* The watchdog's view of the command, for its SIGALRM handler. */
static volatile sig_atomic_t watched_group, overran;

/* SIGTERM to the group at the timeout, SIGKILL a grace period later. */
static void
on_alarm(int sig)
{
	(void)sig;
	if (!overran) {
		overran = 1;
		kill(-(pid_t)watched_group, SIGTERM);
		alarm(NOTIFY_KILL_GRACE);
	} else {
		kill(-(pid_t)watched_group, SIGKILL);
	}
}

/* The watchdog: starts the command and outlives it by no more than needed. */
static PC_NORETURN void
watch(const struct spawn *s)
{
	struct sigaction sa;
	pid_t pid;
	int status;

	setsid();		/* away from the milter's terminal and group */
	pc_child_reset_signals();	/* before SIGALRM is set up below */
	if ((pid = fork()) < 0)
		_exit(1);
	if (pid == 0)
		pc_child_exec(&s->child);
	/* As the command does: whichever of the two runs first. */
	setpgid(pid, pid);
	watched_group = pid;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm(s->timeout);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	alarm(0);
	if (overran)
		kill(-pid, SIGKILL);	/* what the shell left behind */
	_exit(0);
}

int
notify_run_within(unsigned timeout, const char *command, const char *event,
    const char *account, const char *reason, const char *ip)
{
	struct spawn s;
	size_t n = 0, i;
	pid_t pid;
	int status = 0, rc = 0, devnull;

	if (command == NULL)
		return 0;
	s.envp[n++] = xstrdup("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:"
	    "/usr/bin:/sbin:/bin");
	s.envp[n++] = env_pair("PORTCULLIS_EVENT", event);
	if (account != NULL)
		s.envp[n++] = env_pair("PORTCULLIS_ACCOUNT", account);
	if (reason != NULL)
		s.envp[n++] = env_pair("PORTCULLIS_REASON", reason);
	if (ip != NULL && ip[0] != '\0')
		s.envp[n++] = env_pair("PORTCULLIS_IP", ip);
	s.envp[n] = NULL;
	s.timeout = timeout;
	if ((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
		pc_log_err("NotifyCommand: /dev/null: %s", strerror(errno));
		rc = -1;
		goto out;
	}
	pc_child_prepare(&s.child, command, s.envp, devnull, devnull, devnull);

	pid = fork();
	if (pid == 0) {
		pid_t w = fork();

		if (w < 0)
			_exit(1);
		if (w > 0)
			_exit(0);
		watch(&s);
	}
	if (pid < 0) {
		pc_log_err("NotifyCommand: fork: %s", strerror(errno));
		rc = -1;
	} else {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
			pc_log_err("NotifyCommand: fork failed in the child");
			rc = -1;
		}
	}
	close(devnull);
out:
	for (i = 0; i < n; i++)
		free(s.envp[i]);
	return rc;
}

int
notify_run(const char *command, const char *event, const char *account,
    const char *reason, const char *ip)
{
	return notify_run_within(NOTIFY_TIMEOUT, command, event, account,
	    reason, ip);
}
