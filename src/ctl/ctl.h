/*
 * ctl.h - what the pieces of portcullisctl share: the invocation, the
 * option parser of subcommands, and the one-line error convention
 * (exit 1 with a reason on stderr, exit 2 for usage errors).
 */
#ifndef PC_CTL_H
#define PC_CTL_H

#include <stddef.h>

#include "util.h"

#define CTL_OK 0
#define CTL_FAIL 1
#define CTL_USAGE 2

struct dconf;

struct ctl {
	const char *conf_path;		/* -c, or the default */
	const char *milter_conf_path;	/* -m, for the milter commands */
	char who[320];			/* the invoking user, for the audit */
};

/* One subcommand option: "--name VALUE", "--name=VALUE" or a flag. */
struct ctl_opt {
	const char *name;		/* without the dashes */
	const char **value;		/* NULL for a flag */
	int *flag;
};

/*
 * Sorts argv into options and up to maxpos positional arguments.  On a
 * usage error prints why and returns -1.
 */
int ctl_parse(const char *cmd, int argc, char **argv, const struct ctl_opt *opts,
    size_t nopts, char **pos, size_t maxpos, size_t *npos);

/* Prints "portcullisctl: REASON" as one line on stderr; returns CTL_FAIL. */
int ctl_fail(const char *fmt, ...) PC_PRINTF(1, 2);
/* Prints the problem and the command's synopsis; returns CTL_USAGE. */
int ctl_usage(const char *synopsis, const char *fmt, ...) PC_PRINTF(2, 3);

/* Loads the portcullisd configuration, or prints why and returns NULL. */
struct dconf *ctl_load_conf(const struct ctl *ctl);

int ctl_registry(struct ctl *ctl, int argc, char **argv);
int ctl_rules(struct ctl *ctl, int argc, char **argv);
int ctl_milter(struct ctl *ctl, int argc, char **argv);
int ctl_feedback(struct ctl *ctl, int argc, char **argv);
int ctl_trace(struct ctl *ctl, int argc, char **argv);

#endif
