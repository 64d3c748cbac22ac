/*
 * fake_mseam.h - a fake MTA behind the mseam, for the tests that drive
 * the real xxfi_* callbacks: each test fills the table of macros the MTA
 * sends, and reads back the reply, the quarantine reason and the headers
 * the filter added or deleted.
 */
#ifndef PC_FAKE_MSEAM_H
#define PC_FAKE_MSEAM_H

#include <stddef.h>

#include "mseam.h"

#define FAKE_MACROS_MAX 16
#define FAKE_HEADERS_MAX 8

struct fake_mta {
	/* What the MTA sends: name, value pairs up to the first NULL name. */
	const char *macros[FAKE_MACROS_MAX][2];
	/* The last reply and quarantine reason, the private pointer. */
	char rcode[8], xcode[16], text[2048];
	char quarantined[512];
	void *priv;
	/* Headers the filter inserted (newest first) and deleted. */
	struct {
		char name[FAKE_HEADERS_MAX][64], value[FAKE_HEADERS_MAX][1100];
		size_t n;
		unsigned deleted;
	} hdrs;
	/* Stages the filter asked macros for at negotiation. */
	unsigned symlists;
};

extern struct fake_mta mta;
extern const struct mseam fake_mseam;

/* The context the callbacks are given; the fakes ignore it. */
#define FAKE_CTX ((SMFICTX *)&mta)

/* Forgets every macro and everything the MTA recorded: a new session. */
void fake_mta_reset(void);
/*
 * Makes the MTA send macro name with value from now on, in place of an
 * earlier value (the test fails when the table is full).
 */
void fake_mta_macro(const char *name, const char *value);
/* Loads text as a milter configuration (or fails the test). */
struct mconf *fake_load_conf(const char *text);
/* The same, installed as the running configuration. */
void fake_install_conf(const char *text);

#endif
