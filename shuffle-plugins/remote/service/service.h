/*
 * The remote shuffle service (docs/remote-shuffle.md): what a `sluice
 * shuffled` daemon runs, apart from its command line (shuffled.c), so that
 * a unit test runs it in its own process. localdisk's server
 * (ld_server.c) answers fetches and releases of the partitions under the
 * localdisk base directory ($SLUICE_LOCALDISK_DIR, the daemon's data dir);
 * through its hooks this adds push and commit (rs_frame.h) into a
 * partition store (rs_store.h), each checked against the shared secret,
 * and has a release drop the partition from the store too.
 *
 * One service per process (localdisk's server is one per process).
 */
#ifndef SL_RS_SERVICE_H
#define SL_RS_SERVICE_H

#include <stddef.h>

#include <sluice/plugin.h>

/* The longest secret a request can carry (rs_frame.h's field). */
#define RS_SECRET_MAX 255

/*
 * Listen on url (ipc:// or tcp://HOST:PORT, port 0 allowed); bound (cap
 * bytes) gets the URL to dial. secret NULL or "": any request's secret is
 * taken; else a push or commit must carry it (at most RS_SECRET_MAX
 * bytes). Blocks only to bind. host must outlive the service. Errors:
 * SL_EINVAL (a secret too long), SL_ESTATE (started already), SL_EIO (it
 * cannot listen), SL_ENOMEM; the detail through host->set_error. On
 * failure nothing is left to stop.
 */
int rs_service_start(const struct sl_host *host, const char *url,
    const char *secret, char *bound, size_t cap);
/* Stop answering (waits for requests being answered), then remove every
 * attempt not committed; committed files stay. Nothing when not started. */
void rs_service_stop(void);

#endif
