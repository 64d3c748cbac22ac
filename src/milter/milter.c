/*
 * milter.c - the xxfi_* callbacks and the smfiDesc, and nothing else.
 *
 * Callbacks gather facts from macros into the session, ask the pure
 * decision functions (decide_sender()), and turn the answer into a reply
 * and one origin log line.  A problem with one message never ends the
 * process: it becomes a reply chosen by OnInternalError.
 */
#include "milter.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "mseam.h"
#include "origin_log.h"
#include "sender.h"
#include "session.h"

/*
 * The macros each stage needs.  Postfix and Sendmail send most of these
 * by default; asking for them here means an MTA that honours the request
 * (both do) needs no macro configuration at all.
 */
static const struct {
	int stage;
	const char *list;
} wanted_macros[] = {
	{ SMFIM_CONNECT, "j {daemon_name} {client_addr} {client_port} {client_name}" },
	{ SMFIM_HELO, "{tls_version} {cipher} {cipher_bits} {cert_subject}" },
	{ SMFIM_ENVFROM, "i {auth_type} {auth_authen} {auth_author} {tls_version} {cipher}" },
	{ SMFIM_ENVRCPT, "i" },
	{ SMFIM_EOH, "i" },
	{ SMFIM_EOM, "i" },
};

static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned open_sessions;

unsigned
milter_open_sessions(void)
{
	unsigned n;

	pthread_mutex_lock(&count_lock);
	n = open_sessions;
	pthread_mutex_unlock(&count_lock);
	return n;
}

static void
count_sessions(int delta)
{
	pthread_mutex_lock(&count_lock);
	open_sessions += (unsigned)delta;
	pthread_mutex_unlock(&count_lock);
}

static struct session *
get_session(SMFICTX *ctx)
{
	return mseam->getpriv(ctx);
}

/* Reply text reaches the client and the MTA's log: printable ASCII only. */
static void
safe_text(char *dst, size_t len, const char *src)
{
	size_t i;

	for (i = 0; src[i] != '\0' && i + 1 < len; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = (c < 0x20 || c > 0x7e || c == '%') ? '?' : (char)c;
	}
	dst[i] = '\0';
}

static void
refresh_qid(SMFICTX *ctx, struct session *s)
{
	const char *qid = mseam_macro(ctx, "i");

	if (qid != NULL)
		session_set(s->qid, sizeof(s->qid), qid);
}

/* Sets the reply, logs the decision, returns what libmilter wants. */
static sfsistat
refuse(SMFICTX *ctx, struct session *s, const char *rcode, const char *xcode,
    const char *text, const char *reason)
{
	int temp = rcode[0] == '4';
	char buf[ACCOUNT_MAX + PC_MAILBOX_FMT_MAX + 64];

	safe_text(buf, sizeof(buf), text);
	refresh_qid(ctx, s);
	if (mseam->setreply(ctx, (char *)rcode, (char *)xcode, buf) != MI_SUCCESS)
		pc_log_warn("cannot set reply %s %s", rcode, xcode);
	origin_log(s, temp ? "tempfail" : "reject", temp ? "tempfail" : "reject",
	    reason);
	session_reset_message(s);
	return temp ? SMFIS_TEMPFAIL : SMFIS_REJECT;
}

/* OnInternalError: tempfail with 451 4.3.0, or let the message pass. */
static sfsistat
internal_error(SMFICTX *ctx, struct session *s, const char *what)
{
	pc_log_err("internal error: %s", what);
	if (s == NULL) {
		/* Without a session there is no configuration to ask. */
		mseam->setreply(ctx, "451", "4.3.0", "Temporary local problem");
		return SMFIS_TEMPFAIL;
	}
	if (s->conf->on_error == ONERR_ACCEPT) {
		origin_log(s, "origin", "accept", what);
		return SMFIS_ACCEPT;
	}
	return refuse(ctx, s, "451", "4.3.0", "Temporary local problem", what);
}

