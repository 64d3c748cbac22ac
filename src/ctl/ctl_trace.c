/*
 * ctl_trace.c - "portcullisctl trace FILE": find every X-Portcullis-Origin
 * stamp in a message, a forwarded message or an ARF report, open each
 * with the milter's key file, and say who sent it.
 *
 * A stamp that does not verify (tampered with, truncated, unknown key)
 * is reported as such and never printed as a result.  Exit 0 when at
 * least one stamp verified, 1 otherwise.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arf.h"
#include "ctl.h"
#include "log.h"
#include "mconf.h"
#include "spf.h"
#include "stamp.h"
#include "util.h"

#define TRACE_STAMPS_MAX 64

static const char synopsis[] = "trace [--json] [--key-file FILE] FILE|-";

struct found {
	char *text;
	enum arf_where where;
};

struct found_list {
	struct found v[TRACE_STAMPS_MAX];
	size_t n;
	unsigned dropped;
};

static void
collect(void *arg, const char *value, size_t len, enum arf_where where)
{
	struct found_list *l = arg;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strlen(l->v[i].text) == len &&
		    memcmp(l->v[i].text, value, len) == 0)
			return;
	if (l->n == TRACE_STAMPS_MAX) {
		l->dropped++;
		return;
	}
	l->v[l->n].text = xstrndup(value, len);
	l->v[l->n].where = where;
	l->n++;
}

static const char *
where_name(enum arf_where w)
{
	switch (w) {
	case ARF_TOP: return "message";
	case ARF_ORIGINAL: return "reported message";
	case ARF_ATTACHED: return "attached message";
	case ARF_INLINE: return "quoted text";
	}
	return "?";
}

static int
read_input(const char *path, struct dstr *d)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char buf[65536];
	size_t n;

	if (fp == NULL)
		return ctl_fail("%s: %s", path, strerror(errno));
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0) {
		if (d->len + n > ARF_INPUT_MAX) {
			if (fp != stdin)
				fclose(fp);
			return ctl_fail("%s: larger than %u MB", path,
			    ARF_INPUT_MAX >> 20);
		}
		dstr_append(d, buf, n);
	}
	if (ferror(fp)) {
		if (fp != stdin)
			fclose(fp);
		return ctl_fail("%s: read error", path);
	}
	if (fp != stdin)
		fclose(fp);
	return CTL_OK;
}

/* The keys: --key-file, else OriginKeyFile of the milter configuration. */
static int
load_keys(const struct ctl *ctl, const char *key_file, struct stamp_keyring *kr)
{
	char err[1024];
	struct mconf *c;
	int rc;

	if (key_file != NULL) {
		if (stamp_keyring_load(key_file, 0, kr, err, sizeof(err)) < 0)
			return ctl_fail("%s", err);
		return CTL_OK;
	}
	if ((c = mconf_load(ctl->milter_conf_path, err, sizeof(err))) == NULL)
		return ctl_fail("%s (or name the keys with --key-file)", err);
	if (c->spf == NULL || c->spf->key_file == NULL) {
		rc = ctl_fail("%s: no OriginKeyFile; name the keys with "
		    "--key-file", ctl->milter_conf_path);
	} else if (stamp_keyring_load(c->spf->key_file, 0, kr, err,
	    sizeof(err)) < 0) {
		rc = ctl_fail("%s", err);
	} else {
		rc = CTL_OK;
	}
	mconf_free(c);
	return rc;
}

static void
fmt_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%" PRId64, t);
}

static void
json_str(struct dstr *d, const char *key, const char *v, int comma)
{
	dstr_appendf(d, "%s\"%s\":\"", comma ? "," : "", key);
	pc_json_escape(d, v, 4096);
	dstr_putc(d, '"');
}

static void
print_report_text(const struct arf_report *r)
{
	char probs[256];

	if (r->is_report)
		printf("report: ARF feedback-type=%s source-ip=%s "
		    "original-mail-from=%s arrival-date=\"%s\"%s\n",
		    r->feedback_type[0] ? r->feedback_type : "-",
		    r->source_ip[0] ? r->source_ip : "-",
		    r->original_mail_from[0] ? r->original_mail_from : "-",
		    r->arrival_date, r->has_original ? "" :
		    " (no original message part)");
	arf_problems_str(r->problems, probs, sizeof(probs));
	if (probs[0] != '\0')
		printf("warning: damaged input: %s\n", probs);
}

