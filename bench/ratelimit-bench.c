/*
 * ratelimit-bench.c - the per-account limiter under an ISP-like load:
 * 1,000,000 accounts, a Zipf-like mix (a few accounts send most of the
 * mail), each step charging the messages and the recipients limit of one
 * account (the defaults, 200/1h and 1000/1d), on 1 and on 2 threads.
 *
 * Each step draws an account (a precomputed Zipf rank, read in order
 * from a 16 MB array) and writes its name, "u0000000@isp.example" (20
 * bytes), into a buffer on the stack, as the milter writes the account
 * into its key buffer before it charges; then it makes the two charges
 * with RL_TAKE.  The throughput includes the draw, the name, one clock
 * read per 256 charges and the two clock reads around every timed one.
 *
 * Prints charges per second: total and per thread by the wall clock, and
 * per second of CPU time the threads were given (time slices taken by
 * other jobs on the machine do not lower that one; their use of the
 * caches still does).  Then resident bytes per account once every
 * account holds both counters, and the p50/p99/p99.9 time of one charge:
 * every 64th charge, always the messages charge of a step (the first to
 * touch the account, so the one that misses the cache), is timed alone
 * between two clock reads.  The cost of the two clock reads, measured
 * back to back, is printed; it is included in the times.
 *
 * usage: ratelimit-bench [ACCOUNTS [CHARGES_PER_THREAD [ZIPF_S]]]
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ratelimit.h"

#define NSAMPLES (1u << 22)	/* precomputed Zipf draws */
#define NAME_LEN 32	/* buffer for "u0000000@isp.example" */

static size_t naccounts = 1000000;
static uint64_t ncharges = 20000000;
static double zipf_s = 1.0;
static uint32_t *draws;
static struct rl_table *table;
static struct rl_limit lim_msg, lim_rcpt;

struct worker {
	pthread_t tid;
	unsigned seed;
	uint64_t done, passed;
	double secs, cpu_secs;
	uint64_t *lat;
	size_t nlat;
};

/* The account's name as "u%07u@isp.example" formats it, without stdio. */
static void
name_of(uint32_t i, char *buf)
{
	static const char domain[] = "@isp.example";
	int d;

	buf[0] = 'u';
	i %= 10000000;
	for (d = 7; d >= 1; d--) {
		buf[d] = (char)('0' + i % 10);
		i /= 10;
	}
	memcpy(buf + 8, domain, sizeof(domain));
}

static double
clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long
rss_bytes(void)
{
	FILE *fp = fopen("/proc/self/statm", "r");
	long pages = 0, rss = 0;

	if (fp == NULL)
		return 0;
	if (fscanf(fp, "%ld %ld", &pages, &rss) != 2)
		rss = 0;
	fclose(fp);
	return rss * sysconf(_SC_PAGESIZE);
}

/* Zipf(s) ranks by inverse CDF over the harmonic sums. */
static void
make_draws(void)
{
	double *cdf = malloc(naccounts * sizeof(*cdf)), sum = 0;
	size_t i;
	unsigned seed = 12345;

	if (cdf == NULL)
		exit(1);
	for (i = 0; i < naccounts; i++) {
		sum += 1.0 / pow((double)(i + 1), zipf_s);
		cdf[i] = sum;
	}
	draws = malloc(NSAMPLES * sizeof(*draws));
	if (draws == NULL)
		exit(1);
	for (i = 0; i < NSAMPLES; i++) {
		double u = (double)rand_r(&seed) / ((double)RAND_MAX + 1) * sum;
		size_t lo = 0, hi = naccounts - 1;

		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (cdf[mid] < u)
				lo = mid + 1;
			else
				hi = mid;
		}
		/* Scatter the ranks so hot accounts do not share a shard. */
		draws[i] = (uint32_t)((lo * 2654435761u) % naccounts);
	}
	free(cdf);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* What two back-to-back clock reads cost: the floor of a timed charge. */
static void
clock_cost(void)
{
	enum { N = 100000 };
	uint64_t *d = malloc(N * sizeof(*d));
	size_t i;

	if (d == NULL)
		exit(1);
	for (i = 0; i < N; i++) {
		uint64_t s = rl_now();

		d[i] = rl_now() - s;
	}
	qsort(d, N, sizeof(*d), cmp_u64);
	printf("two clock reads back to back (included in every timed "
	    "charge): p50 %llu ns, p99 %llu ns\n", (unsigned long long)d[N / 2],
	    (unsigned long long)d[N * 99 / 100]);
	free(d);
}

