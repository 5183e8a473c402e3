/*
 * A coordinator with an operation log (--state-dir) that dies and is
 * started again on the same directory (docs/oplog.md): SIGKILLed while a
 * job runs, or killed in the middle of a log write by the log's fault
 * hook (SLUICE_FAULT_LOG_SYNC, core/oplog/oplog.c). Every process is the
 * real binary; the workers stay up and register again by themselves.
 */
#include <fcntl.h>
#include <glob.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
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

const char cluster_tmp_prefix[] = "sl-recovery";

/* The stderr of the kth coordinator of test_coordinator_killed. */
static const char *
co_err(int k)
{
	char name[32];

	snprintf(name, sizeof(name), "rc-co%d.err", k);
	return tmp(name);
}

/*
 * The coordinator SIGKILLed up to three times while a blocking WordCount
 * runs on two standalone workers, at different points (after 1, 8 and 14
 * tasks finished; the job may end before the last), and started again on
 * the same state directory each time: the
 * job finishes with the reference output, and no region whose tasks had
 * all finished before a kill runs again (its tasks have one "finished"
 * record each in the log).
 */
static void
test_coordinator_killed(void)
{
	static const int at[] = { 1, 8, 14 };
	char url[620], dir[600], sock[600];
	char *wargv[8];
	size_t len;
	char *text = make_text(tmp("rc.txt"), 6u << 20, &len);
	pid_t co, w[2];
	struct run_result r;
	json_t *recs;
	uint64_t boundary[3] = { 0 };
	bool done = false;
	int nco = 0;
	unsigned failures = CU_get_number_of_failures();

	snprintf(sock, sizeof(sock), "%s", tmp("rc.sock"));
	snprintf(url, sizeof(url), "ipc://%s", sock);
	snprintf(dir, sizeof(dir), "%s", tmp("rc-state"));
	put_blocking_wc(tmp("rc.json"),
	    "\"restart\": {\"strategy\": \"fixed-delay\", \"delay\": "
	    "\"10ms\"}");
	setenv("SLUICE_LOCALDISK_DIR", tmp("ld-rc"), 1);
	CU_ASSERT_EQUAL(mkdir(tmp("ld-rc"), 0755), 0);
	setenv("SLUICE_LOG", "info", 1);
	co = start_coordinator(url, dir, co_err(++nco));
	CU_ASSERT_TRUE_FATAL(file_has(co_err(nco), "listening", 10));
	for (int i = 0; i < 2; i++) {
		char id[16];

		snprintf(id, sizeof(id), "w%d", i + 1);
		wargv[0] = (char *)sluice_path();
		wargv[1] = "worker";
		wargv[2] = "--coordinator";
		wargv[3] = url;
		wargv[4] = "--id";
		wargv[5] = id;
		wargv[6] = NULL;
		w[i] = spawn(
		    wargv, NULL, i == 0 ? tmp("rc-w1.err") : tmp("rc-w2.err"));
	}
	unsetenv("SLUICE_LOG");
	r = sl_run_sluice("submit", "--coordinator", url, tmp("rc.json"), "-D",
	    def("input", tmp("rc.txt")), "-D", def("output", tmp("rc-out")),
	    NULL);
	expect(&r, 0, NULL);
	for (int k = 0; k < 3 && !done; k++) {
		/* wait for at[k] finished tasks, then kill -9 */
		for (int i = 0; i < 3000; i++) {
			recs = log_records(dir);
			done = count_type(recs, "ended") > 0;
			if (done ||
			    count_type(recs, "finished") >= (size_t)at[k]) {
				json_decref(recs);
				break;
			}
			json_decref(recs);
			sleep_ms(5);
		}
		if (done)
			break;
		kill(co, SIGKILL);
		waitpid(co, NULL, 0);
		recs = log_records(dir);
		boundary[k] = json_array_size(recs);
		json_decref(recs);
		setenv("SLUICE_LOG", "info", 1);
		co = start_coordinator(url, dir, co_err(++nco));
		unsetenv("SLUICE_LOG");
		CU_ASSERT_TRUE_FATAL(file_has(co_err(nco), "listening", 10));
	}
	/* the kills came while it ran (the last may come too late) */
	CU_ASSERT(boundary[1] > 0);
	/* the job ends, with whichever coordinator (one killed just after it
	 * ended leaves nothing to take up): its log says how */
	done = false;
	for (int i = 0; i < 600 && !done; i++) {
		recs = log_records(dir);
		done = count_type(recs, "ended") > 0;
		if (done) {
			json_t *last =
			    json_array_get(recs, json_array_size(recs) - 1);

			if (strcmp(json_string_value(
			               json_object_get(last, "state")),
			        "FINISHED") != 0) {
				fprintf(stderr, "\nthe job ended %s: %s\n",
				    json_string_value(
				        json_object_get(last, "state")),
				    json_string_value(
				        json_object_get(last, "message")));
				CU_FAIL("the job did not finish");
			}
		}
		json_decref(recs);
		if (!done)
			sleep_ms(100);
	}
	if (!done)
		CU_FAIL("the job did not end");
	CU_ASSERT_TRUE(output_is_wordcount(tmp("rc-out"), text, len));
	/* a task finished before a kill, in a region all finished then, is
	 * not finished again after it */
	recs = log_records(dir);
	/* taken up, not submitted again: one job, going on after the kill */
	CU_ASSERT_EQUAL(count_type(recs, "submitted"), 1);
	CU_ASSERT(json_array_size(recs) > boundary[0]);
	{
		json_t *rec;
		size_t i, k;
		int twice = 0;

		for (int b = 0; b < 3; b++) {
			json_array_foreach (recs, i, rec) {
				json_t *later;

				if (i >= boundary[b] ||
				    strcmp(json_string_value(
				               json_object_get(rec, "t")),
				        "finished") != 0)
					continue;
				json_array_foreach (recs, k, later) {
					if (k < boundary[b] ||
					    strcmp(json_string_value(
					               json_object_get(
					                   later, "t")),
					        "finished") != 0)
						continue;
					/* the same task: ran again */
					if (json_equal(
					        json_object_get(rec, "vertex"),
					        json_object_get(
					            later, "vertex")) &&
					    json_equal(
					        json_object_get(rec, "index"),
					        json_object_get(
					            later, "index")))
						twice++;
				}
			}
		}
		/* a region cut by a kill between its stages' reports may run
		 * again (read, words, combine: 3 tasks); nothing more */
		CU_ASSERT(twice <= 3);
	}
	/* the log cut inside its "ended" record (torn): a coordinator started
	 * on it takes the job up, runs nothing (every task finished on a
	 * worker that is there) and ends it again */
	{
		json_t *last = json_array_get(recs, json_array_size(recs) - 1);
		size_t fin = count_type(recs, "finished");
		char log[700];

		snprintf(log, sizeof(log), "%s/wcb-1.log", dir);
		kill(co, SIGKILL);
		waitpid(co, NULL, 0);
		CU_ASSERT_EQUAL(truncate(log,
		                    (off_t)json_integer_value(
		                        json_object_get(last, "offset")) +
		                        5),
		    0);
		setenv("SLUICE_LOG", "info", 1);
		co = start_coordinator(url, dir, co_err(++nco));
		unsetenv("SLUICE_LOG");
		CU_ASSERT_TRUE(file_has(co_err(nco), "recovered from", 10));
		CU_ASSERT_TRUE(file_has(co_err(nco), "FINISHED", 10));
		json_decref(recs);
		recs = log_records(dir);
		CU_ASSERT_EQUAL(count_type(recs, "ended"), 1);
		CU_ASSERT_EQUAL(count_type(recs, "finished"), fin);
	}
	json_decref(recs);
	if (CU_get_number_of_failures() != failures) {
		/* what the processes said, to see why */
		char names[5][16];
		const char *logs[8] = { "rc-w1.err", "rc-w2.err" };

		for (int k = 0; k < nco && k < 5; k++) {
			snprintf(
			    names[k], sizeof(names[k]), "rc-co%d.err", k + 1);
			logs[2 + k] = names[k];
		}
		print_tails(logs);
	}
	kill(co, SIGTERM);
	waitpid(co, NULL, 0);
	for (int i = 0; i < 2; i++) {
		kill(w[i], SIGTERM);
		waitpid(w[i], NULL, 0);
	}
	unsetenv("SLUICE_LOCALDISK_DIR");
	free(text);
}

