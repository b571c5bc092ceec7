/* resolver: every DNS lookup, through one shared libunbound context. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <unbound.h>

#include "resolver.h"
#include "strbuf.h"

#define RESOLVER_DEFAULT_TIMEOUT_MS 5000
#define RESOLVER_DEFAULT_NEG_TTL_SEC 300
#define RESOLVER_MAX_NAMESERVERS 16
#define RESOLVER_NAMESERVER_MAX_LEN 64  /* "ffff:...:ffff@65535" fits */
#define DNS_NAME_MAX_LEN 253            /* RFC 1035 §2.3.4, text form */
#define DNS_LABEL_MAX_LEN 63            /* RFC 1035 §2.3.4 */
#define DNS_CLASS_IN 1
#define WHY_MAX 512                     /* bound on a reason text */
#define CACHE_MAX_ENTRIES 4096          /* answers kept; the oldest go first */
#define CACHE_BUCKETS 4096              /* hash chains (a power of two) */

/* One answer kept by the resolver's own cache (see resolver_cache). */
struct cache_entry {
	struct cache_entry *next;    /* hash chain */
	struct cache_entry *older;   /* insertion order, for eviction */
	struct cache_entry *newer;
	uint64_t expires_ms;         /* resolver_now_ms() value */
	uint16_t type;
	enum dns_status status;      /* OK, NXDOMAIN or NODATA only */
	int rcode;
	bool truncated;
	size_t count;
	struct dns_rr *rrs;          /* count records, rdata owned */
	char name[];                 /* lower case, no trailing dot */
};

/* Answers already received, kept until their TTL runs out. libunbound
 * caches them too, but asking it costs two thread hand-offs and a dozen
 * system calls per lookup (ub_resolve_async, its worker, ub_fd, our
 * delivery thread, a condition variable); a message makes five or more
 * lookups, nearly all of them answered from cache. Only definite answers
 * are kept (records, NXDOMAIN, NODATA; negative ones no longer than
 * negative_ttl_max_sec, as libunbound is told), never failures. */
struct resolver_cache {
	pthread_mutex_t lock;
	struct cache_entry *buckets[CACHE_BUCKETS];
	struct cache_entry *oldest, *newest;
	size_t count;
};

struct resolver {
	struct ub_ctx *ctx;          /* libunbound context (thread safe) */
	unsigned timeout_ms;         /* per-query wait */
	pthread_t thread;            /* runs ub_process() when answers arrive */
	int stop_pipe[2];            /* a byte on [1] stops the thread */
	pthread_mutex_t lock;        /* guards everything below and pendings */
	bool broken;                 /* the delivery thread has stopped on error */
	char broken_why[128];        /* why (NUL-terminated) */
	struct resolver_stats stats; /* outcome counters */
	unsigned neg_ttl_max_sec;    /* cap on keeping NXDOMAIN/NODATA */
	bool cache_ready;            /* cache.lock initialised */
	struct resolver_cache cache; /* answers by name and type */
};

/* One outstanding query. The waiter and the callback (run by the resolver
 * thread) hand it over under res->lock: whoever is last frees it. */
struct pending {
	struct resolver *res;
	pthread_cond_t cond;         /* signalled when done becomes true */
	bool done;                   /* the callback has stored err/result */
	bool abandoned;              /* the waiter has gone; callback frees */
	int err;                     /* libunbound error code, 0 if none */
	struct ub_result *result;    /* owned until moved into the answer */
};

static const char *const rcode_names[] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE",
};

static const char *rcode_name(int rcode)
{
	if (rcode >= 0 && (size_t)rcode < sizeof rcode_names / sizeof rcode_names[0])
		return rcode_names[rcode];
	return "unknown rcode";
}

static const char *type_name(uint16_t type)
{
	switch (type) {
	case DNS_TYPE_A: return "A";
	case DNS_TYPE_NS: return "NS";
	case DNS_TYPE_CNAME: return "CNAME";
	case DNS_TYPE_PTR: return "PTR";
	case DNS_TYPE_MX: return "MX";
	case DNS_TYPE_TXT: return "TXT";
	case DNS_TYPE_AAAA: return "AAAA";
	default: return "other type";
	}
}

