/* log: syslog and stderr lines, queue id first. */
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <syslog.h>

#include "config.h"
#include "strbuf.h"

#include "log.h"

#define LOG_LINE_MAX 2048 /* longer lines end in "..." */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static bool log_to_syslog;
static bool log_to_stderr = true;
static bool syslog_open;
static int log_max_level = CONFIG_LOG_INFO;

void log_setup(bool use_syslog, int facility, bool use_stderr, int max_level)
{
	pthread_mutex_lock(&log_lock);
	if (syslog_open)
		closelog();
	syslog_open = false;
	if (use_syslog) {
		openlog("dmarc-milter", LOG_PID | LOG_NDELAY, facility);
		syslog_open = true;
	}
	log_to_syslog = use_syslog;
	log_to_stderr = use_stderr;
	log_max_level = max_level;
	pthread_mutex_unlock(&log_lock);
}

void log_close(void)
{
	pthread_mutex_lock(&log_lock);
	if (syslog_open)
		closelog();
	syslog_open = false;
	log_to_syslog = false;
	pthread_mutex_unlock(&log_lock);
}

/* Maps a syslog priority to a LogLevel step. */
static int prio_level(int prio)
{
	/* LOG_NOTICE marks lifecycle lines (ready, reload, stop): always kept. */
	if (prio <= LOG_ERR || prio == LOG_NOTICE)
		return CONFIG_LOG_ERROR;
	if (prio == LOG_WARNING)
		return CONFIG_LOG_WARNING;
	if (prio == LOG_DEBUG)
		return CONFIG_LOG_DEBUG;
	return CONFIG_LOG_INFO;
}

bool log_enabled(int prio)
{
	pthread_mutex_lock(&log_lock);
	bool on = prio_level(prio) <= log_max_level;
	pthread_mutex_unlock(&log_lock);
	return on;
}

static const char *prio_word(int prio)
{
	if (prio <= LOG_CRIT)
		return "fatal: ";
	if (prio == LOG_ERR)
		return "error: ";
	if (prio == LOG_WARNING)
		return "warning: ";
	return "";
}

static void log_write(int prio, const char *qid, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static void log_write(int prio, const char *qid, const char *fmt, va_list ap)
{
	if (!log_enabled(prio))
		return;
	char stack[512];
	struct strbuf sb;
	strbuf_init(&sb, stack, sizeof stack, LOG_LINE_MAX);
	if (qid != NULL)
		strbuf_printf(&sb, "%s: ", qid[0] ? qid : "NOQUEUE");
	strbuf_puts(&sb, prio_word(prio));
	strbuf_vprintf(&sb, fmt, ap);
	/* A line over the limit is cut at the limit and says so. */
	const char *text = strbuf_str(&sb);
	const char *tail = strbuf_failed(&sb) ? "..." : "";

	pthread_mutex_lock(&log_lock);
	if (log_to_syslog)
		syslog(prio, "%s%s", text, tail);
	if (log_to_stderr) {
		fprintf(stderr, "%s%s\n", text, tail);
		fflush(stderr);
	}
	pthread_mutex_unlock(&log_lock);
	strbuf_free(&sb);
}

void log_msg(int prio, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_write(prio, NULL, fmt, ap);
	va_end(ap);
}

void log_qid(int prio, const char *qid, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_write(prio, qid ? qid : "", fmt, ap);
	va_end(ap);
}
