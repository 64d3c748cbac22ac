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
	/* libmilter's prototype lacks const; it does not write the name. */
	char buf[64];
	const char *v;
	size_t i;

	for (i = 0; name[i] != '\0' && i < sizeof(buf) - 1; i++)
		buf[i] = name[i];
	buf[i] = '\0';
	v = mseam->getsymval(ctx, buf);
	return v != NULL && *v != '\0' ? v : NULL;
}