uint64_t resolver_now_ms(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail on Linux with a valid pointer. */
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

const char *dns_status_name(enum dns_status st)
{
	switch (st) {
	case DNS_STATUS_OK: return "ok";
	case DNS_STATUS_NXDOMAIN: return "nxdomain";
	case DNS_STATUS_NODATA: return "nodata";
	case DNS_STATUS_TEMPFAIL: return "tempfail";
	case DNS_STATUS_TIMEOUT: return "timeout";
	case DNS_STATUS_ERROR: return "error";
	}
	return "error";
}

/* ---- configuration ---------------------------------------------------- */

/* Checks one "addr[@port]" entry (s, len bytes, already trimmed) and writes
 * the libunbound form "addr@port" into out. */
static bool nameserver_parse(const char *s, size_t len, char *out, size_t out_len,
			     struct strbuf *err)
{
	char addr[RESOLVER_NAMESERVER_MAX_LEN];
	unsigned long port = 53;
	const char *at = memchr(s, '@', len);
	size_t alen = at ? (size_t)(at - s) : len;
	unsigned char bin[16];

	if (len == 0) {
		strbuf_puts(err, "empty nameserver entry (two commas, or a comma at an end?)");
		return false;
	}
	if (alen == 0 || alen >= sizeof addr) {
		strbuf_printf(err, "nameserver \"%.*s\": expected an IPv4 or IPv6 address",
			      (int)(len > 80 ? 80 : len), s);
		return false;
	}
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, bin) != 1 && inet_pton(AF_INET6, addr, bin) != 1) {
		strbuf_printf(err, "nameserver \"%.*s\": \"%s\" is not an IPv4 or IPv6 address",
			      (int)(len > 80 ? 80 : len), s, addr);
		return false;
	}
	if (at) {
		const char *p = at + 1, *end = s + len;
		if (p == end) {
			strbuf_printf(err, "nameserver \"%.*s\": port missing after @", (int)len, s);
			return false;
		}
		port = 0;
		for (; p < end; p++) {
			if (*p < '0' || *p > '9' || port > 65535) {
				port = 0;
				break;
			}
			port = port * 10 + (unsigned long)(*p - '0');
		}
		if (port < 1 || port > 65535) {
			strbuf_printf(err, "nameserver \"%.*s\": port must be a number 1-65535",
				      (int)(len > 80 ? 80 : len), s);
			return false;
		}
	}
	struct strbuf sb;
	strbuf_init(&sb, out, out_len, out_len - 1);
	strbuf_printf(&sb, "%s@%lu", addr, port);
	bool ok = !strbuf_failed(&sb);
	strbuf_free(&sb);
	return ok;
}

static bool ub_check(int r, const char *what, struct strbuf *err)
{
	if (r == 0)
		return true;
	strbuf_printf(err, "libunbound %s: %s", what, ub_strerror(r));
	return false;
}

/* Sets the upstream servers from the list, or from /etc/resolv.conf. */
static bool resolver_set_servers(struct ub_ctx *ctx, const char *list, struct strbuf *err)
{
	if (list == NULL || list[0] == '\0') {
		int r = ub_ctx_resolvconf(ctx, NULL);
		if (r == UB_READFILE) {
			strbuf_printf(err, "cannot read /etc/resolv.conf (%s); set the nameservers "
				      "explicitly", strerror(errno));
			return false;
		}
		return ub_check(r, "reading /etc/resolv.conf", err);
	}
	const char *p = list;
	unsigned n = 0;
	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		while (len > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		char one[RESOLVER_NAMESERVER_MAX_LEN + 8];
		if (!nameserver_parse(p, len, one, sizeof one, err))
			return false;
		if (++n > RESOLVER_MAX_NAMESERVERS) {
			strbuf_printf(err, "more than %d nameservers", RESOLVER_MAX_NAMESERVERS);
			return false;
		}
		if (!ub_check(ub_ctx_set_fwd(ctx, one), "setting a forwarder", err))
			return false;
		if (!end)
			break;
		p = end + 1;
	}
	return true;
}

static bool resolver_set_options(struct ub_ctx *ctx, const struct resolver_config *cfg,
				 struct strbuf *err)
{
	char neg[24];
	struct strbuf sb;
	unsigned neg_sec = cfg->negative_ttl_max_sec ? cfg->negative_ttl_max_sec
						     : RESOLVER_DEFAULT_NEG_TTL_SEC;

