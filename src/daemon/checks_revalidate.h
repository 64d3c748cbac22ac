/*
 * checks_revalidate.h - RevalidateEvery: the scheduler's job that
 * re-runs the checks of active entries, suspends (with an audit row)
 * those that now fail, and tells NotifyCommand.  A temporary DNS
 * failure suspends nothing: it is logged and tried again next pass.
 *
 * Work is cut into batches so that one scheduler tick stays short even
 * with many entries: each call re-checks at most REVALIDATE_BATCH.
 */
#ifndef PC_CHECKS_REVALIDATE_H
#define PC_CHECKS_REVALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "dconf.h"

#define REVALIDATE_BATCH 20

struct registry;
struct revalidator;

struct revalidator *revalidator_new(void);
void revalidator_free(struct revalidator *v);
/* Runs the next batch when a pass is due at now; -1 with err on failure. */
int revalidate_step(struct revalidator *v, const struct dconf *c,
    struct registry *reg, int64_t now, char *err, size_t errlen);
/*
 * Runs NotifyCommand (if set) with the event in the environment:
 * PORTCULLIS_EVENT, PORTCULLIS_ENTRY, PORTCULLIS_ACCOUNT,
 * PORTCULLIS_ADDRESS, PORTCULLIS_REASON.  Waits at most 10 s, then
 * kills the command's process group; a failure is logged.
 */
void checks_notify(const struct dconf *c, const char *event, int64_t id,
    const char *account, const char *address, const char *reason);
/* The same with the command and time limit given; -1 with err on failure. */
int checks_notify_run(const char *command, unsigned timeout_ms,
    const char *event, int64_t id, const char *account, const char *address,
    const char *reason, char *err, size_t errlen);

#endif
