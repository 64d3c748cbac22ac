/*
 * control_client.c - one command to a ControlSocket and its answer.
 *
 * Every step is bounded by one deadline: connect() and the write by
 * SO_SNDTIMEO (a unix connect blocks while the server's backlog is full,
 * as it is when the milter is busy with another client), the reads by
 * poll() with what is left of the time.  A caller on a request path
 * (portcullisd) can then promise an answer within timeout_ms.
 */
#include "control_client.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int
line_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static int
connect_to(const char *path, unsigned timeout_ms, int *fdp, char *err,
    size_t errlen)
{
	struct sockaddr_un sun;
	struct timeval tv;
	int fd, e;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		pc_err(err, errlen, "ControlSocket path too long: %s", path);
		return PC_CONTROL_LOCAL;
	}
	pc_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		pc_err(err, errlen, "socket: %s", strerror(errno));
		return PC_CONTROL_LOCAL;
	}
	tv.tv_sec = (time_t)(timeout_ms / 1000);
	tv.tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		e = errno;
		close(fd);
		/* A full backlog that stayed full for the whole timeout. */
		pc_err(err, errlen, "%s", e == EAGAIN || e == EWOULDBLOCK ?
		    "timed out (the server is busy)" : strerror(e));
		return PC_CONTROL_UNREACHABLE;
	}
	*fdp = fd;
	return PC_CONTROL_OK;
}

/* Reads until EOF, the cap or the deadline; 1 if the deadline ended it. */
static int
read_answer(int fd, int64_t deadline, struct dstr *in)
{
	char buf[4096];
	struct pollfd p;
	int64_t left;
	ssize_t r;

	while (in->len < PC_CONTROL_ANSWER_MAX) {
		if ((left = deadline - pc_now_ms()) <= 0)
			return 1;
		p.fd = fd;
		p.events = POLLIN;
		p.revents = 0;
		r = poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return 1;
		if (r < 0)
			return 0;
		r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		dstr_append(in, buf, (size_t)r);
	}
	return 0;
}

enum pc_control_rc
pc_control_call(const char *path, const char *line, unsigned timeout_ms,
    struct dstr *body, char *err, size_t errlen)
{
	int64_t deadline = pc_now_ms() + timeout_ms;
	enum pc_control_rc rc;
	struct dstr in;
	char *last, *end;
	size_t off = 0, n;
	ssize_t r;
	int fd = -1, timed_out;

	if (!line_ok(line)) {
		pc_err(err, errlen, "the command must be one line of text");
		return PC_CONTROL_LOCAL;
	}
	if ((rc = connect_to(path, timeout_ms, &fd, err, errlen)) !=
	    PC_CONTROL_OK)
		return rc;
	dstr_init(&in);
	dstr_puts(&in, line);
	dstr_putc(&in, '\n');
	n = in.len;
	/* A server that closes early is seen in its (missing) answer. */
	while (off < n && ((r = send(fd, in.buf + off, n - off,
	    MSG_NOSIGNAL)) > 0 || (r < 0 && errno == EINTR)))
		if (r > 0)
			off += (size_t)r;
	dstr_clear(&in);
	timed_out = read_answer(fd, deadline, &in);
	close(fd);
	while (in.len > 0 && in.buf[in.len - 1] == '\n')
		in.buf[--in.len] = '\0';
	last = strrchr(in.buf, '\n');
	end = last != NULL ? last + 1 : in.buf;
	if (strcmp(end, "OK") == 0) {
		if (last != NULL)
			dstr_append(body, in.buf, (size_t)(last - in.buf) + 1);
		rc = PC_CONTROL_OK;
	} else if (strncmp(end, "ERR ", 4) == 0) {
		pc_err(err, errlen, "%s", end + 4);
		rc = PC_CONTROL_ERR;
	} else {
		if (timed_out)
			pc_err(err, errlen, "no answer within %u ms", timeout_ms);
		else
			pc_err(err, errlen, "the answer ended without OK or ERR");
		rc = PC_CONTROL_NO_ANSWER;
	}
	dstr_free(&in);
	return rc;
}