	strbuf_init(&sb, neg, sizeof neg, sizeof neg - 1);
	strbuf_printf(&sb, "%u", neg_sec);
	strbuf_free(&sb);
	const struct {
		const char *opt, *val;
	} opts[] = {
		/* Forwarders on loopback (a local cache, our tests) are normal. */
		{ "do-not-query-localhost:", "no" },
		/* No validator module: no DNSSEC, see resolver.h. */
		{ "module-config:", "iterator" },
		{ "cache-max-negative-ttl:", neg },
		/* libunbound allows 16 outstanding UDP queries by default:
		 * a burst of lookups for a dead domain (each waiting for its
		 * timeout) then stalls every other lookup behind it. */
		{ "outgoing-range:", "512" },
		{ "outgoing-num-tcp:", "16" },
		/* Upstreams are recursive forwarders: an answer that needs
		 * recursion takes far longer than the cache hits that set
		 * the measured RTT, so wait at least 1 s before sending
		 * again (process-wide in libunbound), and give up after two
		 * retries (about 6 s) so that queries for dead domains do
		 * not linger and hold sockets long after we stopped
		 * waiting (ub_cancel() does not stop them). */
		{ "infra-cache-min-rtt:", "1000" },
		{ "outbound-msg-retry:", "2" },
		/* A forwarder that timed out (for a dead domain) is probed
		 * again instead of being shunned for every other name. */
		{ "infra-keep-probing:", "yes" },
		/* Reverse lookups of private addresses go to the upstream
		 * servers, which may well serve them (see resolver_unlocal). */
		{ "unblock-lan-zones:", "yes" },
		{ "verbosity:", "0" },
	};
	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
		int r = ub_ctx_set_option(ctx, opts[i].opt, opts[i].val);
		if (r != 0) {
			strbuf_printf(err, "libunbound option %s %s: %s", opts[i].opt,
				      opts[i].val, ub_strerror(r));
			return false;
		}
	}
	/* Answers are delivered to our thread through ub_fd(); libunbound
	 * resolves in a thread of its own (not a forked process). */
	return ub_check(ub_ctx_async(ctx, 1), "ub_ctx_async", err);
}

/* libunbound answers some special-use names itself, as a recursive server
 * should. We forward everything to configured servers, like a stub resolver,
 * so those names go upstream too: test. (RFC 6761 §6.2: libraries send them
 * to their servers), and the reverse zones of the documentation prefixes
 * (RFC 5737, RFC 3849), which only tests use, and tests serve. invalid. and
 * localhost. stay local (RFC 6761 §6.3, §6.4). This finalizes the context:
 * no option can be set afterwards. */
static bool resolver_unlocal(struct ub_ctx *ctx, struct strbuf *err)
{
	static const char *const zones[] = {
		"test.",
		"2.0.192.in-addr.arpa.",
		"100.51.198.in-addr.arpa.",
		"113.0.203.in-addr.arpa.",
		"8.b.d.0.1.0.0.2.ip6.arpa.",
	};
	for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++) {
		int r = ub_ctx_zone_remove(ctx, zones[i]);
		if (r != 0) {
			strbuf_printf(err, "libunbound: removing the local zone %s: %s",
				      zones[i], ub_strerror(r));
			return false;
		}
	}
	return true;
}

/* ---- the delivery thread ---------------------------------------------- */

static void resolver_mark_broken(struct resolver *res, const char *what, const char *detail)
{
	struct strbuf sb;

	pthread_mutex_lock(&res->lock);
	res->broken = true;
	strbuf_init(&sb, res->broken_why, sizeof res->broken_why, sizeof res->broken_why - 1);
	strbuf_printf(&sb, "%s: %s", what, detail);
	strbuf_free(&sb);
	pthread_mutex_unlock(&res->lock);
}

/* Waits for answers and runs ub_process(), which calls pending_done(). */
static void *resolver_loop(void *arg)
{
	struct resolver *res = arg;
	int ubfd = ub_fd(res->ctx);

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = ubfd, .events = POLLIN },
			{ .fd = res->stop_pipe[0], .events = POLLIN },
		};
		int n = poll(pfd, 2, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			resolver_mark_broken(res, "poll", strerror(errno));
			return NULL;
		}
		if (pfd[1].revents != 0)
			return NULL;
		if (pfd[0].revents != 0) {
			int r = ub_process(res->ctx);
			if (r != 0) {
				resolver_mark_broken(res, "ub_process", ub_strerror(r));
				return NULL;
			}
		}
	}
}

static void pending_free(struct pending *p)
{
	if (p == NULL)
		return;
	pthread_cond_destroy(&p->cond);
	ub_resolve_free(p->result);
	free(p);
}

