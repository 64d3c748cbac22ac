/*
 * pages.c - the subscriber's pages, rendered on the server as plain
 * HTML with one stylesheet of our own: GET / (sign in, register a mail
 * server, see, renew and delete your entries) and GET /policy (the port
 * 25 policy, generated from the configuration).  No JavaScript: every
 * action is a form post (pages_forms.c), so the page works in any
 * browser, and a Content-Security-Policy without script-src holds.
 */
#include <sys/queue.h>

#include "pages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>

#include "duration.h"
#include "registry.h"
#include "util.h"

static const char css[] =
":root{--ink:#1b2430;--muted:#55606e;--line:#d5dbe3;--bg:#f4f6f9;"
"--brand:#0b4f8a;--ok:#1d6b35;--okbg:#e5f4ea;--bad:#9b1c1c;--badbg:#fdeaea;"
"--warn:#7a4d00;--warnbg:#fff4dc}\n"
"*{box-sizing:border-box}\n"
"body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,"
"'Helvetica Neue',Arial,sans-serif;color:var(--ink);background:var(--bg)}\n"
".wrap{max-width:62rem;margin:0 auto;padding:0 1.25rem}\n"
".skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;"
"background:#fff;padding:.5rem;z-index:2}\n"
"header.top{background:var(--brand);color:#fff}\n"
"header.top .wrap{display:flex;align-items:center;justify-content:"
"space-between;gap:1rem;min-height:3.5rem;flex-wrap:wrap}\n"
".brand{font-weight:700;font-size:1.15rem;letter-spacing:.01em}\n"
"header.top nav a{color:#fff;margin-left:1.25rem;text-decoration:none;"
"border-bottom:2px solid transparent}\n"
"header.top nav a:hover,header.top nav a:focus{border-bottom-color:#fff}\n"
"main{padding:1.5rem 1.25rem 2rem}\n"
"h1{font-size:1.7rem;line-height:1.25;margin:.5rem 0 .75rem}\n"
"h2{font-size:1.2rem;margin:0 0 .75rem}\n"
".lead{font-size:1.05rem;color:var(--muted);max-width:48rem}\n"
".card{background:#fff;border:1px solid var(--line);border-radius:8px;"
"padding:1.25rem 1.5rem;margin:1.25rem 0;box-shadow:0 1px 2px rgba(0,0,0,.04)}\n"
".grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(18rem,1fr));"
"gap:1.25rem}\n"
"label{display:block;font-weight:600;margin:.75rem 0 .25rem}\n"
".hint{display:block;font-weight:400;color:var(--muted);font-size:.9rem}\n"
"input[type=text],input[type=password],input[type=email],textarea{width:100%;"
"padding:.55rem .65rem;border:1px solid #9aa5b1;border-radius:6px;font:inherit}\n"
"input:focus,textarea:focus,button:focus{outline:3px solid #8cc2f5;"
"outline-offset:1px}\n"
"button{font:inherit;font-weight:600;padding:.5rem 1.1rem;border-radius:6px;"
"border:1px solid var(--brand);background:var(--brand);color:#fff;"
"cursor:pointer;margin-top:1rem}\n"
"button.secondary{background:#fff;color:var(--brand)}\n"
"button.danger{background:#fff;color:var(--bad);border-color:var(--bad)}\n"
"table.entries button{margin:0 .25rem 0 0;padding:.3rem .7rem;font-size:.9rem}\n"
"table{border-collapse:collapse;width:100%}\n"
"th,td{text-align:left;padding:.6rem .5rem;border-bottom:1px solid var(--line);"
"vertical-align:top}\n"
"th{font-size:.85rem;text-transform:uppercase;letter-spacing:.04em;"
"color:var(--muted)}\n"
".badge{display:inline-block;padding:.1rem .55rem;border-radius:999px;"
"font-size:.85rem;font-weight:600}\n"
".s-active{background:var(--okbg);color:var(--ok)}\n"
".s-pending{background:var(--warnbg);color:var(--warn)}\n"
".s-suspended,.s-revoked{background:var(--badbg);color:var(--bad)}\n"
".s-expired{background:#eceff3;color:var(--muted)}\n"
".msg{border-radius:8px;padding:1rem 1.25rem;margin:1rem 0;border:1px solid}\n"
".msg.ok{background:var(--okbg);border-color:#9fd3b0;color:var(--ok)}\n"
".msg.bad{background:var(--badbg);border-color:#f1b5b5;color:var(--bad)}\n"
".checks{margin:.5rem 0 0;padding-left:1.25rem}\n"
".checks .fail{color:var(--bad)}.checks .pass{color:var(--ok)}\n"
".inline{display:inline}\n"
".who{display:flex;justify-content:space-between;align-items:center;"
"flex-wrap:wrap;gap:.5rem}\n"
"footer{color:var(--muted);font-size:.9rem;padding:1rem 1.25rem 2rem}\n"
"a{color:var(--brand)}\n"
"@media (max-width:40rem){td,th{display:block}thead{display:none}"
"td{border:0;padding:.2rem 0}tr{display:block;border-bottom:1px solid "
"var(--line);padding:.5rem 0}}\n";