/* ---- killed in the middle of a log write ---- */

/*
 * One case of the torn-write tests: a coordinator and two workers of one
 * slot each, their files "lsN-..." in the scratch directory. With one
 * slot a worker, two of the job's ten regions run at a time and nearly
 * every deploy follows a sync of the tasks that finished before it, so
 * the Nth sync comes at about the same point of the job on every run.
 */
struct cluster {
	int n;
	char tag[16]; /* of its files' names */
	char url[620], state[600], ld[600], out[600];
	pid_t co, w[2];
};

static const char *
case_tmp(const struct cluster *c, const char *what)
{
	char name[64];

	snprintf(name, sizeof(name), "%s-%s", c->tag, what);
	return tmp(name);
}

/* The coordinator with SLUICE_FAULT_LOG_SYNC=n, and the workers; their
 * files "TAG-..." (TAG: lsN, or tag when given). */
static void
cluster_start(struct cluster *c, int n, const char *tag)
{
	char num[16], id[2][8];

	c->n = n;
	if (tag != NULL)
		snprintf(c->tag, sizeof(c->tag), "%s", tag);
	else
		snprintf(c->tag, sizeof(c->tag), "ls%d", n);
	snprintf(c->url, sizeof(c->url), "ipc://%s", case_tmp(c, "sock"));
	snprintf(c->state, sizeof(c->state), "%s", case_tmp(c, "state"));
	snprintf(c->ld, sizeof(c->ld), "%s", case_tmp(c, "ld"));
	snprintf(c->out, sizeof(c->out), "%s", case_tmp(c, "out"));
	CU_ASSERT_EQUAL(mkdir(c->ld, 0755), 0);
	setenv("SLUICE_LOCALDISK_DIR", c->ld, 1);
	snprintf(num, sizeof(num), "%d", n);
	/* the first coordinator's only: the workers write no log, and the
	 * coordinator started again must get through */
	setenv("SLUICE_FAULT_LOG_SYNC", num, 1);
	c->co = start_coordinator(c->url, c->state, case_tmp(c, "co1.err"));
	unsetenv("SLUICE_FAULT_LOG_SYNC");
	CU_ASSERT_TRUE(file_has(case_tmp(c, "co1.err"), "listening", 10));
	for (int i = 0; i < 2; i++) {
		char *argv[] = { (char *)sluice_path(), "worker",
			"--coordinator", c->url, "--id", id[i], "--slots", "1",
			NULL };

		snprintf(id[i], sizeof(id[i]), "w%d", i + 1);
		c->w[i] =
		    spawn(argv, NULL, case_tmp(c, i ? "w2.err" : "w1.err"));
	}
	/* registered before the job comes (and the fault with it) */
	CU_ASSERT_TRUE(
	    file_has(case_tmp(c, "co1.err"), "worker w1 registered", 10));
	CU_ASSERT_TRUE(
	    file_has(case_tmp(c, "co1.err"), "worker w2 registered", 10));
}