/* libunbound callback, run on the resolver thread inside ub_process(). */
static void pending_done(void *arg, int err, struct ub_result *result)
{
	struct pending *p = arg;
	struct resolver *res = p->res;

	pthread_mutex_lock(&res->lock);
	if (p->abandoned) {
		/* The waiter timed out and ub_cancel() was too late. */
		pthread_mutex_unlock(&res->lock);
		ub_resolve_free(result);
		pending_free(p);
		return;
	}
	p->done = true;
	p->err = err;
	p->result = result;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&res->lock);
}

static struct pending *pending_new(struct resolver *res)
{
	struct pending *p = calloc(1, sizeof *p);
	pthread_condattr_t attr;

	if (p == NULL)
		return NULL;
	p->res = res;
	if (pthread_condattr_init(&attr) != 0) {
		free(p);
		return NULL;
	}
	/* Timed waits use CLOCK_MONOTONIC, as resolver_now_ms() does. */
	bool ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
		  pthread_cond_init(&p->cond, &attr) == 0;
	pthread_condattr_destroy(&attr);
	if (!ok) {
		free(p);
		return NULL;
	}
	return p;
}

/* ---- public ----------------------------------------------------------- */

static void cache_clear(struct resolver_cache *c);

static void resolver_destroy_partial(struct resolver *res)
{
	if (res->ctx)
		ub_ctx_delete(res->ctx);
	if (res->stop_pipe[0] >= 0)
		close(res->stop_pipe[0]);
	if (res->stop_pipe[1] >= 0)
		close(res->stop_pipe[1]);
	if (res->cache_ready) {
		cache_clear(&res->cache);
		pthread_mutex_destroy(&res->cache.lock);
	}
	pthread_mutex_destroy(&res->lock);
	free(res);
}

bool resolver_new(const struct resolver_config *cfg, struct resolver **out,
		  struct strbuf *err)
{
	struct resolver *res;
	sigset_t all, old;

	*out = NULL;
	res = calloc(1, sizeof *res);
	if (res == NULL) {
		strbuf_puts(err, "out of memory");
		return false;
	}
	res->stop_pipe[0] = res->stop_pipe[1] = -1;
	if (pthread_mutex_init(&res->lock, NULL) != 0) {
		free(res);
		strbuf_puts(err, "pthread_mutex_init failed");
		return false;
	}
	res->timeout_ms = cfg->query_timeout_ms ? cfg->query_timeout_ms
						: RESOLVER_DEFAULT_TIMEOUT_MS;
	res->neg_ttl_max_sec = cfg->negative_ttl_max_sec ? cfg->negative_ttl_max_sec
							 : RESOLVER_DEFAULT_NEG_TTL_SEC;
	if (pthread_mutex_init(&res->cache.lock, NULL) != 0) {
		strbuf_puts(err, "pthread_mutex_init failed");
		resolver_destroy_partial(res);
		return false;
	}
	res->cache_ready = true;
	res->ctx = ub_ctx_create();
	if (res->ctx == NULL) {
		strbuf_puts(err, "ub_ctx_create failed (out of memory or no pipes)");
		resolver_destroy_partial(res);
		return false;
	}
	if (!resolver_set_options(res->ctx, cfg, err) ||
	    !resolver_set_servers(res->ctx, cfg->nameservers, err)) {
		resolver_destroy_partial(res);
		return false;
	}
	if (!resolver_unlocal(res->ctx, err)) {
		resolver_destroy_partial(res);
		return false;
	}
	if (ub_fd(res->ctx) < 0) {
		strbuf_puts(err, "libunbound has no result descriptor");
		resolver_destroy_partial(res);
		return false;
	}
	if (pipe2(res->stop_pipe, O_CLOEXEC) != 0) {
		strbuf_printf(err, "pipe: %s", strerror(errno));
		resolver_destroy_partial(res);
		return false;
	}
	/* The thread must not take the process's signals (libmilter waits
	 * for them in a thread of its own). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int r = pthread_create(&res->thread, NULL, resolver_loop, res);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		strbuf_printf(err, "pthread_create: %s", strerror(r));
		resolver_destroy_partial(res);
		return false;
	}
	*out = res;
	return true;
}

void resolver_free(struct resolver *res)
{
	if (res == NULL)
		return;
	ssize_t w;
	do {
		w = write(res->stop_pipe[1], "x", 1);
	} while (w < 0 && errno == EINTR);
	/* A full pipe cannot happen (one byte, written once). */
	pthread_join(res->thread, NULL);
	/* Cancelled queries still inside libunbound are freed with it. */
	resolver_destroy_partial(res);
}

