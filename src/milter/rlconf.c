/*
 * rlconf.c - parsing of the rate-limit keys and RateLimitMap, and the
 * choice of the limits that apply to an account.
 *
 * RateLimit names one or more kinds ("messages 200/1h, recipients
 * 1000/1d"); a kind the file does not name keeps its built-in default,
 * and "0" turns a kind off.  A RateLimitMap entry replaces the limits of
 * the kinds it names and keeps the others, or says "unlimited".
 * RateLimitBackend says where the counters live (rlstore.c).
 */
#include "rlconf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mconf.h"
#include "rlredis.h"
#include "util.h"

static const char *const action_names[] = {
	"tempfail", "reject", "quarantine", "log", NULL
};

/* Built-in RateLimit defaults per kind (SPEC: messages 200/1h, recipients 1000/1d). */
static const struct pc_rate default_rate[RL_NLIMITS] = {
	{ 200, 3600 }, { 1000, 86400 }, { 0, 0 },
};

static struct rl_conf *
rlc(void *obj)
{
	struct mconf *c = obj;

	if (c->rl == NULL) {
		c->rl = xcalloc(1, sizeof(*c->rl));
		c->rl->control_socket = xstrdup(LIMITS_CONTROL_DEFAULT);
		c->rl->state_file = xstrdup(LIMITS_STATE_DEFAULT);
	}
	return c->rl;
}

static int
kind_parse(const char *s, size_t n)
{
	int k;

	for (k = 0; k < RL_NLIMITS; k++)
		if (strlen(rl_kind_names[k]) == n &&
		    strncasecmp(s, rl_kind_names[k], n) == 0)
			return k;
	return -1;
}

/*
 * "KIND RATE" items separated by sep into rate[]/set[].  allow_unlimited:
 * the single word "unlimited" (returns 1).
 */
static int
parse_items(const char *v, char sep, struct pc_rate *rate, int *set,
    int allow_unlimited, char *err, size_t errlen)
{
	char *copy = xstrdup(v), *item, *next, *sp;
	int rc = 0, k;

	if (allow_unlimited && strcasecmp(pc_str_trim(copy), "unlimited") == 0) {
		free(copy);
		return 1;
	}
	for (item = copy; item != NULL; item = next) {
		char *word, *ratestr;

		if ((next = strchr(item, sep)) != NULL)
			*next++ = '\0';
		word = pc_str_trim(item);
		if (*word == '\0') {
			rc = pc_err(err, errlen, "empty item in \"%s\"", v);
			break;
		}
		for (sp = word; *sp != '\0' && !isspace((unsigned char)*sp); sp++)
			;
		if ((k = kind_parse(word, (size_t)(sp - word))) < 0) {
			rc = pc_err(err, errlen, "\"%.*s\" is not messages, "
			    "recipients or bytes", (int)(sp - word), word);
			break;
		}
		ratestr = pc_str_trim(sp);
		if (*ratestr == '\0') {
			rc = pc_err(err, errlen, "%s needs a rate such as "
			    "100/1h", rl_kind_names[k]);
			break;
		}
		if (pc_rate_parse(ratestr, &rate[k], err, errlen) < 0) {
			rc = -1;
			break;
		}
		set[k] = 1;
	}
	free(copy);
	return rc;
}

int
limits_parse_ratelimit(void *obj, const char *v, char *err, size_t errlen)
{
	struct rl_conf *r = rlc(obj);

	return parse_items(v, ',', r->rate, r->rate_set, 0, err, errlen);
}

static int
set_string(char **dst, const char *v, int none_ok)
{
	free(*dst);
	*dst = none_ok && strcasecmp(v, "none") == 0 ? NULL : xstrdup(v);
	return 0;
}

int
limits_parse_map(void *obj, const char *v, char *err, size_t errlen)
{
	(void)err; (void)errlen;
	return set_string(&rlc(obj)->map_path, v, 0);
}

int
limits_parse_action(void *obj, const char *v, char *err, size_t errlen)
{
	int i;

	for (i = 0; action_names[i] != NULL; i++)
		if (strcasecmp(v, action_names[i]) == 0) {
			rlc(obj)->action = i;
			return 0;
		}
	return pc_err(err, errlen, "\"%s\" is not one of tempfail, reject, "
	    "quarantine, log", v);
}

int
limits_parse_suspend(void *obj, const char *v, char *err, size_t errlen)
{
	return pc_rate_parse(v, &rlc(obj)->suspend_after, err, errlen);
}

int
limits_parse_distinct(void *obj, const char *v, char *err, size_t errlen)
{
	return pc_rate_parse(v, &rlc(obj)->distinct, err, errlen);
}

int
limits_parse_notify(void *obj, const char *v, char *err, size_t errlen)
{
	(void)err; (void)errlen;
	return set_string(&rlc(obj)->notify, v, 1);
}

int
limits_split_hostport(const char *s, char *host, size_t hlen, unsigned *port)
{
	const char *colon, *h = s;
	size_t n;
	char *end;
	unsigned long p;

	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return -1;
		h = s + 1;
		n = (size_t)(close - h);
		colon = close + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return -1;
		n = (size_t)(colon - s);
	}
	if (n == 0 || n >= hlen)
		return -1;
	memcpy(host, h, n);
	host[n] = '\0';
	if (!isdigit((unsigned char)colon[1]))
		return -1;
	p = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || p == 0 || p > 65535)
		return -1;
	*port = (unsigned)p;
	return 0;
}

