/*
 * http_login.c - subscribers' logins: HTTP Basic (the API) and the
 * sign-in form, both checked through Cyrus SASL (saslauth.c) and
 * throttled per account and per client address (throttle.c).  The
 * password check runs with the state lock let go: it may take seconds
 * with saslauthd or LDAP behind Cyrus SASL.
 */
#include "http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "log.h"
#include "saslauth.h"
#include "throttle.h"
#include "util.h"

void
http_client_key(struct http_req *r, char *key, size_t len)
{
	struct pc_addr a = r->client;
	char text[PC_ADDR_STRLEN];

	if (a.family == AF_INET6)
		memset(a.a + 8, 0, 8);	/* one subscriber holds a /64 */
	pc_addr_format(&a, text, sizeof(text));
	snprintf(key, len, "addr:%s", text);
}

/* 1, with 429 and Retry-After filled in, while either key is locked out. */
static int
locked_out(struct http_req *r, const char *akey, const char *ckey,
    int64_t now, int *code, unsigned *retry, char *detail, size_t dlen)
{
	unsigned w1 = throttle_wait(r->svc->login_acct, akey, now);
	unsigned w2 = throttle_wait(r->svc->login_addr, ckey, now);

	if (w1 == 0 && w2 == 0)
		return 0;
	*code = 429;
	*retry = w1 > w2 ? w1 : w2;
	snprintf(detail, dlen, "too many failed logins; try again in %u "
	    "seconds", *retry);
	return 1;
}

int
http_login(struct http_req *r, const char *user, const char *password,
    int *code, unsigned *retry, char *detail, size_t dlen)
{
	char akey[THROTTLE_KEY_MAX], ckey[THROTTLE_KEY_MAX], why[256];
	int64_t now = (int64_t)time(NULL);
	size_t i, n = strlen(user);
	int rc;

	*retry = 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)user[i] <= 0x20 || user[i] == 0x7f)
			break;
	if (n == 0 || n > 320 || i < n || strlen(password) > 1024) {
		*code = 401;
		pc_strlcpy(detail, "wrong account or password", dlen);
		return -1;
	}
	snprintf(akey, sizeof(akey), "acct:%s", user);
	pc_str_lower(akey);
	http_client_key(r, ckey, sizeof(ckey));
	if (locked_out(r, akey, ckey, now, code, retry, detail, dlen))
		return -1;
	http_slow_begin(r);
	rc = saslauth_check(user, password, why, sizeof(why));
	http_slow_end(r);
	/*
	 * Requests sent side by side all pass the look above before the
	 * first of them fails: whatever answer arrives after a lock-out
	 * began stays unknown to the client, or the workers would multiply
	 * the guesses per lock-out.
	 */
	if (locked_out(r, akey, ckey, now, code, retry, detail, dlen))
		return -1;
	if (rc == SASLAUTH_OK) {
		throttle_success(r->svc->login_acct, akey);
		return 0;
	}
	if (rc == SASLAUTH_TEMP) {
		pc_log_err("login: SASL could not check a password: %s", why);
		*code = 503;
		pc_strlcpy(detail, "the password check is unavailable; try "
		    "again later", dlen);
		return -1;
	}
	throttle_failure(r->svc->login_acct, akey, now);
	throttle_failure(r->svc->login_addr, ckey, now);
	{
		struct pc_logfield f[] = {
			{ "event", "login-failed", 1 },
			{ "account", user, 0 },
			{ "ip", r->client_text, 1 },
		};
		pc_log_event(f, PC_ARRAY_LEN(f));
	}
	*code = 401;
	pc_strlcpy(detail, "wrong account or password", dlen);
	return -1;
}

int
http_auth_basic(struct http_req *r, char *acct, size_t len)
{
	const char *h = http_header(r, "Authorization");
	unsigned char dec[1100];
	char detail[200], num[16], *colon;
	unsigned retry;
	size_t n, pad = 0;
	int dl, code;

	if (h == NULL || strncasecmp(h, "Basic ", 6) != 0) {
		http_set_header(r, "WWW-Authenticate",
		    "Basic realm=\"portcullis\", charset=\"UTF-8\"");
		http_error(r, 401, "unauthorized", "log in with your mail "
		    "account (HTTP Basic)");
		return -1;
	}
	h += 6;
	while (*h == ' ')
		h++;
	n = strlen(h);
	if (n == 0 || n % 4 != 0 || n > 1400)
		goto bad;
	if (h[n - 1] == '=')
		pad = h[n - 2] == '=' ? 2 : 1;
	dl = EVP_DecodeBlock(dec, (const unsigned char *)h, (int)n);
	if (dl < 0 || (size_t)dl < pad)
		goto bad;
	dl -= (int)pad;
	dec[dl] = '\0';
	if (memchr(dec, '\0', (size_t)dl) != NULL ||
	    (colon = strchr((char *)dec, ':')) == NULL)
		goto bad;
	*colon = '\0';
	if (http_login(r, (char *)dec, colon + 1, &code, &retry, detail,
	    sizeof(detail)) == 0) {
		pc_strlcpy(acct, (char *)dec, len);
		pc_str_lower(acct);
		OPENSSL_cleanse(dec, sizeof(dec));
		return 0;
	}
	OPENSSL_cleanse(dec, sizeof(dec));
	if (code == 429) {
		snprintf(num, sizeof(num), "%u", retry);
		http_set_header(r, "Retry-After", num);
		http_error(r, 429, "too_many_attempts", detail);
		return -1;
	}
	if (code == 401)
		http_set_header(r, "WWW-Authenticate",
		    "Basic realm=\"portcullis\", charset=\"UTF-8\"");
	http_error(r, code, code == 401 ? "unauthorized" : "unavailable",
	    detail);
	return -1;
bad:
	http_set_header(r, "WWW-Authenticate",
	    "Basic realm=\"portcullis\", charset=\"UTF-8\"");
	http_error(r, 401, "unauthorized", "malformed Authorization header");
	return -1;
}
