/*
 * loadstat.h - what the load generators share: a latency histogram with
 * bounded relative error, the account populations (uniform, Zipf), and
 * writing a whole buffer to a socket.
 */
#ifndef BENCH_LOADSTAT_H
#define BENCH_LOADSTAT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Log-linear buckets over microseconds: exact below 64 us, then 32
 * buckets per power of two (about 3% error), up to 2^36 us.
 */
#define LH_SUB 32
#define LH_BUCKETS (64 + 31 * LH_SUB)

struct lhist {
	uint64_t n[LH_BUCKETS];
	uint64_t count;
	uint64_t max_us;
};

void lh_add(struct lhist *h, uint64_t us);
void lh_merge(struct lhist *into, const struct lhist *from);
/* The value at quantile q (0..1), in microseconds; 0 when empty. */
uint64_t lh_quantile(const struct lhist *h, double q);

/* A population of accounts numbered 0 .. n-1. */
struct population {
	uint32_t n;
	double *cdf;		/* Zipf only; NULL means uniform */
};

/* s <= 0: uniform.  Returns -1 on a bad size or no memory. */
int pop_init(struct population *p, uint32_t n, double s);
void pop_free(struct population *p);
/* u uniform in [0, 1). */
uint32_t pop_pick(const struct population *p, double u);

/* Writes all n bytes (again after EINTR); 0, or -1 on an error or EOF. */
int write_full(int fd, const void *buf, size_t n);

/* A small per-thread generator (xorshift64*). */
uint64_t rng_next(uint64_t *state);
double rng_unit(uint64_t *state);

#endif
