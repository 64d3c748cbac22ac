/*
 * rules.c - firewall rules: format names, the input made canonical for
 * the renderers (sorted, duplicates out), dispatch to one renderer per
 * format (rules_nft.c, rules_iptables.c, rules_pf.c, rules_plain.c), the
 * nft delta, and applying: RuleFile written atomically, ApplyCommand run
 * with a time limit, the previous file put back when it fails.
 */
#include "rules.h"
#include "rules_int.h"
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const format_names[] = {
	[RULES_NFT] = "nft",
	[RULES_IPTABLES] = "iptables",
	[RULES_PF] = "pf",
	[RULES_PLAIN] = "plain",
};

int
rules_format_parse(const char *name, enum rules_format *out)
{
	size_t i;

	for (i = 0; name != NULL && i < PC_ARRAY_LEN(format_names); i++) {
		if (pc_strcaseeq(name, format_names[i])) {
			*out = (enum rules_format)i;
			return 0;
		}
	}
	return -1;
}

const char *
rules_format_name(enum rules_format f)
{
	if ((size_t)f >= PC_ARRAY_LEN(format_names))
		return "unknown";
	return format_names[f];
}

/* ---- the input made canonical ---- */

static int
addr_qcmp(const void *a, const void *b)
{
	return pc_addr_cmp(a, b);
}

/* By family (v4 first), then address, then prefix: a network sorts
 * before every network it contains. */
static int
net_qcmp(const void *a, const void *b)
{
	const struct pc_net *x = a, *y = b;
	int c = pc_addr_cmp(&x->addr, &y->addr);

	if (c != 0)
		return c;
	return x->prefix < y->prefix ? -1 : x->prefix > y->prefix;
}

static int
net_inside(const struct pc_net *outer, const struct pc_net *inner)
{
	return outer->prefix <= inner->prefix &&
	    pc_net_contains(outer, &inner->addr);
}

/* NftTable: "inet NAME" or a bare NAME.  Only inet holds v4 and v6 rules
 * in one table; the name is kept to what nft reads as an identifier. */
static int
parse_table(const char *spec, char *name, size_t namelen, char *err,
    size_t errlen)
{
	const char *s = spec != NULL ? spec : "inet portcullis";
	const char *sp = strchr(s, ' ');
	size_t i, n;

	if (sp != NULL) {
		if ((size_t)(sp - s) != 4 || strncmp(s, "inet", 4) != 0)
			return pc_err(err, errlen, "NftTable: family must be "
			    "inet (one table holds the IPv4 and IPv6 rules)");
		s = sp + 1;
	}
	n = strlen(s);
	if (n == 0 || n >= namelen || n > 63)
		return pc_err(err, errlen, "NftTable: table name must be 1 "
		    "to 63 characters");
	for (i = 0; i < n; i++) {
		char c = s[i];
		int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');

		if (!alpha && (i == 0 || !((c >= '0' && c <= '9') ||
		    c == '_' || c == '-')))
			return pc_err(err, errlen, "NftTable: table name must "
			    "be a letter then letters, digits, '_' or '-'");
	}
	memcpy(name, s, n + 1);
	return 0;
}

static int
sorted_unique(const struct pc_addr *v, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++)
		if (rules_addr_cmp(&v[i - 1], &v[i]) >= 0)
			return 0;
	return 1;
}

