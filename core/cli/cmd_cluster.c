/*
 * A standalone cluster: sluice coordinator, sluice worker, and the clients
 * sluice submit and sluice status.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "common/error.h"
#include "common/log.h"
#include "coord/coord.h"
#include "net/rpc.h"
#include "worker/worker.h"

#define CLIENT_TIMEOUT_MS 10000
#define STOP_LIMIT_S 5 /* a coordinator's stop, at most; then it exits */

static const char coordinator_usage[] =
    "usage: sluice coordinator --listen URL [--heartbeat-ms N]\n"
    "                          [--plugin-dir DIR]... [--state-dir DIR]\n"
    "                          [--shuffle-service URL]...\n"
    "                          [--shuffle-replicas 1|2]\n"
    "\n"
    "Runs the job master until SIGINT or SIGTERM. URL is tcp://HOST:PORT\n"
    "(workers and clients on other hosts) or ipc:///PATH (this host).\n"
    "Workers that miss 6 heartbeats in a row are declared lost.\n"
    "--state-dir DIR keeps each job's operation log there (DIR/JOB.log;\n"
    "`sluice log dump DIR` prints them); started again on it after a crash,\n"
    "the coordinator takes up the jobs that had not ended.\n"
    "--shuffle-service URL names a `sluice shuffled` daemon for edges of\n"
    "the remote shuffle (repeat it for several); --shuffle-replicas 2 keeps\n"
    "each partition on two of them, so that losing one loses nothing.\n";

static const char worker_usage[] =
    "usage: sluice worker --coordinator URL [--slots N] [--id NAME]\n"
    "                     [--host HOST] [--plugin-dir DIR]...\n"
    "\n"
    "Runs tasks for the coordinator at URL until it says shutdown, or\n"
    "SIGINT or SIGTERM. --slots: tasks it runs at once (default 2).\n"
    "--host: the name or address other workers reach this one at, for\n"
    "tcp:// clusters (default: this host's name).\n";

static const char submit_usage[] =
    "usage: sluice submit --coordinator URL JOB.json [-D NAME=VALUE]...\n"
    "                     [--wait]\n"
    "\n"
    "Submits a job and prints its id. With --wait, waits for it to end and\n"
    "exits 0 when it finished, 1 when it failed.\n";

static const char status_usage[] =
    "usage: sluice status --coordinator URL\n"
    "\n"
    "Lists the coordinator's jobs: id, state (RUNNING, FINISHED, FAILED,\n"
    "CANCELLED) and what went wrong.\n";

/* Block the signals in every thread; the main thread takes them with
 * sigwait. Done before any thread starts, so all inherit the mask. */
static void
block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, set, NULL);
}

/*
 * A coordinator told to stop ends within STOP_LIMIT_S even when a socket
 * does not close: nng 1.5.2's nng_close was seen to wait for good on an
 * ipc listener (test_recovery on a loaded machine). What it decided is in
 * its log already, synced; nothing is lost by leaving.
 */
static void *
stop_watch(void *arg)
{
	(void)arg;
	sleep(STOP_LIMIT_S);
	fprintf(stderr,
	    "sluice: coordinator: not stopped after %d s (a socket that does "
	    "not close); exiting\n",
	    STOP_LIMIT_S);
	_exit(1);
	return NULL;
}

