/* events: the hook through which each evaluated message reaches the event
 * log (DESIGN.md: one event per message and author domain, written to SQLite
 * by a single writer thread, lib/event_writer).
 *
 * This issue ships the interface with a no-op implementation; the event
 * writer issue fills in events.c (start the writer, turn the verdict into
 * struct msg_event rows, submit them, flush on stop) without touching the
 * callers.
 *
 * Callers: milter/main.c (start, stop), milter/pipeline.c (one call per
 * evaluated message, after the action is decided: verdict, overrides and the
 * headers added are all final by then).
 * Thread safety: events_message() is called from connection threads. */
#ifndef DMARC_MILTER_EVENTS_H
#define DMARC_MILTER_EVENTS_H

#include <stdbool.h>

#include "config.h"
#include "strbuf.h"

#include "milter.h"

/* At start-up, after privileges are dropped. false with a reason in err.
 * An empty EventDatabase switches the event log off: no writer is started
 * and events_message() does nothing. */
bool events_start(const struct config *cfg, struct strbuf *err);

/* One evaluated message (never called for skipped messages). Must not block
 * on storage. */
void events_message(const struct conn_ctx *c, const struct msg_ctx *m,
		    const struct outcome *out);

/* At shutdown (SIGTERM), after the last message: flush what is queued. */
void events_stop(void);

#endif