/* SIGTERM, SIGKILL when that did not end it in 10 s; -1: reaped.
 * Whether it ended by itself. */
static bool
stop_ended(pid_t *pid)
{
	bool ended = true;

	if (*pid <= 0)
		return true;
	kill(*pid, SIGTERM);
	if (wait_for(*pid, 10) == -1) {
		ended = false;
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
	}
	*pid = -1;
	return ended;
}

static void
stop(pid_t *pid)
{
	(void)stop_ended(pid);
}

static void
cluster_stop(struct cluster *c)
{
	stop(&c->co);
	stop(&c->w[0]);
	stop(&c->w[1]);
	unsetenv("SLUICE_LOCALDISK_DIR");
}

static void
cluster_tails(const struct cluster *c)
{
	static const char *const what[] = { "co1.err", "co2.err", "w1.err",
		"w2.err" };
	char names[4][32];
	const char *list[5];

	for (int i = 0; i < 4; i++) {
		snprintf(names[i], sizeof(names[i]), "%s-%s", c->tag, what[i]);
		list[i] = names[i];
	}
	list[4] = NULL;
	print_tails(list);
}

/* The first coordinator, killed by its fault: a SIGKILL, not an exit,
 * and not a job that ended before the Nth sync. */
static bool
killed_by_fault(struct cluster *c)
{
	int st = wait_for(c->co, 60);

	if (st == -1) {
		json_t *recs = log_records(c->state);

		fprintf(stderr, "\nN=%d: the coordinator is still up%s\n", c->n,
		    count_type(recs, "ended") > 0
		        ? ": the job ended in fewer syncs; choose a smaller N"
		        : "");
		json_decref(recs);
		return false;
	}
	c->co = -1;
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL) {
		fprintf(stderr, "\nN=%d: the coordinator %s %d, not SIGKILL\n",
		    c->n, WIFEXITED(st) ? "exited with" : "died of signal",
		    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		return false;
	}
	return true;
}

/* Submit the blocking WordCount NAME.json on NAME.txt (scratch files),
 * and see its coordinator killed by the fault. */
static bool
submit_killed(struct cluster *c, const char *name)
{
	char job[64], text[64];
	struct run_result r;

	snprintf(job, sizeof(job), "%s.json", name);
	snprintf(text, sizeof(text), "%s.txt", name);
	r = sl_run_sluice("submit", "--coordinator", c->url, tmp(job), "-D",
	    def("input", tmp(text)), "-D", def("output", c->out), NULL);
	expect(&r, 0, "wcb-1");
	if (killed_by_fault(c))
		return true;
	CU_FAIL("the coordinator was not killed by its fault");
	return false;
}

/* A copy of the job's log as the kill left it, in lsN-torn/: a
 * coordinator started on the state directory cuts the torn tail off. */
static void
snapshot(const struct cluster *c, const char *job)
{
	char from[700], to[700];
	size_t len;
	char *bytes;

	snprintf(from, sizeof(from), "%s/%s.log", c->state, job);
	snprintf(to, sizeof(to), "%s", case_tmp(c, "torn"));
	CU_ASSERT_EQUAL(mkdir(to, 0755), 0);
	snprintf(to + strlen(to), sizeof(to) - strlen(to), "/%s.log", job);
	/* no _FATAL: the case still stops its processes */
	if ((bytes = sl_read_file(from, &len)) == NULL) {
		CU_FAIL("no log");
		return;
	}
	sl_write_file(to, bytes, len);
	free(bytes);
}

