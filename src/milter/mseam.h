/*
 * mseam.h - the few libmilter calls the callbacks use, behind one table
 * of function pointers.  Production code points it at libmilter; a unit
 * test points it at fakes and drives the callbacks without an MTA.
 */
#ifndef PC_MSEAM_H
#define PC_MSEAM_H

#include <libmilter/mfapi.h>

struct mseam {
	char *(*getsymval)(SMFICTX *ctx, char *name);
	int (*setreply)(SMFICTX *ctx, char *rcode, char *xcode, char *text);
	int (*setpriv)(SMFICTX *ctx, void *priv);
	void *(*getpriv)(SMFICTX *ctx);
	int (*quarantine)(SMFICTX *ctx, char *reason);
	/* The origin stamp and SPF headers (smfi_insheader, smfi_chgheader). */
	int (*insheader)(SMFICTX *ctx, int idx, char *name, char *value);
	int (*chgheader)(SMFICTX *ctx, char *name, int idx, char *value);
	/* The macros to ask for at a stage, at negotiation (smfi_setsymlist). */
	int (*setsymlist)(SMFICTX *ctx, int stage, char *macros);
};

extern const struct mseam *mseam;
extern const struct mseam mseam_libmilter;

/* A macro's value, or NULL when the MTA did not send it or sent "". */
const char *mseam_macro(SMFICTX *ctx, const char *name);

#endif
