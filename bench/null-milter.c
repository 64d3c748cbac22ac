/*
 * null-milter.c - a libmilter filter that accepts everything and does
 * nothing: the ceiling that libmilter and the kernel allow, against
 * which portcullis-milter is measured.
 *
 * It registers the same callbacks as portcullis-milter and negotiates
 * the same steps (src/milter/steps.h: no answer to connect, HELO,
 * headers and body; no unknown commands, DATA or end of headers), so an
 * MTA sends both the same packets, waits for the same answers, and the
 * difference is portcullis's own work.  Built
 * twice: bench/null-milter as is, and bench/null-milter-qa with
 * src/milter/quickack.c linked in, to measure that fix on its own.
 *
 *   null-milter -s unix:/path | inet:PORT@127.0.0.1
 * Stops on SIGTERM or SIGINT (libmilter's own handling).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "steps.h"

static sfsistat
nm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	(void)ctx; (void)f0; (void)f2; (void)f3;
	if ((f1 & PC_STEPS_NOREPLY) != PC_STEPS_NOREPLY)
		return SMFIS_REJECT;
	*pf0 = 0;
	*pf1 = (f1 & PC_STEPS_UNUSED) | PC_STEPS_NOREPLY;
	*pf2 = *pf3 = 0;
	return SMFIS_CONTINUE;
}

/* Connect, HELO, headers and body: no answer (steps.h). */
static sfsistat
nm_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	(void)ctx; (void)host; (void)sa;
	return SMFIS_NOREPLY;
}

static sfsistat
nm_helo(SMFICTX *ctx, char *helo)
{
	(void)ctx; (void)helo;
	return SMFIS_NOREPLY;
}

static sfsistat
nm_argv(SMFICTX *ctx, char **argv)
{
	(void)ctx; (void)argv;
	return SMFIS_CONTINUE;
}

static sfsistat
nm_header(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx; (void)name; (void)value;
	return SMFIS_NOREPLY;
}

static sfsistat
nm_body(SMFICTX *ctx, unsigned char *p, size_t len)
{
	(void)ctx; (void)p; (void)len;
	return SMFIS_NOREPLY;
}

static sfsistat
nm_ctx(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
	"null-milter", SMFI_VERSION, 0,
	nm_connect, nm_helo, nm_argv, nm_argv, nm_header, NULL, nm_body,
	nm_ctx, nm_ctx, nm_ctx, NULL, NULL, nm_negotiate,
};

int
main(int argc, char **argv)
{
	const char *sock = NULL;
	int ch;

	while ((ch = getopt(argc, argv, "s:")) != -1) {
		if (ch != 's') {
			fprintf(stderr, "usage: null-milter -s SOCKET\n");
			return 2;
		}
		sock = optarg;
	}
	if (sock == NULL || optind != argc) {
		fprintf(stderr, "usage: null-milter -s SOCKET\n");
		return 2;
	}
	if (strncmp(sock, "unix:", 5) == 0)
		unlink(sock + 5);
	if (smfi_setconn((char *)sock) != MI_SUCCESS ||
	    smfi_register(desc) != MI_SUCCESS ||
	    smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "null-milter: cannot listen on %s\n", sock);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
