/* milter_proto: the MTA side of the milter protocol, version 6 (see milter_proto.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* getaddrinfo, strdup, getopt_long, u_char (dkim.h) */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "milter_proto.h"

/* Command, reply and flag values from Sendmail's libmilter/mfdef.h (the wire
 * protocol; we do not link libmilter). */
#define C_ABORT   'A'
#define C_BODY    'B'
#define C_CONNECT 'C'
#define C_MACRO   'D'
#define C_BODYEOB 'E'
#define C_HELO    'H'
#define C_HEADER  'L'
#define C_MAIL    'M'
#define C_EOH     'N'
#define C_OPTNEG  'O'
#define C_QUIT    'Q'
#define C_RCPT    'R'
#define C_DATA    'T'

#define P_NOCONNECT 0x00000001u
#define P_NOHELO    0x00000002u
#define P_NOMAIL    0x00000004u
#define P_NORCPT    0x00000008u
#define P_NOBODY    0x00000010u
#define P_NOHDRS    0x00000020u
#define P_NOEOH     0x00000040u
#define P_NR_HDR    0x00000080u
#define P_NODATA    0x00000200u
#define P_SKIP      0x00000400u
#define P_NR_CONN   0x00001000u
#define P_NR_HELO   0x00002000u
#define P_NR_MAIL   0x00004000u
#define P_NR_RCPT   0x00008000u
#define P_NR_DATA   0x00010000u
#define P_NR_EOH    0x00040000u
#define P_NR_BODY   0x00080000u
#define P_LEADSPC   0x00100000u
#define P_ALL       0x001FFFFFu /* SMFI_CURR_PROT: everything we can do */
#define P_MDS       0x30000000u /* SMFIP_MDS_256K | SMFIP_MDS_1M */
#define ACTS_ALL    0x000001FFu /* SMFI_CURR_ACTS */

#define PROTO_VERSION 6
#define DEFAULT_TIMEOUT_MS 30000

struct milter_conn {
	int fd;
	unsigned timeout_ms;
	uint32_t version;    /* negotiated with the filter */
	uint32_t actions;    /* actions the filter may take */
	uint32_t proto;      /* SMFIP_* the filter asked for */
	bool greeted;        /* CONNECT and HELO done */
	bool conn_over;      /* the filter ended the connection at CONNECT/HELO */
	enum milter_verdict conn_verdict;
	unsigned msg_count;
};

/* The fate of one stage. */
enum stage_end {
	STAGE_CONTINUE = 0,
	STAGE_SKIP,          /* 's': stop sending body chunks */
	STAGE_FINAL,         /* a verdict ends the transaction */
	STAGE_ERROR,
};

/* One received packet. */
struct packet {
	char cmd;
	unsigned char *data; /* malloc'ed, NUL appended (not counted in len) */
	size_t len;
};

/* ---- byte order helpers ------------------------------------------------ */

static void put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get_u32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

/* ---- socket I/O --------------------------------------------------------- */

/* Waits until fd is ready for events; false on timeout or poll error. */
static bool wait_fd(struct milter_conn *mc, short events, const char *what,
		    struct strbuf *err)
{
	struct pollfd pfd = { .fd = mc->fd, .events = events };
	for (;;) {
		int n = poll(&pfd, 1, (int)mc->timeout_ms);
		if (n > 0)
			return true;
		if (n == 0) {
			strbuf_printf(err, "timeout after %u ms %s", mc->timeout_ms, what);
			return false;
		}
		if (errno != EINTR) {
			strbuf_printf(err, "poll: %s", strerror(errno));
			return false;
		}
	}
}

