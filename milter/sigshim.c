/* sigshim: keep SIGHUP away from libmilter's signal thread.
 *
 * smfi_main() starts a thread that calls sigwait() for SIGHUP, SIGTERM and
 * SIGINT and stops the filter on any of them. We want SIGHUP to reload the
 * configuration instead (dmarc-milter(8)). The main thread waits for SIGHUP
 * itself, but when two threads wait for one signal, POSIX leaves the choice
 * of thread open, and a burst of SIGHUPs did stop the filter in testing.
 *
 * So this file defines sigwait(): the dynamic linker binds libmilter's call
 * to the executable's definition before libc's. It waits for the same set
 * minus SIGHUP (which libmilter then never sees), through sigwaitinfo(), so
 * SIGTERM and SIGINT keep their libmilter meaning. Our own code uses
 * sigtimedwait() and is not affected. If a future libmilter stopped calling
 * sigwait() through the PLT, SIGHUP would again be shared, and SIGUSR1 (which
 * libmilter never waits for) stays the safe reload signal. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <signal.h>

int sigwait(const sigset_t *set, int *sig);

int sigwait(const sigset_t *set, int *sig)
{
	sigset_t mine = *set;
	sigdelset(&mine, SIGHUP);
	for (;;) {
		int got = sigwaitinfo(&mine, NULL);
		if (got >= 0) {
			*sig = got;
			return 0;
		}
		if (errno != EINTR)
			return errno;
	}
}
