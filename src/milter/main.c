/*
 * main.c - portcullis-milter: options, start-up and reload.  Signals
 * are handled in signals.c.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "daemon.h"
#include "log.h"
#include "mconf.h"
#include "milter.h"
#include "signals.h"
#include "state.h"
#include "util.h"


static const char *conf_path;
static char *pidfile;		/* as written at start; reload cannot move it */
static int foreground;

/* A missing default file means "embedded defaults"; a named one must exist. */
static struct mconf *
load(char *err, size_t errlen)
{
	if (conf_path == NULL) {
		if (access(MCONF_DEFAULT_PATH, F_OK) < 0 && errno == ENOENT)
			return mconf_load(NULL, err, errlen);
		return mconf_load(MCONF_DEFAULT_PATH, err, errlen);
	}
	return mconf_load(conf_path, err, errlen);
}

/* SIGUSR1 and `portcullisctl milter reload`; counters live elsewhere and stay. */
static int
reload_r(char *why, size_t whylen)
{
	struct mconf *old = mconf_acquire(), *c;
	char err[1024];
	int fac;

	c = load(why, whylen);
	if (c == NULL) {
		pc_log_err("reload failed, keeping the old configuration: %s", why);
		mconf_release(old);
		return -1;
	}
	if (strcmp(c->socket, old->socket) != 0)
		pc_log_warn("reload: Socket changed; it takes effect at restart");
	if ((c->user == NULL) != (old->user == NULL) ||
	    (c->user != NULL && strcmp(c->user, old->user) != 0))
		pc_log_warn("reload: User changed; it takes effect at restart");
	if (pc_log_set_jsonfile(c->logfile, err, sizeof(err)) < 0)
		pc_log_err("reload: LogFile: %s; keeping the old log file", err);
	if (strcmp(c->syslog_facility, old->syslog_facility) != 0 &&
	    pc_log_facility_parse(c->syslog_facility, &fac) == 0)
		pc_log_open("portcullis-milter", c->syslog_facility, foreground,
		    err, sizeof(err));
	mconf_release(old);
	mconf_install(c);
	pc_log_info("configuration reloaded from %s",
	    c->path != NULL ? c->path : "built-in defaults");
	return 0;
}

static void
reload(void)
{
	char err[1024];

	(void)reload_r(err, sizeof(err));
}

/* The path of a unix: or local: socket, NULL for inet. */
static const char *
unix_socket_path(const struct mconf *c)
{
	if (strncmp(c->socket, "unix:", 5) == 0)
		return c->socket + 5;
	if (strncmp(c->socket, "local:", 6) == 0)
		return c->socket + 6;
	return NULL;
}

/* The unix socket must be usable by the MTA once we are no longer root. */
static int
socket_owner(const struct mconf *c, char *err, size_t errlen)
{
	const char *path = unix_socket_path(c);
	unsigned uid = 0, gid = 0;

	if (c->user == NULL || path == NULL)
		return 0;
	if (pc_user_lookup(c->user, &uid, &gid, err, errlen) < 0)
		return -1;
	if (chown(path, (uid_t)uid, (gid_t)gid) < 0)
		return pc_err(err, errlen, "chown %s: %s", path, strerror(errno));
	return 0;
}

int
main(int argc, char **argv)
{
	struct pc_daemon_opts o = { NULL, 0, 0 };
	struct mconf *c;
	char err[1024];
	int rc;

	if ((rc = pc_daemon_options(argc, argv, "portcullis-milter",
	    MCONF_DEFAULT_PATH, &o)) >= 0)
		return rc;
	conf_path = o.conf;
	foreground = o.foreground;
	if ((c = load(err, sizeof(err))) == NULL) {
		fprintf(stderr, "portcullis-milter: %s\n", err);
		return 1;
	}
	if (o.check) {
		printf("%s: configuration OK\n",
		    c->path != NULL ? c->path : "built-in defaults");
		mconf_free(c);
		return 0;
	}
	if (pc_log_open("portcullis-milter", c->syslog_facility, foreground,
	    err, sizeof(err)) < 0 ||
	    pc_log_set_jsonfile(c->logfile, err, sizeof(err)) < 0) {
		fprintf(stderr, "portcullis-milter: %s\n", err);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	mconf_install(c);
	if (smfi_setconn(c->socket) != MI_SUCCESS ||
	    smfi_register(milter_desc) != MI_SUCCESS)
		pc_log_fatal("cannot set up the milter on %s", c->socket);
	if (smfi_opensocket(1) != MI_SUCCESS)
		pc_log_fatal("cannot open the milter socket %s (in use? "
		    "permissions?)", c->socket);
	if (socket_owner(c, err, sizeof(err)) < 0)
		pc_log_fatal("%s", err);
	if (control_services_start(c, reload_r, err, sizeof(err)) < 0)
		pc_log_fatal("%s", err);
	if (c->user != NULL) {
		unsigned uid, gid;

		if (pc_user_lookup(c->user, &uid, &gid, err, sizeof(err)) < 0 ||
		    control_chown(uid, gid, err, sizeof(err)) < 0)
			pc_log_fatal("%s", err);
	}
	if (!foreground && pc_daemonize(err, sizeof(err)) < 0)
		pc_log_fatal("%s", err);
	if (c->pidfile != NULL) {
		if (pc_pidfile_write(c->pidfile, err, sizeof(err)) < 0)
			pc_log_fatal("PidFile: %s", err);
		pidfile = xstrdup(c->pidfile);
	}
	if (c->user != NULL && pc_drop_privileges(c->user, err, sizeof(err)) < 0)
		pc_log_fatal("%s", err);

	if (signals_start(reload, unix_socket_path(c)) < 0)
		pc_log_fatal("cannot start the signal thread");
	if (control_services_run(err, sizeof(err)) < 0)
		pc_log_fatal("%s", err);

	pc_log_info("starting on %s (configuration %s)", c->socket,
	    c->path != NULL ? c->path : "built-in defaults");
	rc = smfi_main();
	state_save_live();	/* after the drain: every charge is in */
	control_stop();
	pc_log_info("stopped");
	pc_pidfile_remove(pidfile);
	free(pidfile);
	return rc == MI_SUCCESS ? 0 : 1;
}
