/* null-milter: a filter that does nothing, to measure the floor of the milter
 * benchmark: what libmilter and the kernel cost per conversation.
 *
 * Usage: null-milter -p inet:PORT@127.0.0.1
 *
 * It negotiates what dmarc-milter negotiates (no DATA, no unknown commands,
 * no replies for HELO, RCPT and headers, SKIP, leading spaces kept), reads
 * every header field and body chunk, and at end of message inserts the five
 * header fields dmarc-milter adds to a passing message, then accepts. The
 * CPU it spends per message in tests/bench/run-bench.sh is the part of
 * dmarc-milter's cost that no change inside the filter can remove.
 * Runs in the foreground until SIGTERM/SIGINT. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

static sfsistat nm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
			     unsigned long f2, unsigned long f3, unsigned long *pf0,
			     unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	(void)ctx;
	(void)f2;
	(void)f3;
	*pf0 = (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE) & f0;
	*pf1 = (SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_NR_HELO | SMFIP_NR_RCPT |
		SMFIP_NR_HDR | SMFIP_SKIP | SMFIP_HDR_LEADSPC) & f1;
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

static sfsistat nm_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	(void)ctx;
	(void)host;
	(void)sa;
	return SMFIS_CONTINUE;
}

static sfsistat nm_helo(SMFICTX *ctx, char *helo)
{
	(void)ctx;
	(void)helo;
	return SMFIS_NOREPLY;
}

static sfsistat nm_envfrom(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return SMFIS_CONTINUE;
}

static sfsistat nm_envrcpt(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return SMFIS_NOREPLY;
}

static sfsistat nm_header(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx;
	(void)name;
	(void)value;
	return SMFIS_NOREPLY;
}

static sfsistat nm_eoh(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat nm_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	return SMFIS_CONTINUE;
}

static sfsistat nm_eom(SMFICTX *ctx)
{
	static const char *const hdr[][2] = {
		{ "X-DMARC-Verdict", " PASS" },
		{ "X-DKIM-Verdict", " PASS" },
		{ "X-SPF-Verdict", " PASS" },
		{ "Authentication-Results", " mx.receiver.example; spf=pass "
		  "smtp.mailfrom=d001.example; dkim=pass header.d=d001.example "
		  "header.s=s2048 header.b=AbCdEfGh; dmarc=pass (p=reject dis=none) "
		  "header.from=d001.example" },
	};
	for (size_t i = 0; i < sizeof hdr / sizeof hdr[0]; i++)
		(void)smfi_insheader(ctx, 0, (char *)hdr[i][0], (char *)hdr[i][1]);
	return SMFIS_ACCEPT;
}

static sfsistat nm_close(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

/* TCP_NODELAY on the listening socket, as dmarc-milter sets it
 * (milter/daemon.c daemon_socket_nodelay()), so the two are compared alike. */
static void nodelay(void)
{
	for (int fd = 0; fd < 1024; fd++) {
		int v = 0, one = 1;
		socklen_t len = sizeof v;
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 && v != 0)
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
}

int main(int argc, char **argv)
{
	const char *spec = NULL;
	int c;
	while ((c = getopt(argc, argv, "p:")) != -1) {
		if (c != 'p') {
			fprintf(stderr, "usage: null-milter -p inet:PORT@127.0.0.1\n");
			return 2;
		}
		spec = optarg;
	}
	if (spec == NULL || optind != argc) {
		fprintf(stderr, "usage: null-milter -p inet:PORT@127.0.0.1\n");
		return 2;
	}
	struct smfiDesc desc = {
		.xxfi_name = "null-milter",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
		.xxfi_connect = nm_connect,
		.xxfi_helo = nm_helo,
		.xxfi_envfrom = nm_envfrom,
		.xxfi_envrcpt = nm_envrcpt,
		.xxfi_header = nm_header,
		.xxfi_eoh = nm_eoh,
		.xxfi_body = nm_body,
		.xxfi_eom = nm_eom,
		.xxfi_close = nm_close,
		.xxfi_negotiate = nm_negotiate,
	};
	if (smfi_setconn((char *)spec) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS ||
	    smfi_opensocket(true) != MI_SUCCESS) {
		fprintf(stderr, "null-milter: cannot listen on %s\n", spec);
		return 1;
	}
	nodelay();
	fprintf(stderr, "null-milter ready on %s\n", spec);
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