static void *
work(void *arg)
{
	struct worker *w = arg;
	size_t pos = (size_t)rand_r(&w->seed) % NSAMPLES;
	uint64_t i, now = rl_now();
	double t0 = clock_s(CLOCK_MONOTONIC);
	double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);

	for (i = 0; i < ncharges; i += 2) {
		char a[NAME_LEN];
		enum rl_kind k = RL_MESSAGES;

		name_of(draws[pos], a);
		if (++pos == NSAMPLES)
			pos = 0;
		if ((i & 255) == 0)
			now = rl_now();	/* the milter reads the clock per decision */
		if ((i & 63) == 0 && w->nlat < ncharges / 64 + 1) {
			uint64_t s = rl_now();

			w->passed += (uint64_t)rl_charge(table, a, k, &lim_msg, 1,
			    now, RL_TAKE, NULL, NULL);
			w->lat[w->nlat++] = rl_now() - s;
		} else {
			w->passed += (uint64_t)rl_charge(table, a, k, &lim_msg, 1,
			    now, RL_TAKE, NULL, NULL);
		}
		k = RL_RECIPIENTS;
		w->passed += (uint64_t)rl_charge(table, a, k, &lim_rcpt, 1, now,
		    RL_TAKE, NULL, NULL);
	}
	w->done = i;
	w->secs = clock_s(CLOCK_MONOTONIC) - t0;
	w->cpu_secs = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
	return NULL;
}

static void
run(int nthreads)
{
	struct worker w[2];
	uint64_t total = 0, passed = 0, *all;
	size_t nall = 0, j;
	double secs = 0, cpu = 0;
	int t;

	for (t = 0; t < nthreads; t++) {
		memset(&w[t], 0, sizeof(w[t]));
		w[t].seed = 777u + (unsigned)t;
		w[t].lat = malloc((ncharges / 64 + 2) * sizeof(uint64_t));
		if (w[t].lat == NULL || pthread_create(&w[t].tid, NULL, work,
		    &w[t]) != 0)
			exit(1);
	}
	for (t = 0; t < nthreads; t++) {
		pthread_join(w[t].tid, NULL);
		total += w[t].done;
		passed += w[t].passed;
		if (w[t].secs > secs)
			secs = w[t].secs;
		cpu += w[t].cpu_secs;
		nall += w[t].nlat;
	}
	all = malloc((nall + 1) * sizeof(*all));
	nall = 0;
	for (t = 0; t < nthreads; t++) {
		for (j = 0; j < w[t].nlat; j++)
			all[nall++] = w[t].lat[j];
		free(w[t].lat);
	}
	qsort(all, nall, sizeof(*all), cmp_u64);
	printf("%d thread(s): %llu charges in %.3f s = %.2f M/s total, "
	    "%.2f M/s per thread, %.2f M per CPU-second; passed %.1f%%; "
	    "one charge p50 %llu ns, p99 %llu ns, p99.9 %llu ns\n", nthreads,
	    (unsigned long long)total, secs, (double)total / secs / 1e6,
	    (double)total / secs / 1e6 / nthreads, (double)total / cpu / 1e6,
	    100.0 * (double)passed / (double)total,
	    (unsigned long long)all[nall / 2],
	    (unsigned long long)all[nall * 99 / 100],
	    (unsigned long long)all[nall * 999 / 1000]);
	free(all);
}

int
main(int argc, char **argv)
{
	struct pc_rate m = { 200, 3600 }, r = { 1000, 86400 };
	long rss0, rss1;
	char name[NAME_LEN];
	uint64_t now;
	size_t i;

	if (argc > 1)
		naccounts = strtoul(argv[1], NULL, 10);
	if (argc > 2)
		ncharges = strtoull(argv[2], NULL, 10);
	if (argc > 3)
		zipf_s = atof(argv[3]);
	if (naccounts == 0 || ncharges == 0) {
		fprintf(stderr, "usage: ratelimit-bench [ACCOUNTS [CHARGES [S]]]\n");
		return 2;
	}
	rl_limit_set(&lim_msg, &m);
	rl_limit_set(&lim_rcpt, &r);
	make_draws();

	rss0 = rss_bytes();
	table = rl_table_new(naccounts * 2);
	now = rl_now();
	for (i = 0; i < naccounts; i++) {
		name_of((uint32_t)i, name);
		rl_charge(table, name, RL_MESSAGES, &lim_msg, 1, now, RL_TAKE,
		    NULL, NULL);
		rl_charge(table, name, RL_RECIPIENTS, &lim_rcpt, 1, now, RL_TAKE,
		    NULL, NULL);
	}
	rss1 = rss_bytes();
	printf("%zu accounts with two limits: %zu entries, %.1f resident "
	    "bytes per account (names %d bytes long)\n", naccounts,
	    rl_count(table), (double)(rss1 - rss0) / (double)naccounts,
	    (int)strlen(name));
	printf("Zipf s=%.2f over %zu accounts, %llu charges per thread "
	    "(messages and recipients alternately)\n", zipf_s, naccounts,
	    (unsigned long long)ncharges);
	clock_cost();
	run(1);
	run(2);
	rl_table_free(table);
	free(draws);
	return 0;
}
