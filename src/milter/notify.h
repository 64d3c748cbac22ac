/*
 * notify.h - NotifyCommand: tell the outside world about a suspension or
 * the first limit hit of an account.
 */
#ifndef PC_NOTIFY_H
#define PC_NOTIFY_H

/* Seconds a NotifyCommand may run before its process group is killed. */
#define NOTIFY_TIMEOUT 60
/* Seconds between SIGTERM and SIGKILL when it overruns. */
#define NOTIFY_KILL_GRACE 5

/*
 * Runs command through /bin/sh -c with the event's fields only in the
 * environment (PORTCULLIS_EVENT, PORTCULLIS_ACCOUNT, PORTCULLIS_REASON,
 * PORTCULLIS_IP): the command text is the administrator's, never the
 * client's.  Detached, so the calling thread neither waits for it nor
 * leaves a zombie; it starts with no blocked or ignored signals, only
 * /dev/null on descriptors 0-2 and nothing above, in a process group of
 * its own that is killed after NOTIFY_TIMEOUT seconds.  NULL fields are
 * left out.  Returns 0, or -1 when it could not start (logged).
 */
int notify_run(const char *command, const char *event, const char *account,
    const char *reason, const char *ip);
/* notify_run() with another timeout, in seconds (the tests use 1). */
int notify_run_within(unsigned timeout, const char *command,
    const char *event, const char *account, const char *reason,
    const char *ip);

#endif