void
html_escape(struct dstr *d, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '&': dstr_puts(d, "&amp;"); break;
		case '<': dstr_puts(d, "&lt;"); break;
		case '>': dstr_puts(d, "&gt;"); break;
		case '"': dstr_puts(d, "&quot;"); break;
		case '\'': dstr_puts(d, "&#39;"); break;
		default:
			if ((unsigned char)*s < 0x20 && *s != '\n')
				dstr_putc(d, ' ');
			else
				dstr_putc(d, *s);
		}
	}
}

const char *
pages_cookie(struct http_req *r, const char *name, char *buf, size_t len)
{
	const char *h = http_header(r, "Cookie"), *p;
	size_t n = strlen(name), i;

	if (h == NULL || strlen(h) > 8192)
		return NULL;
	for (p = h; p != NULL && *p != '\0'; p = strchr(p, ';'),
	    p = p != NULL ? p + 1 : NULL) {
		while (*p == ' ')
			p++;
		if (strncmp(p, name, n) != 0 || p[n] != '=')
			continue;
		p += n + 1;
		for (i = 0; i + 1 < len && p[i] != '\0' && p[i] != ';' &&
		    p[i] != ' '; i++)
			buf[i] = p[i];
		buf[i] = '\0';
		return buf;
	}
	return NULL;
}

struct http_session *
pages_session(struct http_req *r)
{
	char id[80];

	if (pages_cookie(r, "pc_session", id, sizeof(id)) == NULL)
		return NULL;
	return http_session_find(r->svc->sessions, id, (int64_t)time(NULL));
}

const char *
pages_anon_csrf(struct http_req *r, char *buf, size_t len)
{
	char cookie[200];

	if (pages_cookie(r, "pc_csrf", buf, len) != NULL && strlen(buf) == 64)
		return buf;
	if (len < 65)
		return "";
	http_random_hex(buf, 65);	/* 64 hex digits, as token_eq wants */
	snprintf(cookie, sizeof(cookie), "pc_csrf=%s; Path=/; HttpOnly; "
	    "SameSite=Strict%s", buf, r->tls ? "; Secure" : "");
	http_set_header(r, "Set-Cookie", cookie);
	return buf;
}

static void
head(struct dstr *d, const char *title)
{
	dstr_puts(d, "<!doctype html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
	    "content=\"width=device-width, initial-scale=1\">\n<title>");
	html_escape(d, title);
	dstr_puts(d, " · Port 25 access</title>\n<link rel=\"stylesheet\" "
	    "href=\"/static/portcullis.css\">\n</head>\n<body>\n"
	    "<a class=\"skip\" href=\"#main\">Skip to content</a>\n"
	    "<header class=\"top\"><div class=\"wrap\"><span class=\"brand\">"
	    "Port 25 access</span><nav aria-label=\"Main\">"
	    "<a href=\"/\">Your mail servers</a>"
	    "<a href=\"/policy\">Port 25 policy</a></nav></div></header>\n"
	    "<main id=\"main\" class=\"wrap\">\n");
}

