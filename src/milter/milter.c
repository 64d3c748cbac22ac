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
#include <time.h>

#include "log.h"
#include "metrics.h"
#include "mseam.h"
#include "origin_log.h"
#include "rlpolicy.h"
#include "sender.h"
#include "session.h"
#include "spf.h"
#include "stamp.h"
#include "steps.h"

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

/*
 * The queue ID, looked up until the MTA has one: Sendmail has it at MAIL;
 * Postfix opens its queue file once the first recipient is accepted
 * (smtpd_delay_open_until_valid_rcpt), so from the next RCPT or DATA on.
 * It does not change within a message; MAIL, the end of a message and an
 * abort clear it (session_reset_message).
 */
static void
refresh_qid(SMFICTX *ctx, struct session *s)
{
	const char *qid;

	if (s->qid[0] != '\0')
		return;
	qid = mseam_macro(ctx, "i");
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
	metrics_message(temp ? MA_TEMPFAIL : MA_REJECT);
	session_reset_message(s);
	return temp ? SMFIS_TEMPFAIL : SMFIS_REJECT;
}

/* The contract's 553 for an address the account does not own. */
static sfsistat
refuse_not_owned(SMFICTX *ctx, struct session *s, const char *addr,
    const char *reason)
{
	char text[ACCOUNT_MAX + PC_MAILBOX_FMT_MAX + 64];

	snprintf(text, sizeof(text), "<%s>: Sender address rejected: "
	    "not owned by user %s", addr, s->account);
	return refuse(ctx, s, "553", "5.7.1", text, reason);
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

	(void)f2; (void)f3;
	if ((f1 & PC_STEPS_NOREPLY) != PC_STEPS_NOREPLY) {
		/* Not libmilter 8.14 or later: the callbacks would hang the MTA. */
		pc_log_err("libmilter offers protocol steps 0x%lx, without the "
		    "\"no reply\" steps 0x%lx that this filter needs; closing "
		    "the connection (the MTA applies its milter default action)",
		    f1, (unsigned long)PC_STEPS_NOREPLY);
		return SMFIS_REJECT;
	}
	for (i = 0; i < sizeof(wanted_macros) / sizeof(wanted_macros[0]); i++)
		mseam->setsymlist(ctx, wanted_macros[i].stage,
		    (char *)wanted_macros[i].list);
	/* The actions of smfiDesc's flags (quarantine, headers) the MTA offers. */
	*pf0 = f0 & milter_desc.xxfi_flags;
	/* Steps without an answer, and those skipped where the MTA can (steps.h). */
	*pf1 = (f1 & PC_STEPS_UNUSED) | PC_STEPS_NOREPLY;
	*pf2 = *pf3 = 0;
	return SMFIS_CONTINUE;
}

/*
 * A problem at a step that gets no answer: logged, and the session is
 * left without it, so the next step that is answered (MAIL, end of
 * message) follows OnInternalError.
 */
static sfsistat
noreply_error(const char *what)
{
	pc_log_err("internal error: %s", what);
	return SMFIS_NOREPLY;
}

static sfsistat
mlfi_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct mconf *conf = mconf_acquire();
	struct session *s;
	const char *v;

	if (conf == NULL)
		return noreply_error("no configuration loaded");
	s = session_new(conf);
	if (mseam->setpriv(ctx, s) != MI_SUCCESS) {
		session_free(s);
		return noreply_error("cannot attach the session");
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
	return SMFIS_NOREPLY;
}

/* The TLS macros arrive at HELO (Postfix, Sendmail), or at MAIL if so set. */
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
		return noreply_error("no session at HELO");
	session_set(s->helo, sizeof(s->helo), helo);
	read_tls(ctx, s);
	return SMFIS_NOREPLY;
}

/*
 * SPF of the envelope sender (spf.c decides).  A DNS error follows
 * OnInternalError, but "accept" here means go on with the message (its
 * stamp, its limits), not skip every later check.
 */
