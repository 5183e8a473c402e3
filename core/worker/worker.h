/*
 * The worker process (DESIGN §1): registers with the coordinator, sends
 * heartbeats, runs each task it is given on a thread of its own
 * (sli_task_run), reports how each ended, and serves its partitions to
 * other workers through its shuffle plugins' servers.
 *
 * One libuv loop thread does all the talking; task threads only post their
 * results to it. docs/runtime.md describes the protocol.
 */
#ifndef SLI_WORKER_H
#define SLI_WORKER_H

#include <stdint.h>

#include "plugin/loader.h"

struct sli_worker_opts {
	const char *coordinator; /* URL */
	const char *id;          /* NULL: HOST-PID */
	uint32_t slots;
	/* Host name or address other processes reach this one at, for
	 * tcp:// coordinators; NULL: this host's name. */
	const char *host;
	/* Directory for ipc:// sockets when the coordinator's URL is
	 * ipc://; NULL: /tmp. */
	const char *run_dir;
	/* Exit (and cancel every task) when this process is gone; 0: none.
	 * sluice run passes its pid so that no worker outlives it. */
	int parent_pid;
	struct sli_plugin_set *set; /* operators and shuffle plugins */
};

/*
 * Run until the coordinator says SHUTDOWN, SIGINT or SIGTERM arrives, or the
 * parent is gone. 0 on a clean shutdown; otherwise a code with a detail.
 */
int sli_worker_run(const struct sli_worker_opts *o);

#endif
