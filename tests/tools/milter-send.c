/* milter-send: play an MTA to a milter for one message and print what it did.
 *
 * Usage: milter-send --socket inet:PORT@127.0.0.1 --client-ip IP
 *          [--client-name NAME] --helo NAME --mail-from ADDR --rcpt ADDR...
 *          [--macro name=value]... [--chunk N] [--timeout SEC] message.eml
 * Prints one line per event ("reply <stage> <action> ...", "addheader N: V",
 * "insheader I N: V", "chgheader I N: V|(deleted)", "quarantine R") and then
 * "result accept|reject|tempfail|discard|quarantine". Exit 0 when the
 * conversation completed, 1 on a usage error, 2 on a connection or protocol
 * error (reason on stderr). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* getaddrinfo, strdup, getopt_long, u_char (dkim.h) */
#endif
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "milter_proto.h"

#define MAX_MESSAGE (MILTER_MSG_MAX_BODY)

static void usage(void)
{
	fputs("usage: milter-send --socket SPEC --client-ip IP [--client-name NAME]\n"
	      "         --helo NAME --mail-from ADDR --rcpt ADDR [--rcpt ADDR]...\n"
	      "         [--macro name=value]... [--chunk N] [--timeout SEC]\n"
	      "         [--queue-id ID] message.eml|-\n"
	      "SPEC is inet:PORT@HOST, inet6:PORT@HOST or unix:PATH; --mail-from \"\"\n"
	      "is the null sender. Default macros: i (queue id), j=mta.test,\n"
	      "{daemon_name}=milter-send, {client_addr}, {client_name}.\n", stderr);
}

/* Reads a whole file ("-" = stdin) into a new buffer (caller frees). */
static char *slurp(const char *path, size_t *len_out)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "milter-send: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	struct strbuf sb;
	strbuf_init(&sb, NULL, 0, MAX_MESSAGE);
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		strbuf_add(&sb, buf, n);
	bool bad = ferror(f) != 0;
	if (f != stdin)
		fclose(f);
	*len_out = sb.len;
	char *text = strbuf_finish(&sb);
	if (bad || text == NULL) {
		fprintf(stderr, "milter-send: %s: read error, too large or out of memory\n", path);
		free(text);
		return NULL;
	}
	return text;
}

static bool set_str(char **dst, const char *src)
{
	free(*dst);
	*dst = strdup(src);
	return *dst != NULL;
}

/* Fills msg from the command line; returns the message file or NULL. */
static const char *parse_args(int argc, char **argv, struct milter_msg *msg,
			      const char **socket_spec, unsigned *timeout_ms,
			      const char **queue_id, struct strbuf *err)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "client-ip", required_argument, NULL, 'a' },
		{ "client-name", required_argument, NULL, 'n' },
		{ "helo", required_argument, NULL, 'h' },
		{ "mail-from", required_argument, NULL, 'f' },
		{ "rcpt", required_argument, NULL, 'r' },
		{ "macro", required_argument, NULL, 'm' },
		{ "chunk", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "queue-id", required_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	char *end;
	unsigned long v;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		bool ok = true;
		switch (c) {
		case 's': *socket_spec = optarg; break;
		case 'a': ok = set_str(&msg->client_ip, optarg); break;
		case 'n': ok = set_str(&msg->client_name, optarg); break;
		case 'h': ok = set_str(&msg->helo, optarg); break;
		case 'f':
			ok = set_str(&msg->mail_from, strcmp(optarg, "<>") == 0 ? "" : optarg);
			break;
		case 'r':
			if (msg->nrcpts >= MILTER_MSG_MAX_RCPTS) {
				strbuf_puts(err, "too many --rcpt");
				return NULL;
			}
			msg->rcpts[msg->nrcpts] = strdup(optarg);
			ok = msg->rcpts[msg->nrcpts++] != NULL;
			break;
		case 'm': {
			char *eq = strchr(optarg, '=');
			if (eq == NULL) {
				strbuf_printf(err, "--macro %s: expected name=value", optarg);
				return NULL;
			}
			*eq = '\0';
			if (!milter_msg_macro(msg, optarg, eq + 1, err))
				return NULL;
			break;
		}
		case 'c':
		case 't':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || v == 0 ||
			    (c == 'c' && v > MILTER_MSG_CHUNK) || (c == 't' && v > 3600)) {
				strbuf_printf(err, "--%s %s: expected 1..%u",
					      c == 'c' ? "chunk" : "timeout", optarg,
					      c == 'c' ? MILTER_MSG_CHUNK : 3600);
				return NULL;
			}
			if (c == 'c')
				msg->chunk_len = v;
			else
				*timeout_ms = (unsigned)v * 1000;
			break;
		case 'q': *queue_id = optarg; break;
		default:
			return NULL;
		}
		if (!ok) {
			strbuf_puts(err, "out of memory");
			return NULL;
		}
	}
	if (*socket_spec == NULL || msg->client_ip == NULL || msg->helo == NULL ||
	    msg->mail_from == NULL || msg->nrcpts == 0 || optind != argc - 1) {
		strbuf_puts(err, "--socket, --client-ip, --helo, --mail-from, --rcpt and "
			    "one message file are required");
		return NULL;
	}
	return argv[optind];
}

