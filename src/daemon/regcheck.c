/*
 * regcheck.c - what the registry accepts from the outside: free text made
 * safe to store and show, account names, DNS names, host addresses, and
 * this network checks (inside SubscriberNetworks, outside
 * DynamicPools).  Nothing here touches the database.
 */
#include "registry_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Free text (notes, reasons, who): control bytes become spaces, length capped. */
char *
reg_clean_text(const char *s, size_t cap)
{
	size_t n = strlen(s), i;
	char *c;

	if (n > cap) {
		n = cap;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;	/* do not cut a UTF-8 sequence in half */
	}
	c = xstrndup(s, n);
	for (i = 0; i < n; i++)
		if ((unsigned char)c[i] < 0x20 || c[i] == 0x7f)
			c[i] = ' ';
	return c;
}

/* Accounts: printable, no white space, compared (and stored) in lower case. */
int
reg_check_account(const char *s, char *err, size_t errlen)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 320)
		return pc_err(err, errlen, "account must be 1 to 320 bytes");
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return pc_err(err, errlen, "account contains white "
			    "space or control characters");
	return 0;
}

char *
reg_account_local(const char *account)
{
	const char *at = strrchr(account, '@');
	char *local;

	if (at == NULL || at == account)
		return NULL;
	local = xstrndup(account, (size_t)(at - account));
	if (strchr(local, '@') != NULL) {	/* "a@b@c": no bare form */
		free(local);
		return NULL;
	}
	return local;
}

/* A DNS host name in letters, digits and hyphens; a final dot is dropped. */
char *
reg_clean_dnsname(const char *s, const char *what, char *err,
    size_t errlen)
{
	size_t n = strlen(s), i, label = 0;
	char *c;

	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0 || n > 253) {
		pc_err(err, errlen, "%s must be 1 to 253 bytes", what);
		return NULL;
	}
	for (i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (label == 0 || label > 63 || s[i - 1] == '-') {
				pc_err(err, errlen, "%s \"%.*s\" is not a DNS "
				    "name", what, (int)(n > 64 ? 64 : n), s);
				return NULL;
			}
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)s[i]) && !(s[i] == '-' && label > 0)) {
			pc_err(err, errlen, "%s \"%.*s\" is not a DNS name",
			    what, (int)(n > 64 ? 64 : n), s);
			return NULL;
		}
		label++;
	}
	c = xstrndup(s, n);
	pc_str_lower(c);
	return c;
}

/* Also refuses the unspecified, broadcast and multicast addresses. */
int
reg_check_host_address(const char *text, struct pc_addr *a, char *err,
    size_t errlen)
{
	static const unsigned char zero[16];
	char why[256];

	if (pc_addr_parse(text, a, why, sizeof(why)) < 0)
		return pc_err(err, errlen, "%s", why);
	if ((a->family == AF_INET && memcmp(a->a, zero, 4) == 0) ||
	    (a->family == AF_INET6 && memcmp(a->a, zero, 16) == 0) ||
	    (a->family == AF_INET && (a->a[0] & 0xF0) == 0xE0) ||
	    (a->family == AF_INET && memcmp(a->a, "\xff\xff\xff\xff", 4) == 0) ||
	    (a->family == AF_INET6 && a->a[0] == 0xFF))
		return pc_err(err, errlen, "%s is not a unicast host address",
		    text);
	return 0;
}

int
registry_check_networks(const struct pc_addr *a,
    const struct pc_netlist *subscribers, const struct pc_netlist *pools,
    struct dstr *checks_json, char *err, size_t errlen)
{
	char addr[PC_ADDR_STRLEN], net[PC_NET_STRLEN] = "";
	int inside = subscribers != NULL && pc_netlist_contains(subscribers, a);
	size_t i;

	for (i = 0; pools != NULL && i < pools->n; i++) {
		if (pc_net_contains(&pools->v[i], a)) {
			pc_net_format(&pools->v[i], net, sizeof(net));
			break;
		}
	}
	if (checks_json != NULL)
		dstr_appendf(checks_json, "{\"subscriber_networks\":\"%s\","
		    "\"dynamic_pools\":\"%s\"}", inside ? "pass" : "fail",
		    net[0] == '\0' ? "pass" : "fail");
	pc_addr_format(a, addr, sizeof(addr));
	if (!inside)
		return pc_err(err, errlen, "%s is not inside SubscriberNetworks",
		    addr);
	if (net[0] != '\0')
		return pc_err(err, errlen, "%s is inside DynamicPools (%s): "
		    "dynamic addresses change hands and cannot be registered",
		    addr, net);
	return 0;
}