static void
foot(struct dstr *d, const struct dconf *c)
{
	dstr_puts(d, "</main>\n<footer class=\"wrap\">");
	if (c->contact_address != NULL) {
		dstr_puts(d, "Questions about port 25? Write to <a href=\"mailto:");
		html_escape(d, c->contact_address);
		dstr_puts(d, "\">");
		html_escape(d, c->contact_address);
		dstr_puts(d, "</a>. ");
	}
	dstr_puts(d, "<a href=\"/policy#feedback\">Tell us what you think"
	    "</a>.</footer>\n</body>\n</html>\n");
}

static void
message(struct dstr *d, const struct page_msg *m)
{
	const char *name, *res, *detail;
	json_t *v;

	if (m == NULL || m->text[0] == '\0')
		return;
	dstr_appendf(d, "<div class=\"msg %s\" role=\"%s\"><p><strong>",
	    m->error ? "bad" : "ok", m->error ? "alert" : "status");
	html_escape(d, m->text);
	dstr_puts(d, "</strong></p>");
	if (m->checks != NULL && json_object_size(m->checks) > 0) {
		dstr_puts(d, "<ul class=\"checks\">");
		json_object_foreach(m->checks, name, v) {
			if (json_unpack(v, "{s:s, s:s}", "result", &res,
			    "detail", &detail) < 0 || strcmp(res, "skipped") == 0)
				continue;
			dstr_appendf(d, "<li class=\"%s\">%s: ",
			    strcmp(res, "pass") == 0 ? "pass" : "fail",
			    strcmp(res, "pass") == 0 ? "Passed" :
			    strcmp(res, "fail") == 0 ? "Failed" :
			    "Could not check");
			html_escape(d, detail);
			dstr_puts(d, "</li>");
		}
		dstr_puts(d, "</ul>");
	}
	dstr_puts(d, "</div>\n");
}

static void
requirements(struct dstr *d, const struct dconf *c)
{
	size_t i;

	dstr_puts(d, "<ul>\n<li>a static address on one of our subscriber "
	    "networks (addresses from our dynamic pools change hands and "
	    "cannot be registered)</li>\n");
	if (c->ownership == DCONF_OWN_SOURCE)
		dstr_puts(d, "<li>you register from the mail server itself: "
		    "the address you register is the one you connect from"
		    "</li>\n");
	else if (c->ownership == DCONF_OWN_MAP)
		dstr_puts(d, "<li>the address is assigned to your account"
		    "</li>\n");
	if (c->require_ptr)
		dstr_puts(d, "<li>reverse DNS (PTR) of the address names the "
		    "server, and that name resolves back to the address</li>\n");
	if (c->require_spf)
		dstr_puts(d, "<li>the SPF record of your mail domain authorizes "
		    "the address</li>\n");
	if (c->dnsbl.n > 0) {
		dstr_puts(d, "<li>the address is not listed on ");
		for (i = 0; i < c->dnsbl.n; i++) {
			dstr_puts(d, i == 0 ? "" : i + 1 == c->dnsbl.n ?
			    " or " : ", ");
			html_escape(d, c->dnsbl.v[i]);
		}
		dstr_puts(d, "</li>\n");
	}
	dstr_puts(d, "</ul>\n");
}

/* A one-button form that posts the entry's id to /ACTION (renew, delete). */
static void
entry_button(struct dstr *d, const char *csrf, const char *action,
    const char *cls, const char *label, const struct reg_entry *e)
{
	dstr_appendf(d, "<form class=\"inline\" method=\"post\" "
	    "action=\"/%s\"><input type=\"hidden\" name=\"csrf\" "
	    "value=\"%s\"><input type=\"hidden\" name=\"id\" "
	    "value=\"%lld\"><button type=\"submit\" class=\"%s\" "
	    "aria-label=\"%s %s\">%s</button></form>", action, csrf,
	    (long long)e->id, cls, label, e->address, label);
}

