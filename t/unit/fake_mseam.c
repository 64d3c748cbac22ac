/*
 * fake_mseam.c - the fake MTA of fake_mseam.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_mseam.h"
#include "mconf.h"
#include "testutil.h"
#include "util.h"

struct fake_mta mta;

static char *
fake_getsymval(SMFICTX *ctx, char *name)
{
	size_t i;

	(void)ctx;
	for (i = 0; i < PC_ARRAY_LEN(mta.macros) && mta.macros[i][0] != NULL; i++)
		if (strcmp(mta.macros[i][0], name) == 0)
			return (char *)mta.macros[i][1];
	return NULL;
}

static int
fake_setreply(SMFICTX *ctx, char *rcode, char *xcode, char *text)
{
	(void)ctx;
	pc_strlcpy(mta.rcode, rcode, sizeof(mta.rcode));
	pc_strlcpy(mta.xcode, xcode, sizeof(mta.xcode));
	pc_strlcpy(mta.text, text, sizeof(mta.text));
	return MI_SUCCESS;
}

static int
fake_setpriv(SMFICTX *ctx, void *priv)
{
	(void)ctx;
	mta.priv = priv;
	return MI_SUCCESS;
}

static void *
fake_getpriv(SMFICTX *ctx)
{
	(void)ctx;
	return mta.priv;
}

static int
fake_quarantine(SMFICTX *ctx, char *reason)
{
	(void)ctx;
	pc_strlcpy(mta.quarantined, reason, sizeof(mta.quarantined));
	return MI_SUCCESS;
}

/* The filter only ever inserts at the top (index 0). */
static int
fake_insheader(SMFICTX *ctx, int idx, char *name, char *value)
{
	(void)ctx;
	assert_int_equal(idx, 0);
	assert_true(mta.hdrs.n < PC_ARRAY_LEN(mta.hdrs.name));
	memmove(mta.hdrs.name[1], mta.hdrs.name[0],
	    mta.hdrs.n * sizeof(mta.hdrs.name[0]));
	memmove(mta.hdrs.value[1], mta.hdrs.value[0],
	    mta.hdrs.n * sizeof(mta.hdrs.value[0]));
	pc_strlcpy(mta.hdrs.name[0], name, sizeof(mta.hdrs.name[0]));
	pc_strlcpy(mta.hdrs.value[0], value, sizeof(mta.hdrs.value[0]));
	mta.hdrs.n++;
	return MI_SUCCESS;
}

/* ... and only ever deletes (a NULL value). */
static int
fake_chgheader(SMFICTX *ctx, char *name, int idx, char *value)
{
	(void)ctx;
	(void)name;
	(void)idx;
	assert_null(value);
	mta.hdrs.deleted++;
	return MI_SUCCESS;
}

static int
fake_setsymlist(SMFICTX *ctx, int stage, char *macros)
{
	(void)ctx;
	(void)stage;
	assert_non_null(macros);
	mta.symlists++;
	return MI_SUCCESS;
}

const struct mseam fake_mseam = {
	.getsymval = fake_getsymval,
	.setreply = fake_setreply,
	.setpriv = fake_setpriv,
	.getpriv = fake_getpriv,
	.quarantine = fake_quarantine,
	.insheader = fake_insheader,
	.chgheader = fake_chgheader,
	.setsymlist = fake_setsymlist,
};

void
fake_mta_reset(void)
{
	memset(&mta, 0, sizeof(mta));
}

void
fake_mta_macro(const char *name, const char *value)
{
	size_t i;

	for (i = 0; i < PC_ARRAY_LEN(mta.macros) && mta.macros[i][0] != NULL; i++)
		if (strcmp(mta.macros[i][0], name) == 0)
			break;	/* a new value, as in the MTA's next packet */
	assert_true(i < PC_ARRAY_LEN(mta.macros) - 1);
	mta.macros[i][0] = name;
	mta.macros[i][1] = value;
}

struct mconf *
fake_load_conf(const char *text)
{
	char *path = tu_write_tmp("milterconf", text), err[1024];
	struct mconf *c;

	c = mconf_load(path, err, sizeof(err));
	unlink(path);
	free(path);
	if (c == NULL)
		fail_msg("%s", err);
	return c;
}

void
fake_install_conf(const char *text)
{
	mconf_install(fake_load_conf(text));
}