int
rules_prep_init(struct rules_prep *p, const struct rules_input *in,
    char *err, size_t errlen)
{
	size_t i, k;

	memset(p, 0, sizeof(*p));
	if (parse_table(in->nft_table, p->table, sizeof(p->table), err,
	    errlen) < 0)
		return -1;
	p->hook_output = in->hook_output != 0;
	p->block_drop = in->block_drop != 0;
	if (in->n_allowed > 0 && in->allowed == NULL)
		return pc_err(err, errlen, "allowed addresses missing");
	for (i = 0; i < in->n_allowed; i++)
		if (in->allowed[i].family != AF_INET &&
		    in->allowed[i].family != AF_INET6)
			return pc_err(err, errlen, "allowed address %zu has "
			    "no address family", i);

	if (sorted_unique(in->allowed, in->n_allowed)) {
		/* The registry's usual case: borrow, do not copy a million. */
		static struct pc_addr none;

		p->allowed = in->n_allowed > 0 ?
		    (struct pc_addr *)in->allowed : &none;
		p->n_allowed = in->n_allowed;
		while (p->n_allowed4 < p->n_allowed &&
		    p->allowed[p->n_allowed4].family == AF_INET)
			p->n_allowed4++;
	} else {
		p->own_allowed = 1;
		p->allowed = xmalloc((in->n_allowed + 1) *
		    sizeof(*p->allowed));
		memcpy(p->allowed, in->allowed,
		    in->n_allowed * sizeof(*p->allowed));
		qsort(p->allowed, in->n_allowed, sizeof(*p->allowed),
		    addr_qcmp);
		for (i = k = 0; i < in->n_allowed; i++) {
			if (k > 0 && pc_addr_cmp(&p->allowed[k - 1],
			    &p->allowed[i]) == 0)
				continue;
			p->allowed[k++] = p->allowed[i];
			if (p->allowed[i].family == AF_INET)
				p->n_allowed4 = k;
		}
		p->n_allowed = k;
	}

	k = in->subscribers != NULL ? in->subscribers->n : 0;
	p->subs = xmalloc((k + 1) * sizeof(*p->subs));
	if (k > 0)
		memcpy(p->subs, in->subscribers->v, k * sizeof(*p->subs));
	qsort(p->subs, k, sizeof(*p->subs), net_qcmp);
	p->n_subs = 0;
	for (i = 0; i < k; i++) {
		/* Sorted and CIDR: only the last kept network can hold it. */
		if (p->n_subs > 0 && net_inside(&p->subs[p->n_subs - 1],
		    &p->subs[i]))
			continue;
		p->subs[p->n_subs++] = p->subs[i];
		if (p->subs[i].addr.family == AF_INET)
			p->n_subs4 = p->n_subs;
	}
	return 0;
}

void
rules_prep_free(struct rules_prep *p)
{
	if (p->own_allowed)
		free(p->allowed);
	free(p->subs);
	memset(p, 0, sizeof(*p));
}

void
rules_put_addr(struct dstr *out, const struct pc_addr *a)
{
	char buf[PC_ADDR_STRLEN];
	size_t o = 0;
	int k;

	if (a->family != AF_INET) {
		pc_addr_format(a, buf, sizeof(buf));
		dstr_puts(out, buf);
		return;
	}
	/* A million of these per render: skip snprintf. */
	for (k = 0; k < 4; k++) {
		unsigned v = a->a[k];

		if (k > 0)
			buf[o++] = '.';
		if (v >= 100)
			buf[o++] = (char)('0' + v / 100);
		if (v >= 10)
			buf[o++] = (char)('0' + v / 10 % 10);
		buf[o++] = (char)('0' + v % 10);
	}
	dstr_append(out, buf, o);
}

void
rules_put_net(struct dstr *out, const struct pc_net *n)
{
	rules_put_addr(out, &n->addr);
	dstr_appendf(out, "/%u", n->prefix);
}

int
rules_render(enum rules_format f, const struct rules_input *in,
    struct dstr *out, char *err, size_t errlen)
{
	struct rules_prep p;

	if ((size_t)f >= PC_ARRAY_LEN(format_names))
		return pc_err(err, errlen, "unknown rule format %d", (int)f);
	if (rules_prep_init(&p, in, err, errlen) < 0)
		return -1;
	switch (f) {
	case RULES_NFT:
		rules_render_nft(&p, out);
		break;
	case RULES_IPTABLES:
		rules_render_iptables(&p, out);
		break;
	case RULES_PF:
		rules_render_pf(&p, out);
		break;
	case RULES_PLAIN:
		rules_render_plain(&p, out);
		break;
	}
	rules_prep_free(&p);
	return 0;
}

