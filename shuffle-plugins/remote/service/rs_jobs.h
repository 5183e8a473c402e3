/*
 * The jobs a `sluice shuffled` daemon holds partitions of
 * (docs/remote-shuffle.md): when each was last heard of (a push, a commit
 * or a ping naming it), so that a job whose coordinator went silent for
 * the expiry time is dropped, its partitions released from the store and
 * its directory under the data dir removed. At start, what an earlier
 * daemon on the same data dir left (killed, say) is taken over: committed
 * partitions stay, served and counted as held, and their jobs are heard of
 * then; files of attempts never committed are removed. The data dir is
 * locked for the daemon's life, so that no two daemons take each other's
 * files for leftovers.
 *
 * A job is known by its directory (rs_job_dir): two names of one
 * directory are one job.
 */
#ifndef SL_RS_JOBS_H
#define SL_RS_JOBS_H

#include <stdint.h>

#include <sluice/plugin.h>

#include "rs_store.h"

struct rs_jobs;

/*
 * Lock dir (the data dir, absolute), take over what it holds into store,
 * then start the thread that drops the jobs not heard of for expire_ms
 * (it looks about once a second, more often for a shorter expiry). host
 * (logs, errors) and store must outlive the jobs. Errors: SL_EBUSY (dir is
 * another daemon's), SL_EIO (dir cannot be opened), SL_ENOMEM; the detail
 * through host->set_error. On failure nothing is left to stop (what was
 * taken over stays in the store).
 */
int rs_jobs_start(const struct sl_host *host, struct rs_store *store,
    const char *dir, uint64_t expire_ms, struct rs_jobs **out);
/* (job, token) is heard of now. Waits while the job is being dropped, so
 * that a request naming it starts afresh after. 0, or SL_ENOMEM. Called on
 * the server's threads. */
int rs_jobs_heard(struct rs_jobs *j, const char *job, uint64_t token);
/* Stop the thread (waits for a drop under way), unlock the data dir, free
 * j. Nothing when j is NULL. */
void rs_jobs_stop(struct rs_jobs *j);

#endif
