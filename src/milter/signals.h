/*
 * signals.h - SIGUSR1 reloads, SIGTERM drains open sessions then stops.
 */
#ifndef PC_SIGNALS_H
#define PC_SIGNALS_H

/* How long SIGTERM waits for open SMTP sessions before stopping anyway. */
#define SHUTDOWN_GRACE_SECONDS 30

/* socket_path: the unix socket to unlink at SIGTERM, or NULL for inet. */
int signals_start(void (*reload)(void), const char *socket_path);

#endif
