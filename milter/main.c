/* main: dmarc-milter's command line, start-up, signals and shutdown. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <spf2/spf.h>

#include "authres.h"
#include "config.h"
#include "strbuf.h"

#include "callbacks.h"
#include "daemon.h"
#include "events.h"
#include "keycache.h"
#include "log.h"
#include "snapshot.h"
#include "testmode.h"

#ifndef MILTER_VERSION
#define MILTER_VERSION "0.1.0"
#endif

#define EXIT_USAGE 2
#define DRAIN_TIMEOUT_SEC 60  /* longest wait for in-flight messages at stop */

struct options {
	const char *conf_path;
	bool check_only;     /* -n */
	bool foreground;     /* -f */
	bool test;           /* -t */
	struct testmode_args t;
};

static atomic_bool milter_done; /* smfi_main returned */

static void usage(FILE *f)
{
	fprintf(f, "usage: dmarc-milter [-fnV] [-c FILE]\n"
		"       dmarc-milter [-c FILE] -t MESSAGE.eml --client-ip IP --helo NAME\n"
		"                    --mail-from ADDR [--rcpt ADDR]...\n"
		"  -c FILE  configuration file (default %s)\n"
		"  -n       check the configuration, print the effective values, exit\n"
		"  -f       stay in the foreground, log to stderr too\n"
		"  -t FILE  test mode: evaluate one message file and print the result\n"
		"  -V       print the version and exit\n", CONFIG_DEFAULT_PATH);
}

