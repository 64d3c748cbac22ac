/*
 * sender.c - sender ownership: SenderPolicy any, exact, domain and map.
 *
 * Addresses compare case-insensitively: ISPs' mailbox stores do, and a
 * user who types Alice@ISP.example in a mail client is still Alice.  The
 * null sender (<>) carries no claim of ownership and passes here; the
 * From: header check still applies to such messages.
 */
#include "sender.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util.h"

int
sender_account(const struct mconf *c, const char *login, char *buf, size_t len)
{
	const unsigned char *p;
	size_t n;

	buf[0] = '\0';
	if (login == NULL || *login == '\0')
		return -1;
	for (p = (const unsigned char *)login; *p != '\0'; p++)
		if (*p < 0x21 || *p == 0x7f)
			return -1;
	n = pc_strlcpy(buf, login, len);
	if (n < len && strchr(login, '@') == NULL && c->account_domain != NULL) {
		pc_strlcat(buf, "@", len);
		n = pc_strlcat(buf, c->account_domain, len);
	}
	if (n >= len) {
		buf[0] = '\0';
		return -1;
	}
	pc_str_lower(buf);
	return 0;
}

/* The domain part of an account, or NULL for a bare name. */
static const char *
account_domain(const char *account)
{
	const char *at = strrchr(account, '@');

	return at != NULL && at[1] != '\0' ? at + 1 : NULL;
}

/* One SenderMap pattern: user@dom, @dom or *@dom. */
static int
pattern_matches(const char *pat, const char *addr, const char *domain)
{
	if (pat[0] == '@')
		return strcasecmp(pat + 1, domain) == 0;
	if (pat[0] == '*' && pat[1] == '@')
		return strcasecmp(pat + 2, domain) == 0;
	return strcasecmp(pat, addr) == 0;
}

static int
map_allows(const struct mconf *c, const char *account, const char *addr,
    const char *domain, char *reason, size_t rlen)
{
	const char *value = pc_map_get(c->sender_map, account);
	char buf[4096], *save = NULL, *pat;

	if (strcasecmp(account, addr) == 0) {
		pc_strlcpy(reason, "sender is the account itself", rlen);
		return 1;
	}
	if (value == NULL) {
		pc_strlcpy(reason, "no SenderMap entry for the account", rlen);
		return 0;
	}
	pc_strlcpy(buf, value, sizeof(buf));
	for (pat = strtok_r(buf, ", \t", &save); pat != NULL;
	    pat = strtok_r(NULL, ", \t", &save)) {
		if (pattern_matches(pat, addr, domain)) {
			snprintf(reason, rlen, "SenderMap pattern %s", pat);
			return 1;
		}
	}
	pc_strlcpy(reason, "no SenderMap pattern of the account matches", rlen);
	return 0;
}

int
decide_sender(const struct mconf *c, const char *account,
    const struct pc_mailbox *addr, char *reason, size_t rlen)
{
	char full[PC_MAILBOX_MAX];
	const char *adom;

	if (addr->null_path) {
		pc_strlcpy(reason, "null sender", rlen);
		return 1;
	}
	pc_strlcpy(full, addr->local, sizeof(full));
	pc_strlcat(full, "@", sizeof(full));
	pc_strlcat(full, addr->domain, sizeof(full));
	adom = account_domain(account);
	switch (c->sender_policy) {
	case SENDER_ANY:
		pc_strlcpy(reason, "SenderPolicy any", rlen);
		return 1;
	case SENDER_EXACT:
		if (strcasecmp(full, account) == 0) {
			pc_strlcpy(reason, "sender is the account", rlen);
			return 1;
		}
		pc_strlcpy(reason, "sender is not the account", rlen);
		return 0;
	case SENDER_DOMAIN:
		if (adom == NULL) {
			pc_strlcpy(reason, "account has no domain; set "
			    "AccountDomain", rlen);
			return 0;
		}
		if (strcasecmp(adom, addr->domain) == 0) {
			pc_strlcpy(reason, "sender domain is the account's", rlen);
			return 1;
		}
		pc_strlcpy(reason, "sender domain is not the account's", rlen);
		return 0;
	case SENDER_MAP:
		return map_allows(c, account, full, addr->domain, reason, rlen);
	}
	pc_strlcpy(reason, "unknown SenderPolicy", rlen);
	return 0;
}
