/*
 * portcullisctl.c - the administrator's command line: global options,
 * command dispatch, the error conventions, and the "rules" commands.
 * The registry commands live in ctl_registry.c.
 *
 * Exit status: 0 success, 1 refused or failed (one line on stderr that
 * says why), 2 usage error.
 */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "dconf.h"
#include "ruleset.h"
#include "registry.h"
#include "util.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define MILTER_CONF_DEFAULT PC_SYSCONFDIR "/portcullis-milter.conf"

static const char usage_text[] =
    "usage: portcullisctl [-c portcullisd.conf] [-m portcullis-milter.conf] COMMAND\n"
    "  registry list [--status S] [--json]\n"
    "  registry show ID [--json]\n"
    "  registry add ADDRESS --account A [--hostname H] [--domain D] [--note T] [--skip-checks]\n"
    "  registry approve|suspend|revoke|renew ID [--reason T]\n"
    "  registry suspend --account A [--reason T]\n"
    "  registry history ID [--json]\n"
    "  rules render [--format nft|iptables|pf|plain]\n"
    "  rules apply\n"
    "  milter stats\n"
    "  milter reload\n"
    "  milter usage ACCOUNT\n"
    "  milter reset ACCOUNT\n"
    "  milter suspend ACCOUNT [--reason T]\n"
    "  milter resume ACCOUNT\n"
    "  feedback list [--json]\n"
    "  trace [--json] [--key-file FILE] FILE|-   (decrypt X-Portcullis-Origin stamps)\n";

/* One line, whatever the message holds (a command's output, say). */
static void
print_line(const char *prefix, const char *fmt, va_list ap)
{
	char buf[2048];
	char *p;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	for (p = buf; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	fprintf(stderr, "%s%s\n", prefix, buf);
}

int
ctl_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_line("portcullisctl: ", fmt, ap);
	va_end(ap);
	return CTL_FAIL;
}

int
ctl_usage(const char *synopsis, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_line("portcullisctl: ", fmt, ap);
	va_end(ap);
	if (synopsis != NULL)
		fprintf(stderr, "usage: portcullisctl %s\n", synopsis);
	return CTL_USAGE;
}

int
ctl_parse(const char *cmd, int argc, char **argv, const struct ctl_opt *opts,
    size_t nopts, char **pos, size_t maxpos, size_t *npos)
{
	int i, dashdash = 0;
	size_t k, len;

	*npos = 0;
	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *eq;

		if (dashdash || a[0] != '-' || a[1] == '\0') {
			if (*npos == maxpos) {
				ctl_usage(cmd, "unexpected argument \"%.64s\"", a);
				return -1;
			}
			pos[(*npos)++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			dashdash = 1;
			continue;
		}
		if (a[1] != '-') {
			ctl_usage(cmd, "unknown option \"%.64s\"", a);
			return -1;
		}
		a += 2;
		eq = strchr(a, '=');
		len = eq != NULL ? (size_t)(eq - a) : strlen(a);
		for (k = 0; k < nopts; k++)
			if (strlen(opts[k].name) == len &&
			    strncmp(opts[k].name, a, len) == 0)
				break;
		if (k == nopts) {
			ctl_usage(cmd, "unknown option \"--%.64s\"", a);
			return -1;
		}
		if (opts[k].value == NULL) {
			if (eq != NULL) {
				ctl_usage(cmd, "--%s takes no value", opts[k].name);
				return -1;
			}
			*opts[k].flag = 1;
		} else if (eq != NULL) {
			*opts[k].value = eq + 1;
		} else if (i + 1 < argc) {
			*opts[k].value = argv[++i];
		} else {
			ctl_usage(cmd, "--%s needs a value", opts[k].name);
			return -1;
		}
	}
	return 0;
}

struct dconf *
ctl_load_conf(const struct ctl *ctl)
{
	char err[1024];
	struct dconf *c = dconf_load(ctl->conf_path, err, sizeof(err));

	if (c == NULL)
		ctl_fail("%s", err);
	return c;
}

/* The login behind this command; under sudo, root and the sudoer both. */
static void
find_who(struct ctl *ctl)
{
	struct passwd *pw = getpwuid(getuid());
	const char *sudo = getenv("SUDO_USER");

	if (pw == NULL)
		snprintf(ctl->who, sizeof(ctl->who), "uid %ld", (long)getuid());
	else if (getuid() == 0 && sudo != NULL && getpwnam(sudo) != NULL)
		snprintf(ctl->who, sizeof(ctl->who), "%s (sudo %s)", pw->pw_name,
		    sudo);
	else
		pc_strlcpy(ctl->who, pw->pw_name, sizeof(ctl->who));
}