static sfsistat
check_spf(SMFICTX *ctx, struct session *s, const struct pc_mailbox *mb)
{
	char text[PC_DOMAIN_MAX + 128], dom[PC_DOMAIN_MAX + 1];

	switch (spf_decide(s->conf, mb, &s->spf)) {
	case SPF_ACT_REJECT:
		safe_text(dom, sizeof(dom), s->spf.domain);
		snprintf(text, sizeof(text), "SPF of %s does not authorize this "
		    "provider's relays (%s)", dom, spf_result_name(s->spf.result));
		return refuse(ctx, s, "550", "5.7.23", text, s->spf.reason);
	case SPF_ACT_DNSERR:
		if (s->conf->on_error == ONERR_ACCEPT) {
			pc_log_warn("spf: %s: %s; accepting (OnInternalError)",
			    s->spf.domain, s->spf.reason);
			return SMFIS_CONTINUE;
		}
		return internal_error(ctx, s, s->spf.reason);
	default:
		return SMFIS_CONTINUE;
	}
}

/* Rate limits and suspension at MAIL FROM (rlpolicy.c decides). */
static sfsistat
ratelimit_check_mail(SMFICTX *ctx, struct session *s)
{
	struct rl_reply rr;

	if (ratelimit_mail(s, &rr) < 0)
		return refuse(ctx, s, rr.rcode, rr.xcode, rr.text, rr.reason);
	return SMFIS_CONTINUE;
}

static sfsistat
spf_then_limits(SMFICTX *ctx, struct session *s, const struct pc_mailbox *mb)
{
	sfsistat r = check_spf(ctx, s, mb);

	return r != SMFIS_CONTINUE ? r : ratelimit_check_mail(ctx, s);
}

static sfsistat
mlfi_envfrom(SMFICTX *ctx, char **argv)
{
	struct session *s = get_session(ctx);
	struct pc_mailbox mb;
	const char *login, *v;
	char reason[256];
	int parsed;

	if (s == NULL)
		return internal_error(ctx, NULL, "no session at MAIL");
	session_reset_message(s);
	/* Once TLS is up it stays up: HELO's macros (Postfix) are final. */
	if (s->tls[0] == '\0' || s->cipher[0] == '\0')
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
		return spf_then_limits(ctx, s, &mb);	/* trusted, or no auth needed */
	if (!decide_sender(s->conf, s->account, &mb, reason, sizeof(reason)))
		return refuse_not_owned(ctx, s, s->from, reason);
	return spf_then_limits(ctx, s, &mb);
}

static sfsistat
mlfi_envrcpt(SMFICTX *ctx, char **argv)
{
	struct session *s = get_session(ctx);
	struct rl_reply rr;
	char buf[sizeof(rr.text)];

	(void)argv;
	if (s == NULL)
		return internal_error(ctx, NULL, "no session at RCPT");
	if (ratelimit_rcpt(s, &rr) < 0) {
		/* Only this recipient: the transaction goes on. */
		safe_text(buf, sizeof(buf), rr.text);
		mseam->setreply(ctx, rr.rcode, rr.xcode, buf);
		refresh_qid(ctx, s);
		origin_log(s, rr.rcode[0] == '4' ? "tempfail" : "reject",
		    rr.rcode[0] == '4' ? "tempfail" : "reject", rr.reason);
		return rr.rcode[0] == '4' ? SMFIS_TEMPFAIL : SMFIS_REJECT;
	}
	s->rcpts++;
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_header(SMFICTX *ctx, char *name, char *value)
{
	struct session *s = get_session(ctx);
	size_t nlen, vlen;

	if (s == NULL)
		return noreply_error("no session at header");
	nlen = strlen(name);
	vlen = strlen(value);
	s->size += nlen + vlen + 4;	/* ": " and CRLF */
	/* By length first: most headers are none of these four. */
#define IS_HEADER(lit) (nlen == sizeof(lit) - 1 && strcasecmp(name, lit) == 0)
	if (IS_HEADER("From")) {
		/* Kept whole: the check needs every From: there is. */
		dstr_append(&s->from_hdrs, value, vlen + 1);
		s->n_from_hdrs++;
	} else if (IS_HEADER("Message-ID")) {
		session_set(s->msgid, sizeof(s->msgid), value);
	} else if (IS_HEADER(STAMP_HEADER)) {
		s->own_hdrs[0]++;
	} else if (IS_HEADER(SPF_HEADER_NAME)) {
		s->own_hdrs[1]++;
	}
#undef IS_HEADER
	return SMFIS_NOREPLY;
}

/* Applies SenderPolicy to every address of every From: header. */
static sfsistat
check_header_from(SMFICTX *ctx, struct session *s)
{
	struct pc_mailbox mbs[MILTER_FROM_MAX];
	char reason[256], one[PC_MAILBOX_FMT_MAX];
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
		return refuse_not_owned(ctx, s, one, reason);
	}
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct session *s = get_session(ctx);

	(void)chunk;
	if (s == NULL)
		return noreply_error("no session at body");
	s->size += len;
	return SMFIS_NOREPLY;
}

