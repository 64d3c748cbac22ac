/*
 * http_pool.c - the worker threads behind the HTTP server.  A request
 * whose handling may wait (a Cyrus SASL password check, the DNS checks of
 * a registration, the milter's ControlSocket) is handed here, so that the
 * event thread keeps answering everybody else: GET /policy, the rules
 * routers fetch, other logins.
 *
 * libevent's request objects belong to the event thread: a worker only
 * reads the request's headers and fills in its reply (http_reply stages
 * it when r->deferred is set), and the event thread sends it, woken by
 * event_active() (libevent's locking is on: evthread_use_pthreads()
 * comes before the event base is made).  A request the client gave up on
 * stays valid until it is answered: evhttp frees it then.
 *
 * Each worker has its own resolver; the registry, the throttles and the
 * sessions are shared under the server's state lock (see http.c), which
 * handlers let go of around the slow calls (http_slow_begin/end).
 */
#include "http.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "dns.h"
#include "log.h"
#include "util.h"

struct node {
	struct http_req *r;
	struct node *next;
};

struct fifo {
	struct node *head, *tail;
	unsigned n;
};

struct worker {
	struct http_pool *pool;
	pthread_t thread;
	struct dns *dns;
	struct check_dns ops;
	int started;
};

struct http_pool {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct fifo todo, done;
	unsigned max_queue;
	int stopping;
	struct event *done_ev;
	struct worker *w;
	unsigned nw;
	http_pool_fn run, finish;
	void *arg;
};

static void
push(struct fifo *f, struct http_req *r)
{
	struct node *n = xcalloc(1, sizeof(*n));

	n->r = r;
	if (f->tail != NULL)
		f->tail->next = n;
	else
		f->head = n;
	f->tail = n;
	f->n++;
}

static struct http_req *
pop(struct fifo *f)
{
	struct node *n = f->head;
	struct http_req *r;

	if (n == NULL)
		return NULL;
	f->head = n->next;
	if (f->head == NULL)
		f->tail = NULL;
	f->n--;
	r = n->r;
	free(n);
	return r;
}

static void *
work(void *arg)
{
	struct worker *w = arg;
	struct http_pool *p = w->pool;
	struct http_req *r;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->stopping && p->todo.n == 0)
			pthread_cond_wait(&p->wake, &p->lock);
		if (p->stopping)
			break;
		r = pop(&p->todo);
		pthread_mutex_unlock(&p->lock);
		r->dnsops = &w->ops;
		p->run(p->arg, r);
		pthread_mutex_lock(&p->lock);
		push(&p->done, r);
		event_active(p->done_ev, EV_READ, 0);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* On the event thread: send what the workers finished. */
static void
on_done(evutil_socket_t fd, short what, void *arg)
{
	struct http_pool *p = arg;
	struct http_req *r;

	(void)fd;
	(void)what;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		r = pop(&p->done);
		pthread_mutex_unlock(&p->lock);
		if (r == NULL)
			break;
		p->finish(p->arg, r);
	}
}

struct http_pool *
http_pool_new(struct event_base *base, unsigned nworkers, unsigned max_queue,
    const struct dconf *c, http_pool_fn run, http_pool_fn finish, void *arg,
    char *err, size_t errlen)
{
	struct http_pool *p = xcalloc(1, sizeof(*p));
	sigset_t all, old;
	unsigned i;

	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	p->max_queue = max_queue;
	p->run = run;
	p->finish = finish;
	p->arg = arg;
	p->nw = nworkers;
	p->w = xcalloc(nworkers, sizeof(*p->w));
	if ((p->done_ev = event_new(base, -1, EV_PERSIST, on_done, p)) == NULL) {
		pc_err(err, errlen, "HTTP workers: cannot make an event");
		http_pool_free(p, NULL);
		return NULL;
	}
	for (i = 0; i < nworkers; i++) {
		p->w[i].pool = p;
		if ((p->w[i].dns = dns_new(c->resolver != NULL ?
		    &c->resolver_addr : NULL, c->resolver_port, err,
		    errlen)) == NULL) {
			http_pool_free(p, NULL);
			return NULL;
		}
		checks_dns_ops(&p->w[i].ops, p->w[i].dns);
	}
	/* Signals are the main thread's: it sleeps waiting for them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < nworkers; i++) {
		if (pthread_create(&p->w[i].thread, NULL, work, &p->w[i]) != 0)
			break;
		p->w[i].started = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (i < nworkers) {
		pc_err(err, errlen, "cannot start the HTTP worker threads");
		http_pool_free(p, NULL);
		return NULL;
	}
	return p;
}

int
http_pool_submit(struct http_pool *p, struct http_req *r)
{
	int rc = -1;

	pthread_mutex_lock(&p->lock);
	if (!p->stopping && p->todo.n < p->max_queue) {
		r->deferred = 1;
		push(&p->todo, r);
		pthread_cond_signal(&p->wake);
		rc = 0;
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

void
http_pool_free(struct http_pool *p, http_pool_fn drop)
{
	struct http_req *r;
	unsigned i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->nw; i++) {
		if (p->w[i].started)
			pthread_join(p->w[i].thread, NULL);
		dns_free(p->w[i].dns);
	}
	/* Requests never answered: evhttp frees its side with the server. */
	while ((r = pop(&p->todo)) != NULL || (r = pop(&p->done)) != NULL)
		if (drop != NULL)
			drop(p->arg, r);
	if (p->done_ev != NULL)
		event_free(p->done_ev);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p->w);
	free(p);
}
