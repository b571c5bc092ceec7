/* report_send: sendmail(1) without a shell, or SMTP with opportunistic STARTTLS. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "report_send.h"

static bool send_sendmail(const struct report_sender *s, const char *from,
			  const char *msg, size_t len, struct strbuf *err)
{
	int fds[2];
	if (pipe(fds) != 0) {
		strbuf_printf(err, "pipe: %s", strerror(errno));
		return false;
	}
	pid_t pid = fork();
	if (pid < 0) {
		strbuf_printf(err, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return false;
	}
	if (pid == 0) {
		dup2(fds[0], 0);
		close(fds[0]);
		close(fds[1]);
		char *const argv[] = { (char *)s->sendmail, "-t", "-oi", "-f",
				       (char *)from, NULL };
		execv(s->sendmail, argv);
		_exit(127);
	}
	close(fds[0]);
	/* a sendmail that exits early must not kill us with SIGPIPE */
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	sigaction(SIGPIPE, &ign, &old);
	bool wrote = true;
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fds[1], msg + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			wrote = false;
			break;
		}
		off += (size_t)n;
	}
	close(fds[1]);
	sigaction(SIGPIPE, &old, NULL);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && wrote)
		return true;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		strbuf_printf(err, "%s: cannot be executed (check ReportSendmail)", s->sendmail);
	else if (WIFEXITED(status))
		strbuf_printf(err, "%s exited with status %d", s->sendmail, WEXITSTATUS(status));
	else
		strbuf_printf(err, "%s was killed by signal %d", s->sendmail,
			      WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return false;
}

/* One SMTP connection: plain socket, then TLS after STARTTLS. */
struct smtp {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	unsigned timeout_ms;
	char buf[4096];
	size_t have;
};

static bool smtp_wait(struct smtp *c, short ev)
{
	if (c->ssl != NULL && ev == POLLIN && SSL_pending(c->ssl) > 0)
		return true;
	struct pollfd p = { .fd = c->fd, .events = ev };
	return poll(&p, 1, (int)c->timeout_ms) == 1;
}

static bool smtp_write(struct smtp *c, const char *data, size_t len)
{
	while (len > 0) {
		if (!smtp_wait(c, POLLOUT))
			return false;
		ssize_t n = c->ssl ? SSL_write(c->ssl, data, (int)len)
				   : send(c->fd, data, len, MSG_NOSIGNAL);
		if (n <= 0)
			return false;
		data += n;
		len -= (size_t)n;
	}
	return true;
}

/* Reads one (possibly multi-line) reply; returns its code, or -1. The
 * reply's text (all lines) goes into text. */
static int smtp_reply(struct smtp *c, struct strbuf *text)
{
	strbuf_reset(text);
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->have);
		if (nl == NULL) {
			if (c->have == sizeof c->buf || !smtp_wait(c, POLLIN))
				return -1;
			ssize_t n = c->ssl ? SSL_read(c->ssl, c->buf + c->have,
						      (int)(sizeof c->buf - c->have))
					   : recv(c->fd, c->buf + c->have,
						  sizeof c->buf - c->have, 0);
			if (n <= 0)
				return -1;
			c->have += (size_t)n;
			continue;
		}
		size_t len = (size_t)(nl - c->buf) + 1;
		strbuf_add(text, c->buf, len);
		/* "250-text" continues; "250 text" and a bare "250" end the reply
		 * (RFC 5321 §4.2) */
		bool last = len < 5 || c->buf[3] != '-';
		bool valid = len >= 4 && c->buf[0] >= '1' && c->buf[0] <= '5';
		int code = valid ? atoi(c->buf) : -1;
		memmove(c->buf, c->buf + len, c->have - len);
		c->have -= len;
		if (!valid)
			return -1;
		if (last)
			return code;
	}
}

static bool smtp_cmd(struct smtp *c, const char *cmd, int want, struct strbuf *text,
		     struct strbuf *err)
{
	if (cmd != NULL && (!smtp_write(c, cmd, strlen(cmd)) || !smtp_write(c, "\r\n", 2))) {
		strbuf_printf(err, "SMTP: connection lost sending %.*s", (int)strcspn(cmd, " "), cmd);
		return false;
	}
	int code = smtp_reply(c, text);
	if (code / 100 == want / 100)
		return true;
	strbuf_printf(err, "SMTP: %s answered %s", cmd ? cmd : "greeting",
		      code < 0 ? "nothing (timeout or connection lost)" : strbuf_str(text));
	while (err->len > 0 && (err->data[err->len - 1] == '\n' || err->data[err->len - 1] == '\r'))
		err->data[--err->len] = '\0';
	return false;
}

/* connect() bounded by timeout_ms (a blocking one can hang for minutes on
 * an unreachable host); the socket is blocking again afterwards. */
static bool connect_timeout(int fd, const struct addrinfo *a, unsigned timeout_ms)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0)
		return false;
	int rc = connect(fd, a->ai_addr, a->ai_addrlen);
	if (rc != 0 && errno == EINPROGRESS) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int soerr = 0;
		socklen_t sl = sizeof soerr;
		rc = poll(&p, 1, (int)timeout_ms);
		if (rc == 0) {
			errno = ETIMEDOUT;
			rc = -1;
		} else if (rc > 0) {
			rc = getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0 ? 0 : -1;
			if (soerr != 0)
				errno = soerr;
		}
	}
	if (rc != 0)
		return false;
	return fcntl(fd, F_SETFL, fl) == 0;
}