void resolver_get_stats(struct resolver *res, struct resolver_stats *out)
{
	pthread_mutex_lock(&res->lock);
	*out = res->stats;
	pthread_mutex_unlock(&res->lock);
}

void dns_answer_free(struct dns_answer *ans)
{
	if (ans == NULL)
		return;
	for (size_t i = 0; i < ans->count; i++)
		free(ans->rrs[i].rdata);
	free(ans->rrs);
	free(ans->why);
	free(ans);
}

/* Sets status and a formatted reason (left NULL if out of memory). */
static void answer_fail(struct dns_answer *ans, enum dns_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void answer_fail(struct dns_answer *ans, enum dns_status st, const char *fmt, ...)
{
	struct strbuf sb;
	va_list ap;

	ans->status = st;
	strbuf_init(&sb, NULL, 0, WHY_MAX);
	va_start(ap, fmt);
	strbuf_vprintf(&sb, fmt, ap);
	va_end(ap);
	free(ans->why);
	ans->why = strbuf_finish(&sb);
}

/* RFC 1035 §2.3.4 limits, checked before any query. Bytes outside
 * printable ASCII and backslashes (libunbound escapes) are refused too:
 * names reach us as A-labels (lib/domain). */
static bool name_ok(const char *name, struct dns_answer *ans)
{
	size_t len = strlen(name), label = 0;

	if (len > 0 && name[len - 1] == '.')
		len--; /* one trailing dot: the absolute form */
	if (len == 0) {
		answer_fail(ans, DNS_STATUS_ERROR, "empty domain name");
		return false;
	}
	if (len > DNS_NAME_MAX_LEN) {
		answer_fail(ans, DNS_STATUS_ERROR,
			    "domain name of %zu octets (more than %d, RFC 1035 §2.3.4)",
			    len, DNS_NAME_MAX_LEN);
		return false;
	}
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (i == len || c == '.') {
			if (label == 0) {
				answer_fail(ans, DNS_STATUS_ERROR,
					    "\"%.*s\": empty label", (int)len, name);
				return false;
			}
			if (label > DNS_LABEL_MAX_LEN) {
				answer_fail(ans, DNS_STATUS_ERROR,
					    "\"%.*s\": label longer than %d octets (RFC 1035 §2.3.4)",
					    (int)len, name, DNS_LABEL_MAX_LEN);
				return false;
			}
			label = 0;
			continue;
		}
		if (c <= 0x20 || c >= 0x7f || c == '\\') {
			answer_fail(ans, DNS_STATUS_ERROR,
				    "\"%.*s\": byte 0x%02x not allowed in a query name",
				    (int)len, name, c);
			return false;
		}
		label++;
	}
	return true;
}

/* Moves the records of an OK result into ans. false when out of memory. */
static bool answer_fill(struct dns_answer *ans, const struct ub_result *r, uint16_t type)
{
	size_t n = 0;

	while (r->data[n] != NULL)
		n++;
	if (n > DNS_MAX_RRS) {
		ans->truncated = true;
		n = DNS_MAX_RRS;
	}
	ans->rrs = calloc(n, sizeof *ans->rrs);
	if (ans->rrs == NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		size_t len = r->len[i] > 0 ? (size_t)r->len[i] : 0;
		unsigned char *copy = malloc(len ? len : 1);
		if (copy == NULL)
			return false;
		memcpy(copy, r->data[i], len);
		ans->rrs[i].type = type;
		ans->rrs[i].ttl = r->ttl > 0 ? (uint32_t)r->ttl : 0;
		ans->rrs[i].len = len;
		ans->rrs[i].rdata = copy;
		ans->count = i + 1;
	}
	return true;
}