/* ---- deltas ---- */

static int
same_structure(const struct rules_prep *a, const struct rules_prep *b)
{
	size_t i;

	if (strcmp(a->table, b->table) != 0 ||
	    a->hook_output != b->hook_output ||
	    a->block_drop != b->block_drop || a->n_subs != b->n_subs)
		return 0;
	for (i = 0; i < a->n_subs; i++)
		if (net_qcmp(&a->subs[i], &b->subs[i]) != 0)
			return 0;
	return 1;
}

int
rules_render_delta(enum rules_format f, const struct rules_input *prev,
    const struct rules_input *next, size_t max_changes, struct dstr *out,
    size_t *changes, char *err, size_t errlen)
{
	struct rules_prep a, b;
	size_t n;
	int rc = RULES_DELTA_FULL;

	if (changes != NULL)
		*changes = 0;
	if (rules_prep_init(&a, prev, err, errlen) < 0)
		return -1;
	if (rules_prep_init(&b, next, err, errlen) < 0) {
		rules_prep_free(&a);
		return -1;
	}
	if (f == RULES_NFT && same_structure(&a, &b)) {
		size_t mark = out->len;

		/* Rendering is one walk that also counts: render, then take
		 * it back if it is too big to be worth a delta. */
		n = rules_render_nft_delta(&a, &b, out);
		rc = RULES_DELTA_OK;
		if (max_changes > 0 && n > max_changes) {
			out->len = mark;
			out->buf[mark] = '\0';
			rc = RULES_DELTA_FULL;
		}
	} else {
		n = rules_count_changes(&a, &b);
	}
	if (changes != NULL)
		*changes = n;
	rules_prep_free(&a);
	rules_prep_free(&b);
	return rc;
}

int
rules_section(const char *text, size_t len, const char *name,
    struct dstr *out)
{
	static const char marker[] = "# portcullis-section: ";
	size_t ml = sizeof(marker) - 1, nl = strlen(name), o = 0;
	int on = 0, found = 0;

	while (o < len) {
		const char *eol = memchr(text + o, '\n', len - o);
		size_t ll = eol != NULL ? (size_t)(eol - (text + o)) + 1 :
		    len - o;
		const char *l = text + o;

		if (ll > ml && memcmp(l, marker, ml) == 0) {
			size_t rest = ll - ml - (eol != NULL);

			on = rest == nl && memcmp(l + ml, name, nl) == 0;
			found |= on;
		} else if (on) {
			dstr_append(out, l, ll);
		}
		o += ll;
	}
	return found ? 0 : -1;
}

/* ---- applying ---- */

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
fsync_dir_of(const char *path)
{
	char dir[4096];
	char *slash;
	int fd;

	pc_strlcpy(dir, path, sizeof(dir));
	slash = strrchr(dir, '/');
	if (slash == NULL)
		pc_strlcpy(dir, ".", sizeof(dir));
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* Temp file beside path, fsync, rename over path, fsync the directory. */
int
rules_write(const char *path, const char *text, size_t len, char *err,
    size_t errlen)
{
	char tmp[4096];
	int fd, e;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >=
	    sizeof(tmp))
		return pc_err(err, errlen, "%s: path too long", path);
	fd = mkstemp(tmp);
	if (fd < 0)
		return pc_err(err, errlen, "%s: %s", tmp, strerror(errno));
	if (fchmod(fd, 0644) < 0 || write_all(fd, text, len) < 0 ||
	    fsync(fd) < 0) {
		e = errno;
		close(fd);
		unlink(tmp);
		return pc_err(err, errlen, "%s: %s", tmp, strerror(e));
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		e = errno;
		unlink(tmp);
		return pc_err(err, errlen, "%s: %s", path, strerror(e));
	}
	fsync_dir_of(path);
	return 0;
}