static bool smtp_connect(struct smtp *c, const char *host, int port, struct strbuf *err)
{
	char portstr[16];
	snprintf(portstr, sizeof portstr, "%d", port);
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	int rc = getaddrinfo(host, portstr, &hints, &ai);
	if (rc != 0) {
		strbuf_printf(err, "SMTP host %s: %s", host, gai_strerror(rc));
		return false;
	}
	c->fd = -1;
	int saved = 0;
	for (struct addrinfo *a = ai; a != NULL && c->fd < 0; a = a->ai_next) {
		c->fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (c->fd >= 0 && !connect_timeout(c->fd, a, c->timeout_ms)) {
			saved = errno;
			close(c->fd);
			c->fd = -1;
		} else if (c->fd < 0) {
			saved = errno;
		}
	}
	freeaddrinfo(ai);
	if (c->fd < 0)
		strbuf_printf(err, "SMTP: cannot connect to %s port %d: %s", host, port,
			      strerror(saved));
	return c->fd >= 0;
}

static bool smtp_starttls(struct smtp *c, struct strbuf *err)
{
	/* whatever the server sent after its 220 came before the handshake: it
	 * must not be read as if it came through TLS (reply injection) */
	c->have = 0;
	c->ctx = SSL_CTX_new(TLS_client_method());
	if (c->ctx == NULL || (c->ssl = SSL_new(c->ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1 || SSL_connect(c->ssl) != 1) {
		strbuf_printf(err, "SMTP: TLS handshake failed: %s",
			      ERR_reason_error_string(ERR_get_error()));
		return false;
	}
	return true;
}

static void smtp_close(struct smtp *c)
{
	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	if (c->ctx != NULL)
		SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
}

/* The message body for DATA: CRLF line ends, leading dots doubled. */
static bool smtp_data_text(const char *msg, size_t len, struct strbuf *out)
{
	bool bol = true;
	for (size_t i = 0; i < len; i++) {
		if (bol && msg[i] == '.')
			strbuf_putc(out, '.');
		if (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r'))
			strbuf_putc(out, '\r');
		strbuf_putc(out, msg[i]);
		bol = msg[i] == '\n';
	}
	if (!bol)
		strbuf_puts(out, "\r\n");
	strbuf_puts(out, ".\r\n");
	return !strbuf_failed(out);
}

static bool send_smtp(const struct report_sender *s, const char *from, const char *to,
		      const char *msg, size_t len, struct strbuf *err)
{
	struct smtp c = { .fd = -1, .timeout_ms = s->timeout_sec * 1000 };
	struct strbuf text, cmd, data;
	strbuf_init(&text, NULL, 0, 64 * 1024);
	strbuf_init(&cmd, NULL, 0, 2048);
	strbuf_init(&data, NULL, 0, (size_t)1 << 31);
	bool ok = smtp_connect(&c, s->smtp_host, s->smtp_port, err) &&
		  smtp_cmd(&c, NULL, 220, &text, err) &&
		  strbuf_printf(&cmd, "EHLO %s", s->helo) &&
		  smtp_cmd(&c, strbuf_str(&cmd), 250, &text, err);
	if (ok && strcasestr(strbuf_str(&text), "STARTTLS") != NULL) {
		ok = smtp_cmd(&c, "STARTTLS", 220, &text, err) && smtp_starttls(&c, err) &&
		     smtp_cmd(&c, strbuf_str(&cmd), 250, &text, err);
	}
	if (ok) {
		strbuf_reset(&cmd);
		ok = strbuf_printf(&cmd, "MAIL FROM:<%s>", from) &&
		     smtp_cmd(&c, strbuf_str(&cmd), 250, &text, err);
	}
	if (ok) {
		strbuf_reset(&cmd);
		ok = strbuf_printf(&cmd, "RCPT TO:<%s>", to) &&
		     smtp_cmd(&c, strbuf_str(&cmd), 250, &text, err) &&
		     smtp_cmd(&c, "DATA", 354, &text, err);
	}
	if (ok) {
		ok = smtp_data_text(msg, len, &data) && smtp_write(&c, data.data, data.len) &&
		     smtp_cmd(&c, NULL, 250, &text, err);
		if (ok)
			smtp_cmd(&c, "QUIT", 221, &text, err);
		else if (err->len == 0)
			strbuf_puts(err, "SMTP: sending the message failed");
	}
	smtp_close(&c);
	strbuf_free(&text);
	strbuf_free(&cmd);
	strbuf_free(&data);
	return ok;
}

bool report_send(const struct report_sender *s, const char *from, const char *to,
		 const char *msg, size_t len, struct strbuf *err)
{
	if (s->smtp_host != NULL && *s->smtp_host != '\0')
		return send_smtp(s, from, to, msg, len, err);
	(void)to; /* sendmail -t takes the recipient from the To: header */
	return send_sendmail(s, from, msg, len, err);
}
