/*
 * ctl_milter.c - portcullisctl milter stats|reload|usage|reset|suspend|
 * resume: one line to the running milter's ControlSocket, its answer
 * printed.
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
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "util.h"

#define CONTROL_DEFAULT "/run/portcullis/control.sock"

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
	struct sockaddr_un sun;
	struct timeval tv = { 10, 0 };
	struct dstr in;
	char buf[4096], *last, *end;
	ssize_t r;
	size_t off = 0, n = strlen(line);
	int fd, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return ctl_fail("ControlSocket path too long: %s", path);
	pc_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return ctl_fail("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		rc = ctl_fail("cannot reach the milter at %s: %s (is "
		    "portcullis-milter running with this ControlSocket?)", path,
		    strerror(errno));
		close(fd);
		return rc;
	}
	while (off < n && (r = write(fd, line + off, n - off)) > 0)
		off += (size_t)r;
	dstr_init(&in);
	while ((r = read(fd, buf, sizeof(buf))) > 0 && in.len < (1 << 20))
		dstr_append(&in, buf, (size_t)r);
	close(fd);
	/* The last line is OK or ERR reason. */
	while (in.len > 0 && in.buf[in.len - 1] == '\n')
		in.buf[--in.len] = '\0';
	last = strrchr(in.buf, '\n');
	end = last != NULL ? last + 1 : in.buf;
	if (strcmp(end, "OK") == 0) {
		if (last != NULL) {
			fwrite(in.buf, 1, (size_t)(last - in.buf) + 1, stdout);
			fflush(stdout);
		}
		rc = CTL_OK;
	} else if (strncmp(end, "ERR ", 4) == 0) {
		rc = ctl_fail("milter: %s", end + 4);
	} else {
		rc = ctl_fail("no answer from the milter at %s", path);
	}
	dstr_free(&in);
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
	dstr_putc(&line, '\n');
	rc = talk(path, line.buf);
	dstr_free(&line);
	return rc;
}