/*
 * The copy ends in a torn record (`sluice log dump`: exit 1, where the
 * good records end, how many there are) after the last good one, inside
 * the file; its good records into *recs, where they end into *good.
 */
static bool
torn_tail(const struct cluster *c, json_t **recs, unsigned long long *good)
{
	char dir[600], want[128], log[700];
	unsigned long long size = 0;
	struct run_result r;
	struct stat sb;
	json_t *last;
	const char *at;
	bool ok;

	snprintf(dir, sizeof(dir), "%s", case_tmp(c, "torn"));
	snprintf(log, sizeof(log), "%s/wcb-1.log", dir);
	*recs = log_records(dir);
	*good = 0;
	r = sl_run_sluice("log", "dump", dir, NULL);
	at = strstr(r.err, "ends in a torn record at byte ");
	snprintf(want, sizeof(want), "the %zu records before are good",
	    json_array_size(*recs));
	last = json_array_get(*recs, json_array_size(*recs) - 1);
	ok = r.status == 1 && at != NULL &&
	    sscanf(at, "ends in a torn record at byte %llu (of %llu)", good,
	        &size) == 2 &&
	    strstr(r.err, want) != NULL && stat(log, &sb) == 0 &&
	    (unsigned long long)sb.st_size == size && *good < size &&
	    (last == NULL ||
	        (unsigned long long)json_integer_value(
	            json_object_get(last, "offset")) < *good);
	if (!ok)
		fprintf(stderr,
		    "\nN=%d: wanted a torn tail; log dump exited %d: %s\n",
		    c->n, r.status, r.err);
	run_result_free(&r);
	return ok;
}

/* The tasks of the blocking WordCount as bits: vertex * 4 + index. */
#define TASK(v, i) (1u << ((v)*4 + (i)))
#define ALL_TASKS 0x77fffu /* read, words, combine x4; count, write x3 */

static const char *const vertex_name[] = { "read", "words", "combine", "count",
	"write" };

/* The tasks of the finished records of recs at offset from on. */
static unsigned
finished_tasks(json_t *recs, unsigned long long from)
{
	json_t *rec;
	size_t i;
	unsigned set = 0;

	json_array_foreach (recs, i, rec) {
		json_int_t v =
		    json_integer_value(json_object_get(rec, "vertex"));
		json_int_t k =
		    json_integer_value(json_object_get(rec, "index"));

		if (strcmp(json_string_value(json_object_get(rec, "t")),
		        "finished") == 0 &&
		    (unsigned long long)json_integer_value(
		        json_object_get(rec, "offset")) >= from &&
		    v >= 0 && v < 5 && k >= 0 && k < 4)
			set |= TASK(v, k);
	}
	return set;
}

/* Of the finished tasks, those whose region wholly finished: read, words
 * and combine of an index are one region (pipelined edges); a count or a
 * write task is one alone (blocking edges). */
static unsigned
whole_regions(unsigned fin)
{
	unsigned whole = fin & ~0xfffu;

	for (int k = 0; k < 4; k++) {
		unsigned r = TASK(0, k) | TASK(1, k) | TASK(2, k);

		if ((fin & r) == r)
			whole |= r;
	}
	return whole;
}

/* Whether the coordinator whose stderr is err says job id ended, within
 * secs. */
static bool
ended_soon(const char *err, const char *id, double secs)
{
	static const char *const states[] = { "FINISHED", "FAILED",
		"CANCELLED" };
	double until = now() + secs;

	for (;;) {
		size_t n;
		char *s = sl_read_file(err, &n), needle[128];
		bool ended = false;

		for (int i = 0; i < 3 && s != NULL; i++) {
			snprintf(
			    needle, sizeof(needle), "job %s %s", id, states[i]);
			ended = ended || strstr(s, needle) != NULL;
		}
		free(s);
		if (ended)
			return true;
		if (now() > until)
			return false;
		sleep_ms(50);
	}
}

/* A record's string member, "" when it has none. */
static const char *
str(json_t *rec, const char *key)
{
	const char *s = json_string_value(json_object_get(rec, key));

	return s != NULL ? s : "";
}

/* The log after the restart: the good records of the copy, then the
 * rest of the job from byte good on (the torn tail was cut, not left
 * between records), one submission, ended FINISHED once. */
static void
log_went_on(
    const struct cluster *c, json_t *post, json_t *pre, unsigned long long good)
{
	json_t *last = json_array_get(post, json_array_size(post) - 1), *rec;
	size_t i, before = 0, at = 0;

	json_array_foreach (post, i, rec) {
		unsigned long long off = (unsigned long long)json_integer_value(
		    json_object_get(rec, "offset"));

		before += off < good;
		at += off == good;
	}
	CU_ASSERT_EQUAL(before, json_array_size(pre));
	CU_ASSERT_EQUAL(at, 1);
	CU_ASSERT_EQUAL(count_type(post, "submitted"), 1);
	CU_ASSERT_EQUAL(count_type(post, "ended"), 1);
	if (strcmp(str(last, "t"), "ended") != 0 ||
	    strcmp(str(last, "state"), "FINISHED") != 0) {
		fprintf(stderr, "\nN=%d: the last record: %s %s: %s\n", c->n,
		    str(last, "t"), str(last, "state"), str(last, "message"));
		CU_FAIL("the job did not finish");
	}
}

