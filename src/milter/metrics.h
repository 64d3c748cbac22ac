/*
 * metrics.h - counters for the Prometheus text exposition on
 * MetricsListen: messages by action, limit hits by kind, suspensions,
 * active accounts and the latency of rate-limit decisions.  Counting is
 * lock-free (relaxed atomics); the tiny HTTP responder runs on its own
 * thread.
 */
#ifndef PC_METRICS_H
#define PC_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum metrics_action {
	MA_ACCEPT, MA_TEMPFAIL, MA_REJECT, MA_QUARANTINE, MA_LOG, MA_N
};

void metrics_message(enum metrics_action a);
void metrics_hit(int kind);
void metrics_suspension(void);
void metrics_decision_ns(uint64_t ns);

/* The exposition text (for the HTTP responder and `milter stats`). */
void metrics_render(struct dstr *d);

/* Listens on "ADDRESS:PORT"; 0, or -1 with err. */
int metrics_start(const char *listen, char *err, size_t errlen);
/* Starts the responder's thread (after fork and signal set-up). */
int metrics_run(char *err, size_t errlen);

#endif