static void
entries_table(struct http_req *r, struct dstr *d, const struct http_session *s)
{
	struct reg_entry *v;
	char err[256], when[32];
	size_t n, i, shown = 0;

	if (registry_list_account(r->svc->reg, s->account, &v, &n, err,
	    sizeof(err)) < 0) {
		dstr_puts(d, "<p role=\"alert\">Your entries cannot be shown "
		    "right now; please try again later.</p>\n");
		return;
	}
	for (i = 0; i < n; i++) {
		struct dstr why;

		if (v[i].status == REG_REVOKED)
			continue;
		if (shown++ == 0)
			dstr_puts(d, "<table class=\"entries\"><caption class="
			    "\"skip\">Your registered mail servers</caption>"
			    "<thead><tr><th scope=\"col\">Address</th><th "
			    "scope=\"col\">Host name</th><th scope=\"col\">"
			    "Status</th><th scope=\"col\">Open until</th><th "
			    "scope=\"col\">Checks</th><th scope=\"col\">"
			    "Actions</th></tr></thead><tbody>\n");
		dstr_puts(d, "<tr><td>");
		html_escape(d, v[i].address);
		dstr_puts(d, "</td><td>");
		html_escape(d, v[i].hostname != NULL ? v[i].hostname : "—");
		dstr_appendf(d, "</td><td><span class=\"badge s-%s\">%s</span>"
		    "</td><td>", reg_status_name(v[i].status),
		    reg_status_name(v[i].status));
		http_time(v[i].expires, when, sizeof(when));
		if (when[0] != '\0')
			when[10] = '\0';	/* the date is enough here */
		html_escape(d, v[i].status == REG_ACTIVE ? when :
		    v[i].status == REG_PENDING ? "awaiting approval" : "—");
		dstr_puts(d, "</td><td>");
		dstr_init(&why);
		checks_describe_failures(v[i].checks, &why);
		html_escape(d, why.len > 0 ? why.buf : "all passed");
		dstr_free(&why);
		dstr_puts(d, "</td><td>");
		if (v[i].status == REG_ACTIVE || v[i].status == REG_EXPIRED)
			entry_button(d, s->csrf, "renew", "secondary", "Renew",
			    &v[i]);
		/* Only an administrator undoes a suspension (api_register.c). */
		if (v[i].status == REG_SUSPENDED)
			dstr_puts(d, "under review: contact us");
		else
			entry_button(d, s->csrf, "delete", "danger", "Delete",
			    &v[i]);
		dstr_puts(d, "</td></tr>\n");
	}
	if (shown > 0)
		dstr_puts(d, "</tbody></table>\n");
	else
		dstr_puts(d, "<p>You have not registered a mail server yet.</p>\n");
	reg_entries_free(v, n);
}

