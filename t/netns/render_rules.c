/*
 * render_rules.c - test driver for the rules module (t/netns/egress.sh):
 * renders, applies, or applies as a delta, from addresses on the
 * command line, without needing the registry.
 *
 *   render_rules -S NETS [-f FORMAT] [-T TABLE] [-o] [-d] ADDR...
 *       prints the full rendering
 *   ... -r RULEFILE [-c APPLYCMD] ADDR...
 *       rules_apply(); exit 1 and the error on stderr when it fails
 *   ... -r RULEFILE -p PREV [-D DELTACMD] ADDR...
 *       renders the delta from PREV (comma list, may be "") to ADDR... and
 *       rules_apply_delta(); prints "delta N" or "full" (fallback)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rules.h"

static void
usage(void)
{
	fprintf(stderr, "usage: render_rules -S NETS [-f FORMAT] [-T TABLE] "
	    "[-o] [-d] [-r RULEFILE [-c CMD] [-p PREV [-D CMD]]] ADDR...\n");
	exit(2);
}

/* Adds each comma- or space-separated address of s to *v. */
static void
add_addrs(const char *s, struct pc_addr **v, size_t *n)
{
	char *copy = xstrdup(s), *save = NULL, *tok;
	char err[256];

	for (tok = strtok_r(copy, ", ", &save); tok != NULL;
	    tok = strtok_r(NULL, ", ", &save)) {
		*v = xrealloc(*v, (*n + 1) * sizeof(**v));
		if (pc_addr_parse(tok, &(*v)[*n], err, sizeof(err)) < 0) {
			fprintf(stderr, "render_rules: %s: %s\n", tok, err);
			exit(2);
		}
		(*n)++;
	}
	free(copy);
}

int
main(int argc, char **argv)
{
	struct rules_input in = { .nft_table = "inet portcullis" }, prev;
	struct rules_apply_opts ao = { 0 };
	struct pc_netlist subs;
	struct pc_addr *next_v = NULL, *prev_v = NULL;
	size_t next_n = 0, prev_n = 0;
	enum rules_format f = RULES_NFT;
	const char *prev_list = NULL;
	struct dstr full, delta;
	char err[2048] = "";
	int c, i, rc = 0;

	pc_netlist_init(&subs);
	while ((c = getopt(argc, argv, "S:f:T:odr:c:p:D:")) != -1) {
		switch (c) {
		case 'S':
			if (pc_netlist_add(&subs, optarg, err, sizeof(err)) < 0) {
				fprintf(stderr, "render_rules: %s\n", err);
				return 2;
			}
			break;
		case 'f':
			if (rules_format_parse(optarg, &f) < 0)
				usage();
			break;
		case 'T': in.nft_table = optarg; break;
		case 'o': in.hook_output = 1; break;
		case 'd': in.block_drop = 1; break;
		case 'r': ao.rule_file = optarg; break;
		case 'c': ao.apply_command = optarg; break;
		case 'p': prev_list = optarg; break;
		case 'D': ao.delta_command = optarg; break;
		default: usage();
		}
	}
	for (i = optind; i < argc; i++)
		add_addrs(argv[i], &next_v, &next_n);
	in.allowed = next_v;
	in.n_allowed = next_n;
	in.subscribers = &subs;

	dstr_init(&full);
	dstr_init(&delta);
	if (rules_render(f, &in, &full, err, sizeof(err)) < 0) {
		fprintf(stderr, "render_rules: %s\n", err);
		return 1;
	}
	if (ao.rule_file == NULL) {
		fwrite(full.buf, 1, full.len, stdout);
	} else if (prev_list == NULL) {
		if (rules_apply(&ao, full.buf, full.len, err, sizeof(err)) < 0) {
			fprintf(stderr, "render_rules: %s\n", err);
			rc = 1;
		}
	} else {
		size_t changes = 0;
		int r;

		add_addrs(prev_list, &prev_v, &prev_n);
		prev = in;
		prev.allowed = prev_v;
		prev.n_allowed = prev_n;
		r = rules_render_delta(f, &prev, &in, 0, &delta, &changes, err,
		    sizeof(err));
		if (r == RULES_DELTA_OK)
			r = rules_apply_delta(&ao, delta.buf, delta.len,
			    full.buf, full.len, err, sizeof(err));
		else if (r == RULES_DELTA_FULL)
			r = rules_apply(&ao, full.buf, full.len, err,
			    sizeof(err)) < 0 ? -1 : 1;
		if (r == 0)
			printf("delta %zu\n", changes);
		else if (r == 1)
			printf("full\n");
		if (r != 0)
			fprintf(stderr, "render_rules: %s\n", err);
		rc = r < 0;
	}
	dstr_free(&full);
	dstr_free(&delta);
	free(next_v);
	free(prev_v);
	pc_netlist_free(&subs);
	return rc;
}
