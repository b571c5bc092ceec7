/* daemon: the process chores of dmarc-milter: detaching (Background),
 * the PID file, and dropping root (UserID) after the socket is bound.
 *
 * Callers: milter/main.c, at start-up only. Errors: false with the reason in
 * err (the caller logs it as fatal and exits); nothing here logs. */
#ifndef DMARC_MILTER_DAEMON_H
#define DMARC_MILTER_DAEMON_H

#include <stdbool.h>
#include <sys/types.h>

#include "strbuf.h"

/* Who to run as, resolved from UserID ("user" or "user:group"). */
struct daemon_user {
	bool set;        /* UserID given */
	char name[256];  /* user name, for initgroups() */
	uid_t uid;
	gid_t gid;
};

/* Looks UserID up ("" = do not change users). */
bool daemon_user_lookup(const char *spec, struct daemon_user *out, struct strbuf *err);

/* Forks; the parent waits until the child calls daemon_detach_done() and
 * exits with its status (0 ready, 1 failed), so a service manager or an init
 * script sees start-up errors. The child continues in a new session with its
 * working directory at /. false with err when fork/setsid fails. */
bool daemon_detach(struct strbuf *err);

/* In the child: tells the waiting parent how start-up went and points
 * stdin/stdout/stderr at /dev/null. No-op when not detached. */
void daemon_detach_done(bool ok);

/* Writes our PID to path (skipped when path is ""). */
bool daemon_pidfile_write(const char *path, struct strbuf *err);

/* Removes the PID file (best effort). */
void daemon_pidfile_remove(const char *path);

/* Gives a local (unix) socket path to the user, so that the socket and its
 * later removal work after dropping root. spec is the Socket option. */
bool daemon_socket_chown(const char *spec, const struct daemon_user *u, struct strbuf *err);

/* Sets TCP_NODELAY on our listening TCP socket(s) (libmilter's, opened by
 * smfi_opensocket(); Linux accepted sockets inherit it). At end of message
 * we send several packets in a row (header changes, then the verdict):
 * with Nagle's algorithm the second one waits for the MTA's delayed ACK,
 * 40 ms on Linux. Call before anything else listens; best effort. */
void daemon_socket_nodelay(void);

/* setgid + initgroups + setuid, and checks that root cannot be regained.
 * No-op when u->set is false or we already are that user. */
bool daemon_drop_privileges(const struct daemon_user *u, struct strbuf *err);

#endif
