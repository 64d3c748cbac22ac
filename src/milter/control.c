/*
 * control.c - ControlSocket: the local unix socket portcullisctl talks to.
 *
 * Protocol: the client sends one line, "COMMAND [ARGUMENT [TEXT...]]";
 * the milter answers with zero or more lines of output and a last line
 * "OK" or "ERR reason", then closes.  Commands: stats, reload,
 * usage ACCOUNT, reset ACCOUNT, suspend ACCOUNT [REASON], resume ACCOUNT.
 * The socket is created mode 0600 (root, or the User the milter runs
 * as): whoever can write to it controls the limits.  One client at a
 * time, with a 5-second timeout, on a thread of its own.
 *
 * With RateLimitBackend redis the commands act on the shared state, so
 * a reset or resume on one node holds on all.  When Redis does not
 * answer, reset/suspend/resume still act on this node and then answer
 * ERR saying so (the administrator should try again); usage shows this
 * node's own counters and says that it does.
 */
#include "control.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "rlconf.h"
#include "log.h"
#include "server.h"
#include "mconf.h"
#include "metrics.h"
#include "ratelimit.h"
#include "rlredis.h"
#include "rlstore.h"
#include "sender.h"
#include "state.h"
#include "suspend.h"
#include "util.h"

#define CONTROL_LINE_MAX 1024

static int listen_fd = -1;
static char *sock_path;
static int (*reload_fn)(char *err, size_t errlen);

static void
log_admin(const char *action, const char *account, const char *reason)
{
	/* Every origin field, so log readers see one shape; no client here. */
	const struct pc_logfield f[] = {
		{ "event", "suspend", 1 }, { "qid", "", 1 },
		{ "account", account, 0 }, { "auth_type", "", 1 },
		{ "ip", "", 1 }, { "port", "", 1 }, { "ptr", "", 1 },
		{ "helo", "", 1 }, { "daemon", "portcullisctl", 1 },
		{ "tls", "none", 1 }, { "cipher", "", 1 }, { "from", "", 1 },
		{ "header_from", "", 1 }, { "rcpts", "0", 1 }, { "size", "0", 1 },
		{ "msgid", "", 1 }, { "action", action, 1 },
		{ "reason", reason, 0 },
	};

	pc_log_event(f, PC_ARRAY_LEN(f));
}