static sfsistat
mlfi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	size_t i;

	(void)f0; (void)f2; (void)f3;
	for (i = 0; i < sizeof(wanted_macros) / sizeof(wanted_macros[0]); i++)
		smfi_setsymlist(ctx, wanted_macros[i].stage,
		    (char *)wanted_macros[i].list);
	*pf0 = 0;
	/* Steps the filter has no use for, where the MTA offers to skip them. */
	*pf1 = f1 & (SMFIP_NOUNKNOWN | SMFIP_NODATA);
	*pf2 = *pf3 = 0;
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct mconf *conf = mconf_acquire();
	struct session *s;
	const char *v;

	if (conf == NULL)
		return internal_error(ctx, NULL, "no configuration loaded");
	s = session_new(conf);
	if (mseam->setpriv(ctx, s) != MI_SUCCESS) {
		session_free(s);
		return internal_error(ctx, NULL, "cannot attach the session");
	}
	count_sessions(1);
	session_set(s->ptr, sizeof(s->ptr), hostname);
	if (hostaddr != NULL &&
	    pc_addr_from_sockaddr(hostaddr, &s->addr) == 0) {
		s->have_addr = 1;
		if (hostaddr->sa_family == AF_INET)
			snprintf(s->port, sizeof(s->port), "%u", ntohs(
			    ((const struct sockaddr_in *)(void *)hostaddr)->sin_port));
		else if (hostaddr->sa_family == AF_INET6)
			snprintf(s->port, sizeof(s->port), "%u", ntohs(
			    ((const struct sockaddr_in6 *)(void *)hostaddr)->sin6_port));
	} else if ((v = mseam_macro(ctx, "{client_addr}")) != NULL &&
	    pc_addr_parse(v, &s->addr, NULL, 0) == 0) {
		s->have_addr = 1;
	}
	if (s->have_addr)
		pc_addr_format(&s->addr, s->ip, sizeof(s->ip));
	if (s->port[0] == '\0' && (v = mseam_macro(ctx, "{client_port}")) != NULL)
		session_set(s->port, sizeof(s->port), v);
	session_set(s->daemon, sizeof(s->daemon), mseam_macro(ctx, "{daemon_name}"));
	s->trusted = s->have_addr && pc_netlist_contains(&conf->trusted, &s->addr);
	return SMFIS_CONTINUE;
}

/* TLS macros arrive at HELO (Postfix) or MAIL (when asked for); keep the latest. */
static void
read_tls(SMFICTX *ctx, struct session *s)
{
	const char *v;

	if ((v = mseam_macro(ctx, "{tls_version}")) != NULL)
		session_set(s->tls, sizeof(s->tls), v);
	if ((v = mseam_macro(ctx, "{cipher}")) != NULL)
		session_set(s->cipher, sizeof(s->cipher), v);
}

