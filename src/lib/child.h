/*
 * child.h - what the child of a threaded daemon does between fork() and
 * execve() when it runs an administrator's command (ApplyCommand,
 * NotifyCommand): a process group of its own, every signal back to its
 * default action and none blocked, the given descriptors on 0-2 and
 * nothing above them.
 *
 * Another thread may hold malloc's or stdio's lock at the moment of
 * fork(), so everything the child needs is prepared before fork()
 * (pc_child_prepare) and the child makes only system calls.
 */
#ifndef PC_CHILD_H
#define PC_CHILD_H

#include "util.h"

struct pc_child {
	char *argv[4];		/* /bin/sh -c COMMAND */
	char **envp;
	int fd[3];		/* become descriptors 0, 1 and 2 */
	long fd_max;		/* the last resort's bound for closing */
};

/*
 * Fills c for "/bin/sh -c command" with environment envp (kept, not
 * copied) and in, out, errfd as the command's 0, 1 and 2.  Not
 * async-signal-safe: call it before fork().
 */
void pc_child_prepare(struct pc_child *c, const char *command, char **envp,
    int in, int out, int errfd);

/* Every signal to SIG_DFL, none blocked (async-signal-safe). */
void pc_child_reset_signals(void);

/*
 * In the child: its own process group, pc_child_reset_signals(), the
 * descriptors, every other descriptor closed, then execve(); _exit(127)
 * if that fails.  Async-signal-safe.
 */
PC_NORETURN void pc_child_exec(const struct pc_child *c);

#endif