static void
report_json(struct dstr *d, const struct arf_report *r)
{
	char probs[256];

	arf_problems_str(r->problems, probs, sizeof(probs));
	dstr_appendf(d, "\"report\":{\"arf\":%s,\"has_original\":%s",
	    r->is_report ? "true" : "false", r->has_original ? "true" : "false");
	json_str(d, "feedback_type", r->feedback_type, 1);
	json_str(d, "source_ip", r->source_ip, 1);
	json_str(d, "original_mail_from", r->original_mail_from, 1);
	json_str(d, "arrival_date", r->arrival_date, 1);
	json_str(d, "reported_domain", r->reported_domain, 1);
	json_str(d, "problems", probs, 1);
	dstr_puts(d, "}");
}

int
ctl_trace(struct ctl *ctl, int argc, char **argv)
{
	const char *key_file = NULL;
	int json = 0;
	struct ctl_opt opts[] = {
		{ "json", NULL, &json },
		{ "key-file", &key_file, NULL },
	};
	struct stamp_keyring kr;
	struct found_list *l;
	struct arf_report rep;
	struct dstr in, out;
	char *pos[1], keyid[STAMP_KEYID_MAX + 1], when[64];
	size_t npos, i, good = 0;
	int rc;

	if (ctl_parse(synopsis, argc, argv, opts, PC_ARRAY_LEN(opts), pos, 1,
	    &npos) < 0)
		return CTL_USAGE;
	if (npos != 1)
		return ctl_usage(synopsis, "trace: name a file, or - for "
		    "standard input");
	if ((rc = load_keys(ctl, key_file, &kr)) != CTL_OK)
		return rc;
	dstr_init(&in);
	if ((rc = read_input(pos[0], &in)) != CTL_OK) {
		dstr_free(&in);
		stamp_keyring_free(&kr);
		return rc;
	}
	l = xcalloc(1, sizeof(*l));
	arf_find_field(in.buf, in.len, STAMP_HEADER, collect, l, &rep);
	dstr_init(&out);
	if (json) {
		dstr_putc(&out, '{');
		report_json(&out, &rep);
		dstr_puts(&out, ",\"stamps\":[");
	} else {
		print_report_text(&rep);
	}
	for (i = 0; i < l->n; i++) {
		struct stamp_origin o;
		enum stamp_status st = stamp_open(&kr, l->v[i].text,
		    strlen(l->v[i].text), &o, keyid, sizeof(keyid));

		if (st == STAMP_OK)
			good++;
		fmt_time(o.time, when, sizeof(when));
		if (json) {
			dstr_appendf(&out, "%s{\"where\":\"%s\",\"status\":\"%s\"",
			    i ? "," : "", where_name(l->v[i].where),
			    st == STAMP_OK ? "ok" : "invalid");
			json_str(&out, "key_id", keyid, 1);
			if (st == STAMP_OK) {
				json_str(&out, "account", o.account, 1);
				json_str(&out, "address", o.addr, 1);
				json_str(&out, "time", when, 1);
				dstr_appendf(&out, ",\"unix_time\":%" PRId64, o.time);
				json_str(&out, "qid", o.qid, 1);
				dstr_appendf(&out, ",\"version\":%d", STAMP_VERSION);
			} else {
				json_str(&out, "error", stamp_status_str(st), 1);
			}
			dstr_putc(&out, '}');
		} else if (st == STAMP_OK) {
			printf("stamp %zu (%s): account=%s address=%s time=%s "
			    "qid=%s key=%s version=%d\n", i + 1,
			    where_name(l->v[i].where),
			    o.account[0] ? o.account : "(unauthenticated)",
			    o.addr[0] ? o.addr : "-", when,
			    o.qid[0] ? o.qid : "-", keyid, STAMP_VERSION);
		} else {
			printf("stamp %zu (%s): INVALID: %s%s%s\n", i + 1,
			    where_name(l->v[i].where), stamp_status_str(st),
			    keyid[0] ? "; key " : "", keyid);
		}
	}
	if (json) {
		dstr_appendf(&out, "],\"verified\":%zu,\"invalid\":%zu}\n", good,
		    l->n - good);
		fputs(out.buf, stdout);
	}
	fflush(stdout);
	if (l->dropped > 0)
		fprintf(stderr, "portcullisctl: %u more stamps not examined\n",
		    l->dropped);
	if (l->n == 0)
		rc = ctl_fail("%s: no %s stamp found", pos[0], STAMP_HEADER);
	else if (good == 0)
		rc = ctl_fail("%s: no stamp verified", pos[0]);
	else
		rc = CTL_OK;
	for (i = 0; i < l->n; i++)
		free(l->v[i].text);
	free(l);
	dstr_free(&out);
	dstr_free(&in);
	stamp_keyring_free(&kr);
	return rc;
}