/* Turns a libunbound outcome into status + reason. false when out of memory. */
static bool answer_from_result(struct dns_answer *ans, const char *name, uint16_t type,
			       int err, const struct ub_result *r)
{
	if (err != 0 || r == NULL) {
		answer_fail(ans, err == UB_NOMEM ? DNS_STATUS_ERROR : DNS_STATUS_TEMPFAIL,
			    "%s/%s: resolver error: %s", name, type_name(type),
			    err ? ub_strerror(err) : "no result");
		return true;
	}
	ans->rcode = r->rcode;
	if (r->rcode == 0 && r->havedata && r->data != NULL && r->data[0] != NULL) {
		ans->status = DNS_STATUS_OK;
		return answer_fill(ans, r, type);
	}
	if (r->rcode == 3 || r->nxdomain) {
		answer_fail(ans, DNS_STATUS_NXDOMAIN, "%s: no such domain (NXDOMAIN)", name);
		return true;
	}
	if (r->rcode == 0) {
		answer_fail(ans, DNS_STATUS_NODATA, "%s: no %s record", name, type_name(type));
		return true;
	}
	/* SERVFAIL, REFUSED, ...: behind a forwarder every upstream failure
	 * arrives as SERVFAIL; either way it is worth trying again later. */
	answer_fail(ans, DNS_STATUS_TEMPFAIL, "%s/%s: DNS error %s (rcode %d)", name,
		    type_name(type), rcode_name(r->rcode), r->rcode);
	return true;
}

/* ---- the answer cache --------------------------------------------------- */

/* The cache key of name: lower case, without the trailing dot (DNS names
 * compare case-insensitively, RFC 4343). name passed name_ok(). */
static size_t cache_key(const char *name, char *key)
{
	size_t len = strlen(name);
	if (len > 0 && name[len - 1] == '.')
		len--;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		key[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	key[len] = '\0';
	return len;
}

static size_t cache_bucket(const char *key, size_t len, uint16_t type)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)key[i]) * 16777619u;
	h = (h ^ type) * 16777619u;
	return h & (CACHE_BUCKETS - 1);
}

static void cache_entry_free(struct cache_entry *e)
{
	for (size_t i = 0; i < e->count; i++)
		free(e->rrs[i].rdata);
	free(e->rrs);
	free(e);
}

/* Unlinks e (found in bucket b) and frees it. Called with cache.lock held. */
static void cache_drop(struct resolver_cache *c, size_t b, struct cache_entry *e)
{
	struct cache_entry **pp = &c->buckets[b];
	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
	if (e->older)
		e->older->newer = e->newer;
	else
		c->oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		c->newest = e->older;
	c->count--;
	cache_entry_free(e);
}

static struct cache_entry *cache_find(struct resolver_cache *c, size_t b, const char *key,
				      uint16_t type)
{
	for (struct cache_entry *e = c->buckets[b]; e != NULL; e = e->next)
		if (e->type == type && strcmp(e->name, key) == 0)
			return e;
	return NULL;
}

/* Copies count records; false when out of memory (what was copied is freed). */
static bool rrs_copy(const struct dns_rr *src, size_t count, uint32_t ttl,
		     struct dns_rr **out)
{
	*out = NULL;
	if (count == 0)
		return true;
	struct dns_rr *rrs = calloc(count, sizeof *rrs);
	if (rrs == NULL)
		return false;
	for (size_t i = 0; i < count; i++) {
		rrs[i] = src[i];
		rrs[i].ttl = ttl;
		rrs[i].rdata = malloc(src[i].len ? src[i].len : 1);
		if (rrs[i].rdata == NULL) {
			for (size_t k = 0; k < i; k++)
				free(rrs[k].rdata);
			free(rrs);
			return false;
		}
		memcpy(rrs[i].rdata, src[i].rdata, src[i].len);
	}
	*out = rrs;
	return true;
}

/* Fills ans from the cache. true on a hit; false on a miss (also when out
 * of memory: the query then simply goes to libunbound). */
static bool cache_get(struct resolver *res, const char *name, uint16_t type,
		      struct dns_answer *ans)
{
	char key[DNS_NAME_MAX_LEN + 2];
	size_t len = cache_key(name, key);
	size_t b = cache_bucket(key, len, type);
	uint64_t now = resolver_now_ms();
	bool hit = false;

	pthread_mutex_lock(&res->cache.lock);
	struct cache_entry *e = cache_find(&res->cache, b, key, type);
	if (e != NULL && e->expires_ms <= now) {
		cache_drop(&res->cache, b, e);
		e = NULL;
	}
	if (e != NULL) {
		/* What is left of the TTL, rounded up, as libunbound gives it. */
		uint32_t ttl = (uint32_t)((e->expires_ms - now + 999u) / 1000u);
		hit = rrs_copy(e->rrs, e->count, ttl, &ans->rrs);
		if (hit) {
			ans->count = e->count;
			ans->status = e->status;
			ans->rcode = e->rcode;
			ans->truncated = e->truncated;
		}
	}
	pthread_mutex_unlock(&res->cache.lock);
	if (hit && ans->status == DNS_STATUS_NXDOMAIN)
		answer_fail(ans, DNS_STATUS_NXDOMAIN, "%s: no such domain (NXDOMAIN)", name);
	else if (hit && ans->status == DNS_STATUS_NODATA)
		answer_fail(ans, DNS_STATUS_NODATA, "%s: no %s record", name, type_name(type));
	return hit;
}