/*
 * SLUICE_FAULT_LOG_SYNC=n: the coordinator's nth sync writes half of its
 * records and the coordinator is SIGKILLed. The log ends in a torn
 * record; a coordinator started again (no fault) on the same directory
 * cuts it off, takes the job up and finishes it with the reference
 * output; no task whose finished record was whole before the kill, in a
 * region that had wholly finished, runs again.
 */
static void
torn_at(int n, const char *text, size_t len)
{
	struct cluster c;
	json_t *pre = NULL, *post;
	unsigned long long good = 0;
	unsigned whole, again, all;
	unsigned failures = CU_get_number_of_failures();

	cluster_start(&c, n, NULL);
	if (!submit_killed(&c, "ls"))
		goto out;
	snapshot(&c, "wcb-1");
	/* at once: the workers' dialers back off while no coordinator is
	 * there */
	c.co = start_coordinator(c.url, c.state, case_tmp(&c, "co2.err"));
	if (!torn_tail(&c, &pre, &good))
		CU_FAIL("the log's tail is not torn");
	whole = whole_regions(finished_tasks(pre, 0));
	/* the records that count were replayed, no more */
	{
		char want[128];

		snprintf(want, sizeof(want), "wcb-1.log (%zu records)",
		    json_array_size(pre));
		CU_ASSERT_TRUE(file_has(case_tmp(&c, "co2.err"), want, 10));
	}
	if (!ended_soon(case_tmp(&c, "co2.err"), "wcb-1", 90)) {
		CU_FAIL("the job did not end");
		goto out;
	}
	post = log_records(c.state);
	log_went_on(&c, post, pre, good);
	all = finished_tasks(post, 0);
	again = finished_tasks(post, good) & whole;
	CU_ASSERT_EQUAL(all, ALL_TASKS);
	for (int v = 0; v < 5; v++)
		for (int k = 0; k < 4; k++)
			if (again & TASK(v, k))
				fprintf(stderr,
				    "\nN=%d: %s#%d finished again, its "
				    "region had wholly finished\n",
				    n, vertex_name[v], k);
	CU_ASSERT_EQUAL(again, 0);
	CU_ASSERT_TRUE(output_is_wordcount(c.out, text, len));
	fprintf(stderr,
	    "\n    N=%d: %zu whole records (torn at byte %llu), %d tasks in "
	    "whole regions, %d finished after the restart ",
	    n, json_array_size(pre), good, __builtin_popcount(whole),
	    __builtin_popcount(finished_tasks(post, good)));
	json_decref(post);
out:
	if (CU_get_number_of_failures() != failures)
		cluster_tails(&c);
	json_decref(pre);
	cluster_stop(&c);
}

static void
test_torn_write(void)
{
	/* N: where the sync falls in a run of 10 to 13 (one-slot workers;
	 * the masters' snapshots have syncs of their own); not the last,
	 * the "ended" record's, whose number varies */
	static const int at[] = {
		2, /* in the first read-words-combine region */
		4, /* one region whole, the next begun */
		5, /* two whole, the third begun */
		7, /* the four whole, the counts deployed */
		9, /* two counts whole, writes deployed */
	};
	size_t len;
	char *text = make_text(tmp("ls.txt"), 1u << 20, &len);

	put_blocking_wc(tmp("ls.json"),
	    "\"restart\": {\"strategy\": \"fixed-delay\", \"delay\": "
	    "\"10ms\"}");
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++)
		torn_at(at[i], text, len);
	free(text);
}

/*
 * N=1: the first sync is the "submitted" record's, made before the
 * client hears of the job. The client is not answered: `sluice submit`
 * fails saying so. The log holds no whole record, so the coordinator
 * started again warns and takes nothing up (no job in `sluice status`,
 * nothing written); the same job submitted again runs, under the next id
 * (a log is never written by two jobs).
 */