/* rules render [--format F] | rules apply */
int
ctl_rules(struct ctl *ctl, int argc, char **argv)
{
	static const char syn_render[] = "rules render [--format nft|iptables|pf|plain]";
	const char *format = NULL;
	struct ctl_opt opts[] = { { "format", &format, NULL } };
	char *pos[1], err[4096];
	struct registry *r;
	struct dconf *c;
	struct dstr text;
	size_t npos, n, i;
	int apply, fmt = -1, rc = CTL_OK;

	if (argc < 1)
		return ctl_usage("rules render|apply", "rules: missing command");
	apply = strcmp(argv[0], "apply") == 0;
	if (!apply && strcmp(argv[0], "render") != 0)
		return ctl_usage("rules render|apply", "rules: unknown command "
		    "\"%.64s\"", argv[0]);
	if (ctl_parse(apply ? "rules apply" : syn_render, argc - 1, argv + 1,
	    opts, apply ? 0 : 1, pos, 0, &npos) < 0)
		return CTL_USAGE;
	if (format != NULL) {
		for (i = 0; dconf_rule_formats[i] != NULL; i++)
			if (strcmp(format, dconf_rule_formats[i]) == 0)
				fmt = (int)i;
		if (fmt < 0)
			return ctl_usage(syn_render, "unknown format \"%.64s\"",
			    format);
	}
	if ((c = ctl_load_conf(ctl)) == NULL)
		return CTL_FAIL;
	if ((r = registry_open(c->database, c->lifetime, err, sizeof(err))) == NULL) {
		dconf_free(c);
		return ctl_fail("%s", err);
	}
	dstr_init(&text);
	if (ruleset_render(c, r, fmt, &text, &n, err, sizeof(err)) < 0)
		rc = ctl_fail("render: %s", err);
	registry_close(r);
	if (rc == CTL_OK && !apply) {
		if (fwrite(text.buf, 1, text.len, stdout) != text.len ||
		    fflush(stdout) != 0)
			rc = ctl_fail("write: %s", strerror(errno));
	} else if (rc == CTL_OK) {
		if (ruleset_apply(c, &text, err, sizeof(err)) < 0)
			rc = ctl_fail("apply: %s", err);
		else
			printf("applied %zu address%s to %s\n", n,
			    n == 1 ? "" : "es", c->rule_file);
	}
	dstr_free(&text);
	dconf_free(c);
	return rc;
}

int
main(int argc, char **argv)
{
	struct ctl ctl;
	int ch;

	memset(&ctl, 0, sizeof(ctl));
	ctl.conf_path = DCONF_DEFAULT_PATH;
	ctl.milter_conf_path = MILTER_CONF_DEFAULT;
	/* "+": options stop at the command; its own options follow it. */
	while ((ch = getopt(argc, argv, "+c:m:hV")) != -1) {
		switch (ch) {
		case 'c': ctl.conf_path = optarg; break;
		case 'm': ctl.milter_conf_path = optarg; break;
		case 'V':
			printf("portcullisctl %s\n", PACKAGE_VERSION);
			return CTL_OK;
		case 'h':
			fputs(usage_text, stdout);
			return CTL_OK;
		default:
			fputs(usage_text, stderr);
			return CTL_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		fputs(usage_text, stderr);
		return CTL_USAGE;
	}
	find_who(&ctl);
	if (strcmp(argv[0], "registry") == 0)
		return ctl_registry(&ctl, argc - 1, argv + 1);
	if (strcmp(argv[0], "rules") == 0)
		return ctl_rules(&ctl, argc - 1, argv + 1);
	if (strcmp(argv[0], "milter") == 0)
		return ctl_milter(&ctl, argc - 1, argv + 1);
	if (strcmp(argv[0], "feedback") == 0)
		return ctl_feedback(&ctl, argc - 1, argv + 1);
	if (strcmp(argv[0], "trace") == 0)
		return ctl_trace(&ctl, argc - 1, argv + 1);
	if (strcmp(argv[0], "help") == 0) {
		fputs(usage_text, stdout);
		return CTL_OK;
	}
	return ctl_usage(NULL, "unknown command \"%.64s\" (see "
	    "portcullisctl -h)", argv[0]);
}