static void
usage(struct mconf *c, const char *account, struct dstr *out)
{
	struct acct_limits al;
	char reason[256], lim[64], when[64];
	time_t since;
	int k;

	limits_for(c, account, &al);
	dstr_appendf(out, "account %s\n", account);
	if (suspend_info(account, reason, sizeof(reason), &since)) {
		struct tm tm;

		gmtime_r(&since, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		dstr_appendf(out, "suspended yes since=%s reason=\"%s\"\n", when,
		    reason);
	} else if (suspend_is(account)) {
		dstr_puts(out, "suspended yes\n");
	} else {
		dstr_puts(out, "suspended no\n");
	}
	for (k = 0; k < RL_NLIMITS; k++) {
		struct rl_usage u;

		if (al.unlimited || al.l[k].count == 0) {
			dstr_appendf(out, "%s used=0 limit=unlimited\n",
			    rl_kind_names[k]);
			continue;
		}
		rlstore_usage(c, account, (enum rl_kind)k, &al.l[k], &u);
		pc_rate_format(&al.rate[k], lim, sizeof(lim));
		dstr_appendf(out, "%s used=%" PRIu64 " limit=%s refill_in=%" PRIu64
		    "s\n", rl_kind_names[k], u.used, lim,
		    (uint64_t)((u.refill_ns + RL_NS - 1) / RL_NS));
	}
	if (c->rl != NULL && c->rl->redis != NULL && rlredis_failed())
		dstr_appendf(out, "backend %s unreachable; this node's own "
		    "counters shown\n", rlstore_name(c));
	else
		dstr_appendf(out, "backend %s\n", rlstore_name(c));
}

/* 1 (and ERR in out) when the shared backend missed this change. */
static int
only_here(const struct mconf *c, const char *what, struct dstr *out)
{
	if (c->rl == NULL || c->rl->redis == NULL || !rlredis_failed())
		return 0;
	dstr_appendf(out, "ERR %s done on this node only: RateLimitBackend %s "
	    "does not answer; try again when it does\n", what,
	    rlstore_name(c));
	return 1;
}

/* Runs one command line; the answer (ending in OK or ERR) goes to out. */
void
control_command(char *line, struct dstr *out)
{
	struct mconf *c = mconf_acquire();
	char *cmd, *arg = NULL, *rest = NULL, account[ACCOUNT_MAX], err[1024];

	line[strcspn(line, "\r\n")] = '\0';
	cmd = strtok_r(line, " ", &rest);
	if (cmd != NULL)
		arg = strtok_r(NULL, " ", &rest);
	if (rest != NULL)
		rest = pc_str_trim(rest);
	account[0] = '\0';
	rlredis_clear_failed();
	if (c == NULL) {
		dstr_puts(out, "ERR no configuration loaded\n");
		return;
	}
	if (arg != NULL && sender_account(c, arg, account, sizeof(account)) < 0) {
		dstr_puts(out, "ERR unusable account name\n");
		goto done;
	}
	if (cmd == NULL) {
		dstr_puts(out, "ERR empty command\n");
	} else if (strcmp(cmd, "stats") == 0) {
		metrics_render(out);
		dstr_puts(out, "OK\n");
	} else if (strcmp(cmd, "reload") == 0) {
		if (reload_fn == NULL || reload_fn(err, sizeof(err)) < 0)
			dstr_appendf(out, "ERR reload failed, old configuration "
			    "kept: %s\n", reload_fn == NULL ? "no reload" : err);
		else
			dstr_puts(out, "OK\n");
	} else if (account[0] == '\0') {
		dstr_appendf(out, "ERR %s needs an account\n", cmd);
	} else if (strcmp(cmd, "usage") == 0) {
		usage(c, account, out);
		dstr_puts(out, "OK\n");
	} else if (strcmp(cmd, "reset") == 0) {
		rlstore_reset(c, account);
		pc_log_info("control: counters of %s reset", account);
		if (!only_here(c, "reset", out))
			dstr_puts(out, "OK\n");
	} else if (strcmp(cmd, "suspend") == 0) {
		const char *why = rest != NULL && *rest != '\0' ? rest :
		    "suspended by the administrator";

		if (suspend_account(c, account, why, time(NULL))) {
			log_admin("suspend", account, why);
			state_save_live();
			if (!only_here(c, "suspend", out))
				dstr_puts(out, "OK\n");
		} else {
			dstr_appendf(out, "ERR %s is already suspended\n", account);
		}
	} else if (strcmp(cmd, "resume") == 0) {
		if (suspend_resume(account)) {
			/* A fresh start: old hits would suspend it again at once. */
			rlstore_reset(c, account);
			rlstore_forget_addresses(c, account);
			log_admin("resume", account, "resumed by the administrator");
			state_save_live();
			if (!only_here(c, "resume", out))
				dstr_puts(out, "OK\n");
		} else {
			dstr_appendf(out, "ERR %s is not suspended\n", account);
		}
	} else {
		dstr_puts(out, "ERR unknown command\n");
	}
done:
	mconf_release(c);
}

static void
serve_one(int fd)
{
	char line[CONTROL_LINE_MAX];
	size_t have = 0;
	ssize_t r;
	struct dstr out;

	while (have < sizeof(line) - 1 &&
	    (r = read(fd, line + have, sizeof(line) - 1 - have)) > 0) {
		have += (size_t)r;
		line[have] = '\0';
		if (memchr(line, '\n', have) != NULL)
			break;
	}
	line[have] = '\0';
	dstr_init(&out);
	if (memchr(line, '\n', have) == NULL)
		dstr_puts(&out, "ERR no complete command line\n");
	else
		control_command(line, &out);
	(void)pc_write_all(fd, out.buf, out.len);
	dstr_free(&out);
}

int
control_start(const char *path, int (*reload)(char *, size_t), char *err,
    size_t errlen)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd;

	reload_fn = reload;
	if (path == NULL || listen_fd >= 0)
		return 0;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return pc_err(err, errlen, "ControlSocket: path too long: %s",
		    path);
	pc_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return pc_err(err, errlen, "ControlSocket: socket: %s",
		    strerror(errno));
	unlink(path);		/* a stale socket of an earlier run */
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		umask(old);
		pc_err(err, errlen, "ControlSocket %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	if (chmod(path, 0600) < 0 || listen(fd, 8) < 0) {
		pc_err(err, errlen, "ControlSocket %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	listen_fd = fd;
	sock_path = xstrdup(path);
	return 0;
}

int
control_chown(unsigned uid, unsigned gid, char *err, size_t errlen)
{
	if (sock_path != NULL && chown(sock_path, (uid_t)uid, (gid_t)gid) < 0)
		return pc_err(err, errlen, "chown %s: %s", sock_path,
		    strerror(errno));
	return 0;
}

void
control_stop(void)
{
	if (sock_path != NULL)
		unlink(sock_path);
}

static int with_state;

/* 1 when path is the built-in default and its directory is missing. */
static int
default_without_dir(const char *path, const char *dflt)
{
	char *dir, *slash;
	struct stat st;
	int missing;

	if (strcmp(path, dflt) != 0)
		return 0;
	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	missing = stat(dir, &st) < 0;
	free(dir);
	return missing;
}

int
control_services_start(const struct mconf *c,
    int (*reload)(char *err, size_t errlen), char *err, size_t errlen)
{
	const struct rl_conf *r = c->rl;
	const char *state = r->state_file, *sock = r->control_socket;

	if (state != NULL && default_without_dir(state, LIMITS_STATE_DEFAULT)) {
		pc_log_warn("StateFile %s: its directory does not exist; "
		    "counters and suspensions will not survive a restart", state);
		state = NULL;
	}
	if (state != NULL) {
		if (state_load(state, err, errlen) < 0)
			return -1;
		with_state = 1;
	}
	state_set_active(state);
	if (sock != NULL && default_without_dir(sock, LIMITS_CONTROL_DEFAULT)) {
		pc_log_warn("ControlSocket %s: its directory does not exist; "
		    "portcullisctl milter will not reach this milter", sock);
		sock = NULL;
	}
	if (control_start(sock, reload, err, errlen) < 0)
		return -1;
	return metrics_start(r->metrics_listen, err, errlen);
}

int
control_services_run(char *err, size_t errlen)
{
	struct mconf *c = mconf_acquire();

	/* After daemonizing: whether the shared backend answers, in the log. */
	rlstore_probe(c);
	mconf_release(c);
	if (listen_fd >= 0 && pc_serve_start(listen_fd, 5, serve_one) < 0)
		return pc_err(err, errlen, "ControlSocket: cannot start a thread");
	if (with_state && state_start_timer(STATE_SAVE_INTERVAL) < 0)
		return pc_err(err, errlen, "cannot start the StateFile timer");
	return metrics_run(err, errlen);
}
