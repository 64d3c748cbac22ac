/*
 * server.h - the small local servers inside the daemons (the milter's
 * ControlSocket and MetricsListen): one thread that accepts and serves
 * each connection in turn, with timeouts so a stuck client cannot hold it.
 */
#ifndef PC_SERVER_H
#define PC_SERVER_H

#include <stddef.h>

/* Starts a detached thread serving listen_fd; 0, or -1 if it cannot. */
int pc_serve_start(int listen_fd, int timeout_seconds, void (*serve)(int fd));

/* Writes all of buf, retrying short writes and EINTR; 0 or an errno value. */
int pc_write_all(int fd, const char *buf, size_t len);

#endif
