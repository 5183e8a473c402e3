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

/* The daemons a case starts: data in rs<i>-data/, stderr in rs<i>.err. */
struct daemon {
	pid_t pid;
	char url[620], data[600], err[600];
};
static struct daemon daemons[2] = { { .pid = -1 }, { .pid = -1 } };
#define daemon_url (daemons[0].url)

/* Daemon i listening at url (NULL: tcp loopback), with args (NULL-terminated,
 * at most 8) after its own; its url is the one it says it bound. */
static void
daemon_start_at(int i, const char *url, const char *const *args)
{
	struct daemon *d = &daemons[i];
	char name[32], listen[620], *said, *p;
	char *argv[18] = { (char *)sluice_path(), "shuffled", "--listen",
		listen, "--data-dir", d->data, NULL };
	int n = 6;
	size_t len;

	snprintf(name, sizeof(name), "rs%d-data", i);
	snprintf(d->data, sizeof(d->data), "%s", tmp(name));
	/* tcp by default: see tests/conformance/remote.sh on ipc */
	snprintf(listen, sizeof(listen), "%s",
	    url != NULL ? url : "tcp://127.0.0.1:0");
	snprintf(name, sizeof(name), "rs%d.err", i);
	snprintf(d->err, sizeof(d->err), "%s", tmp(name));
	for (; args != NULL && *args != NULL && n < 16; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	d->pid = spawn(argv, NULL, d->err);
	CU_ASSERT_TRUE_FATAL(file_has(d->err, "listening at ", 10));
	said = sl_read_file(d->err, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(said);
	p = strstr(said, "listening at ") + strlen("listening at ");
	p[strcspn(p, "\n")] = '\0';
	snprintf(d->url, sizeof(d->url), "%s", p);
	free(said);
}

static void
daemon_start_args(int i, const char *const *args)
{
	daemon_start_at(i, NULL, args);
}

/* A daemon; with secret, it asks for it. */
static void
daemon_start(const char *secret)
{
	const char *args[] = { "--secret-file", tmp("rs.secret"), NULL };

	if (secret != NULL)
		put(tmp("rs.secret"), secret);
	daemon_start_args(0, secret != NULL ? args : NULL);
}

static void
daemon_stop_one(int i)
{
	struct daemon *d = &daemons[i];
	int st;

	if (d->pid <= 0)
		return;
	kill(d->pid, SIGTERM);
	st = wait_for(d->pid, 10);
	CU_ASSERT_TRUE(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (st == -1) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
	}
	d->pid = -1;
}

static void
daemon_stop(void)
{
	daemon_stop_one(0);
	daemon_stop_one(1);
}

static void
daemon_kill(int i)
{
	kill(daemons[i].pid, SIGKILL);
	waitpid(daemons[i].pid, NULL, 0);
	daemons[i].pid = -1;
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
	CU_ASSERT_TRUE(no_entries_soon(daemons[0].data, 5));
	daemon_stop();
	free(text);
}

/*
 * Two daemons; count#0 fails once (a fault) and waits 3 s to run again,
 * and daemon 0 is SIGKILLed meanwhile. Without replicas, the coordinator
 * learns of the loss and runs again the combiners whose partitions were
 * there (not those on daemon 1); with --shuffle-replicas 2 nothing runs
 * again but count#0. Either way the output is right.
 */
static void
daemon_lost(bool replica)
{
	size_t len;
	char *text = make_text(tmp("rd.txt"), 1u << 20, &len);
	char in[600], out[600], rep[600], job[600];
	char *argv[20] = { (char *)sluice_path(), "run", job, "-D", in, "-D",
		out, "--shuffle-service", daemons[0].url, "--shuffle-service",
		daemons[1].url, "--report", rep, NULL };
	int st, rerun = 0;
	pid_t pid;

	daemon_start_args(0, NULL);
	daemon_start_args(1, NULL);
	snprintf(job, sizeof(job), "%s", tmp("rd.json"));
	snprintf(in, sizeof(in), "%s", def("input", tmp("rd.txt")));
	snprintf(out, sizeof(out), "%s",
	    def("output", tmp(replica ? "rd-out2" : "rd-out")));
	snprintf(rep, sizeof(rep), "%s", tmp("rd-rep.json"));
	if (replica) {
		argv[13] = "--shuffle-replicas";
		argv[14] = "2";
	}
	put_remote_wc(job,
	    "\"restart\": {\"strategy\": \"fixed-delay\", \"delay\": "
	    "\"3s\", \"attempts\": 10}, \"faults\": [{\"task\": "
	    "\"count#0\", \"attempt\": 0, \"after_records\": 50, "
	    "\"action\": \"fail\"}]");
	pid = spawn(argv, tmp("rd.out"), tmp("rd.err"));
	CU_ASSERT_TRUE_FATAL(file_has(tmp("rd.err"), "restarting", 60));
	daemon_kill(0);
	st = wait_for(pid, 120);
	if (st == -1)
		kill(pid, SIGKILL);
	CU_ASSERT_TRUE(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CU_ASSERT_TRUE(output_is_wordcount(
	    tmp(replica ? "rd-out2" : "rd-out"), text, len));
	for (int k = 0; k < 4; k++) {
		char id[32];
		int n;

		snprintf(id, sizeof(id), "combine#%d", k);
		n = report_attempts(rep, id);
		CU_ASSERT_TRUE(n == 1 || (!replica && n == 2));
		rerun += n == 2;
	}
	if (replica) {
		CU_ASSERT_EQUAL(rerun, 0);
	} else {
		/* daemon 0's ran again; daemon 1's did not */
		CU_ASSERT_TRUE(rerun >= 1 && rerun <= 3);
		CU_ASSERT_TRUE(file_has(tmp("rd.err"), "is lost", 1));
	}
	if (CU_get_number_of_failures() > 0) {
		const char *const names[] = { "rd.err", "rs0.err", "rs1.err",
			NULL };

		print_tails(names);
	}
	daemon_stop();
	free(text);
}

static void
test_daemon_lost(void)
{
	daemon_lost(false);
}

static void
test_daemon_lost_replica(void)
{
	daemon_lost(true);
}

/* A daemon whose data dir's file system is fuller than its
 * --max-disk-use: a new partition is refused, and the job fails saying
 * so (remote_disk_full.sh fills a small file system for real). */
static void
test_full_data_dir(void)
{
	const char *const low[] = { "--max-disk-use", "1", NULL };
	size_t len;
	char *text = make_text(tmp("rf.txt"), 1u << 18, &len);
	struct run_result r;

	daemon_start_args(0, low);
	put_remote_wc(tmp("rf.json"), "\"restart\": {\"strategy\": \"none\"}");
	r = sl_run_sluice("run", tmp("rf.json"), "-D",
	    def("input", tmp("rf.txt")), "-D", def("output", tmp("rf-out")),
	    "--shuffle-service", daemon_url, NULL);
	expect(&r, 1, "% full (limit 1 %)");
	daemon_stop();
	free(text);
}

/* openssl, run by the shell in the scratch directory; the case fails
 * when it does. */
static void
openssl(const char *args)
{
	char cmd[2048];
	int rv;

	snprintf(cmd, sizeof(cmd), "cd %s && openssl %s >/dev/null 2>&1",
	    tmp(""), args);
	rv = system(cmd);
	if (rv != 0)
		fprintf(stderr, "failed (%d): %s\n", rv, cmd);
	CU_ASSERT_EQUAL_FATAL(rv, 0);
}

/*
 * TLS end to end: a daemon on tls+tcp://127.0.0.1 presenting a
 * certificate a test CA signed. `sluice run` with SLUICE_SHUFFLE_TLS_CA
 * (its coordinator pings, its workers push and fetch) runs the job;
 * without it, the job fails naming the variable.
 */
static void
test_tls(void)
{
	size_t len;
	char *text = make_text(tmp("rt.txt"), 1u << 18, &len);
	char cert[600], key[600], ca[600];
	const char *args[] = { "--tls-cert", cert, "--tls-key", key, NULL };
	struct run_result r;

	openssl("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
	        "-nodes -keyout ca.key -out ca.pem -days 2 -subj '/CN=sluice "
	        "test CA'");
	openssl("req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
	        "-keyout rs.key -out rs.csr -subj /CN=localhost");
	/* mbedtls 2.28 matches the URL's host, an IP too, as a DNS name */
	put(tmp("rs.ext"),
	    "subjectAltName=IP:127.0.0.1,DNS:127.0.0.1,DNS:localhost\n");
	openssl("x509 -req -in rs.csr -CA ca.pem -CAkey ca.key "
	        "-CAcreateserial -out rs.pem -days 2 -extfile rs.ext");
	snprintf(cert, sizeof(cert), "%s", tmp("rs.pem"));
	snprintf(key, sizeof(key), "%s", tmp("rs.key"));
	snprintf(ca, sizeof(ca), "%s", tmp("ca.pem"));
	daemon_start_at(0, "tls+tcp://127.0.0.1:0", args);
	CU_ASSERT_EQUAL(strncmp(daemon_url, "tls+tcp://127.0.0.1:", 20), 0);
	put_remote_wc(tmp("rt.json"), "\"restart\": {\"strategy\": \"none\"}");
	unsetenv("SLUICE_SHUFFLE_TLS_CA");
	r = sl_run_sluice("run", tmp("rt.json"), "-D",
	    def("input", tmp("rt.txt")), "-D", def("output", tmp("rt-out")),
	    "--shuffle-service", daemon_url, NULL);
	expect(&r, 1, "SLUICE_SHUFFLE_TLS_CA");
	setenv("SLUICE_SHUFFLE_TLS_CA", ca, 1);
	r = sl_run_sluice("run", tmp("rt.json"), "-D",
	    def("input", tmp("rt.txt")), "-D", def("output", tmp("rt-out2")),
	    "--shuffle-service", daemon_url, NULL);
	expect(&r, 0, NULL);
	CU_ASSERT_TRUE(output_is_wordcount(tmp("rt-out2"), text, len));
	unsetenv("SLUICE_SHUFFLE_TLS_CA");
	daemon_stop();
	free(text);
}

/*
 * Expiry: a daemon that drops a job not heard of for 2 s. A job idle
 * for longer (count#0 fails and waits 4 s to run again) keeps its data:
 * its coordinator pings; nothing runs again but count#0. Then the same
 * job's `sluice run` is SIGKILLed while it waits: nobody pings, and the
 * daemon's data dir is soon empty.
 */
static void
test_expiry(void)
{
	const char *const expire[] = { "--expire-after", "2", NULL };
	size_t len;
	char *text = make_text(tmp("re.txt"), 1u << 18, &len);
	char job[600], in[600], out[600], rep[600];
	char *argv[] = { (char *)sluice_path(), "run", job, "-D", in, "-D", out,
		"--shuffle-service", daemons[0].url, "--report", rep, NULL };
	pid_t pid;
	int st;

	daemon_start_args(0, expire);
	snprintf(job, sizeof(job), "%s", tmp("re.json"));
	snprintf(in, sizeof(in), "%s", def("input", tmp("re.txt")));
	snprintf(out, sizeof(out), "%s", def("output", tmp("re-out")));
	snprintf(rep, sizeof(rep), "%s", tmp("re-rep.json"));
	put_remote_wc(job,
	    "\"restart\": {\"strategy\": \"fixed-delay\", \"delay\": "
	    "\"4s\"}, \"faults\": [{\"task\": \"count#0\", "
	    "\"attempt\": 0, \"after_records\": 50, \"action\": "
	    "\"fail\"}]");
	pid = spawn(argv, NULL, tmp("re.err"));
	st = wait_for(pid, 120);
	CU_ASSERT_TRUE(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CU_ASSERT_TRUE(output_is_wordcount(tmp("re-out"), text, len));
	CU_ASSERT_TRUE(report_attempts_all(
	    rep, 1, (const char *const[]) { "count#0", NULL }));

	snprintf(out, sizeof(out), "%s", def("output", tmp("re-out2")));
	pid = spawn(argv, NULL, tmp("re2.err"));
	CU_ASSERT_TRUE_FATAL(file_has(tmp("re2.err"), "restarting", 60));
	CU_ASSERT_TRUE(sl_count_entries(daemons[0].data) > 0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	CU_ASSERT_TRUE(no_entries_soon(daemons[0].data, 10));
	daemon_stop();
	free(text);
}

/* How many "finished" records of vertex v, index k, recs has. */
static int
finished_records(json_t *recs, int v, int k)
{
	json_t *rec;
	size_t i;
	int n = 0;

	json_array_foreach (recs, i, rec)
		n += strcmp(json_string_value(json_object_get(rec, "t")),
		         "finished") == 0 &&
		    json_integer_value(json_object_get(rec, "vertex")) == v &&
		    json_integer_value(json_object_get(rec, "index")) == k;
	return n;
}

/*
 * A standalone coordinator (--state-dir) and one of its two workers
 * SIGKILLed together once the combiners finished (count#0 failed by a
 * fault and waits 4 s to run again). A new coordinator on the same state
 * directory takes the job up without waiting for the dead worker: the
 * partitions are the daemon's, so no read, words or combine task runs
 * again, those that ran on the dead worker included.
 */
static void
test_coordinator_and_worker_killed(void)
{
	char url[620], dir[600];
	char *cargv[] = { (char *)sluice_path(), "coordinator", "--listen", url,
		"--state-dir", dir, "--heartbeat-ms", "100",
		"--shuffle-service", daemon_url, NULL };
	char *wargv[] = { (char *)sluice_path(), "worker", "--coordinator", url,
		"--id", NULL, NULL };
	size_t len;
	char *text = make_text(tmp("rr.txt"), 1u << 20, &len);
	pid_t co, w[2];
	struct run_result r;
	json_t *recs = NULL;
	bool ended = false;

	daemon_start_args(0, NULL);
	snprintf(url, sizeof(url), "ipc://%s", tmp("rr.sock"));
	snprintf(dir, sizeof(dir), "%s", tmp("rr-state"));
	put_remote_wc(tmp("rr.json"),
	    "\"restart\": {\"strategy\": \"fixed-delay\", \"delay\": "
	    "\"4s\"}, \"faults\": [{\"task\": \"count#0\", "
	    "\"attempt\": 0, \"after_records\": 50, \"action\": "
	    "\"fail\"}]");
	co = spawn(cargv, NULL, tmp("rr-co1.err"));
	CU_ASSERT_TRUE_FATAL(file_has(tmp("rr-co1.err"), "listening", 10));
	for (int i = 0; i < 2; i++) {
		wargv[5] = i == 0 ? "w1" : "w2";
		w[i] =
		    spawn(wargv, NULL, tmp(i == 0 ? "rr-w1.err" : "rr-w2.err"));
	}
	r = sl_run_sluice("submit", "--coordinator", url, tmp("rr.json"), "-D",
	    def("input", tmp("rr.txt")), "-D", def("output", tmp("rr-out")),
	    NULL);
	expect(&r, 0, NULL);
	CU_ASSERT_TRUE_FATAL(file_has(tmp("rr-co1.err"), "restarting", 60));
	kill(co, SIGKILL);
	kill(w[0], SIGKILL);
	waitpid(co, NULL, 0);
	waitpid(w[0], NULL, 0);
	co = spawn(cargv, NULL, tmp("rr-co2.err"));
	for (int i = 0; i < 900 && !ended; i++) {
		json_decref(recs);
		recs = log_records(dir);
		ended = count_type(recs, "ended") > 0;
		if (!ended)
			sleep_ms(100);
	}
	CU_ASSERT_TRUE_FATAL(ended);
	CU_ASSERT_STRING_EQUAL(
	    json_string_value(json_object_get(
	        json_array_get(recs, json_array_size(recs) - 1), "state")),
	    "FINISHED");
	CU_ASSERT_TRUE(output_is_wordcount(tmp("rr-out"), text, len));
	for (int v = 0; v < 3; v++)
		for (int k = 0; k < 4; k++)
			CU_ASSERT_EQUAL(finished_records(recs, v, k), 1);
	json_decref(recs);
	if (CU_get_number_of_failures() > 0) {
		const char *const names[] = { "rr-co1.err", "rr-co2.err",
			"rr-w2.err", "rs0.err", NULL };

		print_tails(names);
	}
	kill(co, SIGTERM);
	kill(w[1], SIGTERM);
	CU_ASSERT_NOT_EQUAL(wait_for(co, 20), -1);
	CU_ASSERT_NOT_EQUAL(wait_for(w[1], 20), -1);
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
	{ "remote: a daemon lost, no replica: its partitions made again",
	    test_daemon_lost },
	{ "remote: a daemon lost, with replicas: nothing made again",
	    test_daemon_lost_replica },
	{ "remote: a full data dir", test_full_data_dir },
	{ "remote: TLS", test_tls },
	{ "remote: a job not heard of expires", test_expiry },
	{ "remote: coordinator and worker killed: no producer runs again",
	    test_coordinator_and_worker_killed },
	{ "remote: a shared secret", test_secret },
	{ "remote: no service given", test_no_service },
	{ "cleanup", cleanup },
	{ NULL, NULL },
};

SL_TEST_MAIN("remote", tests)
