/* milter_proto_test: the message loader and macro table of the milter client.
 * (The wire protocol itself is exercised against the real milter by
 * tests/integration/milter_test.sh.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "milter_proto.h"
#include "testlib.h"

struct load_case {
	const char *label;
	const char *text;
	bool ok;
	const char *want_headers; /* "name=value|name=value", "\n" kept */
	const char *want_body;
};

static const struct load_case load_cases[] = {
	{ "LF message", "From: a@b.example\nTo: c@d.example\n\nhello\nworld\n", true,
	  "From= a@b.example|To= c@d.example", "hello\r\nworld\r\n" },
	{ "CRLF message", "From: a@b.example\r\nSubject: x\r\n\r\nhi\r\n", true,
	  "From= a@b.example|Subject= x", "hi\r\n" },
	{ "folded header", "Subject: one\n two\n\tthree\nFrom: a@b.example\n\nbody\n", true,
	  "Subject= one\n two\n\tthree|From= a@b.example", "body\r\n" },
	{ "no body", "From: a@b.example\n\n", true, "From= a@b.example", "" },
	{ "no empty line", "From: a@b.example\nTo: x@y.example\n", true,
	  "From= a@b.example|To= x@y.example", "" },
	{ "body without final newline", "From: a@b.example\n\nlast", true,
	  "From= a@b.example", "last\r\n" },
	{ "empty body lines kept", "From: a\n\n\n\nx\n", true, "From= a", "\r\n\r\nx\r\n" },
	{ "value without space", "X-A:b\n\n", true, "X-A=b", "" },
	{ "continuation first", " folded\nFrom: a\n\n", false, "", "" },
	{ "line without colon", "From: a\nnot a header\n\n", false, "", "" },
	{ "empty field name", ": value\n\n", false, "", "" },
};

/* "name=value|..." of the loaded headers. */
static char *header_list(const struct milter_msg *msg)
{
	struct strbuf sb;
	strbuf_init(&sb, NULL, 0, 65536);
	for (size_t i = 0; i < msg->nheaders; i++)
		strbuf_printf(&sb, "%s%s=%s", i ? "|" : "", msg->headers[i].name,
			      msg->headers[i].value);
	return strbuf_finish(&sb);
}

static void test_load(void)
{
	for (size_t i = 0; i < sizeof load_cases / sizeof load_cases[0]; i++) {
		const struct load_case *c = &load_cases[i];
		struct milter_msg msg;
		memset(&msg, 0, sizeof msg);
		struct strbuf err;
		strbuf_init(&err, NULL, 0, 1024);
		bool ok = milter_msg_load(&msg, c->text, strlen(c->text), &err);
		char label[128];
		snprintf(label, sizeof label, "%s: status", c->label);
		t_check(ok == c->ok, label, "got %d (%s), want %d", ok, strbuf_str(&err), c->ok);
		if (ok && c->ok) {
			char *h = header_list(&msg);
			snprintf(label, sizeof label, "%s: headers", c->label);
			t_str(label, h, c->want_headers);
			free(h);
			snprintf(label, sizeof label, "%s: body", c->label);
			t_str(label, msg.body, c->want_body);
			snprintf(label, sizeof label, "%s: body length", c->label);
			t_int(label, (long long)msg.body_len, (long long)strlen(c->want_body));
		}
		milter_msg_free(&msg);
		strbuf_free(&err);
	}
}

static void test_macros(void)
{
	struct milter_msg msg;
	memset(&msg, 0, sizeof msg);
	struct strbuf err;
	strbuf_init(&err, NULL, 0, 1024);
	t_true("macro i", milter_msg_macro(&msg, "i", "Q1", &err));
	t_true("macro auth_authen", milter_msg_macro(&msg, "auth_authen", "alice", &err));
	t_true("macro {daemon_name}", milter_msg_macro(&msg, "{daemon_name}", "d", &err));
	t_true("macro i again", milter_msg_macro(&msg, "i", "Q2", &err));
	t_int("macro count", (long long)msg.nmacros, 3);
	t_str("short name kept", msg.macros[0].name, "i");
	t_str("replaced value", msg.macros[0].value, "Q2");
	t_str("long name braced", msg.macros[1].name, "{auth_authen}");
	t_str("braced name kept", msg.macros[2].name, "{daemon_name}");
	t_true("empty name refused", !milter_msg_macro(&msg, "", "x", &err));
	milter_msg_free(&msg);
	strbuf_free(&err);
}

static void test_names(void)
{
	t_str("verdict accept", milter_verdict_name(MILTER_ACCEPT), "accept");
	t_str("verdict reject", milter_verdict_name(MILTER_REJECT), "reject");
	t_str("verdict tempfail", milter_verdict_name(MILTER_TEMPFAIL), "tempfail");
	t_str("verdict discard", milter_verdict_name(MILTER_DISCARD), "discard");
	t_str("verdict quarantine", milter_verdict_name(MILTER_QUARANTINE), "quarantine");
}

static void test_open_errors(void)
{
	static const char *bad[] = { "tcp:25@127.0.0.1", "inet:", "inet:127.0.0.1",
				     "unix:" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct milter_conn *mc = NULL;
		struct strbuf err;
		strbuf_init(&err, NULL, 0, 1024);
		bool ok = milter_open(bad[i], 1000, &mc, &err);
		char label[128];
		snprintf(label, sizeof label, "open \"%s\" fails with a reason", bad[i]);
		t_check(!ok && mc == NULL && err.len > 0, label, "got ok=%d err=\"%s\"", ok,
			strbuf_str(&err));
		milter_close(mc);
		strbuf_free(&err);
	}
}

int main(void)
{
	test_load();
	test_macros();
	test_names();
	test_open_errors();
	return t_done();
}