static sfsistat
mlfi_helo(SMFICTX *ctx, char *helo)
{
	struct session *s = get_session(ctx);

	if (s == NULL)
		return internal_error(ctx, NULL, "no session at HELO");
	session_set(s->helo, sizeof(s->helo), helo);
	read_tls(ctx, s);
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_envfrom(SMFICTX *ctx, char **argv)
{
	struct session *s = get_session(ctx);
	struct pc_mailbox mb;
	const char *login, *v;
	char reason[256], text[ACCOUNT_MAX + PC_MAILBOX_FMT_MAX + 64], addr[PC_MAILBOX_FMT_MAX];
	int parsed;

	if (s == NULL)
		return internal_error(ctx, NULL, "no session at MAIL");
	session_reset_message(s);
	read_tls(ctx, s);
	refresh_qid(ctx, s);
	/* Parsed first so that every log line shows the address one way. */
	parsed = pc_path_parse(argv[0], &mb, reason, sizeof(reason)) == 0;
	if (parsed)
		pc_mailbox_format(&mb, s->from, sizeof(s->from));
	else
		session_set(s->from, sizeof(s->from), argv[0]);
	login = mseam_macro(ctx, "{auth_authen}");
	session_set(s->auth_type, sizeof(s->auth_type),
	    (v = mseam_macro(ctx, "{auth_type}")) != NULL ? v : "");
	s->account[0] = '\0';
	if (login != NULL && sender_account(s->conf, login, s->account,
	    sizeof(s->account)) < 0)
		return internal_error(ctx, s, "unusable {auth_authen}");

	if (s->conf->require_tls && !s->trusted && s->tls[0] == '\0')
		return refuse(ctx, s, "530", "5.7.0",
		    "Must issue a STARTTLS command first", "no TLS");
	if (s->conf->require_auth && !s->trusted && s->account[0] == '\0')
		return refuse(ctx, s, "530", "5.7.0", "Authentication required",
		    "no SMTP AUTH");
	if (!parsed)
		return refuse(ctx, s, "553", "5.1.7", "Malformed sender address",
		    reason);
	if (s->account[0] == '\0')
		return SMFIS_CONTINUE;	/* a trusted client, or RequireAuth no */
	if (!decide_sender(s->conf, s->account, &mb, reason, sizeof(reason))) {
		safe_text(addr, sizeof(addr), s->from);
		snprintf(text, sizeof(text), "<%s>: Sender address rejected: "
		    "not owned by user %s", addr, s->account);
		return refuse(ctx, s, "553", "5.7.1", text, reason);
	}
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_envrcpt(SMFICTX *ctx, char **argv)
{
	struct session *s = get_session(ctx);

	(void)argv;
	if (s == NULL)
		return internal_error(ctx, NULL, "no session at RCPT");
	s->rcpts++;
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_header(SMFICTX *ctx, char *name, char *value)
{
	struct session *s = get_session(ctx);

	if (s == NULL)
		return internal_error(ctx, NULL, "no session at header");
	s->size += strlen(name) + strlen(value) + 4;	/* ": " and CRLF */
	if (strcasecmp(name, "From") == 0) {
		/* Kept whole: the check needs every From: there is. */
		dstr_append(&s->from_hdrs, value, strlen(value) + 1);
		s->n_from_hdrs++;
	} else if (strcasecmp(name, "Message-ID") == 0) {
		session_set(s->msgid, sizeof(s->msgid), value);
	}
	return SMFIS_CONTINUE;
}

/* Applies SenderPolicy to every address of every From: header. */
static sfsistat
check_header_from(SMFICTX *ctx, struct session *s)
{
	struct pc_mailbox mbs[MILTER_FROM_MAX];
	char reason[256], text[ACCOUNT_MAX + PC_MAILBOX_FMT_MAX + 64], addr[PC_MAILBOX_FMT_MAX], one[PC_MAILBOX_FMT_MAX];
	size_t i, n;

	int enforce = s->account[0] != '\0' && s->conf->check_header_from;

	if (s->n_from_hdrs == 0)
		return SMFIS_CONTINUE;	/* the envelope sender was checked */
	if (s->n_from_hdrs > 1 && enforce)
		return refuse(ctx, s, "550", "5.6.0",
		    "Message has more than one From: header",
		    "several From: headers");
	if (pc_from_parse(s->from_hdrs.buf, mbs, MILTER_FROM_MAX, &n, reason,
	    sizeof(reason)) < 0) {
		if (!enforce)
			return SMFIS_CONTINUE;
		return refuse(ctx, s, "550", "5.6.0", "Malformed From: header",
		    reason);
	}
	for (i = 0; i < n; i++) {
		pc_mailbox_format(&mbs[i], one, sizeof(one));
		if (s->header_from.len > 0)
			dstr_putc(&s->header_from, ',');
		dstr_puts(&s->header_from, one);
	}
	if (!enforce)
		return SMFIS_CONTINUE;
	for (i = 0; i < n; i++) {
		if (decide_sender(s->conf, s->account, &mbs[i], reason,
		    sizeof(reason)))
			continue;
		pc_mailbox_format(&mbs[i], one, sizeof(one));
		safe_text(addr, sizeof(addr), one);
		snprintf(text, sizeof(text), "<%s>: Sender address rejected: "
		    "not owned by user %s", addr, s->account);
		return refuse(ctx, s, "553", "5.7.1", text, reason);
	}
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_eoh(SMFICTX *ctx)
{
	struct session *s = get_session(ctx);

	if (s == NULL)
		return internal_error(ctx, NULL, "no session at end of headers");
	refresh_qid(ctx, s);
	return check_header_from(ctx, s);
}

static sfsistat
mlfi_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct session *s = get_session(ctx);

	(void)chunk;
	if (s == NULL)
		return internal_error(ctx, NULL, "no session at body");
	s->size += len;
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_eom(SMFICTX *ctx)
{
	struct session *s = get_session(ctx);

	if (s == NULL)
		return internal_error(ctx, NULL, "no session at end of message");
	refresh_qid(ctx, s);
	origin_log(s, "origin", "accept",
	    s->account[0] != '\0' ? "authenticated" :
	    s->trusted ? "trusted network" : "authentication not required");
	session_reset_message(s);
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_abort(SMFICTX *ctx)
{
	struct session *s = get_session(ctx);

	if (s != NULL)
		session_reset_message(s);
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_close(SMFICTX *ctx)
{
	struct session *s = get_session(ctx);

	if (s != NULL) {
		mseam->setpriv(ctx, NULL);
		session_free(s);
		count_sessions(-1);
	}
	return SMFIS_CONTINUE;
}

struct smfiDesc milter_desc = {
	"portcullis-milter",
	SMFI_VERSION,
	0,			/* no message modifications yet */
	mlfi_connect,
	mlfi_helo,
	mlfi_envfrom,
	mlfi_envrcpt,
	mlfi_header,
	mlfi_eoh,
	mlfi_body,
	mlfi_eom,
	mlfi_abort,
	mlfi_close,
	NULL,			/* unknown */
	NULL,			/* data */
	mlfi_negotiate,
};
