/*
 * rules-bench.c - times the firewall rules path of portcullisd on N
 * generated IPv4 addresses in 10.0.0.0/8 (bench/rules-bench.sh runs it in
 * a throwaway network namespace and writes doc/performance.md).
 *
 *   rules-bench full N RULEFILE APPLYCMD
 *       render N entries in full, then rules_apply() (write, fsync,
 *       rename, APPLYCMD); prints render and apply times and peak RSS
 *   rules-bench delta N RULEFILE DELTACMD K
 *       with the N-entry set loaded (run full first), K single changes,
 *       alternately adding and deleting one address: each is
 *       rules_render_delta() plus rules_apply_delta() without rewriting
 *       RuleFile; prints median and worst, then the cost of refreshing
 *       RuleFile afterwards (full render + rules_write)
 *
 * Output lines are "key value" for the script to pick up.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "rules.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
cmp_addr(const void *a, const void *b)
{
	return pc_addr_cmp(a, b);
}

/*
 * N + 1 distinct addresses in 10.0.0.0/8 (an odd multiplier is a
 * bijection mod 2^24), sorted as the registry hands them over (sorted
 * input skips the renderer's sort); the delta toggles the last one.
 */
static struct pc_addr *
gen(size_t n)
{
	struct pc_addr *v = xcalloc(n + 1, sizeof(*v));
	size_t i;

	for (i = 0; i <= n; i++) {
		uint32_t x = (uint32_t)(i * 2654435761u) & 0xffffffu;

		v[i].family = AF_INET;
		v[i].a[0] = 10;
		v[i].a[1] = (unsigned char)(x >> 16);
		v[i].a[2] = (unsigned char)(x >> 8);
		v[i].a[3] = (unsigned char)x;
	}
	qsort(v, n + 1, sizeof(*v), cmp_addr);
	return v;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static long
maxrss_kb(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return ru.ru_maxrss;
}

int
main(int argc, char **argv)
{
	struct rules_input in = { .nft_table = "inet portcullis" }, prev;
	struct rules_apply_opts ao = { 0 };
	struct pc_netlist subs;
	struct pc_addr *v;
	struct dstr out;
	char err[2048];
	size_t n;
	double t0, t1, t2;

	if (argc < 5 || (strcmp(argv[1], "full") != 0 &&
	    strcmp(argv[1], "delta") != 0)) {
		fprintf(stderr, "usage: rules-bench full|delta N RULEFILE CMD "
		    "[K]\n");
		return 2;
	}
	n = strtoul(argv[2], NULL, 10);
	ao.rule_file = argv[3];
	pc_netlist_init(&subs);
	if (pc_netlist_add(&subs, "10.0.0.0/8", err, sizeof(err)) < 0)
		return 1;
	v = gen(n);
	in.allowed = v;
	in.n_allowed = n;
	in.subscribers = &subs;
	dstr_init(&out);

	if (strcmp(argv[1], "full") == 0) {
		ao.apply_command = argv[4];
		t0 = now_ms();
		if (rules_render(RULES_NFT, &in, &out, err, sizeof(err)) < 0)
			goto fail;
		t1 = now_ms();
		if (rules_apply(&ao, out.buf, out.len, err, sizeof(err)) < 0)
			goto fail;
		t2 = now_ms();
		printf("entries %zu\nbytes %zu\nrender_ms %.1f\napply_ms %.1f\n"
		    "total_ms %.1f\nrender_maxrss_kb %ld\napply_maxrss_kb %ld\n",
		    n, out.len, t1 - t0, t2 - t1, t2 - t0,
		    maxrss_kb(RUSAGE_SELF), maxrss_kb(RUSAGE_CHILDREN));
	} else {
		size_t k = argc > 5 ? strtoul(argv[5], NULL, 10) : 11, i;
		double *render = xcalloc(k + 1, sizeof(double));
		double *total = xcalloc(k + 1, sizeof(double));

		ao.delta_command = argv[4];
		for (i = 0; i < k; i++) {
			size_t changes = 0;

			/* Even rounds add address N, odd rounds take it out. */
			prev = in;
			prev.n_allowed = n + (i % 2);
			in.n_allowed = n + !(i % 2);
			dstr_clear(&out);
			t0 = now_ms();
			if (rules_render_delta(RULES_NFT, &prev, &in, 1000,
			    &out, &changes, err, sizeof(err)) != RULES_DELTA_OK
			    || changes != 1)
				goto fail;
			t1 = now_ms();
			if (rules_apply_delta(&ao, out.buf, out.len, NULL, 0,
			    err, sizeof(err)) != 0)
				goto fail;
			t2 = now_ms();
			render[i] = t1 - t0;
			total[i] = t2 - t0;
		}
		qsort(render, k, sizeof(double), cmp_double);
		qsort(total, k, sizeof(double), cmp_double);
		printf("entries %zu\nchanges %zu\ndelta_render_median_ms %.2f\n"
		    "delta_total_median_ms %.2f\ndelta_total_max_ms %.2f\n",
		    n, k, render[k / 2], total[k / 2], total[k - 1]);
		/* Then RuleFile is brought up to date, off the fast path. */
		dstr_clear(&out);
		t0 = now_ms();
		if (rules_render(RULES_NFT, &in, &out, err, sizeof(err)) < 0 ||
		    rules_write(ao.rule_file, out.buf, out.len, err,
		    sizeof(err)) < 0)
			goto fail;
		printf("rulefile_refresh_ms %.1f\n", now_ms() - t0);
		free(render);
		free(total);
	}
	dstr_free(&out);
	free(v);
	pc_netlist_free(&subs);
	return 0;
fail:
	fprintf(stderr, "rules-bench: %s\n", err);
	return 1;
}
