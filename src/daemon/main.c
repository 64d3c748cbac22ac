/*
 * main.c - portcullisd: options, start-up, reload, and the scheduler.
 *
 * The daemon is one thread and a small table of periodic jobs.  Every
 * second it expires entries whose lifetime is over and looks at the
 * registry's change counter; when the counter moved (portcullisctl
 * changed something, or an entry expired) it renders the rules and, if
 * the text differs from what was last applied, applies them.  A failed
 * apply is retried when the registry changes again or after
 * APPLY_RETRY_SECONDS, so a broken ApplyCommand does not flood the log.
 * The registration issue's revalidation plugs in as one more job.
 *
 * Signals only set flags; the loop acts on them between jobs, so a
 * reload never lands in the middle of a transaction.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "checks_revalidate.h"
#include "dconf.h"
#include "http.h"
#include "log.h"
#include "registry.h"
#include "ruleset.h"
#include "util.h"


#define APPLY_RETRY_SECONDS 30

static volatile sig_atomic_t got_hup, got_term;

struct dstate {
	struct dconf *conf;
	struct registry *reg;
	int applied;			/* the rules were applied at least once */
	int force;			/* apply even if the text is unchanged */
	int64_t seen_version;		/* the counter at the last attempt */
	int64_t retry_at;		/* after a failure, when to try again */
	struct dstr last;		/* the text last applied */
	struct http_server *http;	/* the pages and API (http.c) */
	struct revalidator *reval;	/* RevalidateEvery */
	struct ruleset_state rules;	/* the addresses last applied */
};

struct job {
	const char *name;
	unsigned every;			/* seconds */
	int (*run)(struct dstate *s, char *err, size_t errlen);
	int64_t next;
};

static int
job_expire(struct dstate *s, char *err, size_t errlen)
{
	unsigned n;

	if (registry_expire_due(s->reg, &n, err, errlen) < 0)
		return -1;
	if (n > 0)
		pc_log_info("expired %u entr%s (EntryLifetime over)", n,
		    n == 1 ? "y" : "ies");
	return 0;
}

/* Renders and applies when the registry changed since the last attempt. */
static int
job_rules(struct dstate *s, char *err, size_t errlen)
{
	struct dstr text;
	int64_t v, now = (int64_t)time(NULL);
	size_t changes;
	int applied, forced = s->force;

	if (registry_version(s->reg, &v, err, errlen) < 0)
		return -1;
	if (s->applied && !s->force && v == s->seen_version)
		return 0;
	if (!s->force && v == s->seen_version && now < s->retry_at)
		return 0;
	s->seen_version = v;
	s->force = 0;
	dstr_init(&text);
	if (ruleset_update(s->conf, s->reg, &s->rules, &s->last,
	    forced || !s->applied, &text, &applied, &changes, err, errlen) < 0) {
		s->applied = 0;
		s->retry_at = now + APPLY_RETRY_SECONDS;
		dstr_free(&text);
		return -1;
	}
	if (!applied) {
		dstr_free(&text);
		return 0;
	}
	dstr_free(&s->last);
	s->last = text;
	s->applied = 1;
	if (changes > 0)
		pc_log_info("rules applied as a delta of %zu address%s (%zu "
		    "allowed), %s", changes, changes == 1 ? "" : "es",
		    s->rules.in.n_allowed, s->conf->rule_file);
	else
		pc_log_info("rules applied: %zu allowed address%s, %s, %s",
		    s->rules.in.n_allowed, s->rules.in.n_allowed == 1 ? "" : "es",
		    dconf_rule_formats[s->conf->rule_format], s->conf->rule_file);
	return 0;
}

/* The scheduler's table.  Add revalidation (RevalidateEvery) here. */
/* Runs each second; RevalidateEvery decides inside when a pass is due. */
static int
job_revalidate(struct dstate *s, char *err, size_t errlen)
{
	return revalidate_step(s->reval, s->conf, s->reg, (int64_t)time(NULL),
	    err, errlen);
}

static struct job jobs[] = {
	{ "expire", 1, job_expire, 0 },
	{ "revalidate", 1, job_revalidate, 0 },
	{ "rules", 1, job_rules, 0 },
};

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