int
sli_cmd_coordinator(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "heartbeat-ms", required_argument, NULL, 'b' },
		{ "plugin-dir", required_argument, NULL, 'd' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "shuffle-service", required_argument, NULL, 'S' },
		{ "shuffle-replicas", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sli_coord_opts co = { 0 };
	const char **services = calloc(argc, sizeof(char *));
	struct sli_plugin_set set = { 0 };
	struct sli_coord *c;
	const char **dirs = calloc(argc, sizeof(char *));
	size_t ndirs = 0;
	sigset_t sigs;
	int opt, sig, rv;

	if (dirs == NULL || services == NULL) {
		free(dirs);
		free(services);
		return sli_cli_fail("out of memory");
	}
	co.services = services;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			co.listen = optarg;
			break;
		case 'S':
			services[co.nservices++] = optarg;
			break;
		case 'P':
			if (!sli_parse_u32(optarg, 1, 2, &co.replicas)) {
				free(dirs);
				free(services);
				return sli_cli_usage("coordinator: "
				                     "--shuffle-replicas: 1 or "
				                     "2, not '%s'",
				    optarg);
			}
			break;
		case 'b':
			if (!sli_parse_u32(
			        optarg, 10, 600000, &co.heartbeat_ms)) {
				free(dirs);
				free(services);
				return sli_cli_usage("coordinator: "
				                     "--heartbeat-ms: 10 to "
				                     "600000, not '%s'",
				    optarg);
			}
			break;
		case 'd':
			dirs[ndirs++] = optarg;
			break;
		case 's':
			co.state_dir = optarg;
			co.recover = true;
			break;
		case 'h':
			free(dirs);
			free(services);
			fputs(coordinator_usage, stdout);
			return sli_cli_flush();
		default:
			free(dirs);
			free(services);
			return 2;
		}
	}
	if (co.listen == NULL || optind < argc) {
		free(dirs);
		free(services);
		return sli_cli_usage("coordinator: %s\n\n%s",
		    co.listen == NULL ? "--listen URL is required"
		                      : "unexpected arguments",
		    coordinator_usage);
	}
	if (sli_log_level() < SL_LOG_INFO)
		sli_log_set_level(SL_LOG_INFO);
	if (sli_plugin_set_load_default(&set, dirs, ndirs) < 0) {
		free(dirs);
		free(services);
		return sli_cli_fail("%s", sl_errdetail());
	}
	free(dirs);
	co.set = &set;
	block_signals(&sigs);
	if (sli_coord_start(&co, &c) != 0) {
		rv = sli_cli_fail("%s", sl_errdetail());
		sli_plugin_set_clear(&set);
		free(services);
		return rv;
	}
	printf("coordinator listening at %s\n", sli_coord_url(c));
	fflush(stdout);
	sigwait(&sigs, &sig);
	fprintf(stderr, "sluice: coordinator: signal %d, stopping\n", sig);
	{
		pthread_t th;

		if (pthread_create(&th, NULL, stop_watch, NULL) == 0)
			pthread_detach(th);
	}
	sli_coord_shutdown_workers(c);
	usleep(200 * 1000); /* let SHUTDOWN reach the workers */
	sli_coord_stop(c);
	sli_plugin_set_clear(&set);
	free(services);
	return 0;
}

int
sli_cmd_worker(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "coordinator", required_argument, NULL, 'c' },
		{ "slots", required_argument, NULL, 's' },
		{ "id", required_argument, NULL, 'i' },
		{ "host", required_argument, NULL, 'H' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "parent-pid", required_argument, NULL, 'p' },
		{ "plugin-dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sli_worker_opts wo = { .slots = 2 };
	struct sli_plugin_set set = { 0 };
	const char **dirs = calloc(argc, sizeof(char *));
	size_t ndirs = 0;
	uint32_t ppid;
	int opt, rv;

	if (dirs == NULL)
		return sli_cli_fail("out of memory");
	optind = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			wo.coordinator = optarg;
			break;
		case 's':
			if (!sli_parse_u32(optarg, 1, 4096, &wo.slots)) {
				free(dirs);
				return sli_cli_usage("worker: --slots: 1 to "
				                     "4096, not '%s'",
				    optarg);
			}
			break;
		case 'i':
			wo.id = optarg;
			break;
		case 'H':
			wo.host = optarg;
			break;
		case 'r':
			wo.run_dir = optarg;
			break;
		case 'p':
			if (!sli_parse_u32(optarg, 1, INT32_MAX, &ppid)) {
				free(dirs);
				return sli_cli_usage(
				    "worker: --parent-pid: '%s'", optarg);
			}
			wo.parent_pid = (int)ppid;
			break;
		case 'd':
			dirs[ndirs++] = optarg;
			break;
		case 'h':
			free(dirs);
			fputs(worker_usage, stdout);
			return sli_cli_flush();
		default:
			free(dirs);
			return 2;
		}
	}
	if (wo.coordinator == NULL || optind < argc) {
		free(dirs);
		return sli_cli_usage("worker: %s\n\n%s",
		    wo.coordinator == NULL ? "--coordinator URL is required"
		                           : "unexpected arguments",
		    worker_usage);
	}
	if (sli_plugin_set_load_default(&set, dirs, ndirs) < 0) {
		free(dirs);
		return sli_cli_fail("%s", sl_errdetail());
	}
	free(dirs);
	wo.set = &set;
	rv = sli_worker_run(&wo);
	if (rv != 0)
		rv = sli_cli_fail("worker: %s", sl_errdetail());
	sli_plugin_set_clear(&set);
	return rv;
}