static void
test_torn_submitted(void)
{
	struct cluster c;
	struct run_result r;
	json_t *recs;
	size_t len;
	char *text = make_text(tmp("ls.txt"), 1u << 20, &len);
	unsigned failures = CU_get_number_of_failures();

	put_blocking_wc(tmp("ls.json"),
	    "\"restart\": {\"strategy\": \"fixed-delay\", \"delay\": "
	    "\"10ms\"}");
	cluster_start(&c, 1, NULL);
	r = sl_run_sluice("submit", "--coordinator", c.url, tmp("ls.json"),
	    "-D", def("input", tmp("ls.txt")), "-D", def("output", c.out),
	    NULL);
	if (r.status != 1 || strstr(r.err, "submit: ") == NULL ||
	    strstr(r.err, c.url) == NULL || strstr(r.out, "wcb-") != NULL) {
		fprintf(stderr, "\nsubmit exited %d\nstdout: %s\nstderr: %s\n",
		    r.status, r.out, r.err);
		CU_FAIL("sluice submit did not fail");
	}
	run_result_free(&r);
	if (!killed_by_fault(&c)) {
		CU_FAIL("the coordinator was not killed by its fault");
		goto out;
	}
	r = sl_run_sluice("log", "dump", c.state, NULL);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	expect(&r, 1, "wcb-1.log: ends in a torn record at byte 0 (of ");

	c.co = start_coordinator(c.url, c.state, case_tmp(&c, "co2.err"));
	CU_ASSERT_TRUE(file_has(case_tmp(&c, "co2.err"),
	    "wcb-1.log: no submitted record; not recovered", 10));
	CU_ASSERT_TRUE(file_has(case_tmp(&c, "co2.err"), "listening", 10));
	r = sl_run_sluice("status", "--coordinator", c.url, NULL);
	CU_ASSERT_PTR_NULL(strstr(r.out, "wcb-"));
	expect(&r, 0, "JOB");
	CU_ASSERT_EQUAL(sl_count_entries(c.out), 0);

	CU_ASSERT_TRUE(
	    file_has(case_tmp(&c, "co2.err"), "worker w1 registered", 10));
	CU_ASSERT_TRUE(
	    file_has(case_tmp(&c, "co2.err"), "worker w2 registered", 10));
	r = sl_run_sluice("submit", "--coordinator", c.url, tmp("ls.json"),
	    "-D", def("input", tmp("ls.txt")), "-D", def("output", c.out),
	    "--wait", NULL);
	expect(&r, 0, "wcb-2 FINISHED");
	CU_ASSERT_TRUE(output_is_wordcount(c.out, text, len));
	/* wcb-2's log is whole; wcb-1's is as the kill left it */
	recs = log_records(c.state);
	CU_ASSERT_EQUAL(count_type(recs, "submitted"), 1);
	CU_ASSERT_EQUAL(count_type(recs, "ended"), 1);
	CU_ASSERT_STRING_EQUAL(str(json_array_get(recs, 0), "job"), "wcb-2");
	json_decref(recs);
	r = sl_run_sluice("log", "dump", c.state, "wcb-2", NULL);
	expect(&r, 0, "\"state\":\"FINISHED\"");
	r = sl_run_sluice("log", "dump", c.state, "wcb-1", NULL);
	expect(&r, 1, "ends in a torn record at byte 0");
out:
	if (CU_get_number_of_failures() != failures)
		cluster_tails(&c);
	cluster_stop(&c);
	free(text);
}

/* The finished records' tasks of recs from offset `from` on, whose
 * worker is w. */
static unsigned
finished_on(json_t *recs, unsigned long long from, const char *w)
{
	json_t *rec, *mine = json_array();
	size_t i;
	unsigned set;

	json_array_foreach (recs, i, rec)
		if (strcmp(str(rec, "worker"), w) == 0)
			json_array_append(mine, rec);
	set = finished_tasks(mine, from);
	json_decref(mine);
	return set;
}

/* Files under dir, recursively. */
static int
files_under(const char *dir)
{
	char cmd[700];
	FILE *f;
	int n = 0, c;

	snprintf(cmd, sizeof(cmd), "find '%s' -type f 2>/dev/null", dir);
	if ((f = popen(cmd, "r")) == NULL)
		return -1;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	pclose(f);
	return n;
}

/*
 * While the coordinator is away (killed at its 7th sync: the four
 * read-words-combine regions finished, the counts deployed), worker w1 is
 * SIGKILLed and started again under its name, and w2, which lives on,
 * loses the files of one of its combine partitions. The coordinator
 * started again learns from their hellos what they still hold: w1
 * nothing, w2 all but that partition. The pipeline regions whose
 * partitions are gone run again (their combine output is read by the
 * counts still to run), and the counts with them; w2's other pipeline
 * regions are kept; the output is right;
 * and once the workers stopped no partition file is left, not even one an
 * attempt killed with w1 was writing.
 */