static int
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void
reload(struct dstate *s, const char *path, int foreground)
{
	struct dconf *c;
	char err[1024];

	if ((c = dconf_load(path, err, sizeof(err))) == NULL) {
		pc_log_err("reload failed, keeping the old configuration: %s",
		    err);
		return;
	}
	if (!same(c->database, s->conf->database))
		pc_log_warn("reload: Database changed; it takes effect at "
		    "restart (still using %s)", s->conf->database);
	if (!same(c->user, s->conf->user) || !same(c->pidfile, s->conf->pidfile))
		pc_log_warn("reload: User or PidFile changed; it takes effect "
		    "at restart");
	if (!same(c->syslog_facility, s->conf->syslog_facility) &&
	    pc_log_open("portcullisd", c->syslog_facility, foreground, err,
	    sizeof(err)) < 0)
		pc_log_err("reload: %s", err);
	registry_set_lifetime(s->reg, c->lifetime);
	http_set_conf(s->http, c);
	dconf_free(s->conf);
	s->conf = c;
	s->force = 1;		/* the rules may differ; re-apply them anyway */
	pc_log_info("configuration reloaded from %s", c->path);
}

static void
run_jobs(struct dstate *s)
{
	int64_t now = (int64_t)time(NULL);
	char err[4096];
	size_t i;

	for (i = 0; i < PC_ARRAY_LEN(jobs) && !got_term && !got_hup; i++) {
		if (now < jobs[i].next)
			continue;
		jobs[i].next = now + jobs[i].every;
		if (jobs[i].run(s, err, sizeof(err)) < 0)
			pc_log_err("%s: %s", jobs[i].name, err);
	}
}

int
main(int argc, char **argv)
{
	struct pc_daemon_opts o = { DCONF_DEFAULT_PATH, 0, 0 };
	struct timespec tick = { 0, 250 * 1000 * 1000 };
	struct sigaction sa;
	struct dstate s;
	char err[1024], *pidfile = NULL;
	int rc;

	if ((rc = pc_daemon_options(argc, argv, "portcullisd",
	    DCONF_DEFAULT_PATH, &o)) >= 0)
		return rc;
	memset(&s, 0, sizeof(s));
	if ((s.conf = dconf_load(o.conf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "portcullisd: %s\n", err);
		return 1;
	}
	if (o.check) {
		printf("%s: configuration OK\n", o.conf);
		dconf_free(s.conf);
		return 0;
	}
	if (pc_log_open("portcullisd", s.conf->syslog_facility, o.foreground,
	    err, sizeof(err)) < 0) {
		fprintf(stderr, "portcullisd: %s\n", err);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: wake the sleep */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (!o.foreground && pc_daemonize(err, sizeof(err)) < 0)
		pc_log_fatal("%s", err);
	if (s.conf->pidfile != NULL) {
		if (pc_pidfile_write(s.conf->pidfile, err, sizeof(err)) < 0)
			pc_log_fatal("PidFile: %s", err);
		pidfile = xstrdup(s.conf->pidfile);
	}
	/* Bound (and TLS keys read) before privileges are dropped. */
	if ((s.http = http_listen(s.conf, err, sizeof(err))) == NULL)
		pc_log_fatal("%s", err);
	if (s.conf->user != NULL &&
	    pc_drop_privileges(s.conf->user, err, sizeof(err)) < 0)
		pc_log_fatal("%s", err);
	/* Opened as User, so the database and its -wal/-shm belong to it. */
	if ((s.reg = registry_open(s.conf->database, s.conf->lifetime, err,
	    sizeof(err))) == NULL)
		pc_log_fatal("%s", err);
	dstr_init(&s.last);
	s.seen_version = -1;
	s.reval = revalidator_new();
	if (http_start(s.http, s.conf, err, sizeof(err)) < 0)
		pc_log_fatal("%s", err);
	pc_log_info("starting (configuration %s, registry %s)", o.conf,
	    s.conf->database);
	while (!got_term) {
		if (got_hup) {
			got_hup = 0;
			reload(&s, o.conf, o.foreground);
		}
		run_jobs(&s);
		if (!got_term && !got_hup)
			nanosleep(&tick, NULL);
	}
	pc_log_info("stopped (the rules applied last stay in force)");
	http_stop(s.http);
	revalidator_free(s.reval);
	registry_close(s.reg);
	dconf_free(s.conf);
	dstr_free(&s.last);
	ruleset_state_free(&s.rules);
	pc_pidfile_remove(pidfile);
	free(pidfile);
	return 0;
}
