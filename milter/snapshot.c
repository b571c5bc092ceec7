/* snapshot: reference-counted configuration snapshots, swapped on reload. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dkim_verify.h"
#include "policy_discovery.h"
#include "resolver.h"
#include "strbuf.h"

#include "snapshot.h"

static pthread_mutex_t snap_lock = PTHREAD_MUTEX_INITIALIZER;
static struct snapshot *snap_current;
static unsigned long snap_generation;

static void snapshot_free(struct snapshot *s)
{
	if (s == NULL)
		return;
	dkim_verify_lib_free(s->dkim);  /* before the resolver it uses */
	resolver_free(s->resolver);
	policy_psl_free(s->psl);
	config_free(&s->cfg);
	free(s);
}

/* The resolver the configuration asks for. */
static bool build_resolver(struct snapshot *s, struct strbuf *err)
{
	char stack[256];
	struct strbuf ns;
	strbuf_init(&ns, stack, sizeof stack, 64 * 1024);
	if (!config_list_join(&s->cfg.nameservers, ",", &ns) || strbuf_failed(&ns)) {
		strbuf_puts(err, "Nameservers: list too long or out of memory");
		strbuf_free(&ns);
		return false;
	}
	struct resolver_config rc = {
		.nameservers = strbuf_str(&ns),
		.query_timeout_ms = (unsigned)s->cfg.dns_timeout_sec * 1000u,
		/* the resolver reads 0 as "its default"; 0 here means "do not
		 * keep negative answers", and 1 second is the closest it has */
		.negative_ttl_max_sec = s->cfg.dns_negative_cache_max_sec > 0 ?
			(unsigned)s->cfg.dns_negative_cache_max_sec : 1u,
	};
	bool ok = resolver_new(&rc, &s->resolver, err);
	strbuf_free(&ns);
	return ok;
}

bool snapshot_build(struct config *cfg, struct snapshot **out, struct strbuf *err)
{
	*out = NULL;
	struct snapshot *s = calloc(1, sizeof *s);
	if (s == NULL) {
		config_free(cfg);
		strbuf_puts(err, "out of memory");
		return false;
	}
	s->cfg = *cfg;
	memset(cfg, 0, sizeof *cfg);
	s->refs = 1;
	if (!build_resolver(s, err)) {
		snapshot_free(s);
		return false;
	}
	struct dkim_verify_config dc = {
		.max_signatures = (unsigned)s->cfg.dkim_max_signatures,
		.min_key_bits = (unsigned)s->cfg.dkim_min_key_bits,
	};
	if (!dkim_verify_lib_new(s->resolver, &dc, &s->dkim, err)) {
		snapshot_free(s);
		return false;
	}
	/* RFC 7489 §3.2: the organizational domain comes from the PSL. */
	if (s->cfg.dmarc_standard == DMARC_STD_RFC7489) {
		s->psl = policy_psl_load(s->cfg.public_suffix_list, err);
		if (s->psl == NULL) {
			snapshot_free(s);
			return false;
		}
	}
	pthread_mutex_lock(&snap_lock);
	s->generation = ++snap_generation;
	pthread_mutex_unlock(&snap_lock);
	*out = s;
	return true;
}

bool snapshot_load(const char *path, struct snapshot **out, struct strbuf *err)
{
	struct config cfg;
	memset(&cfg, 0, sizeof cfg);
	if (!config_load(path, &cfg, err)) {
		config_free(&cfg);
		*out = NULL;
		return false;
	}
	return snapshot_build(&cfg, out, err);
}

void snapshot_install(struct snapshot *s)
{
	pthread_mutex_lock(&snap_lock);
	struct snapshot *old = snap_current;
	snap_current = s;
	pthread_mutex_unlock(&snap_lock);
	snapshot_release(old);
}

struct snapshot *snapshot_acquire(void)
{
	pthread_mutex_lock(&snap_lock);
	struct snapshot *s = snap_current;
	if (s != NULL)
		s->refs++;
	pthread_mutex_unlock(&snap_lock);
	return s;
}

void snapshot_release(struct snapshot *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&snap_lock);
	bool last = --s->refs == 0;
	pthread_mutex_unlock(&snap_lock);
	if (last)
		snapshot_free(s);
}

void snapshot_shutdown(void)
{
	snapshot_install(NULL);
}
