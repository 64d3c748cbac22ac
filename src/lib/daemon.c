/*
 * daemon.c - detaching, pid files and dropping root, each step checked:
 * a daemon that believes it dropped privileges and did not is worse than
 * one that refuses to start.
 */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

static void
usage(FILE *fp, const char *prog, const char *default_conf)
{
	fprintf(fp, "usage: %s [-f] [-n] [-V] [-c FILE]\n"
	    "  -c FILE  configuration file (default %s)\n"
	    "  -f       stay in the foreground, log to stderr too\n"
	    "  -n       check the configuration and exit 0 (good) or 1\n"
	    "  -V       print the version and exit\n", prog, default_conf);
}

int
pc_daemon_options(int argc, char **argv, const char *prog,
    const char *default_conf, struct pc_daemon_opts *o)
{
	int ch;

	while ((ch = getopt(argc, argv, "c:fnVh")) != -1) {
		switch (ch) {
		case 'c': o->conf = optarg; break;
		case 'f': o->foreground = 1; break;
		case 'n': o->check = 1; break;
		case 'V':
			printf("%s %s\n", prog, PACKAGE_VERSION);
			return 0;
		case 'h': usage(stdout, prog, default_conf); return 0;
		default: usage(stderr, prog, default_conf); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr, prog, default_conf);
		return 2;
	}
	return -1;
}

int
pc_daemonize(char *err, size_t errlen)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return pc_err(err, errlen, "fork: %s", strerror(errno));
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return pc_err(err, errlen, "setsid: %s", strerror(errno));
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return 0;
}

int
pc_pidfile_write(const char *path, char *err, size_t errlen)
{
	char tmp[4096], buf[32];
	int fd, n;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return pc_err(err, errlen, "%s: path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return pc_err(err, errlen, "%s: %s", tmp, strerror(errno));
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n || close(fd) < 0) {
		unlink(tmp);
		return pc_err(err, errlen, "%s: write: %s", tmp, strerror(errno));
	}
	if (rename(tmp, path) < 0) {
		unlink(tmp);
		return pc_err(err, errlen, "%s: %s", path, strerror(errno));
	}
	return 0;
}

void
pc_pidfile_remove(const char *path)
{
	if (path != NULL)
		unlink(path);
}

int
pc_user_lookup(const char *user, unsigned *uid, unsigned *gid, char *err,
    size_t errlen)
{
	struct passwd *pw = getpwnam(user);

	if (pw == NULL)
		return pc_err(err, errlen, "User: no such user \"%s\"", user);
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

int
pc_drop_privileges(const char *user, char *err, size_t errlen)
{
	unsigned uid = 0, gid = 0;

	if (pc_user_lookup(user, &uid, &gid, err, errlen) < 0)
		return -1;
	if (getuid() != 0 && geteuid() != 0) {
		if (geteuid() == uid)
			return 0;
		return pc_err(err, errlen, "User %s: not running as root, "
		    "cannot switch", user);
	}
	if (initgroups(user, (gid_t)gid) < 0)
		return pc_err(err, errlen, "initgroups(%s): %s", user,
		    strerror(errno));
	if (setgid((gid_t)gid) < 0)
		return pc_err(err, errlen, "setgid(%u): %s", gid, strerror(errno));
	if (setuid((uid_t)uid) < 0)
		return pc_err(err, errlen, "setuid(%u): %s", uid, strerror(errno));
	if (uid != 0 && (setuid(0) == 0 || geteuid() == 0))
		return pc_err(err, errlen, "could regain root after dropping "
		    "to %s; refusing to run", user);
	return 0;
}
