/*
 * notify.c - runs NotifyCommand detached from the milter's threads.
 *
 * Everything the child needs (argv, environment) is built before fork(),
 * because after fork() in a threaded process only async-signal-safe calls
 * are allowed until exec.  The intermediate child forks the command and
 * exits at once; the grandchild is inherited by init, which reaps it.
 */
#include "notify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define NOTIFY_VALUE_MAX 512

/* NAME=value with value made printable ASCII and capped. */
static char *
env_pair(const char *name, const char *value)
{
	struct dstr d;
	size_t i;

	dstr_init(&d);
	dstr_puts(&d, name);
	dstr_putc(&d, '=');
	for (i = 0; value[i] != '\0' && i < NOTIFY_VALUE_MAX; i++) {
		unsigned char c = (unsigned char)value[i];

		dstr_putc(&d, c < 0x20 || c > 0x7e ? '?' : (char)c);
	}
	return dstr_steal(&d);
}

int
notify_run(const char *command, const char *event, const char *account,
    const char *reason, const char *ip)
{
	char *envp[8], *argv[4];
	size_t n = 0, i;
	pid_t pid;
	int status, rc = 0;

	if (command == NULL)
		return 0;
	envp[n++] = xstrdup("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:"
	    "/usr/bin:/sbin:/bin");
	envp[n++] = env_pair("PORTCULLIS_EVENT", event);
	if (account != NULL)
		envp[n++] = env_pair("PORTCULLIS_ACCOUNT", account);
	if (reason != NULL)
		envp[n++] = env_pair("PORTCULLIS_REASON", reason);
	if (ip != NULL && ip[0] != '\0')
		envp[n++] = env_pair("PORTCULLIS_IP", ip);
	envp[n] = NULL;
	argv[0] = "/bin/sh";
	argv[1] = "-c";
	argv[2] = (char *)command;
	argv[3] = NULL;

	pid = fork();
	if (pid == 0) {
		int fd;

		if (fork() != 0)
			_exit(0);
		setsid();
		for (fd = 0; fd < 1024; fd++)
			close(fd);
		fd = open("/dev/null", O_RDWR);
		if (fd == 0) {
			dup2(0, 1);
			dup2(0, 2);
		}
		execve(argv[0], argv, envp);
		_exit(127);
	}
	if (pid < 0) {
		pc_log_err("NotifyCommand: fork: %s", strerror(errno));
		rc = -1;
	} else {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	for (i = 0; i < n; i++)
		free(envp[i]);
	return rc;
}
