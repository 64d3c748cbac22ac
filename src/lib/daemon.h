/*
 * daemon.h - the chores every portcullis daemon does at start: detach,
 * write a pid file, drop privileges.
 */
#ifndef PC_DAEMON_H
#define PC_DAEMON_H

#include <stddef.h>

/* Forks; the parent exits 0, the child returns in a new session. */
int pc_daemonize(char *err, size_t errlen);
int pc_pidfile_write(const char *path, char *err, size_t errlen);
void pc_pidfile_remove(const char *path);
/* Resolves user (name or uid) to uid/gid; -1 with err if unknown. */
int pc_user_lookup(const char *user, unsigned *uid, unsigned *gid,
    char *err, size_t errlen);
/* initgroups, setgid, setuid, then checks root cannot be regained. */
int pc_drop_privileges(const char *user, char *err, size_t errlen);

#endif
