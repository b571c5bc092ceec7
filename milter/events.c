/* events: no-op event hook (the event writer comes in a later issue). */
#include <stdbool.h>

#include "events.h"

bool events_start(const struct config *cfg, struct strbuf *err)
{
	(void)cfg;
	(void)err;
	return true;
}

void events_message(const struct conn_ctx *c, const struct msg_ctx *m,
		    const struct outcome *out)
{
	(void)c;
	(void)m;
	(void)out;
}

void events_stop(void)
{
}
