/* msg_event: allocation and field setters for one event-log row. */
#include <stdlib.h>
#include <string.h>

#include "msg_event.h"

struct msg_event *msg_event_new(void)
{
	struct msg_event *ev = calloc(1, sizeof *ev);
	if (ev != NULL)
		ev->pct = -1;
	return ev;
}

bool msg_event_set(char **field, const char *value)
{
	free(*field);
	*field = NULL;
	if (value == NULL)
		return true;
	size_t len = strnlen(value, MSG_EVENT_MAX_FIELD + 1);
	if (len > MSG_EVENT_MAX_FIELD)
		return false;
	*field = strndup(value, len);
	if (*field == NULL)
		return false;
	/* control bytes never reach the database: the reporter relies on it
	 * (separators) and they have no business in domains or results */
	for (char *p = *field; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return true;
}

bool msg_event_add_dkim(struct msg_event *ev, const char *domain, const char *selector,
		    const char *result, const char *human_result, bool aligned)
{
	if (ev->ndkim >= MSG_EVENT_MAX_DKIM)
		return false;
	if (ev->ndkim == ev->dkim_cap) {
		size_t cap = ev->dkim_cap ? ev->dkim_cap * 2 : 2;
		struct msg_event_dkim *p = realloc(ev->dkim, cap * sizeof *p);
		if (p == NULL)
			return false;
		ev->dkim = p;
		ev->dkim_cap = cap;
	}
	struct msg_event_dkim *d = &ev->dkim[ev->ndkim];
	memset(d, 0, sizeof *d);
	bool ok = msg_event_set(&d->domain, domain) && msg_event_set(&d->selector, selector) &&
		  msg_event_set(&d->result, result) && msg_event_set(&d->human_result, human_result);
	d->aligned = aligned;
	ev->ndkim++; /* counted even on failure so msg_event_free releases partial copies */
	return ok;
}

void msg_event_free(struct msg_event *ev)
{
	if (ev == NULL)
		return;
	char **fields[] = {
		&ev->queue_id, &ev->client_ip, &ev->helo, &ev->envelope_from,
		&ev->envelope_to, &ev->header_from, &ev->policy_domain,
		&ev->policy_origin, &ev->discovery_method, &ev->org_domain,
		&ev->p, &ev->sp, &ev->np, &ev->adkim, &ev->aspf, &ev->fo, &ev->t,
		&ev->psd, &ev->rua, &ev->ruf, &ev->spf_result, &ev->spf_domain,
		&ev->spf_scope, &ev->dmarc_result, &ev->policy_applied,
		&ev->disposition, &ev->override_type, &ev->override_comment,
		&ev->spf_verdict, &ev->dkim_verdict, &ev->dmarc_verdict,
		&ev->policy_verdict,
	};
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		free(*fields[i]);
	for (size_t i = 0; i < ev->ndkim; i++) {
		free(ev->dkim[i].domain);
		free(ev->dkim[i].selector);
		free(ev->dkim[i].result);
		free(ev->dkim[i].human_result);
	}
	free(ev->dkim);
	free(ev);
}