static bool read_all(struct milter_conn *mc, void *buf, size_t len,
		     const char *what, struct strbuf *err)
{
	unsigned char *p = buf;
	while (len > 0) {
		if (!wait_fd(mc, POLLIN, what, err))
			return false;
		ssize_t n = recv(mc->fd, p, len, 0);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			strbuf_printf(err, "read %s: %s", what, strerror(errno));
			return false;
		}
		if (n == 0) {
			strbuf_printf(err, "the filter closed the connection %s", what);
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* Sends one packet: length, command, data. Header and data leave in one
 * sendmsg() as an MTA sends them: two writes would let Nagle's algorithm
 * hold the data until the filter's delayed ACK (40 ms on Linux loopback). */
static bool send_packet(struct milter_conn *mc, char cmd, const void *data,
			size_t len, const char *what, struct strbuf *err)
{
	unsigned char hdr[5];
	if (len + 1 > MILTER_PROTO_MAX_PACKET) {
		strbuf_printf(err, "packet for %s too long (%zu octets)", what, len);
		return false;
	}
	put_u32(hdr, (uint32_t)(len + 1));
	hdr[4] = (unsigned char)cmd;
	size_t sent = 0, total = sizeof hdr + len;
	while (sent < total) {
		if (!wait_fd(mc, POLLOUT, what, err))
			return false;
		/* Skip what already left; the rest of hdr, then of data. */
		struct iovec rest[2];
		int n = 0;
		if (sent < sizeof hdr)
			rest[n++] = (struct iovec){ hdr + sent, sizeof hdr - sent };
		if (len > 0) {
			size_t off = sent < sizeof hdr ? 0 : sent - sizeof hdr;
			rest[n++] = (struct iovec){ (unsigned char *)data + off, len - off };
		}
		struct msghdr mh = { .msg_iov = rest, .msg_iovlen = (size_t)n };
		ssize_t w = sendmsg(mc->fd, &mh, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			strbuf_printf(err, "write %s: %s (filter closed the connection?)",
				      what, strerror(errno));
			return false;
		}
		sent += (size_t)w;
	}
	return true;
}

/* Reads one packet; pkt->data is new (caller frees). */
static bool read_packet(struct milter_conn *mc, struct packet *pkt,
			const char *what, struct strbuf *err)
{
	unsigned char hdr[5];
	pkt->data = NULL;
	if (!read_all(mc, hdr, 4, what, err))
		return false;
	uint32_t len = get_u32(hdr);
	if (len < 1 || len > MILTER_PROTO_MAX_PACKET) {
		strbuf_printf(err, "bad packet length %u %s", (unsigned)len, what);
		return false;
	}
	if (!read_all(mc, hdr + 4, 1, what, err))
		return false;
	pkt->cmd = (char)hdr[4];
	pkt->len = len - 1;
	pkt->data = malloc(pkt->len + 1);
	if (pkt->data == NULL) {
		strbuf_printf(err, "out of memory %s", what);
		return false;
	}
	if (pkt->len > 0 && !read_all(mc, pkt->data, pkt->len, what, err)) {
		free(pkt->data);
		pkt->data = NULL;
		return false;
	}
	pkt->data[pkt->len] = '\0';
	return true;
}

/* ---- connecting ---------------------------------------------------------- */

/* Connects a socket to a "unix:PATH" / "local:PATH" spec. */
static int open_unix(const char *path, struct strbuf *err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t plen = strlen(path);
	if (plen == 0 || plen >= sizeof sun.sun_path) {
		strbuf_printf(err, "socket path \"%s\" empty or too long", path);
		return -1;
	}
	memcpy(sun.sun_path, path, plen + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		strbuf_printf(err, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
		strbuf_printf(err, "connect %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Connects to host/port (numeric or a name). */
static int open_inet(const char *host, const char *port, int family, struct strbuf *err)
{
	struct addrinfo hints = { .ai_family = family, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		strbuf_printf(err, "%s port %s: %s", host, port, gai_strerror(rc));
		return -1;
	}
	int fd = -1, last_errno = 0;
	for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			last_errno = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
			last_errno = errno;
			close(fd);
			fd = -1;
		}
	}
	/* Packets the filter does not answer (headers with SMFIP_NR_HDR) would
	 * otherwise wait for its delayed ACK: no Nagle on this socket. */
	int one = 1;
	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	freeaddrinfo(res);
	if (fd < 0)
		strbuf_printf(err, "connect %s port %s: %s", host, port, strerror(last_errno));
	return fd;
}

/* "inet:PORT@HOST" (Sendmail) or "inet:HOST:PORT" (Postfix); inet6 alike. */
static int open_spec(const char *spec, struct strbuf *err)
{
	int family = AF_UNSPEC;
	const char *rest;
	if (strncmp(spec, "unix:", 5) == 0)
		return open_unix(spec + 5, err);
	if (strncmp(spec, "local:", 6) == 0)
		return open_unix(spec + 6, err);
	if (strncmp(spec, "inet:", 5) == 0) {
		family = AF_INET;
		rest = spec + 5;
	} else if (strncmp(spec, "inet6:", 6) == 0) {
		family = AF_INET6;
		rest = spec + 6;
	} else if (spec[0] == '/') {
		return open_unix(spec, err);
	} else {
		strbuf_printf(err, "socket \"%s\": expected inet:PORT@HOST, inet6:PORT@HOST "
			      "or unix:PATH", spec);
		return -1;
	}
	char buf[300];
	size_t rlen = strlen(rest);
	if (rlen >= sizeof buf) {
		strbuf_printf(err, "socket \"%s\" too long", spec);
		return -1;
	}
	memcpy(buf, rest, rlen + 1);
	char *host, *port;
	char *at = strchr(buf, '@');
	if (at != NULL) {
		*at = '\0';
		port = buf;
		host = at + 1;
	} else {
		char *colon = strrchr(buf, ':');
		if (colon == NULL) {
			strbuf_printf(err, "socket \"%s\": no port", spec);
			return -1;
		}
		*colon = '\0';
		host = buf;
		port = colon + 1;
	}
	if (*host == '\0')
		host = "127.0.0.1";
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		host[strlen(host) - 1] = '\0';
		host++;
	}
	return open_inet(host, port, family, err);
}

/* SMFIC_OPTNEG: offer version 6, every action and every protocol step. */
static bool negotiate(struct milter_conn *mc, struct strbuf *err)
{
	unsigned char opt[12];
	put_u32(opt, PROTO_VERSION);
	put_u32(opt + 4, ACTS_ALL);
	put_u32(opt + 8, P_ALL);
	if (!send_packet(mc, C_OPTNEG, opt, sizeof opt, "at option negotiation", err))
		return false;
	struct packet pkt;
	if (!read_packet(mc, &pkt, "waiting for the option negotiation reply", err))
		return false;
	bool ok = false;
	if (pkt.cmd != C_OPTNEG || pkt.len < 12) {
		strbuf_printf(err, "option negotiation: reply '%c' of %zu octets, want 'O' "
			      "of 12 or more", pkt.cmd, pkt.len);
	} else {
		mc->version = get_u32(pkt.data);
		mc->actions = get_u32(pkt.data + 4);
		mc->proto = get_u32(pkt.data + 8) & ~P_MDS;
		if (mc->version < 2 || mc->version > PROTO_VERSION)
			strbuf_printf(err, "filter speaks protocol version %u, want 2..6",
				      (unsigned)mc->version);
		else if ((mc->proto & ~P_ALL) != 0)
			strbuf_printf(err, "filter asked for protocol flags 0x%x we did not offer",
				      (unsigned)(mc->proto & ~P_ALL));
		else
			ok = true;
	}
	free(pkt.data);
	return ok;
}

bool milter_open(const char *spec, unsigned timeout_ms, struct milter_conn **out,
		 struct strbuf *err)
{
	*out = NULL;
	struct milter_conn *mc = calloc(1, sizeof *mc);
	if (mc == NULL) {
		strbuf_puts(err, "out of memory");
		return false;
	}
	mc->timeout_ms = timeout_ms ? timeout_ms : DEFAULT_TIMEOUT_MS;
	mc->fd = open_spec(spec, err);
	if (mc->fd < 0) {
		free(mc);
		return false;
	}
	if (!negotiate(mc, err)) {
		close(mc->fd);
		free(mc);
		return false;
	}
	*out = mc;
	return true;
}

void milter_close(struct milter_conn *mc)
{
	if (mc == NULL)
		return;
	if (mc->fd >= 0) {
		struct strbuf ignore;
		strbuf_init(&ignore, NULL, 0, 1024);
		/* Best effort: the filter may already have gone. */
		(void)send_packet(mc, C_QUIT, NULL, 0, "at QUIT", &ignore);
		strbuf_free(&ignore);
		close(mc->fd);
	}
	free(mc);
}

const char *milter_verdict_name(enum milter_verdict v)
{
	switch (v) {
	case MILTER_ACCEPT: return "accept";
	case MILTER_REJECT: return "reject";
	case MILTER_TEMPFAIL: return "tempfail";
	case MILTER_DISCARD: return "discard";
	case MILTER_QUARANTINE: return "quarantine";
	}
	return "unknown";
}

/* ---- replies ------------------------------------------------------------- */

/* Appends text with line breaks unfolded (RFC 5322 §2.2.3: CRLF before WSP
 * removed) and other control octets shown as '?', so each event is one line. */
static void log_text(struct strbuf *log, const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];
		if (c == '\r' || c == '\n')
			continue;
		strbuf_putc(log, (c < 0x20 && c != '\t') || c == 0x7f ? '?' : (char)c);
	}
}

/* The i-th NUL-terminated string of a packet body starting at off, or NULL. */
static const unsigned char *pkt_str(const struct packet *pkt, size_t off, size_t *next)
{
	if (off >= pkt->len)
		return NULL;
	const unsigned char *s = pkt->data + off;
	const unsigned char *nul = memchr(s, '\0', pkt->len - off);
	if (nul == NULL)
		return NULL;
	*next = (size_t)(nul - pkt->data) + 1;
	return s;
}

/* Logs "<what> [idx ]name: value" for 'h', 'i', 'm'. */
static bool log_header_action(struct milter_conn *mc, const struct packet *pkt,
			      const char *what, bool has_idx, struct strbuf *log,
			      struct strbuf *err)
{
	size_t off = has_idx ? 4 : 0, next = 0;
	if (pkt->len < off) {
		strbuf_printf(err, "%s: short packet", what);
		return false;
	}
	const unsigned char *name = pkt_str(pkt, off, &next);
	const unsigned char *value = name ? pkt_str(pkt, next, &next) : NULL;
	if (name == NULL || value == NULL) {
		strbuf_printf(err, "%s: malformed name/value", what);
		return false;
	}
	if (log == NULL)
		return true;
	strbuf_printf(log, "%s ", what);
	if (has_idx)
		strbuf_printf(log, "%u ", (unsigned)get_u32(pkt->data));
	log_text(log, name, strlen((const char *)name));
	strbuf_putc(log, ':');
	size_t vlen = strlen((const char *)value);
	if (*what == 'c' && vlen == 0) {
		strbuf_puts(log, " (deleted)\n");
		return true;
	}
	/* With SMFIP_HDR_LEADSPC the filter supplies the space itself. */
	if (!((mc->proto & P_LEADSPC) && (value[0] == ' ' || value[0] == '\t')))
		strbuf_putc(log, ' ');
	log_text(log, value, vlen);
	strbuf_putc(log, '\n');
	return true;
}

/* Logs the modification actions allowed at EOM ('h' 'i' 'm' 'q' '+' '-' ...). */
static bool log_modification(struct milter_conn *mc, const struct packet *pkt,
			     bool *quarantined, struct strbuf *log, struct strbuf *err)
{
	size_t next = 0;
	const unsigned char *s;
	switch (pkt->cmd) {
	case 'h':
		return log_header_action(mc, pkt, "addheader", false, log, err);
	case 'i':
		return log_header_action(mc, pkt, "insheader", true, log, err);
	case 'm':
		return log_header_action(mc, pkt, "chgheader", true, log, err);
	case 'q':
		*quarantined = true;
		s = pkt_str(pkt, 0, &next);
		if (log != NULL) {
			strbuf_puts(log, "quarantine ");
			if (s != NULL)
				log_text(log, s, strlen((const char *)s));
			strbuf_putc(log, '\n');
		}
		return true;
	case '+': case '-': case '2': case 'e':
		s = pkt_str(pkt, 0, &next);
		if (log != NULL) {
			strbuf_puts(log, pkt->cmd == '-' ? "delrcpt " :
				    pkt->cmd == 'e' ? "chgfrom " : "addrcpt ");
			if (s != NULL)
				log_text(log, s, strlen((const char *)s));
			strbuf_putc(log, '\n');
		}
		return true;
	case 'b':
		if (log != NULL)
			strbuf_printf(log, "replbody %zu\n", pkt->len);
		return true;
	default:
		strbuf_printf(err, "unknown reply '%c' (0x%02x) at eom", pkt->cmd,
			      (unsigned char)pkt->cmd);
		return false;
	}
}

/* 'y': "550 5.7.1 text" -> reject for 5xx, tempfail for 4xx. */
static bool replycode(const struct packet *pkt, const char *stage, struct strbuf *log,
		      enum milter_verdict *verdict, struct strbuf *err)
{
	const char *text = (const char *)pkt->data;
	if (pkt->len < 4 || (text[0] != '4' && text[0] != '5')) {
		strbuf_printf(err, "reply code at %s: \"%s\" is not 4xx or 5xx", stage, text);
		return false;
	}
	*verdict = text[0] == '5' ? MILTER_REJECT : MILTER_TEMPFAIL;
	if (log != NULL) {
		strbuf_printf(log, "reply %s %s ", stage, milter_verdict_name(*verdict));
		log_text(log, pkt->data, strlen(text));
		strbuf_putc(log, '\n');
	}
	return true;
}

/* Reads replies to one stage until a final one. At EOM the modification
 * actions come first; elsewhere they are a protocol error. */
static enum stage_end await_reply(struct milter_conn *mc, const char *stage,
				  struct strbuf *log, enum milter_verdict *verdict,
				  struct strbuf *err)
{
	bool eom = strcmp(stage, "eom") == 0, quarantined = false;
	char what[64];
	snprintf(what, sizeof what, "waiting for the reply to %s", stage);
	for (;;) {
		struct packet pkt;
		if (!read_packet(mc, &pkt, what, err))
			return STAGE_ERROR;
		enum stage_end end = STAGE_FINAL;
		const char *word = NULL;
		switch (pkt.cmd) {
		case 'p': /* progress: keep waiting */
			free(pkt.data);
			continue;
		case 'c':
			*verdict = quarantined ? MILTER_QUARANTINE : MILTER_ACCEPT;
			end = eom ? STAGE_FINAL : STAGE_CONTINUE;
			break;
		case 'a':
			*verdict = quarantined ? MILTER_QUARANTINE : MILTER_ACCEPT;
			if (!eom)
				word = "accept";
			break;
		case 'r': *verdict = MILTER_REJECT; word = "reject"; break;
		case 't': *verdict = MILTER_TEMPFAIL; word = "tempfail"; break;
		case 'd': *verdict = MILTER_DISCARD; word = "discard"; break;
		case 'f': *verdict = MILTER_TEMPFAIL; word = "connfail"; break;
		case '4': *verdict = MILTER_TEMPFAIL; word = "shutdown"; break;
		case 's':
			end = STAGE_SKIP;
			word = "skip";
			break;
		case 'y':
			if (!replycode(&pkt, stage, log, verdict, err))
				end = STAGE_ERROR;
			break;
		default:
			if (!eom) {
				strbuf_printf(err, "reply '%c' (0x%02x) at %s, where only a "
					      "verdict is allowed", pkt.cmd,
					      (unsigned char)pkt.cmd, stage);
				end = STAGE_ERROR;
			} else if (!log_modification(mc, &pkt, &quarantined, log, err)) {
				end = STAGE_ERROR;
			} else {
				free(pkt.data);
				continue;
			}
		}
		if (word != NULL && log != NULL)
			strbuf_printf(log, "reply %s %s\n", stage, word);
		free(pkt.data);
		if (end == STAGE_FINAL && *verdict != MILTER_REJECT && quarantined &&
		    *verdict != MILTER_TEMPFAIL && *verdict != MILTER_DISCARD)
			*verdict = MILTER_QUARANTINE;
		return end;
	}
}

/* ---- stages ---------------------------------------------------------------- */

/* SMFIC_MACRO for the stage command cmd (skipped when there are none). */
static bool send_macros(struct milter_conn *mc, const struct milter_msg *msg, char cmd,
			struct strbuf *err)
{
	if (msg->nmacros == 0)
		return true;
	struct strbuf pkt;
	strbuf_init(&pkt, NULL, 0, MILTER_PROTO_MAX_PACKET);
	strbuf_putc(&pkt, cmd);
	for (size_t i = 0; i < msg->nmacros; i++) {
		strbuf_add(&pkt, msg->macros[i].name, strlen(msg->macros[i].name) + 1);
		strbuf_add(&pkt, msg->macros[i].value, strlen(msg->macros[i].value) + 1);
	}
	bool ok = !strbuf_failed(&pkt);
	if (!ok)
		strbuf_puts(err, "macros too long");
	else
		ok = send_packet(mc, C_MACRO, pkt.data, pkt.len, "macros", err);
	strbuf_free(&pkt);
	return ok;
}

/* Sends one stage (macros first) and, unless the filter asked for no reply,
 * waits for the answer. */
static enum stage_end stage(struct milter_conn *mc, const struct milter_msg *msg,
			    char cmd, const char *name, const void *data, size_t len,
			    bool no_reply, struct strbuf *log, enum milter_verdict *verdict,
			    struct strbuf *err)
{
	char what[64];
	snprintf(what, sizeof what, "sending %s", name);
	if (cmd != C_BODY && cmd != C_HEADER && !send_macros(mc, msg, cmd, err))
		return STAGE_ERROR;
	if (!send_packet(mc, cmd, data, len, what, err))
		return STAGE_ERROR;
	if (no_reply)
		return STAGE_CONTINUE;
	enum stage_end end = await_reply(mc, name, log, verdict, err);
	if (end == STAGE_SKIP && cmd != C_BODY) {
		strbuf_printf(err, "the filter answered %s with skip (body chunks only)", name);
		return STAGE_ERROR;
	}
	return end;
}

/* Builds NUL-separated strings into pkt. */
static void add_str(struct strbuf *pkt, const char *s)
{
	strbuf_add(pkt, s, strlen(s) + 1);
}

/* CONNECT: hostname, family, port, address (libmilter st_connect layout). */
static enum stage_end do_connect(struct milter_conn *mc, const struct milter_msg *msg,
				 struct strbuf *log, enum milter_verdict *verdict,
				 struct strbuf *err)
{
	unsigned char addr[16];
	char family = '4';
	if (inet_pton(AF_INET, msg->client_ip, addr) != 1) {
		if (inet_pton(AF_INET6, msg->client_ip, addr) != 1) {
			strbuf_printf(err, "client address \"%s\" is not IPv4 or IPv6",
				      msg->client_ip);
			return STAGE_ERROR;
		}
		family = '6';
	}
	struct strbuf pkt;
	strbuf_init(&pkt, NULL, 0, 4096);
	if (msg->client_name != NULL)
		add_str(&pkt, msg->client_name);
	else
		strbuf_printf(&pkt, "[%s]%c", msg->client_ip, '\0');
	strbuf_putc(&pkt, family);
	strbuf_add(&pkt, "\x9c\x40", 2); /* client port 40000 */
	add_str(&pkt, msg->client_ip);
	enum stage_end end = STAGE_ERROR;
	if (strbuf_failed(&pkt))
		strbuf_puts(err, "client name too long");
	else
		end = stage(mc, msg, C_CONNECT, "connect", pkt.data, pkt.len,
			    mc->proto & P_NR_CONN, log, verdict, err);
	strbuf_free(&pkt);
	return end;
}

/* A stage whose data is one string, e.g. HELO, or "<addr>" for MAIL/RCPT. */
static enum stage_end string_stage(struct milter_conn *mc, const struct milter_msg *msg,
				   char cmd, const char *name, const char *s, bool angle,
				   bool no_reply, struct strbuf *log,
				   enum milter_verdict *verdict, struct strbuf *err)
{
	struct strbuf pkt;
	strbuf_init(&pkt, NULL, 0, 4096);
	if (angle && s[0] != '<')
		strbuf_printf(&pkt, "<%s>%c", s, '\0');
	else
		add_str(&pkt, s);
	enum stage_end end = STAGE_ERROR;
	if (strbuf_failed(&pkt))
		strbuf_printf(err, "%s argument too long", name);
	else
		end = stage(mc, msg, cmd, name, pkt.data, pkt.len, no_reply, log, verdict, err);
	strbuf_free(&pkt);
	return end;
}

/* CONNECT and HELO, once per connection. */
static enum stage_end greet(struct milter_conn *mc, const struct milter_msg *msg,
			    struct strbuf *log, enum milter_verdict *verdict,
			    struct strbuf *err)
{
	enum stage_end end = STAGE_CONTINUE;
	if (!(mc->proto & P_NOCONNECT))
		end = do_connect(mc, msg, log, verdict, err);
	if (end == STAGE_CONTINUE && !(mc->proto & P_NOHELO))
		end = string_stage(mc, msg, C_HELO, "helo", msg->helo, false,
				   mc->proto & P_NR_HELO, log, verdict, err);
	return end;
}

/* MAIL and every RCPT; a recipient refused alone is logged, all refused ends
 * the transaction. */
static enum stage_end envelope(struct milter_conn *mc, const struct milter_msg *msg,
			       struct strbuf *log, enum milter_verdict *verdict,
			       struct strbuf *err)
{
	enum stage_end end = STAGE_CONTINUE;
	if (!(mc->proto & P_NOMAIL))
		end = string_stage(mc, msg, C_MAIL, "mail", msg->mail_from, true,
				   mc->proto & P_NR_MAIL, log, verdict, err);
	if (end != STAGE_CONTINUE || (mc->proto & P_NORCPT))
		return end;
	size_t refused = 0;
	enum milter_verdict last = MILTER_ACCEPT;
	for (size_t i = 0; i < msg->nrcpts; i++) {
		end = string_stage(mc, msg, C_RCPT, "rcpt", msg->rcpts[i], true,
				   mc->proto & P_NR_RCPT, log, &last, err);
		if (end == STAGE_ERROR)
			return end;
		if (end == STAGE_FINAL && last == MILTER_ACCEPT) {
			*verdict = last; /* accept: no more filtering */
			return end;
		}
		if (end == STAGE_FINAL && last == MILTER_DISCARD) {
			*verdict = last;
			return end;
		}
		if (end == STAGE_FINAL)
			refused++;
	}
	if (msg->nrcpts > 0 && refused == msg->nrcpts) {
		*verdict = last;
		return STAGE_FINAL;
	}
	return STAGE_CONTINUE;
}

/* DATA, the header fields, EOH. */
static enum stage_end headers(struct milter_conn *mc, const struct milter_msg *msg,
			      struct strbuf *log, enum milter_verdict *verdict,
			      struct strbuf *err)
{
	enum stage_end end = STAGE_CONTINUE;
	if (mc->version >= 4 && !(mc->proto & P_NODATA))
		end = stage(mc, msg, C_DATA, "data", NULL, 0, mc->proto & P_NR_DATA,
			    log, verdict, err);
	for (size_t i = 0; end == STAGE_CONTINUE && !(mc->proto & P_NOHDRS) &&
	     i < msg->nheaders; i++) {
		const char *value = msg->headers[i].value;
		/* Without SMFIP_HDR_LEADSPC the MTA drops the space after the colon. */
		if (!(mc->proto & P_LEADSPC))
			value += strspn(value, " \t");
		struct strbuf pkt;
		strbuf_init(&pkt, NULL, 0, MILTER_PROTO_MAX_PACKET);
		add_str(&pkt, msg->headers[i].name);
		add_str(&pkt, value);
		if (strbuf_failed(&pkt)) {
			strbuf_printf(err, "header field %s too long", msg->headers[i].name);
			end = STAGE_ERROR;
		} else {
			end = stage(mc, msg, C_HEADER, "header", pkt.data, pkt.len,
				    mc->proto & P_NR_HDR, log, verdict, err);
		}
		strbuf_free(&pkt);
	}
	if (end == STAGE_CONTINUE && !(mc->proto & P_NOEOH))
		end = stage(mc, msg, C_EOH, "eoh", NULL, 0, mc->proto & P_NR_EOH,
			    log, verdict, err);
	return end;
}

/* Body chunks, then EOM. */
static enum stage_end body_eom(struct milter_conn *mc, const struct milter_msg *msg,
			       struct strbuf *log, enum milter_verdict *verdict,
			       struct strbuf *err)
{
	size_t chunk = msg->chunk_len ? msg->chunk_len : MILTER_MSG_CHUNK;
	if (chunk > MILTER_MSG_CHUNK)
		chunk = MILTER_MSG_CHUNK;
	enum stage_end end = STAGE_CONTINUE;
	for (size_t off = 0; end == STAGE_CONTINUE && !(mc->proto & P_NOBODY) &&
	     off < msg->body_len; off += chunk) {
		size_t n = msg->body_len - off < chunk ? msg->body_len - off : chunk;
		end = stage(mc, msg, C_BODY, "body", msg->body + off, n,
			    mc->proto & P_NR_BODY, log, verdict, err);
	}
	if (end == STAGE_SKIP)
		end = STAGE_CONTINUE;
	if (end != STAGE_CONTINUE)
		return end;
	end = stage(mc, msg, C_BODYEOB, "eom", NULL, 0, false, log, verdict, err);
	if (end == STAGE_CONTINUE || end == STAGE_SKIP) {
		strbuf_puts(err, "the filter answered EOM with continue/skip semantics");
		return STAGE_ERROR;
	}
	return end;
}

bool milter_message(struct milter_conn *mc, const struct milter_msg *msg,
		    struct strbuf *log, enum milter_verdict *verdict,
		    struct strbuf *err)
{
	*verdict = MILTER_ACCEPT;
	if (mc->conn_over) {
		*verdict = mc->conn_verdict;
		return true;
	}
	enum stage_end end = STAGE_CONTINUE;
	if (!mc->greeted) {
		mc->greeted = true;
		end = greet(mc, msg, log, verdict, err);
		if (end == STAGE_FINAL) {
			mc->conn_over = true;
			mc->conn_verdict = *verdict;
			return true;
		}
	}
	mc->msg_count++;
	if (end == STAGE_CONTINUE)
		end = envelope(mc, msg, log, verdict, err);
	if (end == STAGE_CONTINUE)
		end = headers(mc, msg, log, verdict, err);
	if (end == STAGE_CONTINUE)
		return body_eom(mc, msg, log, verdict, err) == STAGE_FINAL;
	if (end != STAGE_FINAL)
		return false;
	/* The transaction ended before EOM: the MTA resets the filter. */
	return send_packet(mc, C_ABORT, NULL, 0, "sending abort", err);
}
