/*
 * pages.h - the HTML of the sign-up page and the public policy page,
 * shared by pages.c (rendering) and pages_forms.c (the form posts).
 */
#ifndef PC_PAGES_H
#define PC_PAGES_H

#include "http.h"
#include "util.h"

/* What the last form post did, shown at the top of the page. */
struct page_msg {
	int error;		/* 0: role=status, 1: role=alert */
	char text[700];
	json_t *checks;		/* a refused registration's checks, or NULL */
};

void html_escape(struct dstr *d, const char *s);
/* The index page for the session's account (NULL: the login form). */
void pages_index(struct http_req *r, int code, const struct http_session *s,
    const struct page_msg *m);
void pages_policy(struct http_req *r, const struct page_msg *m);
/* The anonymous forms' CSRF token (cookie pc_csrf), set when absent. */
const char *pages_anon_csrf(struct http_req *r, char *buf, size_t len);
/* A cookie's value, or NULL. */
const char *pages_cookie(struct http_req *r, const char *name, char *buf,
    size_t len);
/* The session of the request's pc_session cookie, or NULL. */
struct http_session *pages_session(struct http_req *r);
/* Form posts (pages_forms.c): 1 when the path was one. */
int pages_forms(struct http_req *r);

#endif
