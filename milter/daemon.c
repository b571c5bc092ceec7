/* daemon: detach, PID file, socket owner, privilege drop. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "strbuf.h"

#include "daemon.h"

static int detach_fd = -1; /* child: write end of the pipe to the parent */

bool daemon_user_lookup(const char *spec, struct daemon_user *out, struct strbuf *err)
{
	memset(out, 0, sizeof *out);
	if (spec == NULL || spec[0] == '\0')
		return true;
	const char *colon = strchr(spec, ':');
	size_t ulen = colon ? (size_t)(colon - spec) : strlen(spec);
	if (ulen == 0 || ulen >= sizeof out->name) {
		strbuf_printf(err, "UserID \"%s\": expected user or user:group", spec);
		return false;
	}
	memcpy(out->name, spec, ulen);
	out->name[ulen] = '\0';
	struct passwd *pw = getpwnam(out->name);
	if (pw == NULL) {
		strbuf_printf(err, "UserID \"%s\": no such user; create it "
			      "(adduser --system %s) or fix UserID", spec, out->name);
		return false;
	}
	out->uid = pw->pw_uid;
	out->gid = pw->pw_gid;
	if (colon != NULL) {
		struct group *gr = getgrnam(colon + 1);
		if (gr == NULL) {
			strbuf_printf(err, "UserID \"%s\": no such group \"%s\"", spec, colon + 1);
			return false;
		}
		out->gid = gr->gr_gid;
	}
	out->set = true;
	return true;
}

bool daemon_detach(struct strbuf *err)
{
	int fds[2];
	if (pipe(fds) != 0) {
		strbuf_printf(err, "pipe: %s", strerror(errno));
		return false;
	}
	pid_t pid = fork();
	if (pid < 0) {
		strbuf_printf(err, "fork: %s", strerror(errno));
		return false;
	}
	if (pid > 0) {
		/* Parent: wait for the child's word, then leave. */
		close(fds[1]);
		char status = 1;
		ssize_t n;
		do
			n = read(fds[0], &status, 1);
		while (n < 0 && errno == EINTR);
		_exit(n == 1 && status == 0 ? 0 : 1);
	}
	close(fds[0]);
	detach_fd = fds[1];
	if (setsid() < 0) {
		strbuf_printf(err, "setsid: %s", strerror(errno));
		return false;
	}
	if (chdir("/") != 0) {
		strbuf_printf(err, "chdir /: %s", strerror(errno));
		return false;
	}
	return true;
}

void daemon_detach_done(bool ok)
{
	if (detach_fd < 0)
		return;
	int null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		(void)dup2(null, STDIN_FILENO);
		(void)dup2(null, STDOUT_FILENO);
		(void)dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	char status = ok ? 0 : 1;
	ssize_t n;
	do
		n = write(detach_fd, &status, 1);
	while (n < 0 && errno == EINTR);
	close(detach_fd);
	detach_fd = -1;
}

bool daemon_pidfile_write(const char *path, struct strbuf *err)
{
	if (path == NULL || path[0] == '\0')
		return true;
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		strbuf_printf(err, "PidFile %s: %s; create the directory or fix PidFile",
			      path, strerror(errno));
		return false;
	}
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0) {
		strbuf_printf(err, "PidFile %s: %s", path, strerror(errno));
		return false;
	}
	return true;
}

void daemon_pidfile_remove(const char *path)
{
	if (path != NULL && path[0] != '\0')
		(void)unlink(path);
}

/* The file system path of a local socket spec, or NULL for inet sockets. */
static const char *socket_path(const char *spec)
{
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (spec[0] == '/')
		return spec;
	return NULL;
}

bool daemon_socket_chown(const char *spec, const struct daemon_user *u, struct strbuf *err)
{
	const char *path = socket_path(spec);
	if (path == NULL || !u->set || geteuid() != 0)
		return true;
	if (chown(path, u->uid, u->gid) != 0) {
		strbuf_printf(err, "chown %s: %s", path, strerror(errno));
		return false;
	}
	return true;
}

bool daemon_drop_privileges(const struct daemon_user *u, struct strbuf *err)
{
	if (!u->set || (getuid() == u->uid && geteuid() == u->uid))
		return true;
	if (geteuid() != 0) {
		strbuf_printf(err, "UserID %s: only root can change users; start as root "
			      "or remove UserID", u->name);
		return false;
	}
	if (setgid(u->gid) != 0 || initgroups(u->name, u->gid) != 0 || setuid(u->uid) != 0) {
		strbuf_printf(err, "UserID %s: cannot switch to uid %ld gid %ld: %s", u->name,
			      (long)u->uid, (long)u->gid, strerror(errno));
		return false;
	}
	if (u->uid != 0 && setuid(0) == 0) {
		strbuf_printf(err, "UserID %s: root could be regained after setuid", u->name);
		return false;
	}
	return true;
}

void daemon_socket_nodelay(void)
{
	/* libmilter keeps its listening descriptor to itself: look for it. */
	for (int fd = 0; fd < 1024; fd++) {
		int v = 0;
		socklen_t len = sizeof v;
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) != 0 || v == 0)
			continue;
		len = sizeof v;
		if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &len) != 0 || v != IPPROTO_TCP)
			continue;
		int one = 1;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
}
