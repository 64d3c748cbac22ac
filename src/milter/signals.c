/*
 * signals.c - reload on SIGUSR1 and a graceful stop on SIGTERM.
 *
 * libmilter runs its own signal thread that sigwait()s for SIGHUP,
 * SIGTERM and SIGINT and, on any of them, stops at once: its worker pool
 * then abandons every open session, so a message in the middle of DATA
 * is cut off.  The contract asks that SIGTERM lets open sessions finish.
 *
 * libmilter calls sigwait() through the dynamic linker, so this program's
 * own sigwait() below is the one it gets.  When the caller waits for
 * libmilter's set (HUP, TERM and INT together), SIGTERM is taken out of
 * it; our thread waits for SIGTERM instead, lets the open sessions finish
 * (at most SHUTDOWN_GRACE_SECONDS), and then calls smfi_stop().  SIGHUP
 * and SIGINT keep libmilter's meaning: stop now.
 */
#include "signals.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "log.h"
#include "milter.h"

int sigwait(const sigset_t *set, int *sig);

int
sigwait(const sigset_t *set, int *sig)
{
	sigset_t mine = *set;
	int r;

	if (sigismember(&mine, SIGHUP) == 1 && sigismember(&mine, SIGTERM) == 1 &&
	    sigismember(&mine, SIGINT) == 1)
		sigdelset(&mine, SIGTERM);
	do {
		r = sigwaitinfo(&mine, NULL);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno;
	*sig = r;
	return 0;
}

static void (*reload_fn)(void);
static const char *unix_path;
static sigset_t handled;

static void
drain_and_stop(void)
{
	struct timespec tick = { 0, 100 * 1000 * 1000 };
	int i;

	pc_log_info("SIGTERM: letting %u open session(s) finish",
	    milter_open_sessions());
	/* New connections to a unix socket now fail at once. */
	if (unix_path != NULL)
		unlink(unix_path);
	for (i = 0; i < SHUTDOWN_GRACE_SECONDS * 10 &&
	    milter_open_sessions() > 0; i++)
		nanosleep(&tick, NULL);
	if (milter_open_sessions() > 0)
		pc_log_warn("stopping with %u session(s) still open after %d s",
		    milter_open_sessions(), SHUTDOWN_GRACE_SECONDS);
	smfi_stop();
}

static void *
signal_thread(void *arg)
{
	int sig;

	(void)arg;
	for (;;) {
		sig = sigwaitinfo(&handled, NULL);
		if (sig == SIGUSR1) {
			reload_fn();
		} else if (sig == SIGTERM) {
			drain_and_stop();
			return NULL;
		}
	}
}

int
signals_start(void (*reload)(void), const char *socket_path)
{
	pthread_t tid;

	reload_fn = reload;
	unix_path = socket_path;
	sigemptyset(&handled);
	sigaddset(&handled, SIGUSR1);
	sigaddset(&handled, SIGTERM);
	/* Blocked here, before smfi_main() starts threads that inherit it. */
	if (pthread_sigmask(SIG_BLOCK, &handled, NULL) != 0)
		return -1;
	if (pthread_create(&tid, NULL, signal_thread, NULL) != 0)
		return -1;
	pthread_detach(tid);
	return 0;
}
