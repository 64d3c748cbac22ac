/*
 * daemon.h - the chores every portcullis daemon does at start: read its
 * options, detach, write a pid file, drop privileges.
 */
#ifndef PC_DAEMON_H
#define PC_DAEMON_H

#include <stddef.h>

/* The options every portcullis daemon takes. */
struct pc_daemon_opts {
	const char *conf;	/* -c FILE; left alone without it */
	int foreground;		/* -f */
	int check;		/* -n: check the configuration and exit */
};

/*
 * Reads -c FILE, -f, -n, -V and -h from argv for program prog, whose
 * configuration file defaults to default_conf (for the usage text).
 * -1 to go on; else the exit status: 0 after -V or -h, 2 on a usage
 * error (the usage is printed).
 */
int pc_daemon_options(int argc, char **argv, const char *prog,
    const char *default_conf, struct pc_daemon_opts *o);

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
