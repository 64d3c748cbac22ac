/*
 * spawn.c - an administrator's command with a deadline; see spawn.h.
 *
 * Two things a naive fork/exec gets wrong here.  The child of a threaded
 * process may only call async-signal-safe functions until it execs, so
 * no setenv() (it may take a lock another thread held at fork time): the
 * environment array is made before fork().  And /bin/sh -c starts
 * children of its own (a pipeline, a `sleep &`): killing the shell alone
 * would leave them running, so the child leads a process group and the
 * whole group is killed at the deadline, also when the command closed
 * its output early (EOF long before it ends).  A command that finishes
 * in time may leave a background job of its own running: that is its
 * business, as with any shell.
 */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "util.h"

extern char **environ;

/* 1 if "NAME=..." entry e sets a variable that one of extra sets. */
static int
overridden(const char *e, const char *const *extra)
{
	const char *eq = strchr(e, '=');
	size_t n = eq != NULL ? (size_t)(eq - e) : strlen(e);

	for (; *extra != NULL; extra++)
		if (strncmp(*extra, e, n) == 0 && (*extra)[n] == '=')
			return 1;
	return 0;
}

/* extra_env, then the inherited environment it does not override. */
static char **
make_env(const char *const *extra)
{
	size_t n_env = 0, n_extra = 0, i, k = 0;
	char **envp;

	while (environ != NULL && environ[n_env] != NULL)
		n_env++;
	while (extra[n_extra] != NULL)
		n_extra++;
	envp = xcalloc(n_env + n_extra + 1, sizeof(*envp));
	for (i = 0; i < n_extra; i++)
		envp[k++] = (char *)extra[i];
	for (i = 0; i < n_env; i++)
		if (!overridden(environ[i], extra))
			envp[k++] = environ[i];
	envp[k] = NULL;
	return envp;
}

/* The command's output, one printable line, for err. */
static void
show_output(char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] >= 0x7f)
			buf[i] = ' ';
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
}

/*
 * Waits until pid has exited or deadline has passed: on a pidfd (Linux
 * 5.3) that poll() reports readable at the exit, else by polling
 * waitpid() at growing intervals (1 ms up to 20 ms), so a command that
 * ends at once is reaped at once either way.
 */
/* A pidfd for pid (readable once it exits), or -1 without one. */
static int
open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	return -1;
#endif
}

static void
wait_exit(pid_t pid, int pfd, long long deadline)
{
	long long left;
	long step_ms = 1;

	while ((left = deadline - pc_now_ms()) > 0) {
		if (pfd >= 0) {
			struct pollfd pf = { .fd = pfd, .events = POLLIN };
			int r = poll(&pf, 1, left > 1000 ? 1000 : (int)left);

			if (r > 0 || (r < 0 && errno != EINTR))
				break;
			continue;
		}
		{
			siginfo_t si;

			si.si_pid = 0;	/* waitid() leaves it so while it runs */
			if (waitid(P_PID, (id_t)pid, &si,
			    WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid != 0)
				break;	/* exited, or nothing to wait for */
		}
		{
			struct timespec t = { 0, step_ms * 1000 * 1000 };

			nanosleep(&t, NULL);
		}
		if (step_ms < 20)
			step_ms *= 2;
	}
}

/* Reaps pid, killing its group at deadline: 1 if it had to, -1 if lost. */
static int
reap_by(pid_t pid, int pfd, long long deadline, int *status)
{
	pid_t w;

	wait_exit(pid, pfd, deadline);
	while ((w = waitpid(pid, status, WNOHANG)) < 0 && errno == EINTR)
		;
	if (w == pid)
		return 0;
	if (w < 0)
		return -1;	/* SIGCHLD ignored, say: nothing to wait for */
	kill(-pid, SIGKILL);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	return 1;
}

int
spawn_run(const char *what, const char *cmd, unsigned timeout_ms,
    const char *const *extra_env, char *err, size_t errlen)
{
	struct pc_child child;
	char out[1024];
	size_t got = 0;
	char **envp;
	int pfd[2], devnull, status = 0, timed_out = 0, pidfd, exited = 0;
	long long deadline;
	pid_t pid;

	envp = make_env(extra_env);
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0 || pipe2(pfd, O_CLOEXEC) < 0) {
		int e = errno;

		if (devnull >= 0)
			close(devnull);
		free(envp);
		return pc_err(err, errlen, "%s: %s", what, strerror(e));
	}
	pc_child_prepare(&child, cmd, envp, devnull, pfd[1], pfd[1]);
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(devnull);
		close(pfd[0]);
		close(pfd[1]);
		free(envp);
		return pc_err(err, errlen, "%s: fork: %s", what, strerror(e));
	}
	if (pid == 0)
		pc_child_exec(&child);
	setpgid(pid, pid);	/* also here: no window before the child's */
	pidfd = open_pidfd(pid);
	close(devnull);
	close(pfd[1]);
	free(envp);

	deadline = pc_now_ms() + (long long)timeout_ms;
	/*
	 * Output until EOF, or until the shell has exited: a job it left in
	 * the background may hold the pipe open for as long as it likes.
	 * After the exit, only what is already in the pipe is taken.
	 */
	for (;;) {
		struct pollfd pf[2] = {
			{ .fd = pfd[0], .events = POLLIN },
			{ .fd = pidfd, .events = POLLIN },
		};
		long long left = deadline - pc_now_ms();
		char buf[4096];
		ssize_t r;
		int pr;

		if (left <= 0)
			break;
		pr = poll(pf, pidfd >= 0 ? 2 : 1,
		    exited ? 0 : left > 1000 ? 1000 : (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr > 0 && pidfd >= 0 && (pf[1].revents & POLLIN))
			exited = 1;
		if (!(pf[0].revents & (POLLIN | POLLHUP))) {
			if (exited)
				break;	/* gone, and nothing more to read */
			continue;
		}
		r = read(pfd[0], buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;	/* EOF: the command may still run; see below */
		if (got < sizeof(out) - 1) {
			size_t take = (size_t)r;

			if (take > sizeof(out) - 1 - got)
				take = sizeof(out) - 1 - got;
			memcpy(out + got, buf, take);
			got += take;
		}
	}
	close(pfd[0]);
	timed_out = reap_by(pid, pidfd, deadline, &status);
	if (pidfd >= 0)
		close(pidfd);
	if (timed_out < 0) {
		show_output(out, got);
		return pc_err(err, errlen, "%s: cannot collect its exit status "
		    "(%s): %s", what, strerror(errno), out);
	}
	show_output(out, got);
	if (timed_out)
		return pc_err(err, errlen, "%s timed out after %u ms; its "
		    "process group was killed: %s", what, timeout_ms, out);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		return pc_err(err, errlen, "%s failed (exit status %d): %s",
		    what, WEXITSTATUS(status), out);
	if (WIFSIGNALED(status))
		return pc_err(err, errlen, "%s killed by signal %d: %s", what,
		    WTERMSIG(status), out);
	return pc_err(err, errlen, "%s ended oddly (status %d): %s", what,
	    status, out);
}
