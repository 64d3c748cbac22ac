/*
 * control.h - ControlSocket, portcullisctl's way into the running milter,
 * and the start-up of the rate-limit services (StateFile, ControlSocket,
 * MetricsListen).
 */
#ifndef PC_CONTROL_H
#define PC_CONTROL_H

#include <stddef.h>

#include "util.h"

struct mconf;

/* Listens on path (mode 0600); reload answers "milter reload". */
int control_start(const char *path, int (*reload)(char *err, size_t errlen),
    char *err, size_t errlen);
/* Hands the socket to the User the milter drops to. */
int control_chown(unsigned uid, unsigned gid, char *err, size_t errlen);
/* Removes the socket (at exit). */
void control_stop(void);
/* One command line, answered into out; exposed for the unit tests. */
void control_command(char *line, struct dstr *out);

/*
 * At start-up, as root: loads StateFile, opens ControlSocket and
 * MetricsListen, starts the StateFile timer.  A default path whose
 * directory does not exist is skipped with a warning; a path the file
 * names explicitly must work.
 */
int control_services_start(const struct mconf *c,
    int (*reload)(char *err, size_t errlen), char *err, size_t errlen);

/*
 * After daemonizing and once the signal mask is set (threads inherit
 * it): starts the threads that serve ControlSocket and MetricsListen and
 * save StateFile.
 */
int control_services_run(char *err, size_t errlen);

#endif
