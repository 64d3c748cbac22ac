/*
 * loadstat.c - latency histogram and account populations for the load
 * generators.  See loadstat.h.
 */
#include "loadstat.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned
bucket(uint64_t us)
{
	unsigned msb, idx;

	if (us < 64)
		return (unsigned)us;
	msb = 63u - (unsigned)__builtin_clzll(us);	/* >= 6 */
	if (msb > 36)
		return LH_BUCKETS - 1;
	idx = 64 + (msb - 6) * LH_SUB +
	    (unsigned)((us >> (msb - 5)) & (LH_SUB - 1));
	return idx < LH_BUCKETS ? idx : LH_BUCKETS - 1;
}

/* The largest value that falls in bucket b (an upper bound, as reported). */
static uint64_t
bucket_top(unsigned b)
{
	unsigned msb, sub;

	if (b < 64)
		return b;
	msb = (b - 64) / LH_SUB + 6;
	sub = (b - 64) % LH_SUB;
	return ((uint64_t)(LH_SUB + sub + 1) << (msb - 5)) - 1;
}

void
lh_add(struct lhist *h, uint64_t us)
{
	h->n[bucket(us)]++;
	h->count++;
	if (us > h->max_us)
		h->max_us = us;
}

void
lh_merge(struct lhist *into, const struct lhist *from)
{
	size_t i;

	for (i = 0; i < LH_BUCKETS; i++)
		into->n[i] += from->n[i];
	into->count += from->count;
	if (from->max_us > into->max_us)
		into->max_us = from->max_us;
}

uint64_t
lh_quantile(const struct lhist *h, double q)
{
	uint64_t rank, seen = 0, top;
	unsigned b;

	if (h->count == 0)
		return 0;
	if (q < 0)
		q = 0;
	rank = (uint64_t)ceil(q * (double)h->count);
	if (rank == 0)
		rank = 1;
	for (b = 0; b < LH_BUCKETS; b++) {
		seen += h->n[b];
		if (seen >= rank) {
			if (b == LH_BUCKETS - 1)
				return h->max_us;	/* the overflow bucket */
			top = bucket_top(b);
			return top < h->max_us ? top : h->max_us;
		}
	}
	return h->max_us;
}

int
pop_init(struct population *p, uint32_t n, double s)
{
	double sum = 0;
	uint32_t i;

	memset(p, 0, sizeof(*p));
	if (n == 0)
		return -1;
	p->n = n;
	if (s <= 0)
		return 0;
	if ((p->cdf = malloc((size_t)n * sizeof(double))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		sum += 1.0 / pow((double)i + 1.0, s);
		p->cdf[i] = sum;
	}
	for (i = 0; i < n; i++)
		p->cdf[i] /= sum;
	p->cdf[n - 1] = 1.0;
	return 0;
}

void
pop_free(struct population *p)
{
	free(p->cdf);
	p->cdf = NULL;
}

uint32_t
pop_pick(const struct population *p, double u)
{
	uint32_t lo = 0, hi;

	if (p->cdf == NULL) {
		uint32_t k = (uint32_t)(u * (double)p->n);

		return k < p->n ? k : p->n - 1;
	}
	/* The first account whose cumulative share exceeds u. */
	hi = p->n - 1;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (p->cdf[mid] > u)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

uint64_t
rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

double
rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

int
write_full(int fd, const void *buf, size_t n)
{
	const unsigned char *p = buf;

	while (n > 0) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}