static void
test_worker_away(void)
{
	struct cluster c;
	json_t *pre = NULL, *post;
	unsigned long long from;
	unsigned on1, on2, again, gone = 0;
	size_t len;
	char *text = make_text(tmp("wa.txt"), 1u << 20, &len);
	unsigned failures = CU_get_number_of_failures();
	glob_t g;
	char pat[700];
	int k2 = -1;

	put_blocking_wc(tmp("wa.json"),
	    "\"restart\": {\"strategy\": \"fixed-delay\", \"delay\": "
	    "\"10ms\"}");
	cluster_start(&c, 7, "wa");
	if (!submit_killed(&c, "wa"))
		goto out;
	pre = log_records(c.state);
	from = (unsigned long long)json_integer_value(json_object_get(
	           json_array_get(pre, json_array_size(pre) - 1), "offset")) +
	    1;
	on1 = whole_regions(finished_tasks(pre, 0)) & finished_on(pre, 0, "w1");
	on2 = whole_regions(finished_tasks(pre, 0)) & finished_on(pre, 0, "w2");
	/* both ran pipeline regions before the kill (two slots, four
	 * regions) */
	CU_ASSERT(on1 != 0 && on2 != 0);

	/* w1 dies and comes back: a new process, holding nothing */
	kill(c.w[0], SIGKILL);
	waitpid(c.w[0], NULL, 0);
	{
		char *argv[] = { (char *)sluice_path(), "worker",
			"--coordinator", c.url, "--id", "w1", "--slots", "1",
			NULL };

		c.w[0] = spawn(argv, NULL, case_tmp(&c, "w1b.err"));
	}
	/* w2 loses one combine partition's files */
	for (int k = 0; k < 4 && k2 < 0; k++)
		if (on2 & TASK(2, k))
			k2 = k;
	CU_ASSERT_FATAL(k2 >= 0);
	snprintf(pat, sizeof(pat), "%s/wcb-1.*/e2.p%d.a0.*", c.ld, k2);
	CU_ASSERT_EQUAL_FATAL(glob(pat, 0, NULL, &g), 0);
	CU_ASSERT_EQUAL(g.gl_pathc, 2); /* data and index */
	for (size_t i = 0; i < g.gl_pathc; i++)
		CU_ASSERT_EQUAL(unlink(g.gl_pathv[i]), 0);
	globfree(&g);
	gone = TASK(0, k2) | TASK(1, k2) | TASK(2, k2);

	c.co = start_coordinator(c.url, c.state, case_tmp(&c, "co2.err"));
	if (!ended_soon(case_tmp(&c, "co2.err"), "wcb-1", 90)) {
		CU_FAIL("the job did not end");
		goto out;
	}
	{
		char want[128];

		snprintf(want, sizeof(want),
		    "worker w2 no longer holds the partition of combine#%d",
		    k2);
		CU_ASSERT_TRUE(file_has(case_tmp(&c, "co2.err"), want, 1));
	}
	post = log_records(c.state);
	CU_ASSERT_STRING_EQUAL(
	    str(json_array_get(post, json_array_size(post) - 1), "state"),
	    "FINISHED");
	again = finished_tasks(post, from);
	/* w1's pipeline regions and the one of the lost partition ran
	 * again; w2's other pipeline regions did not (a count that had
	 * finished runs again, as a consumer of what runs again: rule 3) */
	CU_ASSERT_EQUAL(again & on1 & 0xfffu, on1 & 0xfffu);
	CU_ASSERT_EQUAL(again & gone, gone);
	CU_ASSERT_EQUAL(again & on2 & 0xfffu & ~gone, 0);
	CU_ASSERT_EQUAL(finished_tasks(post, 0), ALL_TASKS);
	CU_ASSERT_TRUE(output_is_wordcount(c.out, text, len));
	json_decref(post);
out:
	if (CU_get_number_of_failures() != failures)
		cluster_tails(&c);
	json_decref(pre);
	cluster_stop(&c);
	/* the workers removed what they served; the coordinator, what the
	 * killed w1 and old attempts left */
	CU_ASSERT_EQUAL(files_under(c.ld), 0);
	free(text);
}

/*
 * A record in the middle of the log damaged while the coordinator was away
 * (a byte of its payload flipped: its checksum fails). The coordinator
 * started again warns, replays the records before it, cuts the log there
 * and finishes the job: what the dropped records said finished runs again
 * (nothing after a bad record is trusted), the output is right.
 */
static void
test_corrupt_record(void)
{
	struct cluster c;
	json_t *pre = NULL, *post = NULL;
	size_t len, bad;
	char *text = make_text(tmp("cr.txt"), 1u << 20, &len);
	unsigned failures = CU_get_number_of_failures();
	char log[700], want[160];
	unsigned long long at;
	int fd;
	unsigned char byte;

	put_blocking_wc(tmp("cr.json"),
	    "\"restart\": {\"strategy\": \"fixed-delay\", \"delay\": "
	    "\"10ms\"}");
	cluster_start(&c, 7, "cr");
	if (!submit_killed(&c, "cr"))
		goto out;
	pre = log_records(c.state);
	bad = json_array_size(pre) / 2;
	CU_ASSERT_FATAL(bad >= 2);
	/* the byte after the record's 8-byte frame header: its payload */
	at = (unsigned long long)json_integer_value(
	         json_object_get(json_array_get(pre, bad), "offset")) +
	    9;
	snprintf(log, sizeof(log), "%s/wcb-1.log", c.state);
	CU_ASSERT_FATAL((fd = open(log, O_RDWR)) >= 0);
	CU_ASSERT_EQUAL(pread(fd, &byte, 1, (off_t)at), 1);
	byte ^= 0x40;
	CU_ASSERT_EQUAL(pwrite(fd, &byte, 1, (off_t)at), 1);
	close(fd);

	c.co = start_coordinator(c.url, c.state, case_tmp(&c, "co2.err"));
	snprintf(want, sizeof(want),
	    "record %zu is corrupt: replaying the %zu before it", bad + 1, bad);
	CU_ASSERT_TRUE(file_has(case_tmp(&c, "co2.err"), want, 10));
	if (!ended_soon(case_tmp(&c, "co2.err"), "wcb-1", 90)) {
		CU_FAIL("the job did not end");
		goto out;
	}
	post = log_records(c.state);
	/* the good records, then what came after the restart */
	for (size_t i = 0; i < bad; i++)
		CU_ASSERT_TRUE(json_equal(
		    json_array_get(pre, i), json_array_get(post, i)));
	CU_ASSERT_EQUAL(count_type(post, "submitted"), 1);
	CU_ASSERT_STRING_EQUAL(
	    str(json_array_get(post, json_array_size(post) - 1), "state"),
	    "FINISHED");
	CU_ASSERT_EQUAL(finished_tasks(post, 0), ALL_TASKS);
	CU_ASSERT_TRUE(output_is_wordcount(c.out, text, len));
out:
	if (CU_get_number_of_failures() != failures)
		cluster_tails(&c);
	json_decref(pre);
	json_decref(post);
	cluster_stop(&c);
	free(text);
}

