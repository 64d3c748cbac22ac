/*
 * state.h - StateFile: suspensions and limiter counters on disk, so a
 * restart does not hand a spammer a fresh budget.
 *
 * Counters are written as "what the account still owes" relative to the
 * wall clock at saving time, because CLOCK_MONOTONIC (which decides) does
 * not survive a reboot.  On loading, the wall-clock time that passed is
 * subtracted; a wall clock that went backwards subtracts nothing, so it
 * can only make the limits stricter.
 */
#ifndef PC_STATE_H
#define PC_STATE_H

#include <stddef.h>

/*
 * Writes path atomically (temporary file, fsync, rename).  Saves are
 * serialised from snapshot to rename, so the file never goes back to a
 * snapshot older than the one it holds.
 */
int state_save(const char *path, char *err, size_t errlen);
/* Reads path into the limiter; a missing file is an empty state. */
int state_load(const char *path, char *err, size_t errlen);
/* How often the timer saves StateFile, in seconds. */
#define STATE_SAVE_INTERVAL 60

/* Saves the active StateFile every interval seconds. */
int state_start_timer(unsigned interval);
/* The StateFile the running milter uses (NULL: none); set at start. */
void state_set_active(const char *path);
/* Saves that StateFile now, if there is one (timer, SIGTERM, control). */
void state_save_live(void);

#endif