void
pages_index(struct http_req *r, int code, const struct http_session *s,
    const struct page_msg *m)
{
	const struct dconf *c = r->svc->conf;
	char csrf[80];
	struct dstr d;

	dstr_init(&d);
	head(&d, s != NULL ? "Your mail servers" : "Sign in");
	dstr_puts(&d, "<h1>Run your own mail server? Get port 25 opened for "
	    "it.</h1>\n<p class=\"lead\">To protect everyone from spam sent "
	    "by infected computers, connections to port 25 (SMTP) on other "
	    "networks are blocked for our customers' lines. If you run a mail "
	    "server, register it here and we open port 25 for that address "
	    "alone once it passes a few automatic checks.</p>\n");
	message(&d, m);
	if (s == NULL) {
		pages_anon_csrf(r, csrf, sizeof(csrf));
		dstr_puts(&d, "<div class=\"grid\">\n<section class=\"card\" "
		    "aria-labelledby=\"signin\"><h2 id=\"signin\">Sign in</h2>"
		    "<form method=\"post\" action=\"/login\">"
		    "<input type=\"hidden\" name=\"csrf\" value=\"");
		dstr_puts(&d, csrf);
		dstr_puts(&d, "\"><label for=\"account\">Mail account<span "
		    "class=\"hint\">The login of your mailbox with us, e.g. "
		    "alice@example.net</span></label><input type=\"text\" "
		    "id=\"account\" name=\"account\" autocomplete=\"username\" "
		    "required maxlength=\"320\"><label for=\"password\">"
		    "Password</label><input type=\"password\" id=\"password\" "
		    "name=\"password\" autocomplete=\"current-password\" "
		    "required maxlength=\"1024\"><button type=\"submit\">Sign "
		    "in</button></form></section>\n<section class=\"card\" "
		    "aria-labelledby=\"need\"><h2 id=\"need\">What your server "
		    "needs</h2>\n");
		requirements(&d, c);
		dstr_puts(&d, "<p><a href=\"/policy\">Read the full port 25 "
		    "policy</a>.</p></section>\n</div>\n");
	} else {
		dstr_puts(&d, "<div class=\"who\"><p>Signed in as <strong>");
		html_escape(&d, s->account);
		dstr_appendf(&d, "</strong></p><form method=\"post\" action="
		    "\"/logout\"><input type=\"hidden\" name=\"csrf\" value="
		    "\"%s\"><button type=\"submit\" class=\"secondary\">Sign "
		    "out</button></form></div>\n", s->csrf);
		dstr_puts(&d, "<section class=\"card\" aria-labelledby=\"mine\">"
		    "<h2 id=\"mine\">Your mail servers</h2>\n");
		entries_table(r, &d, s);
		dstr_puts(&d, "</section>\n<section class=\"card\" "
		    "aria-labelledby=\"reg\"><h2 id=\"reg\">Register a mail "
		    "server</h2>\n");
		requirements(&d, c);
		dstr_appendf(&d, "<form method=\"post\" action=\"/register\">"
		    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
		    "<label for=\"address\">Server address<span class=\"hint\">"
		    "The public IPv4 or IPv6 address of your mail server",
		    s->csrf);
		if (c->ownership == DCONF_OWN_SOURCE)
			dstr_puts(&d, "; you are connected from it now, so "
			    "it is filled in");
		dstr_puts(&d, "</span></label><input type=\"text\" id="
		    "\"address\" name=\"address\" required maxlength=\"64\" "
		    "value=\"");
		html_escape(&d, r->client_text);
		dstr_appendf(&d, "\"><label for=\"hostname\">Host name%s<span "
		    "class=\"hint\">The name in the address's reverse DNS, e.g. "
		    "mail.example.net</span></label><input type=\"text\" id="
		    "\"hostname\" name=\"hostname\" maxlength=\"253\"%s>"
		    "<label for=\"domain\">Mail domain%s<span class=\"hint\">"
		    "The domain you send mail for, e.g. example.net</span>"
		    "</label><input type=\"text\" id=\"domain\" name=\"domain\" "
		    "maxlength=\"253\"%s><button type=\"submit\">Register"
		    "</button></form></section>\n",
		    c->require_ptr ? "" : " (optional)",
		    c->require_ptr ? " required" : "",
		    c->require_spf ? "" : " (optional)",
		    c->require_spf ? " required" : "");
	}
	foot(&d, c);
	http_set_header(r, "Cache-Control", "no-store");
	http_reply(r, code, "text/html; charset=utf-8", d.buf, d.len);
	dstr_free(&d);
}

static void
netlist_html(struct dstr *d, const struct pc_netlist *l)
{
	char net[PC_NET_STRLEN];
	size_t i;

	for (i = 0; i < l->n; i++) {
		pc_net_format(&l->v[i], net, sizeof(net));
		dstr_puts(d, i == 0 ? "<code>" : ", <code>");
		html_escape(d, net);
		dstr_puts(d, "</code>");
	}
}

static void
days(struct dstr *d, uint64_t seconds)
{
	if (seconds % 86400 == 0)
		dstr_appendf(d, "%llu day%s", (unsigned long long)(seconds /
		    86400), seconds == 86400 ? "" : "s");
	else if (seconds % 3600 == 0)
		dstr_appendf(d, "%llu hour%s", (unsigned long long)(seconds /
		    3600), seconds == 3600 ? "" : "s");
	else
		dstr_appendf(d, "%llu seconds", (unsigned long long)seconds);
}