int
limits_parse_metrics(void *obj, const char *v, char *err, size_t errlen)
{
	char host[64];
	unsigned port;
	struct pc_addr a;

	if (strcasecmp(v, "none") != 0 &&
	    (limits_split_hostport(v, host, sizeof(host), &port) < 0 ||
	    pc_addr_parse(host, &a, NULL, 0) < 0))
		return pc_err(err, errlen, "\"%s\" is not ADDRESS:PORT, e.g. "
		    "127.0.0.1:9187", v);
	return set_string(&rlc(obj)->metrics_listen, v, 1);
}

int
limits_parse_control(void *obj, const char *v, char *err, size_t errlen)
{
	if (strcasecmp(v, "none") != 0 && v[0] != '/')
		return pc_err(err, errlen, "\"%s\" is not an absolute path "
		    "(or none)", v);
	return set_string(&rlc(obj)->control_socket, v, 1);
}

int
limits_parse_state(void *obj, const char *v, char *err, size_t errlen)
{
	if (strcasecmp(v, "none") != 0 && v[0] != '/')
		return pc_err(err, errlen, "\"%s\" is not an absolute path "
		    "(or none)", v);
	return set_string(&rlc(obj)->state_file, v, 1);
}

/* memory, or redis://HOST:PORT/DB (rlredis_parse.c checks the URL). */
int
limits_parse_backend(void *obj, const char *v, char *err, size_t errlen)
{
	struct rl_conf *r = rlc(obj);
	struct rlredis_target t;

	if (strcasecmp(v, "memory") == 0) {
		free(r->redis);
		r->redis = NULL;
		return 0;
	}
	if (rlredis_parse_url(v, &t, err, errlen) < 0)
		return -1;
	if (r->redis == NULL)
		r->redis = xmalloc(sizeof(*r->redis));
	*r->redis = t;
	return 0;
}

void
limits_free(void *obj)
{
	struct mconf *c = obj;
	struct rl_conf *r = c->rl;

	if (r == NULL)
		return;
	free(r->map_path);
	if (r->map != NULL)
		pc_map_free(r->map);
	free(r->notify);
	free(r->metrics_listen);
	free(r->control_socket);
	free(r->state_file);
	free(r->redis);
	free(r);
	c->rl = NULL;
}

int
limits_parse_spec(const char *spec, struct acct_limits *out, char *err,
    size_t errlen)
{
	int set[RL_NLIMITS] = { 0 }, k, rc;
	struct pc_rate rate[RL_NLIMITS];

	memset(rate, 0, sizeof(rate));
	rc = parse_items(spec, ';', rate, set, 1, err, errlen);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		out->unlimited = 1;
		return 0;
	}
	for (k = 0; k < RL_NLIMITS; k++)
		if (set[k]) {
			out->rate[k] = rate[k];
			rl_limit_set(&out->l[k], &rate[k]);
		}
	return 0;
}

struct check_arg {
	const char *path;
	const struct pc_map *map;
	char *err;
	size_t errlen;
	int bad;
};

static void
check_entry(const char *key, const char *value, void *arg)
{
	struct check_arg *a = arg;
	struct acct_limits l;
	char why[256];

	if (a->bad)
		return;
	memset(&l, 0, sizeof(l));
	if (limits_parse_spec(value, &l, why, sizeof(why)) < 0) {
		a->bad = 1;
		pc_err(a->err, a->errlen, "%s:%u: %s: %s", a->path,
		    pc_map_line(a->map, key), key, why);
	}
}

int
limits_finish(struct mconf *c, const char *where, char *err, size_t errlen)
{
	struct rl_conf *r = rlc(c);
	int k;

	for (k = 0; k < RL_NLIMITS; k++) {
		if (!r->rate_set[k])
			r->rate[k] = default_rate[k];
		rl_limit_set(&r->dflt[k], &r->rate[k]);
	}
	if (r->map_path != NULL) {
		struct check_arg a = { r->map_path, NULL, err, errlen, 0 };

		if (pc_map_load(r->map_path, &r->map, err, errlen) < 0)
			return -1;
		a.map = r->map;
		pc_map_foreach(r->map, check_entry, &a);
		if (a.bad)
			return -1;
	}
	if (r->notify != NULL && r->notify[0] != '/')
		return pc_err(err, errlen, "%s: NotifyCommand: \"%s\" must start "
		    "with the absolute path of a program", where, r->notify);
	return 0;
}

void
limits_for(const struct mconf *c, const char *account, struct acct_limits *out)
{
	const struct rl_conf *r = c->rl;
	const char *spec = NULL, *at;
	char dom[PC_MAP_LINE_MAX > 512 ? 512 : PC_MAP_LINE_MAX];

	memset(out, 0, sizeof(*out));
	memcpy(out->l, r->dflt, sizeof(out->l));
	memcpy(out->rate, r->rate, sizeof(out->rate));
	if (r->map == NULL)
		return;
	spec = pc_map_get(r->map, account);
	if (spec == NULL && (at = strrchr(account, '@')) != NULL &&
	    strlen(at) < sizeof(dom)) {
		snprintf(dom, sizeof(dom), "%s", at);
		spec = pc_map_get(r->map, dom);
	}
	/* Checked at load: a parse error here cannot happen. */
	if (spec != NULL && limits_parse_spec(spec, out, NULL, 0) < 0)
		memcpy(out->l, r->dflt, sizeof(out->l));
}
