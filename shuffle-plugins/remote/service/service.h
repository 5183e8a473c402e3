/*
 * The remote shuffle service (docs/remote-shuffle.md): what a `sluice
 * shuffled` daemon runs, apart from its command line (shuffled.c), so that
 * a unit test runs it in its own process. localdisk's server
 * (ld_server.c) answers fetches and releases of the partitions under the
 * localdisk base directory ($SLUICE_LOCALDISK_DIR, the daemon's data dir);
 * through its hooks this adds push, commit and ping (rs_frame.h) into a
 * partition store (rs_store.h), each checked against the shared secret,
 * and has a release drop the partition from the store too. The jobs named
 * by requests are remembered (rs_jobs.h): one not heard of for the expiry
 * time is dropped, and what an earlier daemon left in the data dir is
 * taken over at start.
 *
 * One service per process (localdisk's server is one per process).
 */
#ifndef SL_RS_SERVICE_H
#define SL_RS_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/plugin.h>

/* The longest secret a request can carry (rs_frame.h's field). */
#define RS_SECRET_MAX 255
#define RS_EXPIRE_DEFAULT 3600 /* s: --expire-after */
#define RS_DISK_USE_DEFAULT 90 /* %: --max-disk-use */

struct rs_service_config {
	/* ipc://PATH, tcp://HOST:PORT (port 0 allowed) or tls+tcp:// */
	const char *url;
	/* NULL or "": any request's secret is taken; else a push, commit,
	 * ping, fetch or release must carry it (at most RS_SECRET_MAX) */
	const char *secret;
	/* a job no request named for this long is dropped; 0: 1 ms */
	uint64_t expire_ms;
	/* a new partition is refused while the data dir's file system is
	 * more than this % used; 100: never, 0: always */
	uint32_t max_disk_use;
	/* bytes of pushed batches held in memory before they are written
	 * (rs_store.h's memory tier; pushes wait beyond it); 0: the
	 * default, RS_MEMORY_DEFAULT */
	uint64_t memory_limit;
};

/*
 * Start the service of c on localdisk's base directory (the data dir,
 * made when missing): lock it, take over what an earlier daemon left
 * there, listen; bound (cap bytes) gets the URL to dial. Blocks to scan
 * the data dir and to bind. host must outlive the service. Errors:
 * SL_EINVAL (a secret too long), SL_ESTATE (started already), SL_EBUSY
 * (the data dir is another daemon's), SL_EIO (the data dir, or it cannot
 * listen), SL_ENOMEM; the detail through host->set_error. On failure
 * nothing is left to stop.
 */
int rs_service_start(const struct sl_host *host,
    const struct rs_service_config *c, char *bound, size_t cap);
/* Stop answering (waits for requests being answered) and expiring, then
 * remove every attempt not committed; committed files stay. Nothing when
 * not started. */
void rs_service_stop(void);

#endif
