/*
 * mseam.c - the libmilter side of the seam.
 */
#include "mseam.h"

#include <stddef.h>

const struct mseam mseam_libmilter = {
	smfi_getsymval, smfi_setreply, smfi_setpriv, smfi_getpriv,
	smfi_quarantine,
	smfi_insheader, smfi_chgheader,
	smfi_setsymlist,
};

const struct mseam *mseam = &mseam_libmilter;

const char *
mseam_macro(SMFICTX *ctx, const char *name)
{
	/*
	 * libmilter's prototype lacks const; it does not write the name (it
	 * only compares it), so the union passes ours as it is rather than
	 * copying it for each of the several lookups a message makes.
	 */
	union {
		const char *c;
		char *m;
	} n = { .c = name };
	const char *v;

	v = mseam->getsymval(ctx, n.m);
	return v != NULL && *v != '\0' ? v : NULL;
}
