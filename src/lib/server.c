/*
 * server.c - an accept loop on its own thread, and a write that finishes.
 */
#include "server.h"

#include <errno.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "util.h"

#include <stdlib.h>

struct server {
	int fd;
	int timeout;
	void (*serve)(int fd);
};

static void *
serve_loop(void *arg)
{
	struct server *sv = arg;
	struct timeval tv = { sv->timeout, 0 };

	for (;;) {
		int fd = accept(sv->fd, NULL, NULL);

		if (fd < 0) {
			/* EMFILE and friends: back off instead of spinning. */
			if (errno != EINTR && errno != ECONNABORTED)
				sleep(1);
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		sv->serve(fd);
		close(fd);
	}
	return NULL;
}

int
pc_serve_start(int listen_fd, int timeout_seconds, void (*serve)(int fd))
{
	struct server *sv = xmalloc(sizeof(*sv));
	pthread_t tid;

	sv->fd = listen_fd;
	sv->timeout = timeout_seconds;
	sv->serve = serve;
	if (pthread_create(&tid, NULL, serve_loop, sv) != 0) {
		free(sv);
		return -1;
	}
	pthread_detach(tid);
	return 0;
}

int
pc_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}