/* ApplyCommand and the delta command: spawn.c, with the time limit. */
static int
run_command(const char *what, const char *cmd, int timeout,
    const char *const *extra_env, char *err, size_t errlen)
{
	unsigned secs = timeout > 0 ? (unsigned)timeout : 120;

	return spawn_run(what, cmd, secs * 1000u, extra_env, err, errlen);
}

int
rules_apply(const struct rules_apply_opts *o, const char *text, size_t len,
    char *err, size_t errlen)
{
	char prev[4096], env_rule[4200];
	const char *env[2] = { env_rule, NULL };
	int had_old;

	if (o->rule_file == NULL || *o->rule_file == '\0')
		return pc_err(err, errlen, "RuleFile is not set");
	if ((size_t)snprintf(prev, sizeof(prev), "%s.prev", o->rule_file) >=
	    sizeof(prev))
		return pc_err(err, errlen, "%s: path too long", o->rule_file);
	snprintf(env_rule, sizeof(env_rule), "PORTCULLIS_RULE_FILE=%s",
	    o->rule_file);
	if (o->apply_command == NULL || *o->apply_command == '\0')
		return rules_write(o->rule_file, text, len, err, errlen);

	/* Keep the old file under a second name (a hard link: no moment
	 * without a RuleFile) until the command has succeeded. */
	if (unlink(prev) < 0 && errno != ENOENT)
		return pc_err(err, errlen, "%s: %s", prev, strerror(errno));
	had_old = link(o->rule_file, prev) == 0;
	if (!had_old && errno != ENOENT)
		return pc_err(err, errlen, "%s: cannot keep a copy: %s",
		    o->rule_file, strerror(errno));
	if (rules_write(o->rule_file, text, len, err, errlen) < 0) {
		if (had_old)
			unlink(prev);
		return -1;
	}
	if (run_command("ApplyCommand", o->apply_command, o->timeout, env,
	    err, errlen) < 0) {
		if (had_old)
			(void)rename(prev, o->rule_file);
		else
			(void)unlink(o->rule_file);
		fsync_dir_of(o->rule_file);
		return -1;
	}
	if (had_old)
		unlink(prev);
	return 0;
}

int
rules_apply_delta(const struct rules_apply_opts *o, const char *delta,
    size_t delta_len, const char *full, size_t full_len, char *err,
    size_t errlen)
{
	char path[4096], env_delta[4200], env_rule[4200], why[1024];
	const char *env[3] = { env_delta, env_rule, NULL };
	const char *cmd = o->delta_command != NULL ? o->delta_command :
	    "nft -f \"$PORTCULLIS_DELTA_FILE\"";
	char sub[1024];

	if (o->rule_file == NULL || *o->rule_file == '\0')
		return pc_err(err, errlen, "RuleFile is not set");
	if ((size_t)snprintf(path, sizeof(path), "%s.delta", o->rule_file) >=
	    sizeof(path))
		return pc_err(err, errlen, "%s: path too long", o->rule_file);
	snprintf(env_delta, sizeof(env_delta), "PORTCULLIS_DELTA_FILE=%s",
	    path);
	snprintf(env_rule, sizeof(env_rule), "PORTCULLIS_RULE_FILE=%s",
	    o->rule_file);

	if (rules_write(path, delta, delta_len, why, sizeof(why)) == 0 &&
	    run_command("delta command", cmd, o->timeout, env, why,
	    sizeof(why)) == 0) {
		unlink(path);
		if (full == NULL)
			return 0;
		/* The kernel holds the new state: make RuleFile say so. */
		return rules_write(o->rule_file, full, full_len, err, errlen);
	}
	unlink(path);
	if (full == NULL)
		return pc_err(err, errlen, "%s", why);
	if (rules_apply(o, full, full_len, sub, sizeof(sub)) < 0) {
		pc_err(err, errlen, "%s; then the full apply: %s", why, sub);
		return -1;
	}
	pc_err(err, errlen, "%s; applied in full instead", why);
	return 1;
}
