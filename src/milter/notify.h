/*
 * notify.h - NotifyCommand: tell the outside world about a suspension or
 * the first limit hit of an account.
 */
#ifndef PC_NOTIFY_H
#define PC_NOTIFY_H

/*
 * Runs command through /bin/sh -c with the event's fields only in the
 * environment (PORTCULLIS_EVENT, PORTCULLIS_ACCOUNT, PORTCULLIS_REASON,
 * PORTCULLIS_IP): the command text is the administrator's, never the
 * client's.  Detached by a double fork, so the calling thread neither
 * waits for it nor leaves a zombie.  NULL fields are left out.  Returns
 * 0, or -1 when it could not start (logged).
 */
int notify_run(const char *command, const char *event, const char *account,
    const char *reason, const char *ip);

#endif