/*
 * A coordinator that holds its connections but answers nothing (SIGSTOP):
 * a worker whose heartbeats get no answer for 6 s dials it again and says
 * hello anew (worker.c: HB_SILENT_MS; a wedged connection was seen to keep
 * a worker from registering with a coordinator started again). Once the
 * coordinator goes on (SIGCONT) the worker is registered and runs a job.
 */
static void
test_heartbeats_unanswered(void)
{
	char url[620], state[600], wid[] = "w1";
	char *argv[] = { (char *)sluice_path(), "worker", "--coordinator", url,
		"--id", wid, "--slots", "2", NULL };
	const char *logs[] = { "hs-co.err", "hs-w1.err", NULL };
	unsigned failures = CU_get_number_of_failures();
	struct run_result r;
	size_t len;
	char *text = make_text(tmp("hs.txt"), 1u << 18, &len);
	pid_t co, w;

	snprintf(url, sizeof(url), "ipc://%s", tmp("hs.sock"));
	snprintf(state, sizeof(state), "%s", tmp("hs-state"));
	put_blocking_wc(tmp("hs.json"),
	    "\"restart\": {\"strategy\": \"fixed-delay\", \"delay\": "
	    "\"10ms\"}");
	CU_ASSERT_EQUAL(mkdir(tmp("hs-ld"), 0755), 0);
	setenv("SLUICE_LOCALDISK_DIR", tmp("hs-ld"), 1);
	co = start_coordinator(url, state, tmp("hs-co.err"));
	CU_ASSERT_TRUE_FATAL(file_has(tmp("hs-co.err"), "listening", 10));
	w = spawn(argv, NULL, tmp("hs-w1.err"));
	CU_ASSERT_TRUE(file_has(tmp("hs-co.err"), "worker w1 registered", 10));
	kill(co, SIGSTOP);
	CU_ASSERT_TRUE(
	    file_has(tmp("hs-w1.err"), "no answer to heartbeats in 6 s", 15));
	kill(co, SIGCONT);
	CU_ASSERT_TRUE(
	    file_count(tmp("hs-co.err"), "worker w1 registered", 2, 15));
	r = sl_run_sluice("submit", "--coordinator", url, tmp("hs.json"), "-D",
	    def("input", tmp("hs.txt")), "-D", def("output", tmp("hs-out")),
	    NULL);
	expect(&r, 0, "wcb-1");
	CU_ASSERT_TRUE(file_has(tmp("hs-co.err"), "job wcb-1 FINISHED", 60));
	CU_ASSERT_TRUE(output_is_wordcount(tmp("hs-out"), text, len));
	if (CU_get_number_of_failures() != failures)
		print_tails(logs);
	/* each must end by itself on SIGTERM (stop: else SIGKILL, later) */
	CU_ASSERT_TRUE(stop_ended(&w));
	CU_ASSERT_TRUE(stop_ended(&co));
	unsetenv("SLUICE_LOCALDISK_DIR");
	free(text);
}

static const struct sl_test tests[] = {
	{ "recovery: the coordinator SIGKILLed three times",
	    test_coordinator_killed },
	{ "recovery: the coordinator killed in the middle of a log write",
	    test_torn_write },
	{ "recovery: killed writing the submitted record: not taken up",
	    test_torn_submitted },
	{ "recovery: a worker restarted and a partition lost meanwhile",
	    test_worker_away },
	{ "recovery: a corrupt record: what came before it is used",
	    test_corrupt_record },
	{ "recovery: heartbeats unanswered: the worker dials again",
	    test_heartbeats_unanswered },
	{ "cleanup", cleanup },
	{ NULL, NULL },
};

SL_TEST_MAIN("recovery", tests)