/* Keeps a definite answer for ttl_sec seconds from asked_ms (when the
 * question left: never longer than the upstream allows). */
static void cache_put(struct resolver *res, const char *name, uint16_t type,
		      const struct dns_answer *ans, int ttl_sec, uint64_t asked_ms)
{
	if (ans->status != DNS_STATUS_OK && ans->status != DNS_STATUS_NXDOMAIN &&
	    ans->status != DNS_STATUS_NODATA)
		return;
	if (ans->status != DNS_STATUS_OK && ttl_sec > (int)res->neg_ttl_max_sec)
		ttl_sec = (int)res->neg_ttl_max_sec;
	if (ttl_sec <= 0)
		return;
	char key[DNS_NAME_MAX_LEN + 2];
	size_t len = cache_key(name, key);
	struct cache_entry *e = calloc(1, sizeof *e + len + 1);
	if (e == NULL)
		return;
	if (!rrs_copy(ans->rrs, ans->count, 0, &e->rrs)) {
		free(e);
		return;
	}
	memcpy(e->name, key, len + 1);
	e->count = ans->count;
	e->type = type;
	e->status = ans->status;
	e->rcode = ans->rcode;
	e->truncated = ans->truncated;
	e->expires_ms = asked_ms + (uint64_t)ttl_sec * 1000u;

	size_t b = cache_bucket(key, len, type);
	struct resolver_cache *c = &res->cache;
	pthread_mutex_lock(&c->lock);
	struct cache_entry *old = cache_find(c, b, key, type);
	if (old != NULL)
		cache_drop(c, b, old);
	if (c->count >= CACHE_MAX_ENTRIES) {
		struct cache_entry *o = c->oldest;
		cache_drop(c, cache_bucket(o->name, strlen(o->name), o->type), o);
	}
	e->next = c->buckets[b];
	c->buckets[b] = e;
	e->older = c->newest;
	if (c->newest)
		c->newest->newer = e;
	else
		c->oldest = e;
	c->newest = e;
	c->count++;
	pthread_mutex_unlock(&c->lock);
}

static void cache_clear(struct resolver_cache *c)
{
	struct cache_entry *e = c->oldest;
	while (e != NULL) {
		struct cache_entry *next = e->newer;
		cache_entry_free(e);
		e = next;
	}
	memset(c->buckets, 0, sizeof c->buckets);
	c->oldest = c->newest = NULL;
	c->count = 0;
}

static void resolver_count(struct resolver *res, enum dns_status st)
{
	pthread_mutex_lock(&res->lock);
	res->stats.queries++;
	switch (st) {
	case DNS_STATUS_OK: res->stats.ok++; break;
	case DNS_STATUS_NXDOMAIN: res->stats.nxdomain++; break;
	case DNS_STATUS_NODATA: res->stats.nodata++; break;
	case DNS_STATUS_TEMPFAIL: res->stats.tempfail++; break;
	case DNS_STATUS_TIMEOUT: res->stats.timeout++; break;
	case DNS_STATUS_ERROR: res->stats.error++; break;
	}
	pthread_mutex_unlock(&res->lock);
}

/* Waits until p is done or end_ms (monotonic). Called with res->lock held. */
static void pending_wait(struct resolver *res, struct pending *p, uint64_t end_ms)
{
	struct timespec ts = {
		.tv_sec = (time_t)(end_ms / 1000u),
		.tv_nsec = (long)(end_ms % 1000u) * 1000000L,
	};

	while (!p->done) {
		int r = pthread_cond_timedwait(&p->cond, &res->lock, &ts);
		if (r == ETIMEDOUT)
			break;
	}
}