/*
 * Our headers at the top of the message.  Headers of our names that the
 * client wrote are removed first: a stamp copied from someone else's
 * mail would otherwise name them to the abuse desk.
 */
static int
add_headers(SMFICTX *ctx, struct session *s)
{
	const struct spf_conf *sc = s->conf->spf;
	struct stamp_origin o;
	char value[STAMP_TEXT_MAX + 1], err[256];
	unsigned i;

	if (sc == NULL)
		return 0;
	if (sc->mode == SPF_HEADER) {
		for (i = s->own_hdrs[1]; i > 0; i--)
			mseam->chgheader(ctx, SPF_HEADER_NAME, (int)i, NULL);
		spf_header_value(&s->spf, value, sizeof(value));
		if (s->spf.checked &&
		    mseam->insheader(ctx, 0, SPF_HEADER_NAME, value) != MI_SUCCESS)
			pc_log_warn("cannot add %s to %s", SPF_HEADER_NAME, s->qid);
	}
	if (!sc->origin_stamp)
		return 0;
	for (i = s->own_hdrs[0]; i > 0; i--)
		mseam->chgheader(ctx, STAMP_HEADER, (int)i, NULL);
	memset(&o, 0, sizeof(o));
	pc_strlcpy(o.account, s->account, sizeof(o.account));
	pc_strlcpy(o.addr, s->ip, sizeof(o.addr));
	pc_strlcpy(o.qid, s->qid, sizeof(o.qid));
	o.time = (int64_t)time(NULL);
	if (stamp_seal(&sc->keys, &o, value, sizeof(value), err,
	    sizeof(err)) < 0) {
		pc_log_err("origin stamp: %s", err);
		return -1;
	}
	return mseam->insheader(ctx, 0, STAMP_HEADER, value) == MI_SUCCESS ? 0 : -1;
}

static sfsistat
mlfi_eom(SMFICTX *ctx)
{
	struct session *s = get_session(ctx);
	sfsistat r;

	if (s == NULL)
		return internal_error(ctx, NULL, "no session at end of message");
	refresh_qid(ctx, s);
	if ((r = check_header_from(ctx, s)) != SMFIS_CONTINUE)
		return r;
	if (add_headers(ctx, s) < 0)
		return internal_error(ctx, s, "cannot add the origin stamp");
	ratelimit_eom(s);
	if (s->rl_hold && (mseam->quarantine == NULL ||
	    mseam->quarantine(ctx, s->rl_note) != MI_SUCCESS)) {
		pc_log_warn("cannot quarantine %s", s->qid);
		s->rl_hold = 0;
	}
	metrics_message(s->rl_hold ? MA_QUARANTINE :
	    s->rl_note[0] != '\0' ? MA_LOG : MA_ACCEPT);
	origin_log(s, "origin", s->rl_hold ? "quarantine" : "accept",
	    s->rl_note[0] != '\0' ? s->rl_note :
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
	SMFIF_QUARANTINE |	/* RateLimitAction quarantine */
	    SMFIF_ADDHDRS | SMFIF_CHGHDRS,	/* origin stamp, SPF header */
	mlfi_connect,
	mlfi_helo,
	mlfi_envfrom,
	mlfi_envrcpt,
	mlfi_header,
	NULL,			/* end of headers: negotiated away */
	mlfi_body,
	mlfi_eom,
	mlfi_abort,
	mlfi_close,
	NULL,			/* unknown */
	NULL,			/* data */
	mlfi_negotiate,
};