/* The whole file into a malloc'd buffer. */
static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (f == NULL)
		return NULL;
	do {
		if (n == cap) {
			char *b = realloc(buf, cap = cap ? cap * 2 : 65536);

			if (b == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = b;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*len = n;
	return buf;
}

static int
job_state_of(const char *url, const char *id, int *state, char *msg, size_t cap)
{
	struct sli_msg m = { .type = SLI_MSG_STATUS }, r;
	int rv;

	if ((rv = sli_rpc_call_sync(url, &m, CLIENT_TIMEOUT_MS, &r)) != 0)
		return rv;
	rv = sli_err(SL_ENOTFOUND, "the coordinator has no job '%s'", id);
	if (r.type == SLI_MSG_JOBS)
		for (uint32_t i = 0; i < r.jobs.njobs; i++)
			if (strcmp(r.jobs.jobs[i].job, id) == 0) {
				*state = (int)r.jobs.jobs[i].state;
				snprintf(
				    msg, cap, "%s", r.jobs.jobs[i].message);
				rv = 0;
			}
	sli_msg_free(&r);
	return rv;
}

int
sli_cmd_submit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "coordinator", required_argument, NULL, 'c' },
		{ "wait", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sli_msg m = { .type = SLI_MSG_SUBMIT }, r;
	const char *url = NULL, *path;
	char **defs = calloc(argc, sizeof(char *));
	bool wait = false;
	char id[1100], msg[4096];
	size_t len;
	int opt, rv, state;

	if (defs == NULL)
		return sli_cli_fail("out of memory");
	optind = 0;
	while ((opt = getopt_long(argc, argv, "D:", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			url = optarg;
			break;
		case 'D':
			defs[m.submit.ndefs++] = optarg;
			break;
		case 'w':
			wait = true;
			break;
		case 'h':
			free(defs);
			fputs(submit_usage, stdout);
			return sli_cli_flush();
		default:
			free(defs);
			return 2;
		}
	}
	if (url == NULL || optind + 1 != argc) {
		free(defs);
		return sli_cli_usage("submit: %s\n\n%s",
		    url == NULL ? "--coordinator URL is required"
		                : "give exactly one job file",
		    submit_usage);
	}
	path = argv[optind];
	if ((m.submit.job_json = slurp(path, &len)) == NULL) {
		free(defs);
		return sli_cli_fail(
		    "%s: cannot read: %s", path, strerror(errno));
	}
	m.submit.job_json_len = len;
	m.submit.defs = defs;
	rv = sli_rpc_call_sync(url, &m, CLIENT_TIMEOUT_MS, &r);
	free(m.submit.job_json);
	free(defs);
	if (rv != 0)
		return sli_cli_fail("submit: %s", sl_errdetail());
	if (r.type != SLI_MSG_SUBMITTED) {
		sli_msg_free(&r);
		return sli_cli_fail("submit: unexpected reply");
	}
	snprintf(id, sizeof(id), "%s", r.submitted.job);
	sli_msg_free(&r);
	printf("%s\n", id);
	if ((rv = sli_cli_flush()) != 0 || !wait)
		return rv;
	for (;;) {
		if (job_state_of(url, id, &state, msg, sizeof(msg)) != 0)
			return sli_cli_fail("submit: %s", sl_errdetail());
		if (state != SLI_JOB_RUNNING)
			break;
		usleep(200 * 1000);
	}
	printf("%s %s%s%s\n", id, sli_wire_state_name(state),
	    msg[0] ? ": " : "", msg);
	rv = sli_cli_flush();
	return rv != 0 ? rv : state == SLI_JOB_FINISHED ? 0 : 1;
}

int
sli_cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "coordinator", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sli_msg m = { .type = SLI_MSG_STATUS }, r;
	const char *url = NULL;
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			url = optarg;
			break;
		case 'h':
			fputs(status_usage, stdout);
			return sli_cli_flush();
		default:
			return 2;
		}
	}
	if (url == NULL || optind < argc)
		return sli_cli_usage("status: %s\n\n%s",
		    url == NULL ? "--coordinator URL is required"
		                : "unexpected arguments",
		    status_usage);
	if (sli_rpc_call_sync(url, &m, CLIENT_TIMEOUT_MS, &r) != 0)
		return sli_cli_fail("status: %s", sl_errdetail());
	if (r.type != SLI_MSG_JOBS) {
		sli_msg_free(&r);
		return sli_cli_fail("status: unexpected reply");
	}
	printf("%-32s %-10s %s\n", "JOB", "STATE", "MESSAGE");
	for (uint32_t i = 0; i < r.jobs.njobs; i++)
		printf("%-32s %-10s %s\n", r.jobs.jobs[i].job,
		    sli_wire_state_name((int)r.jobs.jobs[i].state),
		    r.jobs.jobs[i].message);
	sli_msg_free(&r);
	return sli_cli_flush();
}
