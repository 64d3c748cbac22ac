/*
 * child.c - the child side of running a command from a threaded daemon;
 * see child.h.  Only system calls after fork(): no stdio, no malloc, no
 * opendir().
 */
#include "child.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The last resort's bound when even /proc cannot list the descriptors. */
#define CHILD_FD_SCAN_MAX 1048576L

#if defined(__GLIBC__)
#if __GLIBC_PREREQ(2, 34)
#define HAVE_CLOSE_RANGE 1
#endif
#endif

void
pc_child_prepare(struct pc_child *c, const char *command, char **envp,
    int in, int out, int errfd)
{
	c->argv[0] = (char *)"/bin/sh";
	c->argv[1] = (char *)"-c";
	c->argv[2] = (char *)command;
	c->argv[3] = NULL;
	c->envp = envp;
	c->fd[0] = in;
	c->fd[1] = out;
	c->fd[2] = errfd;
	c->fd_max = sysconf(_SC_OPEN_MAX);
	if (c->fd_max < 0 || c->fd_max > CHILD_FD_SCAN_MAX)
		c->fd_max = CHILD_FD_SCAN_MAX;
}

/*
 * glibc keeps two real-time signals for itself and its sigaction()
 * refuses them, yet one inherited as ignored would stay ignored across
 * execve().  The kernel reads an all-zero sigaction as SIG_DFL with no
 * flags and an empty mask, whatever the architecture's layout.
 */
static void
default_action_raw(int sig)
{
#ifdef SYS_rt_sigaction
	unsigned long zero[8] = { 0 };

	syscall(SYS_rt_sigaction, sig, zero, NULL, (size_t)(NSIG - 1) / 8);
#else
	(void)sig;
#endif
}

void
pc_child_reset_signals(void)
{
	struct sigaction dfl;
	sigset_t none;
	int sig;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		if (sigaction(sig, &dfl, NULL) < 0 && sig != SIGKILL &&
		    sig != SIGSTOP)
			default_action_raw(sig);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* The descriptor a /proc/self/fd entry names, or -1 for "." and "..". */
static int
fd_number(const char *name)
{
	int fd = 0;

	if (*name == '\0')
		return -1;
	for (; *name != '\0'; name++) {
		if (*name < '0' || *name > '9' || fd > 100000000)
			return -1;
		fd = fd * 10 + (*name - '0');
	}
	return fd;
}

/*
 * Closes what /proc/self/fd lists above 2, reading the directory with
 * getdents64 (opendir() would allocate).  Passes repeat until one finds
 * nothing to close, since closing while reading may skip entries.
 */
static int
close_listed(void)
{
#ifdef SYS_getdents64
	long buf[512];
	char *p = (char *)buf;
	unsigned short reclen;
	long n, off;
	int dfd, fd, closed;

	if ((dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	do {
		closed = 0;
		if (lseek(dfd, 0, SEEK_SET) < 0)
			break;
		while ((n = syscall(SYS_getdents64, dfd, p, sizeof(buf))) > 0) {
			for (off = 0; off < n; off += reclen) {
				memcpy(&reclen, p + off +
				    offsetof(struct dirent64, d_reclen),
				    sizeof(reclen));
				if (reclen == 0)
					break;
				fd = fd_number(p + off +
				    offsetof(struct dirent64, d_name));
				if (fd > 2 && fd != dfd) {
					close(fd);
					closed = 1;
				}
			}
		}
		if (n < 0) {
			close(dfd);
			return -1;
		}
	} while (closed);
	close(dfd);
	return 0;
#else
	return -1;
#endif
}

/*
 * Closes every descriptor above 2: close_range() (Linux 5.9), else what
 * /proc lists, else each number up to fd_max.
 */
static void
close_above_stdio(long fd_max)
{
	long fd;

#if defined(HAVE_CLOSE_RANGE)
	if (close_range(3, ~0U, 0) == 0)
		return;
#elif defined(SYS_close_range)
	if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0)
		return;
#endif
	if (close_listed() == 0)
		return;
	for (fd = 3; fd < fd_max; fd++)
		close((int)fd);
}

void
pc_child_exec(const struct pc_child *c)
{
	int fd, from[3];

	setpgid(0, 0);
	pc_child_reset_signals();
	/*
	 * A descriptor that is itself 0, 1 or 2 (a daemon started with them
	 * closed) moves out of the way first, so no dup2() below overwrites
	 * one that a later one still needs.  dup2() clears close-on-exec;
	 * the copies above 2 are closed with the rest.
	 */
	for (fd = 0; fd <= 2; fd++)
		from[fd] = c->fd[fd] <= 2 ? fcntl(c->fd[fd], F_DUPFD, 3) :
		    c->fd[fd];
	for (fd = 0; fd <= 2; fd++)
		dup2(from[fd], fd);
	close_above_stdio(c->fd_max);
	execve(c->argv[0], c->argv, c->envp);
	_exit(127);
}