void
pages_policy(struct http_req *r, const struct page_msg *m)
{
	const struct dconf *c = r->svc->conf;
	const char *contact = c->contact_address;
	char csrf[80];
	struct dstr d;

	dstr_init(&d);
	head(&d, "Port 25 policy");
	dstr_puts(&d, "<h1>Our port 25 policy</h1>\n<p class=\"lead\">Why "
	    "outgoing port 25 is blocked on our customer lines, who is "
	    "affected, and how to get an exception.</p>\n");
	message(&d, m);
	dstr_puts(&d, "<section class=\"card\"><h2>What is blocked</h2><p>"
	    "Outgoing connections to TCP port 25 (SMTP, the port mail servers "
	    "use to deliver to each other) from our customer addresses to "
	    "other networks. Everything else, including sending mail through "
	    "our mail service on the submission ports 587 and 465 with your "
	    "account and password, works as usual.</p></section>\n"
	    "<section class=\"card\"><h2>Why</h2><p>Most spam is sent "
	    "directly to port 25 by infected home computers. Blocking it "
	    "protects your address and ours from block lists, as the "
	    "industry recommends (RFC 5068, BCP 134; the BITAG report on port "
	    "blocking). Customers who run a mail server deliberately can get "
	    "an exception.</p></section>\n<section class=\"card\"><h2>Who is "
	    "affected</h2><p>Customers with addresses in ");
	netlist_html(&d, &c->subscribers);
	dstr_puts(&d, ".");
	if (c->pools.n > 0) {
		dstr_puts(&d, " Addresses in our dynamic pools (");
		netlist_html(&d, &c->pools);
		dstr_puts(&d, ") change hands and are never given an "
		    "exception; ask for a static address first.");
	}
	dstr_puts(&d, "</p></section>\n<section class=\"card\"><h2>How to get "
	    "an exception</h2><p>Sign in on <a href=\"/\">the registration "
	    "page</a> with your mail account and register your server. It "
	    "needs:</p>\n");
	requirements(&d, c);
	dstr_puts(&d, c->approval_mode == DCONF_APPROVAL_MANUAL ?
	    "<p>After the checks pass, our staff review the request; port 25 "
	    "opens when they approve it.</p>" :
	    "<p>When the checks pass, port 25 opens for that address within "
	    "a minute.</p>");
	dstr_puts(&d, "</section>\n<section class=\"card\"><h2>How long an "
	    "exception lasts</h2><p>An exception lasts ");
	days(&d, c->lifetime);
	dstr_puts(&d, "; renew it on the registration page before it runs "
	    "out. We re-run the checks every ");
	days(&d, c->revalidate_every);
	dstr_puts(&d, ", and suspend an exception whose server no longer "
	    "passes them, or that sends abuse.</p></section>\n");
	dstr_puts(&d, "<section class=\"card\" id=\"feedback\" aria-labelledby"
	    "=\"fb\"><h2 id=\"fb\">Feedback</h2><p>Tell us what you think of "
	    "this policy, or what went wrong.");
	if (contact != NULL) {
		dstr_puts(&d, " You can also write to <a href=\"mailto:");
		html_escape(&d, contact);
		dstr_puts(&d, "\">");
		html_escape(&d, contact);
		dstr_puts(&d, "</a>.");
	}
	pages_anon_csrf(r, csrf, sizeof(csrf));
	dstr_appendf(&d, "</p><form method=\"post\" action=\"/feedback\">"
	    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
	    "<label for=\"message\">Your message</label><textarea id="
	    "\"message\" name=\"message\" rows=\"5\" required maxlength="
	    "\"4000\"></textarea><label for=\"contact\">Your e-mail address "
	    "(optional)<span class=\"hint\">Only if you want an answer"
	    "</span></label><input type=\"email\" id=\"contact\" name="
	    "\"contact\" maxlength=\"320\" autocomplete=\"email\"><button "
	    "type=\"submit\">Send feedback</button></form></section>\n", csrf);
	foot(&d, c);
	http_set_header(r, "Cache-Control", "no-store");
	http_reply(r, 200, "text/html; charset=utf-8", d.buf, d.len);
	dstr_free(&d);
}

int
pages_handle(struct http_req *r)
{
	const char *p = r->path;
	int get = r->method == EVHTTP_REQ_GET || r->method == EVHTTP_REQ_HEAD;

	if (strcmp(p, "/") == 0 && get)
		pages_index(r, 200, pages_session(r), NULL);
	else if (strcmp(p, "/policy") == 0 && get)
		pages_policy(r, NULL);
	else if (strcmp(p, "/static/portcullis.css") == 0 && get) {
		http_set_header(r, "Cache-Control", "public, max-age=3600");
		http_reply(r, 200, "text/css; charset=utf-8", css,
		    sizeof(css) - 1);
	} else if (strcmp(p, "/") == 0 || strcmp(p, "/policy") == 0) {
		http_set_header(r, "Allow", "GET");
		http_reply(r, 405, "text/plain; charset=utf-8",
		    "Method not allowed\n", 19);
	} else
		return pages_forms(r);
	return 1;
}
