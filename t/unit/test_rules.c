/*
 * test_rules.c - cmocka tests for src/daemon/rules*.c: every format
 * against golden files in t/golden/ (empty set, IPv6 only, mixed v4/v6
 * with duplicates and nested ranges, drop/output/custom table, 10,000
 * entries), a check that no rendering ever names an address that was not
 * in its input, deterministic output, the nft delta, sections, and
 * rules_apply / rules_apply_delta on real files with real commands.
 *
 * PC_UPDATE_GOLDEN=1 rewrites the golden files from the current output
 * (then review the diff); on a mismatch the output is left in
 * ./test_rules.NAME.EXT for `diff`.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rules.h"

static const char *const exts[] = { "nft", "iptables", "pf", "plain" };

struct golden_case {
	const char *name;	/* t/golden/NAME.EXT */
	const char *subs;	/* SubscriberNetworks */
	const char *allowed;	/* comma list, may repeat, may be "" */
	const char *table;
	int hook_output, block_drop;
};

static const struct golden_case golden_cases[] = {
	{ "empty", "192.0.2.0/24, 2001:db8::/32", "", NULL, 0, 0 },
	{ "ipv6-only", "2001:db8::/32", "2001:db8:0:1::25, 2001:db8::25, "
	    "2001:db8::a", NULL, 0, 0 },
	/* Unsorted, duplicated (also as a v4-mapped spelling), and a range
	 * nested in another (left out). */
	{ "mixed", "198.51.100.0/24, 2001:db8::/32, 192.0.2.0/24, "
	    "192.0.2.128/25, 2001:db8:5::/48", "2001:db8::25, 192.0.2.10, "
	    "198.51.100.7, 192.0.2.9, 192.0.2.10, 2001:db8::25, "
	    "::ffff:192.0.2.9, 2001:db8:5::1", NULL, 0, 0 },
	{ "drop-output", "192.0.2.0/24, 2001:db8::/32", "192.0.2.25, "
	    "2001:db8::25", "inet edge_fw", 1, 1 },
	/* 0.0.0.0/0: nft takes it, ipset's hash:net needs two halves. */
	{ "everything", "0.0.0.0/0, ::/0", "192.0.2.1", "portcullis", 0, 0 },
};

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct dstr d;
	char buf[8192];
	size_t n;

	if (f == NULL)
		return NULL;
	dstr_init(&d);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		dstr_append(&d, buf, n);
	fclose(f);
	*len = d.len;
	return dstr_steal(&d);
}