/* Parses the command line; returns -1 to go on, else an exit status. */
static int parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_IP = 256, OPT_HELO, OPT_FROM, OPT_RCPT };
	static const struct option longopts[] = {
		{ "client-ip", required_argument, NULL, OPT_IP },
		{ "helo", required_argument, NULL, OPT_HELO },
		{ "mail-from", required_argument, NULL, OPT_FROM },
		{ "rcpt", required_argument, NULL, OPT_RCPT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;
	o->conf_path = CONFIG_DEFAULT_PATH;
	while ((ch = getopt_long(argc, argv, "c:fnt:Vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': o->conf_path = optarg; break;
		case 'f': o->foreground = true; break;
		case 'n': o->check_only = true; break;
		case 't': o->test = true; o->t.file = optarg; break;
		case 'V': printf("dmarc-milter %s\n", MILTER_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		case OPT_IP: o->t.client_ip = optarg; break;
		case OPT_HELO: o->t.helo = optarg; break;
		case OPT_FROM: o->t.mail_from = optarg; break;
		case OPT_RCPT:
			if (o->t.nrcpt == TESTMODE_MAX_RCPT) {
				fprintf(stderr, "dmarc-milter: at most %d --rcpt\n", TESTMODE_MAX_RCPT);
				return EXIT_USAGE;
			}
			o->t.rcpt[o->t.nrcpt++] = optarg;
			break;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (o->test && (!o->t.client_ip || !o->t.helo || !o->t.mail_from)) {
		fprintf(stderr, "dmarc-milter: -t needs --client-ip, --helo and --mail-from\n");
		return EXIT_USAGE;
	}
	return -1;
}

/* Loads and checks the configuration; prints "fatal: ..." on error. */
static bool load_config(const char *path, struct config *cfg)
{
	char stack[512];
	struct strbuf err;
	strbuf_init(&err, stack, sizeof stack, 4096);
	memset(cfg, 0, sizeof *cfg);
	bool ok = config_load(path, cfg, &err);
	if (ok && !authres_authserv_id_valid(cfg->authserv_id)) {
		strbuf_printf(&err, "%s: AuthservID \"%s\": expected a host name "
			      "(letters, digits, '-', '.'; RFC 8601 §2.2)", path, cfg->authserv_id);
		ok = false;
	}
	if (!ok) {
		fprintf(stderr, "fatal: %s\n", strbuf_str(&err));
		config_free(cfg);
	}
	strbuf_free(&err);
	return ok;
}

/* ---- libspf2 messages -------------------------------------------------- */

static void spf_log_error(const char *file, int line, const char *msg)
	__attribute__((noreturn));
static void spf_log_error(const char *file, int line, const char *msg)
{
	log_msg(LOG_CRIT, "libspf2 %s:%d: %s", file ? file : "?", line, msg ? msg : "");
	abort(); /* libspf2 treats its errors as fatal: a bug, not bad input */
}

static void spf_log_warning(const char *file, int line, const char *msg)
{
	(void)file;
	(void)line;
	log_msg(LOG_WARNING, "libspf2: %s", msg ? msg : "");
}

static void spf_log_debug(const char *file, int line, const char *msg)
{
	(void)file;
	(void)line;
	log_msg(LOG_DEBUG, "libspf2: %s", msg ? msg : "");
}

static void spf_log_setup(void)
{
	SPF_error_handler = spf_log_error;
	SPF_warning_handler = spf_log_warning;
	SPF_info_handler = spf_log_debug;
	SPF_debug_handler = spf_log_debug;
}

/* ---- reload and stop ----------------------------------------------------- */

/* Settings read once at start: warn when a reload changes them. */
static void warn_static_changes(const struct config *old, const struct config *new)
{
	if (strcmp(old->socket, new->socket) != 0 || strcmp(old->user_id, new->user_id) != 0 ||
	    strcmp(old->pid_file, new->pid_file) != 0 || old->umask_mode != new->umask_mode ||
	    old->background != new->background)
		log_msg(LOG_WARNING, "Socket, UserID, PidFile, UMask and Background changes "
			"take effect only after a restart; running with the old values");
}

static void reload(const char *path, bool foreground)
{
	char stack[512];
	struct strbuf err;
	strbuf_init(&err, stack, sizeof stack, 4096);
	struct snapshot *s = NULL;
	if (!snapshot_load(path, &s, &err) ||
	    !authres_authserv_id_valid(s->cfg.authserv_id)) {
		log_msg(LOG_ERR, "reload failed, keeping the running configuration: %s",
			s ? "AuthservID is not a valid host name" : strbuf_str(&err));
		snapshot_release(s);
		strbuf_free(&err);
		return;
	}
	struct snapshot *old = snapshot_acquire();
	if (old != NULL)
		warn_static_changes(&old->cfg, &s->cfg);
	snapshot_release(old);
	log_setup(s->cfg.syslog, s->cfg.syslog_facility, foreground, s->cfg.log_level);
	unsigned long gen = s->generation;
	snapshot_install(s);
	log_msg(LOG_NOTICE, "configuration %s reloaded (generation %lu); connections "
		"in progress keep the previous one", path, gen);
	strbuf_free(&err);
}

static void *milter_thread(void *arg)
{
	(void)arg;
	int rc = smfi_main();
	if (rc != MI_SUCCESS)
		log_msg(LOG_ERR, "libmilter main loop failed");
	atomic_store(&milter_done, true);
	return NULL;
}

/* Waits for messages in progress to finish (bounded). */
static void drain(void)
{
	for (int i = 0; i < DRAIN_TIMEOUT_SEC * 10 && callbacks_inflight() > 0; i++) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	if (callbacks_inflight() > 0)
		log_msg(LOG_WARNING, "%u messages still in progress after %d s; stopping "
			"anyway (the MTA applies milter_default_action)", callbacks_inflight(),
			DRAIN_TIMEOUT_SEC);
}

/* The signals the main thread takes: reload (HUP, USR1) and stop (TERM, INT). */
static void milter_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
}

/* The main thread waits for signals while libmilter runs in its own thread.
 * libmilter's signal thread would stop the filter on SIGHUP; milter/sigshim.c
 * hides SIGHUP from it, so SIGHUP and SIGUSR1 both reach us and reload.
 * SIGTERM/SIGINT: whichever thread takes them, the filter stops. */
static void signal_loop(const char *path, bool foreground)
{
	sigset_t set;
	milter_signals(&set);
	while (!atomic_load(&milter_done)) {
		struct timespec tick = { 1, 0 };
		int sig = sigtimedwait(&set, NULL, &tick);
		if (sig == SIGHUP || sig == SIGUSR1) {
			reload(path, foreground);
		} else if (sig == SIGTERM || sig == SIGINT) {
			log_msg(LOG_NOTICE, "%s received: stopping (messages in progress "
				"are finished first)", sig == SIGTERM ? "SIGTERM" : "SIGINT");
			smfi_stop();
			break;
		}
	}
}

/* ---- start-up ------------------------------------------------------------ */

/* A start-up failure: log it, tell a waiting parent, free what is held. */
static int fatal(struct strbuf *err, const char *what, struct config *cfg)
{
	log_msg(LOG_CRIT, "%s: %s", what, strbuf_str(err));
	daemon_detach_done(false);
	config_free(cfg);
	strbuf_free(err);
	return 1;
}

/* Opens the socket as root, then becomes UserID, then builds the resolver
 * and friends as that user. */
static int run_daemon(const struct options *o, struct config *cfg)
{
	char stack[512];
	struct strbuf err;
	strbuf_init(&err, stack, sizeof stack, 4096);
	bool fg = o->foreground || !cfg->background;
	log_setup(cfg->syslog, cfg->syslog_facility, true, cfg->log_level);
	umask((mode_t)cfg->umask_mode);
	struct daemon_user user;
	if (!daemon_user_lookup(cfg->user_id, &user, &err))
		return fatal(&err, "start-up", cfg);
	if (!fg && !daemon_detach(&err))
		return fatal(&err, "start-up", cfg);
	if (smfi_setconn(cfg->socket) != MI_SUCCESS ||
	    smfi_register(*callbacks_desc()) != MI_SUCCESS) {
		strbuf_printf(&err, "libmilter refused Socket \"%s\"", cfg->socket);
		return fatal(&err, "start-up", cfg);
	}
	if (smfi_opensocket(true) != MI_SUCCESS) {
		strbuf_printf(&err, "cannot listen on %s (in use, or a directory missing or "
			      "not writable?)", cfg->socket);
		return fatal(&err, "start-up", cfg);
	}
	daemon_socket_nodelay();
	if (!daemon_socket_chown(cfg->socket, &user, &err) ||
	    !daemon_pidfile_write(cfg->pid_file, &err) ||
	    !daemon_drop_privileges(&user, &err))
		return fatal(&err, "start-up", cfg);
	/* Signals: blocked before the first thread starts (the event writer,
	 * libunbound's, libmilter's), so every thread inherits the mask and only
	 * the main thread takes them, with sigtimedwait. A thread that left
	 * SIGTERM unblocked would die of it before the event queue is flushed. */
	sigset_t set;
	milter_signals(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	char *conf_socket = strdup(cfg->socket), *pid_file = strdup(cfg->pid_file);
	struct snapshot *snap = NULL;
	if (conf_socket == NULL || pid_file == NULL || !events_start(cfg, &err) ||
	    !snapshot_build(cfg, &snap, &err)) {
		free(conf_socket);
		free(pid_file);
		return fatal(&err, "start-up", cfg);
	}
	snapshot_install(snap);
	spf_log_setup();

	pthread_t tid;
	if (pthread_create(&tid, NULL, milter_thread, NULL) != 0) {
		strbuf_printf(&err, "pthread_create: %s", strerror(errno));
		free(conf_socket);
		free(pid_file);
		return fatal(&err, "start-up", cfg);
	}
	log_msg(LOG_NOTICE, "dmarc-milter %s ready on %s", MILTER_VERSION, conf_socket);
	daemon_detach_done(true);
	if (!fg)
		log_setup(snap->cfg.syslog, snap->cfg.syslog_facility, false, snap->cfg.log_level);

	signal_loop(o->conf_path, fg);
	pthread_join(tid, NULL);
	drain();
	events_stop();
	snapshot_shutdown();
	keycache_shutdown();
	daemon_pidfile_remove(pid_file);
	log_msg(LOG_NOTICE, "dmarc-milter stopped");
	log_close();
	free(conf_socket);
	free(pid_file);
	strbuf_free(&err);
	return 0;
}

static int run_test(const struct options *o, struct config *cfg)
{
	log_setup(false, 0, true, cfg->log_level);
	spf_log_setup();
	char stack[512];
	struct strbuf err;
	strbuf_init(&err, stack, sizeof stack, 4096);
	struct snapshot *snap = NULL;
	if (!snapshot_build(cfg, &snap, &err)) {
		fprintf(stderr, "fatal: %s\n", strbuf_str(&err));
		strbuf_free(&err);
		return 1;
	}
	strbuf_free(&err);
	int rc = testmode_run(&o->t, snap);
	keycache_shutdown();
	return rc;
}

int main(int argc, char **argv)
{
	struct options o;
	memset(&o, 0, sizeof o);
	int rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;
	struct config cfg;
	if (!load_config(o.conf_path, &cfg))
		return 1;
	if (o.check_only) {
		bool ok = config_dump(&cfg, stdout) && fflush(stdout) == 0;
		config_free(&cfg);
		return ok ? 0 : 1;
	}
	if (o.test)
		return run_test(&o, &cfg);
	return run_daemon(&o, &cfg);
}
