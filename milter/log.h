/* log: the daemon's log lines, to syslog and/or stderr.
 *
 * Levels are syslog priorities (LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG);
 * lines above the configured LogLevel are dropped. LOG_NOTICE is for the
 * lifecycle lines (ready, reload, stop), which are always written. A line about a message
 * starts with the MTA queue id ("4Bf2x1: ..."), or "NOQUEUE" before the MTA
 * has assigned one; a warning or error says so after it:
 *     4Bf2x1: warning: DNS timeout for _dmarc.example.com; ...
 *     warning: /etc/dmarc-milter.conf: reload failed: ...
 * Syslog gets exactly that text; stderr (foreground, test mode) gets the same
 * text, one line per call.
 *
 * Thread safety: every function may be called from any thread; log_setup()
 * may run while others log (a reload): the settings are read under a lock.
 * Callers: everything in milter/. */
#ifndef DMARC_MILTER_LOG_H
#define DMARC_MILTER_LOG_H

#include <stdbool.h>
#include <syslog.h>

/* Chooses the destinations. facility is a LOG_* facility; max_level an enum
 * config_log_level (lib/config.h). May be called again (reload). */
void log_setup(bool use_syslog, int facility, bool use_stderr, int max_level);

/* Closes syslog. */
void log_close(void);

/* A line not about one message. */
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A line about one message: qid NULL or "" is written "NOQUEUE". */
void log_qid(int prio, const char *qid, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* True when a line of prio would be written (to skip building costly text). */
bool log_enabled(int prio);

#endif