static void
write_file(const char *path, const char *s, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(s, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* Compares out with t/golden/file; says which line differs. */
static void
check_golden(const char *file, const char *out, size_t len)
{
	const char *top = getenv("top_srcdir");
	char path[1024];
	size_t glen = 0, i, line = 1;
	char *g;

	snprintf(path, sizeof(path), "%s/t/golden/%s", top ? top : ".", file);
	if (getenv("PC_UPDATE_GOLDEN") != NULL) {
		write_file(path, out, len);
		return;
	}
	g = read_file(path, &glen);
	if (g == NULL)
		fail_msg("cannot read %s (set top_srcdir; PC_UPDATE_GOLDEN=1 "
		    "creates it)", path);
	for (i = 0; i < len && i < glen && out[i] == g[i]; i++)
		line += out[i] == '\n';
	if (i != len || i != glen) {
		char keep[1024];

		snprintf(keep, sizeof(keep), "test_rules.%s", file);
		write_file(keep, out, len);
		free(g);
		fail_msg("%s differs from the output at line %zu (output "
		    "kept in %s)", path, line, keep);
	}
	free(g);
}

static struct pc_addr *
parse_addrs(const char *s, size_t *n)
{
	char *copy = xstrdup(s), *save = NULL, *tok;
	struct pc_addr *v = xmalloc(sizeof(*v));
	char err[256];

	*n = 0;
	for (tok = strtok_r(copy, ", ", &save); tok != NULL;
	    tok = strtok_r(NULL, ", ", &save)) {
		v = xrealloc(v, (*n + 1) * sizeof(*v));
		if (pc_addr_parse(tok, &v[*n], err, sizeof(err)) < 0)
			fail_msg("%s: %s", tok, err);
		(*n)++;
	}
	free(copy);
	return v;
}

/*
 * Every token of out that reads as an address or network must be an
 * allowed address or inside a subscriber network of the input.  Catches
 * a renderer that invents, truncates or mixes up addresses.
 */
static void
check_only_input(const char *out, const struct rules_input *in)
{
	char *copy = xstrdup(out), *save = NULL, *tok;
	char err[256];

	for (tok = strtok_r(copy, " \t\n,{}!;", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t\n,{}!;", &save)) {
		struct pc_net net;
		size_t i;
		int ok = 0;

		if (strpbrk(tok, ".:") == NULL ||
		    pc_net_parse(tok, &net, err, sizeof(err)) < 0)
			continue;
		for (i = 0; i < in->n_allowed && !ok; i++)
			ok = pc_addr_cmp(&net.addr, &in->allowed[i]) == 0 &&
			    net.prefix == (net.addr.family == AF_INET ? 32 :
			    128);
		for (i = 0; i < in->subscribers->n && !ok; i++)
			ok = in->subscribers->v[i].prefix <= net.prefix &&
			    pc_net_contains(&in->subscribers->v[i],
			    &net.addr);
		if (!ok)
			fail_msg("rendered %s, which is not in the input", tok);
	}
	free(copy);
}

static void
test_golden(void **state)
{
	size_t c, f;

	(void)state;
	for (c = 0; c < PC_ARRAY_LEN(golden_cases); c++) {
		const struct golden_case *gc = &golden_cases[c];
		struct rules_input in = { 0 };
		struct pc_netlist subs;
		struct pc_addr *v;
		size_t n;
		char err[256];

		pc_netlist_init(&subs);
		assert_int_equal(pc_netlist_add(&subs, gc->subs, err,
		    sizeof(err)), 0);
		v = parse_addrs(gc->allowed, &n);
		in.allowed = v;
		in.n_allowed = n;
		in.subscribers = &subs;
		in.nft_table = gc->table;
		in.hook_output = gc->hook_output;
		in.block_drop = gc->block_drop;
		for (f = 0; f < PC_ARRAY_LEN(exts); f++) {
			struct dstr out, again;
			char file[128];

			dstr_init(&out);
			dstr_init(&again);
			assert_int_equal(rules_render((enum rules_format)f, &in,
			    &out, err, sizeof(err)), 0);
			snprintf(file, sizeof(file), "%s.%s", gc->name,
			    exts[f]);
			check_golden(file, out.buf, out.len);
			check_only_input(out.buf, &in);
			/* Same input, same bytes. */
			assert_int_equal(rules_render((enum rules_format)f, &in,
			    &again, err, sizeof(err)), 0);
			assert_int_equal(out.len, again.len);
			assert_memory_equal(out.buf, again.buf, out.len);
			dstr_free(&out);
			dstr_free(&again);
		}
		free(v);
		pc_netlist_free(&subs);
	}
}

/* ---- 10,000 entries ---- */

#define BIG_N 10000

/*
 * 8,000 IPv4 addresses in 10.0.0.0/8 and 2,000 IPv6 in 2001:db8::/32,
 * made in sorted order, each given twice, then shuffled with a fixed
 * seed.  expect gets the plain rendering, built with inet_ntop.
 */
static struct pc_addr *
big_input(size_t *n, struct dstr *expect)
{
	struct pc_addr *v = xcalloc(2 * BIG_N, sizeof(*v));
	uint32_t seed = 12345;
	size_t i;

	for (i = 0; i < BIG_N; i++) {
		struct pc_addr *a = &v[i];
		char buf[INET6_ADDRSTRLEN];

		if (i < 8000) {
			uint32_t x = 0x0a000000u + (uint32_t)i * 977u;

			a->family = AF_INET;
			a->a[0] = (unsigned char)(x >> 24);
			a->a[1] = (unsigned char)(x >> 16);
			a->a[2] = (unsigned char)(x >> 8);
			a->a[3] = (unsigned char)x;
		} else {
			a->family = AF_INET6;
			a->a[0] = 0x20;
			a->a[1] = 0x01;
			a->a[2] = 0x0d;
			a->a[3] = 0xb8;
			a->a[8] = (unsigned char)(i >> 8);
			a->a[14] = 1;
			a->a[15] = (unsigned char)i;
		}
		inet_ntop(a->family, a->a, buf, sizeof(buf));
		dstr_puts(expect, buf);
		dstr_putc(expect, '\n');
		v[BIG_N + i] = *a;
	}
	for (i = 2 * BIG_N - 1; i > 0; i--) {
		struct pc_addr t;
		size_t j;

		seed = seed * 1103515245u + 12345u;
		j = (seed >> 8) % (i + 1);
		t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
	*n = 2 * BIG_N;
	return v;
}

static size_t
count_lines(const char *s, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += s[i] == '\n';
	return k;
}

/* First and last lines, against the NAME.head and NAME.tail golden files. */
static void
check_head_tail(const char *name, const struct dstr *out, size_t lines)
{
	char file[128];
	size_t i, k = 0, start = out->len;

	for (i = 0; i < out->len && k < lines; i++)
		k += out->buf[i] == '\n';
	snprintf(file, sizeof(file), "%s.head", name);
	check_golden(file, out->buf, i);
	for (k = 0; start > 0; start--)
		if (out->buf[start - 1] == '\n' && k++ == lines)
			break;
	snprintf(file, sizeof(file), "%s.tail", name);
	check_golden(file, out->buf + start, out->len - start);
}

/*
 * The allowed host addresses of a rendering, one a line, in the order
 * they appear: each format's decoration ("\t\t\t", ",", "!", "add
 * SET "), stripped; networks skipped.
 */
static void
host_lines(const struct dstr *out, struct dstr *hosts)
{
	const char *p = out->buf, *end = out->buf + out->len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *s = p, *e = eol != NULL ? eol : end;
		struct pc_addr a;
		char tok[64];
		size_t l;

		while (s < e && (*s == '\t' || *s == '!'))
			s++;
		if (strncmp(s, "add portcullis_allow", 20) == 0)
			s += strlen("add portcullis_allow4_new ");
		if (e > s && e[-1] == ',')
			e--;
		l = (size_t)(e - s);
		if (l < sizeof(tok)) {
			memcpy(tok, s, l);
			tok[l] = '\0';
			if (pc_addr_parse(tok, &a, NULL, 0) == 0) {
				dstr_puts(hosts, tok);
				dstr_putc(hosts, '\n');
			}
		}
		p = e + 1;
	}
}

static void
test_big(void **state)
{
	/* Lines besides the 10,000 address lines, per format. */
	static const size_t extra_lines[] = { 37, 40, 8, 0 };
	struct rules_input in = { 0 };
	struct pc_netlist subs;
	struct dstr expect, out, hosts;
	struct pc_addr *v;
	size_t n, f;
	char err[256];

	(void)state;
	dstr_init(&expect);
	v = big_input(&n, &expect);
	pc_netlist_init(&subs);
	assert_int_equal(pc_netlist_add(&subs, "10.0.0.0/8, 2001:db8::/32",
	    err, sizeof(err)), 0);
	in.allowed = v;
	in.n_allowed = n;
	in.subscribers = &subs;
	for (f = 0; f < PC_ARRAY_LEN(exts); f++) {
		char name[64];

		dstr_init(&out);
		dstr_init(&hosts);
		assert_int_equal(rules_render((enum rules_format)f, &in, &out,
		    err, sizeof(err)), 0);
		if (getenv("PC_SHOW_LINES") != NULL)
			print_message("%s: %zu lines\n", exts[f],
			    count_lines(out.buf, out.len));
		assert_int_equal(count_lines(out.buf, out.len),
		    BIG_N + extra_lines[f]);
		snprintf(name, sizeof(name), "big.%s", exts[f]);
		check_head_tail(name, &out, 12);
		check_only_input(out.buf, &in);
		/* Every address once, sorted, duplicates gone. */
		host_lines(&out, &hosts);
		assert_int_equal(hosts.len, expect.len);
		assert_memory_equal(hosts.buf, expect.buf, hosts.len);
		if (f == RULES_PLAIN) {
			assert_int_equal(out.len, expect.len);
			assert_memory_equal(out.buf, expect.buf, out.len);
		}
		dstr_free(&hosts);
		dstr_free(&out);
	}
	free(v);
	dstr_free(&expect);
	pc_netlist_free(&subs);
}

/* ---- names and bad input ---- */

static void
test_format_names(void **state)
{
	static const struct {
		const char *in;
		int rc;
		enum rules_format f;
	} cases[] = {
		{ "nft", 0, RULES_NFT }, { "NFT", 0, RULES_NFT },
		{ "iptables", 0, RULES_IPTABLES }, { "pf", 0, RULES_PF },
		{ "plain", 0, RULES_PLAIN }, { "", -1, RULES_NFT },
		{ "nftables", -1, RULES_NFT }, { "ipset", -1, RULES_NFT },
		{ NULL, -1, RULES_NFT },
	};
	size_t i;

	(void)state;
	for (i = 0; i < PC_ARRAY_LEN(cases); i++) {
		enum rules_format f = RULES_PLAIN;

		assert_int_equal(rules_format_parse(cases[i].in, &f),
		    cases[i].rc);
		if (cases[i].rc == 0) {
			assert_int_equal(f, cases[i].f);
			assert_true(pc_strcaseeq(rules_format_name(f),
			    cases[i].in));
		}
	}
	assert_string_equal(rules_format_name((enum rules_format)99),
	    "unknown");
}

static void
test_bad_input(void **state)
{
	static const struct {
		const char *table;
		const char *errsub;	/* NULL: accepted */
	} cases[] = {
		{ "inet portcullis", NULL }, { "portcullis", NULL },
		{ "inet a-b_9", NULL }, { NULL, NULL },
		{ "ip portcullis", "family must be inet" },
		{ "ip6 portcullis", "family must be inet" },
		{ "inet  portcullis", "table name" },
		{ "inet ", "table name" }, { "", "table name" },
		{ "inet 9lives", "table name" },
		{ "inet port;cullis", "table name" },
		{ "inet a}\ndelete table inet filter", "" },
		{ "inet 0123456789012345678901234567890123456789012345678901"
		    "234567890123", "1 to 63" },
	};
	struct pc_netlist subs;
	struct pc_addr bad = { 0 };
	size_t i;
	char err[256];

	(void)state;
	pc_netlist_init(&subs);
	assert_int_equal(pc_netlist_add(&subs, "192.0.2.0/24", err,
	    sizeof(err)), 0);
	for (i = 0; i < PC_ARRAY_LEN(cases); i++) {
		struct rules_input in = { .subscribers = &subs,
		    .nft_table = cases[i].table };
		struct dstr out;
		int rc;

		dstr_init(&out);
		err[0] = '\0';
		rc = rules_render(RULES_NFT, &in, &out, err, sizeof(err));
		if (cases[i].errsub == NULL) {
			assert_int_equal(rc, 0);
		} else {
			assert_int_equal(rc, -1);
			assert_non_null(strstr(err, cases[i].errsub));
			assert_non_null(strstr(err, "NftTable"));
		}
		dstr_free(&out);
	}
	/* An address without a family is a bug upstream: refused. */
	{
		struct rules_input in = { .subscribers = &subs,
		    .allowed = &bad, .n_allowed = 1 };
		struct dstr out;

		dstr_init(&out);
		assert_int_equal(rules_render(RULES_PLAIN, &in, &out, err,
		    sizeof(err)), -1);
		assert_int_equal(out.len, 0);
		dstr_free(&out);
	}
	/* No subscriber networks, no allowed hosts: still a valid file. */
	{
		struct rules_input in = { 0 };
		struct dstr out;

		dstr_init(&out);
		assert_int_equal(rules_render(RULES_NFT, &in, &out, err,
		    sizeof(err)), 0);
		assert_non_null(strstr(out.buf, "chain port25"));
		assert_null(strstr(out.buf, "elements"));
		dstr_free(&out);
	}
	pc_netlist_free(&subs);
}

/* ---- deltas ---- */

struct delta_case {
	const char *name;
	enum rules_format f;
	const char *prev, *next;	/* allowed lists */
	const char *next_subs;		/* NULL: same as prev */
	int next_drop;
	size_t max_changes;
	int rc;
	size_t changes;
	const char *golden;		/* t/golden file for rc OK, or NULL */
};

static const struct delta_case delta_cases[] = {
	{ "one added", RULES_NFT, "192.0.2.10", "192.0.2.10, 192.0.2.11",
	    NULL, 0, 0, RULES_DELTA_OK, 1, NULL },
	{ "mixed", RULES_NFT, "192.0.2.10, 192.0.2.9, 2001:db8::25, "
	    "2001:db8::26", "192.0.2.11, 192.0.2.9, 2001:db8::27, "
	    "2001:db8::26, 192.0.2.9", NULL, 0, 0, RULES_DELTA_OK, 4,
	    "delta-mixed.nft" },
	{ "nothing changed", RULES_NFT, "192.0.2.10, 2001:db8::25",
	    "2001:db8::25, 192.0.2.10, 192.0.2.10", NULL, 0, 0,
	    RULES_DELTA_OK, 0, "delta-none.nft" },
	{ "from empty", RULES_NFT, "", "192.0.2.10", NULL, 0, 0,
	    RULES_DELTA_OK, 1, NULL },
	{ "to empty", RULES_NFT, "192.0.2.10, 2001:db8::1", "", NULL, 0, 0,
	    RULES_DELTA_OK, 2, NULL },
	{ "limit reached", RULES_NFT, "192.0.2.10", "192.0.2.11", NULL, 0,
	    1, RULES_DELTA_FULL, 2, NULL },
	{ "limit not reached", RULES_NFT, "192.0.2.10", "192.0.2.11",
	    NULL, 0, 2, RULES_DELTA_OK, 2, NULL },
	{ "subscribers changed", RULES_NFT, "192.0.2.10", "192.0.2.10",
	    "192.0.2.0/24, 198.51.100.0/24", 0, 0, RULES_DELTA_FULL, 0,
	    NULL },
	{ "block action changed", RULES_NFT, "192.0.2.10", "192.0.2.10",
	    NULL, 1, 0, RULES_DELTA_FULL, 0, NULL },
	{ "iptables", RULES_IPTABLES, "192.0.2.10", "192.0.2.11", NULL, 0,
	    0, RULES_DELTA_FULL, 2, NULL },
	{ "plain", RULES_PLAIN, "192.0.2.10", "192.0.2.11", NULL, 0, 0,
	    RULES_DELTA_FULL, 2, NULL },
};

static void
test_delta(void **state)
{
	size_t c;

	(void)state;
	for (c = 0; c < PC_ARRAY_LEN(delta_cases); c++) {
		const struct delta_case *dc = &delta_cases[c];
		struct pc_netlist s1, s2;
		struct rules_input a = { 0 }, b = { 0 };
		struct pc_addr *pv, *nv;
		size_t pn, nn, changes = 99;
		struct dstr out;
		char err[256];
		int rc;

		print_message("delta: %s\n", dc->name);
		pc_netlist_init(&s1);
		pc_netlist_init(&s2);
		assert_int_equal(pc_netlist_add(&s1, "192.0.2.0/24, "
		    "2001:db8::/32", err, sizeof(err)), 0);
		assert_int_equal(pc_netlist_add(&s2, dc->next_subs != NULL ?
		    dc->next_subs : "2001:db8::/32 192.0.2.0/24", err,
		    sizeof(err)), 0);
		pv = parse_addrs(dc->prev, &pn);
		nv = parse_addrs(dc->next, &nn);
		a.allowed = pv;
		a.n_allowed = pn;
		a.subscribers = &s1;
		b.allowed = nv;
		b.n_allowed = nn;
		b.subscribers = &s2;
		b.block_drop = dc->next_drop;
		dstr_init(&out);
		rc = rules_render_delta(dc->f, &a, &b, dc->max_changes, &out,
		    &changes, err, sizeof(err));
		assert_int_equal(rc, dc->rc);
		assert_int_equal(changes, dc->changes);
		if (rc == RULES_DELTA_FULL)
			assert_int_equal(out.len, 0);
		if (rc == RULES_DELTA_OK) {
			struct pc_netlist none;
			struct rules_input both = b;
			struct pc_addr *all = xcalloc(pn + nn + 1,
			    sizeof(*all));

			/* Never an address that is in neither list. */
			memcpy(all, pv, pn * sizeof(*all));
			memcpy(all + pn, nv, nn * sizeof(*all));
			pc_netlist_init(&none);
			both.allowed = all;
			both.n_allowed = pn + nn;
			both.subscribers = &none;
			check_only_input(out.buf, &both);
			free(all);
		}
		if (dc->golden != NULL)
			check_golden(dc->golden, out.buf, out.len);
		dstr_free(&out);
		free(pv);
		free(nv);
		pc_netlist_free(&s1);
		pc_netlist_free(&s2);
	}
}

/* 600 additions: commands of at most 256 elements each, all present. */
static void
test_delta_chunks(void **state)
{
	struct pc_netlist s;
	struct rules_input a = { 0 }, b = { 0 };
	struct pc_addr v[600];
	struct dstr out;
	size_t i, changes, commas = 0, cmds = 0;
	char err[256];

	(void)state;
	pc_netlist_init(&s);
	assert_int_equal(pc_netlist_add(&s, "10.0.0.0/8", err, sizeof(err)),
	    0);
	memset(v, 0, sizeof(v));
	for (i = 0; i < 600; i++) {
		v[i].family = AF_INET;
		v[i].a[0] = 10;
		v[i].a[2] = (unsigned char)(i >> 8);
		v[i].a[3] = (unsigned char)i;
	}
	a.subscribers = b.subscribers = &s;
	b.allowed = v;
	b.n_allowed = 600;
	dstr_init(&out);
	assert_int_equal(rules_render_delta(RULES_NFT, &a, &b, 0, &out,
	    &changes, err, sizeof(err)), RULES_DELTA_OK);
	assert_int_equal(changes, 600);
	for (i = 0; i < out.len; i++) {
		commas += out.buf[i] == ',';
		cmds += strncmp(out.buf + i, "add element inet portcullis "
		    "allowed_v4 { ", 40) == 0;
	}
	assert_int_equal(cmds, 3);
	/* 597 between elements, one in the comment line. */
	assert_int_equal(commas, 600 - 3 + 1);
	assert_non_null(strstr(out.buf, " 10.0.2.87 }\n"));
	dstr_free(&out);
	pc_netlist_free(&s);
}

static void
test_section(void **state)
{
	static const char text[] = "# head\n"
	    "# portcullis-section: ipset\ncreate a\nadd a 1\n"
	    "# portcullis-section: iptables\n*filter\nCOMMIT\n"
	    "# portcullis-section: ip6tables\nlast";
	static const struct {
		const char *name;
		int rc;
		const char *want;
	} cases[] = {
		{ "ipset", 0, "create a\nadd a 1\n" },
		{ "iptables", 0, "*filter\nCOMMIT\n" },
		{ "ip6tables", 0, "last" },
		{ "ip", -1, "" }, { "ipsetx", -1, "" }, { "", -1, "" },
		{ "head", -1, "" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < PC_ARRAY_LEN(cases); i++) {
		struct dstr out;

		dstr_init(&out);
		assert_int_equal(rules_section(text, sizeof(text) - 1,
		    cases[i].name, &out), cases[i].rc);
		assert_string_equal(out.buf, cases[i].want);
		dstr_free(&out);
	}
}

/* ---- applying, on real files with real commands ---- */

static char tmpdir[64];

static int
apply_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_rules.XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
apply_teardown(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
path_in(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

static void
assert_file(const char *path, const char *want)
{
	size_t n;
	char *got = read_file(path, &n);

	if (want == NULL) {
		assert_null(got);
		return;
	}
	if (got == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	assert_string_equal(got, want);
	free(got);
}

static void
test_apply(void **state)
{
	struct rules_apply_opts o = { 0 };
	char rf[512], prev[512], cmd[1024], err[512];
	time_t t0;

	(void)state;
	path_in(rf, sizeof(rf), "egress.rules");
	path_in(prev, sizeof(prev), "egress.rules.prev");
	o.rule_file = rf;

	/* No command: just written. */
	assert_int_equal(rules_apply(&o, "one\n", 4, err, sizeof(err)), 0);
	assert_file(rf, "one\n");

	/* The command sees the new file in place, under its own name. */
	snprintf(cmd, sizeof(cmd), "test \"$PORTCULLIS_RULE_FILE\" = '%s' && "
	    "grep -qx two \"$PORTCULLIS_RULE_FILE\"", rf);
	o.apply_command = cmd;
	assert_int_equal(rules_apply(&o, "two\n", 4, err, sizeof(err)), 0);
	assert_file(rf, "two\n");
	assert_file(prev, NULL);

	/* A failing command: the old file comes back, the output is told. */
	o.apply_command = "echo 'nft: syntax error'; echo line2 >&2; exit 3";
	assert_int_equal(rules_apply(&o, "three\n", 6, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "exit status 3"));
	assert_non_null(strstr(err, "nft: syntax error"));
	assert_non_null(strstr(err, "line2"));
	assert_null(strchr(err, '\n'));
	assert_file(rf, "two\n");
	assert_file(prev, NULL);

	/* A command that hangs is killed at the time limit. */
	o.apply_command = "sleep 30";
	o.timeout = 1;
	t0 = time(NULL);
	assert_int_equal(rules_apply(&o, "four\n", 5, err, sizeof(err)), -1);
	assert_true(time(NULL) - t0 < 10);
	assert_non_null(strstr(err, "timed out"));
	assert_file(rf, "two\n");

	/* Killed by a signal. */
	o.apply_command = "kill -TERM $$";
	assert_int_equal(rules_apply(&o, "five\n", 5, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "signal"));
	assert_file(rf, "two\n");

	/* A first apply that fails leaves no rule file at all. */
	path_in(rf, sizeof(rf), "first.rules");
	o.apply_command = "exit 1";
	assert_int_equal(rules_apply(&o, "x\n", 2, err, sizeof(err)), -1);
	assert_file(rf, NULL);

	/* Huge output is capped, not a crash. */
	o.apply_command = "head -c 1000000 /dev/zero | tr '\\0' x; exit 1";
	o.timeout = 0;
	assert_int_equal(rules_apply(&o, "x\n", 2, err, sizeof(err)), -1);
	assert_true(strlen(err) < sizeof(err));

	/* A directory that does not exist. */
	path_in(rf, sizeof(rf), "no/such/dir/egress.rules");
	assert_int_equal(rules_apply(&o, "x\n", 2, err, sizeof(err)), -1);
	o.rule_file = NULL;
	assert_int_equal(rules_apply(&o, "x\n", 2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "RuleFile"));
}

static void
test_apply_delta(void **state)
{
	struct rules_apply_opts o = { 0 };
	char rf[300], delta[300], marker[300], cmd[1024], dcmd[1024];
	char err[512];

	(void)state;
	path_in(rf, sizeof(rf), "d.rules");
	path_in(delta, sizeof(delta), "d.rules.delta");
	path_in(marker, sizeof(marker), "applied");
	snprintf(cmd, sizeof(cmd), "echo full >> '%s'", marker);
	o.rule_file = rf;
	o.apply_command = cmd;
	assert_int_equal(rules_apply(&o, "full1\n", 6, err, sizeof(err)), 0);
	assert_file(marker, "full\n");

	/* The delta runs; RuleFile becomes the full text; ApplyCommand is
	 * not run again; the delta file is gone afterwards. */
	snprintf(dcmd, sizeof(dcmd), "grep -qx DELTA \"$PORTCULLIS_DELTA_FILE\""
	    " && test \"$PORTCULLIS_DELTA_FILE\" = '%s' && echo delta >> '%s'",
	    delta, marker);
	o.delta_command = dcmd;
	assert_int_equal(rules_apply_delta(&o, "DELTA\n", 6, "full2\n", 6,
	    err, sizeof(err)), 0);
	assert_file(rf, "full2\n");
	assert_file(marker, "full\ndelta\n");
	assert_file(delta, NULL);

	/* The delta fails: the full text is applied instead. */
	o.delta_command = "echo 'no such element'; exit 1";
	assert_int_equal(rules_apply_delta(&o, "DELTA\n", 6, "full3\n", 6,
	    err, sizeof(err)), 1);
	assert_non_null(strstr(err, "no such element"));
	assert_non_null(strstr(err, "in full"));
	assert_file(rf, "full3\n");
	assert_file(marker, "full\ndelta\nfull\n");
	assert_file(delta, NULL);

	/* Both fail: the previous file stays. */
	o.apply_command = "exit 2";
	assert_int_equal(rules_apply_delta(&o, "DELTA\n", 6, "full4\n", 6,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "exit status 2"));
	assert_file(rf, "full3\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_big),
		cmocka_unit_test(test_format_names),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_delta),
		cmocka_unit_test(test_delta_chunks),
		cmocka_unit_test(test_section),
		cmocka_unit_test_setup_teardown(test_apply, apply_setup,
		    apply_teardown),
		cmocka_unit_test_setup_teardown(test_apply_delta, apply_setup,
		    apply_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
