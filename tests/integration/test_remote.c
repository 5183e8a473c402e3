/*
 * The remote shuffle service with real processes: a `sluice shuffled`
 * daemon, `sluice run` with --shuffle-service, the blocking WordCount's
 * shuffles on the `remote` plugin.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster_util.h"
#include "run_cmd.h"
#include "sl_test.h"
#include "sl_testutil.h"

const char cluster_tmp_prefix[] = "sl-remote";

static pid_t daemon_pid = -1;
static char daemon_url[620];

/* A daemon on ipc, its data in rs-data/; with secret, it asks for it. */
static void
daemon_start(const char *secret)
{
	char data[600], sock[600], sfile[600];
	char *argv[10] = { (char *)sluice_path(), "shuffled", "--listen",
		daemon_url, "--data-dir", data, NULL };

	snprintf(data, sizeof(data), "%s", tmp("rs-data"));
	snprintf(sock, sizeof(sock), "%s", tmp("rs.sock"));
	snprintf(daemon_url, sizeof(daemon_url), "ipc://%s", sock);
	if (secret != NULL) {
		snprintf(sfile, sizeof(sfile), "%s", tmp("rs.secret"));
		put(sfile, secret);
		argv[6] = "--secret-file";
		argv[7] = sfile;
		argv[8] = NULL;
	}
	daemon_pid = spawn(argv, NULL, tmp("rs.err"));
	CU_ASSERT_TRUE_FATAL(file_has(tmp("rs.err"), "listening at", 10));
}

static void
daemon_stop(void)
{
	int st;

	if (daemon_pid <= 0)
		return;
	kill(daemon_pid, SIGTERM);
	st = wait_for(daemon_pid, 10);
	CU_ASSERT_TRUE(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (st == -1) {
		kill(daemon_pid, SIGKILL);
		waitpid(daemon_pid, NULL, 0);
	}
	daemon_pid = -1;
}

/* Whether dir comes to hold nothing within secs (the daemon removes a
 * job's directory with its last partition). */
static bool
no_entries_soon(const char *dir, double secs)
{
	double until = now() + secs;

	while (sl_count_entries(dir) != 0) {
		if (now() > until)
			return false;
		sleep_ms(50);
	}
	return true;
}

/* The blocking WordCount with its two shuffles on `remote`. */
static void
put_remote_wc(const char *path, const char *extra)
{
	size_t len;
	char *s, *p;

	put_blocking_wc(path, extra);
	s = sl_read_file(path, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	/* "localdisk" -> "remote" + 3 spaces: the same length */
	while ((p = strstr(s, "\"localdisk\"")) != NULL)
		memcpy(p, "\"remote\"   ", 11);
	put(path, s);
	free(s);
}

/*
 * The worker running count#0 is SIGKILLed halfway (a fault). The
 * partitions the combiners wrote are the daemon's, so none of them runs
 * again, those that ran on that worker included: only count#0 does. The
 * output is right, and once the job ended the daemon holds nothing of it.
 */
static void
test_worker_lost(void)
{
	size_t len;
	char *text = make_text(tmp("rw.txt"), 1u << 20, &len);
	struct run_result r;

	daemon_start(NULL);
	put_remote_wc(tmp("rw.json"),
	    "\"restart\": {\"strategy\": \"fixed-delay\", \"delay\": "
	    "\"20ms\"}, \"faults\": [{\"task\": \"count#0\", "
	    "\"after_records\": 50, \"action\": \"crash_worker\"}]");
	r = sl_run_sluice("run", tmp("rw.json"), "-D",
	    def("input", tmp("rw.txt")), "-D", def("output", tmp("rw-out")),
	    "--shuffle-service", daemon_url, "--report", tmp("rw-rep.json"),
	    NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "killing this process"));
	expect(&r, 0, " lost: ");
	CU_ASSERT_TRUE(output_is_wordcount(tmp("rw-out"), text, len));
	CU_ASSERT_EQUAL(report_attempts(tmp("rw-rep.json"), "count#0"), 2);
	/* no producer ran again, those of the lost worker included (a count
	 * it ran beside count#0 did) */
	for (int k = 0; k < 4; k++) {
		static const char *const v[] = { "read", "words", "combine" };

		for (int i = 0; i < 3; i++) {
			char id[32];

			snprintf(id, sizeof(id), "%s#%d", v[i], k);
			CU_ASSERT_EQUAL(
			    report_attempts(tmp("rw-rep.json"), id), 1);
		}
	}
	CU_ASSERT_TRUE(no_entries_soon(tmp("rs-data"), 5));
	daemon_stop();
	free(text);
}

/* A daemon asking for a secret: a writer without it is refused, and the
 * job fails saying why; with it, the job runs. */
static void
test_secret(void)
{
	size_t len;
	char *text = make_text(tmp("rk.txt"), 1u << 18, &len);
	struct run_result r;

	daemon_start("s3cret\n");
	put_remote_wc(tmp("rk.json"), "\"restart\": {\"strategy\": \"none\"}");
	setenv("SLUICE_SHUFFLE_SECRET", "guess", 1);
	r = sl_run_sluice("run", tmp("rk.json"), "-D",
	    def("input", tmp("rk.txt")), "-D", def("output", tmp("rk-out")),
	    "--shuffle-service", daemon_url, NULL);
	expect(&r, 1, "wrong secret");
	setenv("SLUICE_SHUFFLE_SECRET", "s3cret", 1);
	r = sl_run_sluice("run", tmp("rk.json"), "-D",
	    def("input", tmp("rk.txt")), "-D", def("output", tmp("rk-out2")),
	    "--shuffle-service", daemon_url, NULL);
	expect(&r, 0, NULL);
	CU_ASSERT_TRUE(output_is_wordcount(tmp("rk-out2"), text, len));
	unsetenv("SLUICE_SHUFFLE_SECRET");
	daemon_stop();
	free(text);
}

/* Without --shuffle-service the remote plugin's edges cannot run: the
 * job fails at once saying what is missing. */
static void
test_no_service(void)
{
	struct run_result r;

	put_remote_wc(tmp("rn.json"), "\"restart\": {\"strategy\": \"none\"}");
	put(tmp("rn.txt"), "a b c\n");
	r = sl_run_sluice("run", tmp("rn.json"), "-D",
	    def("input", tmp("rn.txt")), "-D", def("output", tmp("rn-out")),
	    NULL);
	expect(&r, 1, "no shuffle service given");
	r = sl_run_sluice("run", tmp("rn.json"), "-D",
	    def("input", tmp("rn.txt")), "-D", def("output", tmp("rn-out")),
	    "--shuffle-service", "http://x", NULL);
	expect(&r, 1, "is not a tcp://, tls+tcp:// or ipc:// URL");
}

static const struct sl_test tests[] = {
	{ "remote: a worker lost after its producers finished: no rerun",
	    test_worker_lost },
	{ "remote: a shared secret", test_secret },
	{ "remote: no service given", test_no_service },
	{ "cleanup", cleanup },
	{ NULL, NULL },
};

SL_TEST_MAIN("remote", tests)
