/*
 * state.c - reading and writing StateFile.
 *
 * Format, one record per line, fields separated by single spaces:
 *   portcullis-milter-state 1
 *   saved WALL_NS
 *   C ACCOUNT KIND OWED_NS FRAC      a counter still owing OWED_NS
 *   S ACCOUNT SINCE REASON...        a suspension (REASON to end of line)
 * Account names never hold white space (sender_account() refuses it);
 * reasons are made printable before they are written.
 */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "ratelimit.h"
#include "suspend.h"
#include "util.h"

#define STATE_MAGIC "portcullis-milter-state 1"

static uint64_t
wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * RL_NS + (uint64_t)ts.tv_nsec;
}

static void
put_counter(const char *account, unsigned flags, const uint64_t owed[],
    const uint64_t frac[], void *arg)
{
	struct dstr *d = arg;
	int k;

	(void)flags;
	for (k = 0; k < RL_NKINDS; k++)
		if (owed[k] != 0)
			dstr_appendf(d, "C %s %s %" PRIu64 " %" PRIu64 "\n",
			    account, rl_kind_names[k], owed[k], frac[k]);
}

static void
put_suspension(const char *account, const char *reason, time_t since,
    void *arg)
{
	struct dstr *d = arg;
	const char *p;

	dstr_appendf(d, "S %s %lld ", account, (long long)since);
	for (p = reason; *p != '\0'; p++)
		dstr_putc(d, (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p);
	dstr_putc(d, '\n');
}

/*
 * Held from the snapshot to the rename: a save that took its snapshot
 * earlier must not rename it over the file of a later one (the timer's
 * save would otherwise undo a suspension the control socket just saved).
 */
static pthread_mutex_t save_lock = PTHREAD_MUTEX_INITIALIZER;

int
state_save(const char *path, char *err, size_t errlen)
{
	struct dstr d, tmp;
	char *dircopy;
	int fd, rc = 0;
	size_t off = 0;
	ssize_t w;

	dstr_init(&d);
	dstr_init(&tmp);
	dstr_appendf(&tmp, "%s.tmp", path);
	pthread_mutex_lock(&save_lock);
	dstr_appendf(&d, STATE_MAGIC "\nsaved %" PRIu64 "\n", wall_ns());
	rl_foreach(suspend_table(), rl_now(), put_counter, &d);
	suspend_foreach(put_suspension, &d);
	fd = open(tmp.buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = pc_err(err, errlen, "StateFile: cannot create %s: %s",
		    tmp.buf, strerror(errno));
		goto out;
	}
	while (off < d.len && (w = write(fd, d.buf + off, d.len - off)) > 0)
		off += (size_t)w;
	if (off < d.len || fsync(fd) < 0) {
		rc = pc_err(err, errlen, "StateFile: cannot write %s: %s",
		    tmp.buf, strerror(errno));
		close(fd);
		unlink(tmp.buf);
		goto out;
	}
	close(fd);
	if (rename(tmp.buf, path) < 0) {
		rc = pc_err(err, errlen, "StateFile: cannot rename %s to %s: %s",
		    tmp.buf, path, strerror(errno));
		unlink(tmp.buf);
		goto out;
	}
	/* The rename itself must reach the disk. */
	dircopy = xstrdup(path);
	if ((fd = open(dirname(dircopy), O_RDONLY | O_DIRECTORY)) >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dircopy);
out:
	pthread_mutex_unlock(&save_lock);
	dstr_free(&tmp);
	dstr_free(&d);
	return rc;
}

static int
kind_of(const char *s)
{
	int k;

	for (k = 0; k < RL_NKINDS; k++)
		if (strcmp(s, rl_kind_names[k]) == 0)
			return k;
	return -1;
}

int
state_load(const char *path, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	char line[2048], acct[1024], kind[32];
	uint64_t saved = 0, now_wall = wall_ns(), now = rl_now(), elapsed;
	unsigned lineno = 0;
	int rc = 0;

	if (fp == NULL) {
		if (errno == ENOENT)
			return 0;
		return pc_err(err, errlen, "StateFile: cannot read %s: %s",
		    path, strerror(errno));
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		uint64_t owed, frac;
		long long since;
		int k, n = 0;

		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (lineno == 1) {
			if (strcmp(line, STATE_MAGIC) != 0) {
				rc = pc_err(err, errlen, "%s:1: not a portcullis-"
				    "milter state file", path);
				break;
			}
			continue;
		}
		if (sscanf(line, "saved %" SCNu64, &saved) == 1)
			continue;
		elapsed = now_wall > saved ? now_wall - saved : 0;
		if (sscanf(line, "C %1023s %31s %" SCNu64 " %" SCNu64, acct, kind,
		    &owed, &frac) == 4 && (k = kind_of(kind)) >= 0) {
			if (owed > elapsed)
				rl_restore(suspend_table(), acct, (enum rl_kind)k,
				    owed - elapsed, frac, now);
		} else if (sscanf(line, "S %1023s %lld %n", acct, &since, &n) == 2 &&
		    n > 0) {
			suspend_restore(acct, line + n, (time_t)since);
		} else {
			pc_log_warn("%s:%u: unreadable line ignored", path, lineno);
		}
	}
	fclose(fp);
	return rc;
}

/* The StateFile in use, fixed at start (a reload cannot move it). */
static char *active_path;

void
state_set_active(const char *path)
{
	free(active_path);
	active_path = path != NULL ? xstrdup(path) : NULL;
}

void
state_save_live(void)
{
	char err[1024];

	if (active_path != NULL && state_save(active_path, err, sizeof(err)) < 0)
		pc_log_err("%s", err);
}

static unsigned timer_interval;

static void *
timer_thread(void *arg)
{
	(void)arg;
	for (;;) {
		sleep(timer_interval);
		state_save_live();
	}
	return NULL;
}

int
state_start_timer(unsigned interval)
{
	pthread_t tid;

	timer_interval = interval;
	if (pthread_create(&tid, NULL, timer_thread, NULL) != 0)
		return -1;
	pthread_detach(tid);
	return 0;
}
