/*
 * spawn.h - running an administrator's command (ApplyCommand, the delta
 * command, NotifyCommand) from a threaded daemon: /bin/sh -c CMD in a
 * process group of its own, stdin from /dev/null, stdout and stderr
 * captured (the first KiB, for the log), extra environment entries added,
 * and one deadline for the whole run, after which the group is killed.
 *
 * The environment is built before fork() and the child is
 * pc_child_exec() (child.h: default signals, nothing inherited above
 * descriptor 2), so any thread may call this.  The caller must not
 * ignore SIGCHLD.
 */
#ifndef PC_SPAWN_H
#define PC_SPAWN_H

#include <stddef.h>

/*
 * Runs cmd; extra_env is a NULL-terminated list of "NAME=value" that
 * replace variables of the same name.  0 when it exited with status 0
 * within timeout_ms; else -1 with err saying how it failed ("timed out",
 * exit status or signal) and what it printed.  what names the command in
 * err ("ApplyCommand").
 */
int spawn_run(const char *what, const char *cmd, unsigned timeout_ms,
    const char *const *extra_env, char *err, size_t errlen);

#endif
