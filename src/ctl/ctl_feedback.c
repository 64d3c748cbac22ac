/*
 * ctl_feedback.c - `portcullisctl feedback list [--json]`: what
 * subscribers and visitors sent through the policy page's form or
 * POST /api/v1/feedback.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "dconf.h"
#include "log.h"
#include "registry.h"
#include "util.h"

static const char syn_list[] = "feedback list [--json]";

static void
when(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL)
		pc_strlcpy(buf, "?", len);
	else
		strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Free text shown on a terminal: control bytes become spaces. */
static void
print_clean(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s);
}

static void
json_field(struct dstr *d, const char *key, const char *v, int comma)
{
	dstr_appendf(d, "%s\"%s\":", comma ? "," : "", key);
	if (v == NULL) {
		dstr_puts(d, "null");
		return;
	}
	dstr_putc(d, '"');
	pc_json_escape(d, v, PC_LOG_NO_CAP);
	dstr_putc(d, '"');
}

int
ctl_feedback(struct ctl *ctl, int argc, char **argv)
{
	struct reg_feedback *v;
	struct registry *r;
	struct dconf *c;
	struct dstr d;
	char err[1024], at[32], *pos[1];
	size_t n, i, npos;
	int json = 0;
	const struct ctl_opt opts[] = { { "json", NULL, &json } };

	if (argc < 1 || strcmp(argv[0], "list") != 0)
		return ctl_usage(syn_list, "feedback: %s", argc < 1 ?
		    "missing command" : "unknown command");
	if (ctl_parse(syn_list, argc - 1, argv + 1, opts, PC_ARRAY_LEN(opts),
	    pos, 0, &npos) < 0)
		return CTL_USAGE;
	if ((c = ctl_load_conf(ctl)) == NULL)
		return CTL_FAIL;
	if ((r = registry_open(c->database, c->lifetime, err,
	    sizeof(err))) == NULL) {
		dconf_free(c);
		return ctl_fail("%s", err);
	}
	if (registry_feedback_list(r, &v, &n, err, sizeof(err)) < 0) {
		registry_close(r);
		dconf_free(c);
		return ctl_fail("%s", err);
	}
	dstr_init(&d);
	if (json)
		dstr_putc(&d, '[');
	for (i = 0; i < n; i++) {
		when(v[i].at, at, sizeof(at));
		if (json) {
			dstr_appendf(&d, "%s{\"id\":%lld", i ? "," : "",
			    (long long)v[i].id);
			json_field(&d, "at", at, 1);
			json_field(&d, "account", v[i].account, 1);
			json_field(&d, "address", v[i].address, 1);
			json_field(&d, "contact", v[i].contact, 1);
			json_field(&d, "message", v[i].message, 1);
			dstr_putc(&d, '}');
			continue;
		}
		printf("%lld  %s  %s  %s  %s\n    ", (long long)v[i].id, at,
		    v[i].address, v[i].account != NULL ? v[i].account : "-",
		    v[i].contact != NULL ? v[i].contact : "-");
		print_clean(v[i].message);
		putchar('\n');
	}
	if (json) {
		dstr_puts(&d, "]\n");
		fputs(d.buf, stdout);
	}
	dstr_free(&d);
	reg_feedback_free(v, n);
	registry_close(r);
	dconf_free(c);
	return CTL_OK;
}