/* Adds a default macro unless the command line already set it. */
static bool default_macro(struct milter_msg *msg, const char *name, const char *value,
			  struct strbuf *err)
{
	for (size_t i = 0; i < msg->nmacros; i++)
		if (strcmp(msg->macros[i].name, name) == 0)
			return true;
	return milter_msg_macro(msg, name, value, err);
}

static bool default_macros(struct milter_msg *msg, const char *queue_id, struct strbuf *err)
{
	char qid[32];
	if (queue_id == NULL) {
		snprintf(qid, sizeof qid, "MS%lX", (unsigned long)getpid());
		queue_id = qid;
	}
	char cname[128];
	snprintf(cname, sizeof cname, "[%s]", msg->client_ip);
	return default_macro(msg, "i", queue_id, err) &&
	       default_macro(msg, "j", "mta.test", err) &&
	       default_macro(msg, "{daemon_name}", "milter-send", err) &&
	       default_macro(msg, "{client_addr}", msg->client_ip, err) &&
	       default_macro(msg, "{client_name}",
			     msg->client_name ? msg->client_name : cname, err);
}

int main(int argc, char **argv)
{
	struct milter_msg msg;
	memset(&msg, 0, sizeof msg);
	struct strbuf err, log;
	strbuf_init(&err, NULL, 0, 4096);
	strbuf_init(&log, NULL, 0, 64u * 1024 * 1024);
	const char *spec = NULL, *queue_id = NULL;
	unsigned timeout_ms = 0;
	int rc = 1;
	const char *path = parse_args(argc, argv, &msg, &spec, &timeout_ms, &queue_id, &err);
	if (path == NULL) {
		if (err.len > 0)
			fprintf(stderr, "milter-send: %s\n", strbuf_str(&err));
		usage();
		goto out;
	}
	size_t len = 0;
	char *text = slurp(path, &len);
	if (text == NULL)
		goto out;
	bool loaded = milter_msg_load(&msg, text, len, &err) &&
		      default_macros(&msg, queue_id, &err);
	free(text);
	if (!loaded) {
		fprintf(stderr, "milter-send: %s: %s\n", path, strbuf_str(&err));
		goto out;
	}
	rc = 2;
	struct milter_conn *mc = NULL;
	enum milter_verdict verdict;
	if (!milter_open(spec, timeout_ms, &mc, &err)) {
		fprintf(stderr, "milter-send: %s: %s\n", spec, strbuf_str(&err));
		goto out;
	}
	bool ok = milter_message(mc, &msg, &log, &verdict, &err);
	fputs(strbuf_str(&log), stdout);
	if (ok) {
		printf("result %s\n", milter_verdict_name(verdict));
		rc = 0;
	} else {
		fprintf(stderr, "milter-send: %s: %s\n", spec, strbuf_str(&err));
	}
	milter_close(mc);
	if (fflush(stdout) != 0)
		rc = 2;
out:
	milter_msg_free(&msg);
	strbuf_free(&err);
	strbuf_free(&log);
	return rc;
}
