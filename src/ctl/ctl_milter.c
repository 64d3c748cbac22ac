/*
 * ctl_milter.c - portcullisctl milter stats|reload|usage|reset|suspend|
 * resume: one line to the running milter's ControlSocket (through
 * control_client.c, as portcullisd asks it too), its answer printed.
 *
 * The socket's path comes from the milter's configuration file (-m).
 * Only that one key is read here, by a deliberately small scan: the
 * milter checks its own file, and portcullisctl must still work when the
 * file names map files or keys that only the milter can read.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "control_client.h"
#include "ctl.h"
#include "util.h"

#define CONTROL_DEFAULT "/run/portcullis/control.sock"
/* An administrator at a terminal can wait longer than a web request. */
#define CTL_MILTER_TIMEOUT_MS 10000

static const char syn_milter[] =
    "portcullisctl [-m portcullis-milter.conf] milter stats|reload|"
    "usage ACCOUNT|reset ACCOUNT|suspend ACCOUNT [--reason T]|resume ACCOUNT";

/* ControlSocket from the milter's file: 0 and path, or CTL_FAIL printed. */
static int
control_path(const struct ctl *ctl, char *path, size_t len)
{
	FILE *fp = fopen(ctl->milter_conf_path, "r");
	char line[4096];
	int found = 0;

	pc_strlcpy(path, CONTROL_DEFAULT, len);
	if (fp == NULL) {
		if (errno == ENOENT)
			return 0;	/* the milter runs on its defaults too */
		return ctl_fail("%s: %s", ctl->milter_conf_path, strerror(errno));
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *p = pc_str_trim(line), *v;

		if (strncasecmp(p, "ControlSocket", 13) != 0 ||
		    !isspace((unsigned char)p[13]))
			continue;
		v = pc_str_trim(p + 13);
		/* A comment after the value, as the config parser allows. */
		for (p = v; *p != '\0'; p++)
			if (*p == '#' && p > v && isspace((unsigned char)p[-1])) {
				*p = '\0';
				break;
			}
		v = pc_str_trim(v);
		pc_strlcpy(path, v, len);
		found = 1;	/* the last one wins, as in the milter */
	}
	fclose(fp);
	if (found && strcasecmp(path, "none") == 0)
		return ctl_fail("%s: ControlSocket is none; the milter has no "
		    "control socket", ctl->milter_conf_path);
	return 0;
}

/* Sends line, prints the answer's lines before OK; 0 on OK. */
static int
talk(const char *path, const char *line)
{
	struct dstr out;
	char err[1024];
	int rc;

	dstr_init(&out);
	switch (pc_control_call(path, line, CTL_MILTER_TIMEOUT_MS, &out, err,
	    sizeof(err))) {
	case PC_CONTROL_OK:
		fwrite(out.buf, 1, out.len, stdout);
		fflush(stdout);
		rc = CTL_OK;
		break;
	case PC_CONTROL_ERR:
		rc = ctl_fail("milter: %s", err);
		break;
	case PC_CONTROL_UNREACHABLE:
		rc = ctl_fail("cannot reach the milter at %s: %s (is "
		    "portcullis-milter running with this ControlSocket?)", path,
		    err);
		break;
	case PC_CONTROL_NO_ANSWER:
		rc = ctl_fail("no answer from the milter at %s", path);
		break;
	default:
		rc = ctl_fail("%s", err);
		break;
	}
	dstr_free(&out);
	return rc;
}

/* An account or reason goes on one protocol line: no control bytes. */
static int
clean(const char *s, int spaces_ok)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f ||
		    (!spaces_ok && *s == ' '))
			return 0;
	return 1;
}

int
ctl_milter(struct ctl *ctl, int argc, char **argv)
{
	const char *reason = NULL;
	const struct ctl_opt opts[] = { { "reason", &reason, NULL } };
	char path[1024], *pos[1];
	const char *cmd;
	size_t npos = 0;
	struct dstr line;
	int need_account, rc;

	if (argc < 1)
		return ctl_usage(syn_milter, "missing subcommand");
	cmd = argv[0];
	if (strcmp(cmd, "stats") == 0 || strcmp(cmd, "reload") == 0)
		need_account = 0;
	else if (strcmp(cmd, "usage") == 0 || strcmp(cmd, "reset") == 0 ||
	    strcmp(cmd, "suspend") == 0 || strcmp(cmd, "resume") == 0)
		need_account = 1;
	else
		return ctl_usage(syn_milter, "unknown milter command \"%.32s\"",
		    cmd);
	if (ctl_parse(syn_milter, argc - 1, argv + 1, opts,
	    strcmp(cmd, "suspend") == 0 ? 1 : 0, pos, need_account, &npos) < 0)
		return CTL_USAGE;
	if ((size_t)need_account != npos)
		return ctl_usage(syn_milter, "milter %s %s", cmd, need_account ?
		    "needs an ACCOUNT" : "takes no arguments");
	if (need_account && (pos[0][0] == '\0' || !clean(pos[0], 0)))
		return ctl_usage(syn_milter, "bad account name");
	if (reason != NULL && !clean(reason, 1))
		return ctl_usage(syn_milter, "the reason must be one line");
	if ((rc = control_path(ctl, path, sizeof(path))) != 0)
		return rc;
	dstr_init(&line);
	dstr_puts(&line, cmd);
	if (need_account)
		dstr_appendf(&line, " %s", pos[0]);
	if (reason != NULL)
		dstr_appendf(&line, " %s", reason);
	rc = talk(path, line.buf);
	dstr_free(&line);
	return rc;
}
