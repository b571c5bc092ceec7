/* report_send: hands one report message to the mail system.
 *
 * Default: the sendmail(1) program (ReportSendmail) run as
 * "sendmail -t -oi -f <from>" without a shell, the message on its standard
 * input; success is its exit status 0. Otherwise SMTP to ReportSMTPHost:
 * ReportSMTPPort: EHLO, STARTTLS when the server offers it (opportunistic,
 * certificates not verified, as MTAs do by default), MAIL FROM, RCPT TO,
 * DATA with dot-stuffing and CRLF line ends, QUIT.
 *
 * Callers: reporter/main.c. Errors: false with the reason (exit status or
 * the server's reply) in err. Every network wait is bounded by timeout_sec. */
#ifndef DMARC_REPORT_SEND_H
#define DMARC_REPORT_SEND_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

struct report_sender {
	const char *sendmail;    /* path of sendmail(1) */
	const char *smtp_host;   /* "" = use sendmail */
	int smtp_port;
	const char *helo;        /* our name for EHLO */
	unsigned timeout_sec;
};

bool report_send(const struct report_sender *s, const char *from, const char *to,
		 const char *msg, size_t len, struct strbuf *err);

#endif