/* Sends the query and waits up to wait_ms. */
static struct dns_answer *resolver_ask(struct resolver *res, struct dns_answer *ans,
				       const char *name, uint16_t type, uint64_t wait_ms,
				       bool by_deadline)
{
	struct pending *p = pending_new(res);
	int id = 0;

	if (p == NULL) {
		answer_fail(ans, DNS_STATUS_ERROR, "out of memory");
		return ans;
	}
	uint64_t asked_ms = resolver_now_ms(), end_ms = asked_ms + wait_ms;
	int r = ub_resolve_async(res->ctx, name, type, DNS_CLASS_IN, p, pending_done, &id);
	if (r != 0) {
		pending_free(p);
		answer_fail(ans, DNS_STATUS_ERROR, "%s/%s: libunbound: %s", name,
			    type_name(type), ub_strerror(r));
		return ans;
	}
	pthread_mutex_lock(&res->lock);
	pending_wait(res, p, end_ms);
	if (p->done) {
		pthread_mutex_unlock(&res->lock);
		bool ok = answer_from_result(ans, name, type, p->err, p->result);
		int ttl = p->err == 0 && p->result != NULL ? p->result->ttl : 0;
		pending_free(p);
		if (!ok) {
			dns_answer_free(ans);
			return NULL;
		}
		cache_put(res, name, type, ans, ttl, asked_ms);
		return ans;
	}
	p->abandoned = true;
	pthread_mutex_unlock(&res->lock);
	/* UB_NOERROR: the callback will never run, p is ours to free.
	 * UB_NOID: libunbound has already taken the answer off its list and
	 * runs (or ran) the callback, which sees abandoned and frees p. */
	if (ub_cancel(res->ctx, id) == UB_NOERROR)
		pending_free(p);
	answer_fail(ans, DNS_STATUS_TIMEOUT, "%s/%s: no answer within %llu ms (%s)", name,
		    type_name(type), (unsigned long long)wait_ms,
		    by_deadline ? "message DNS deadline" : "query timeout");
	return ans;
}

struct dns_answer *resolver_query(struct resolver *res, const char *name,
				  uint16_t type, uint64_t deadline_ms)
{
	struct dns_answer *ans = calloc(1, sizeof *ans);

	if (ans == NULL)
		return NULL;
	ans->rcode = -1;
	ans->status = DNS_STATUS_ERROR;
	if (name == NULL) {
		answer_fail(ans, DNS_STATUS_ERROR, "no domain name");
	} else if (name_ok(name, ans)) {
		uint64_t now = resolver_now_ms(), wait_ms = res->timeout_ms;
		bool by_deadline = false, broken;
		char why[sizeof res->broken_why];

		pthread_mutex_lock(&res->lock);
		broken = res->broken;
		memcpy(why, res->broken_why, sizeof why);
		pthread_mutex_unlock(&res->lock);
		if (deadline_ms != 0 && deadline_ms <= now + wait_ms) {
			wait_ms = deadline_ms > now ? deadline_ms - now : 0;
			by_deadline = true;
		}
		if (broken)
			answer_fail(ans, DNS_STATUS_ERROR, "resolver stopped after %s", why);
		else if (wait_ms == 0)
			answer_fail(ans, DNS_STATUS_TIMEOUT, "%s/%s: message DNS deadline "
				    "already passed; not asked", name, type_name(type));
		else if (!cache_get(res, name, type, ans))
			ans = resolver_ask(res, ans, name, type, wait_ms, by_deadline);
	}
	if (ans != NULL)
		resolver_count(res, ans->status);
	else
		resolver_count(res, DNS_STATUS_ERROR);
	return ans;
}

char *dns_txt_join(const struct dns_rr *rr, size_t *len_out)
{
	size_t total = 0, pos = 0;

	if (len_out)
		*len_out = 0;
	if (rr == NULL || (rr->len > 0 && rr->rdata == NULL))
		return NULL;
	/* RFC 1035 §3.3.14: one or more <character-string>s, each a length
	 * octet and that many bytes. An empty rdata is malformed. */
	if (rr->len == 0)
		return NULL;
	while (pos < rr->len) {
		size_t n = rr->rdata[pos];
		if (n > rr->len - pos - 1)
			return NULL;
		total += n;
		pos += 1 + n;
	}
	char *out = malloc(total + 1);
	if (out == NULL)
		return NULL;
	size_t o = 0;
	for (pos = 0; pos < rr->len; pos += 1 + (size_t)rr->rdata[pos]) {
		size_t n = rr->rdata[pos];
		memcpy(out + o, rr->rdata + pos + 1, n);
		o += n;
	}
	out[o] = '\0';
	if (len_out)
		*len_out = o;
	return out;
}
