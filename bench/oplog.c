/*
 * The operation log's cost and a recovery's time (issue 7), in three parts.
 *
 * 1. Job time with and without the log: the three-stage blocking WordCount
 *    of examples/jobs/wordcount-blocking.json ("restart": none, so that an
 *    unexpected failure stops the benchmark instead of hiding in it) by
 *    `sluice run` (the binary beside this one, 2 workers x 2 slots) over
 *    `sluice gen-words --words N --zipf 1.0`, without and with --state-dir
 *    (a fresh directory per run), --runs times each, alternating, each round
 *    starting with the other. A first untimed run reads the text into the
 *    page cache and gives the output every run must equal. Each log is read
 *    with core/oplog: its bytes and records, of which "finished". How many
 *    fdatasyncs a run did cannot be seen from outside.
 *
 * 2. The log alone: 200-byte payloads (208 bytes framed) appended with
 *    sli_oplog_append to a file in the scratch directory and synced
 *    (sli_oplog_sync: one write and one fdatasync) every 1, 10, 100 and
 *    1000 records, and once at the end: records/s and records per
 *    fdatasync, against the disk's own rate of 208-byte appends each
 *    followed by fdatasync, measured in the same run on the same file
 *    system. Each configuration writes --records records, or stops at its
 *    first sync after 10 s; the disk and the log synced on every record
 *    run in turns, five slices of a fifth of that each, medians.
 *
 * 3. Recovery: a state directory holding the log of a job of N + N tasks
 *    (--tasks, default 1000 and 10000): "gen" (generate, count 0,
 *    parallelism N) -> a blocking pointwise localdisk edge -> "sink"
 *    (file_sink, parallelism N). Its "submitted" record holds the job JSON
 *    as a coordinator logs it (checked: at parallelism 2, the text this
 *    program makes equals the one `sluice run --state-dir` logs); then a
 *    "finished" record per gen task: attempt 0, worker "w1", one output
 *    [0, descriptor, [0]]. The descriptors are the localdisk plugin's own:
 *    its master, loaded in this process as in blocking_disk, registers each
 *    partition with w1's localdisk server URL as location
 *    (ipc:///tmp/sluice-PID-localdisk.sock, PID that of the worker process
 *    started for the run and held before its exec until the log is
 *    written). Its writer writes gen#0's partition, empty as generate with
 *    count 0 leaves it, and every other partition's files are hard links to
 *    those (the files hold no key; their paths, BASE/JOB.TOKEN/
 *    e0.p<i>.a0.{data,index}, are localdisk.h's). Then, timed from the
 *    coordinator's fork: `sluice coordinator --listen ipc://... --state-dir
 *    DIR --heartbeat-ms 100` with SLUICE_LOG=info, and right after it
 *    `sluice worker --coordinator URL --id w1 --slots 8`; the times of the
 *    coordinator's stderr lines "recovered from" (the log read), "worker w1
 *    registered", "regions kept from the log" and "job ... FINISHED"; then
 *    `sluice status` must list the job FINISHED. The coordinator must keep
 *    N regions and run no finished task again, the worker must run every
 *    sink task once and no gen task, and the output must hold N part files.
 *    Beside it, the same job from scratch on a fresh coordinator (with
 *    --state-dir) and worker: from `sluice submit` to its FINISHED line.
 *    --recoveries rounds (default 3) of both, medians.
 *
 *   oplog_bench [--words N] [--runs R] [--records N] [--tasks N,...]
 *               [--recoveries R] [--dir DIR]
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <msgpack.h>
#include <sluice/errors.h>
#include <sluice/shuffle.h>

#include "oplog/oplog.h"
#include "oplog/oplog_events.h"
#include "plugin/loader.h"

#include "bench_util.h"

#ifndef SL_SOURCE_DIR
#define SL_SOURCE_DIR "."
#endif

#define MAX_SIZES 8
#define MICRO_BUDGET_S 10.0
#define PAYLOAD 200
#define WAIT_S 900.0 /* the longest a recovery or a job may take */

extern char **environ;

static char sluice[PATH_MAX];
static char **child_env; /* environ with SLUICE_LOG=info */

/* ---- child processes ---- */

static pid_t kids[4];

static void
kid_add(pid_t pid)
{
	for (size_t i = 0; i < sizeof(kids) / sizeof(kids[0]); i++)
		if (kids[i] == 0) {
			kids[i] = pid;
			return;
		}
	bench_die("too many child processes");
}

/* At exit (a bench_die too): no coordinator or worker outlives us. */
static void
kids_kill(void)
{
	for (size_t i = 0; i < sizeof(kids) / sizeof(kids[0]); i++)
		if (kids[i] > 0) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
			kids[i] = 0;
		}
}

/* SIGTERM, 10 s to end, then SIGKILL. */
static void
kid_stop(pid_t pid)
{
	int status;

	kill(pid, SIGTERM);
	for (int i = 0; i < 1000; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			goto out;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
out:
	for (size_t i = 0; i < sizeof(kids) / sizeof(kids[0]); i++)
		if (kids[i] == pid)
			kids[i] = 0;
}

/* Start argv (SLUICE_LOG=info), stdin /dev/null, stdout to out_log and
 * stderr to err_fd, or to out_log too when err_fd is -1. With hold not
 * NULL the child waits for a byte on a pipe before its exec, so that its
 * pid is known first: *hold is the pipe's end to write it to. Only
 * async-signal-safe calls between fork and exec. */
static pid_t
spawn(char *const argv[], const char *out_log, int err_fd, int *hold)
{
	int out = open(out_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int go[2] = { -1, -1 };
	pid_t pid;

	if (out < 0)
		bench_die("%s: %s", out_log, strerror(errno));
	if (hold != NULL && pipe2(go, O_CLOEXEC) != 0)
		bench_die("pipe: %s", strerror(errno));
	if ((pid = fork()) < 0)
		bench_die("fork: %s", strerror(errno));
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
		char c;

		if (hold != NULL) {
			ssize_t n;

			close(go[1]); /* the benchmark's end of the pipe only */
			while ((n = read(go[0], &c, 1)) < 0 && errno == EINTR)
				;
			if (n != 1)
				_exit(126); /* the benchmark went away */
		}
		if (nul < 0 || dup2(nul, 0) < 0 || dup2(out, 1) < 0 ||
		    dup2(err_fd != -1 ? err_fd : out, 2) < 0)
			_exit(126);
		execve(argv[0], argv, child_env);
		_exit(127);
	}
	close(out);
	if (hold != NULL) {
		close(go[0]);
		*hold = go[1];
	}
	kid_add(pid);
	return pid;
}

static void
make_child_env(void)
{
	size_t n = 0, k = 0;

	while (environ[n] != NULL)
		n++;
	if ((child_env = calloc(n + 2, sizeof(*child_env))) == NULL)
		bench_die("out of memory");
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "SLUICE_LOG=", 11) != 0)
			child_env[k++] = environ[i];
	child_env[k] = "SLUICE_LOG=info";
}

/* ---- a log's contents ---- */

struct logstat {
	uint64_t bytes, records, finished;
};

static int
count_record(void *arg, const void *p, size_t len, uint64_t off)
{
	struct logstat *s = arg;
	json_t *r = sli_oplog_record_json(p, len);
	const char *t = json_string_value(json_object_get(r, "t"));

	(void)off;
	s->records++;
	if (t != NULL && strcmp(t, "finished") == 0)
		s->finished++;
	json_decref(r);
	return 0;
}

/* The one *.log in dir, read to its end: it must end clean. */
static void
log_stat(const char *dir, struct logstat *s, char *path, size_t cap)
{
	struct sli_oplog_read rd;
	struct dirent *e;
	DIR *d = opendir(dir);
	unsigned n = 0;

	memset(s, 0, sizeof(*s));
	while (d != NULL && (e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len > 4 && strcmp(e->d_name + len - 4, ".log") == 0) {
			snprintf(path, cap, "%s/%s", dir, e->d_name);
			n++;
		}
	}
	if (d != NULL)
		closedir(d);
	if (n != 1)
		bench_die("%s: %u logs, expected one", dir, n);
	if (sli_oplog_read_file(path, count_record, s, &rd) != 0)
		bench_die("%s: %s", path, sl_errdetail());
	if (rd.end != SLI_OPLOG_CLEAN)
		bench_die("%s: the log does not end clean (%s at byte %" PRIu64
		          ")",
		    path, rd.end == SLI_OPLOG_TORN ? "torn" : "corrupt",
		    rd.good);
	s->bytes = rd.size;
}

/* ---- part 1: job time with and without the log ---- */

static void
wordcount(const char *tmp, unsigned long long words, unsigned long long runs)
{
	const char *example_path =
	    SL_SOURCE_DIR "/examples/jobs/wordcount-blocking.json";
	char text[PATH_MAX], out[PATH_MAX], log[PATH_MAX], job[PATH_MAX];
	char state[PATH_MAX], lpath[PATH_MAX], nwords[32];
	char def_in[PATH_MAX + 8], def_out[PATH_MAX + 8];
	double wall, gen_wall, *w[2], *bytes, *recs, *fin, *diff;
	struct bench_output ref, o;
	json_error_t jerr;
	json_t *ex;
	struct stat st;

	snprintf(text, sizeof(text), "%s/words.txt", tmp);
	snprintf(out, sizeof(out), "%s/out", tmp);
	snprintf(log, sizeof(log), "%s/run.txt", tmp);
	snprintf(job, sizeof(job), "%s/wordcount.json", tmp);
	snprintf(nwords, sizeof(nwords), "%llu", words);
	snprintf(def_in, sizeof(def_in), "input=%s", text);
	snprintf(def_out, sizeof(def_out), "output=%s", out);
	bench_check_space(tmp, (uint64_t)words * 6 * 3,
	    "(the text, the shuffle's files, the output); use --dir");

	if ((ex = json_load_file(example_path, 0, &jerr)) == NULL)
		bench_die(
		    "%s: line %d: %s", example_path, jerr.line, jerr.text);
	if (json_object_set_new(
	        ex, "restart", json_pack("{s:s}", "strategy", "none")) != 0 ||
	    json_dump_file(ex, job, JSON_INDENT(2)) != 0)
		bench_die("%s: cannot write it", job);
	json_decref(ex);

	fprintf(stderr, "generating %llu words ...\n", words);
	{
		char *av[] = { sluice, "gen-words", "--words", nwords, "--zipf",
			"1.0", "--output", text, NULL };

		bench_run_or_die(
		    "sluice gen-words", av, NULL, log, &gen_wall, NULL);
	}
	if (stat(text, &st) != 0)
		bench_die("%s: %s", text, strerror(errno));
	{
		char *av[] = { sluice, "run", job, "-D", def_in, "-D", def_out,
			NULL };

		fprintf(stderr, "a first run, untimed ...\n");
		bench_run_or_die(
		    "sluice run (the first run)", av, NULL, log, &wall, NULL);
		bench_output_read(out, &ref);
		bench_output_check(&ref, words, NULL, 0);
		bench_remove_tree(out);
	}
	w[0] = bench_doubles(runs);
	w[1] = bench_doubles(runs);
	bytes = bench_doubles(runs);
	recs = bench_doubles(runs);
	fin = bench_doubles(runs);
	diff = bench_doubles(runs);
	sync();
	for (unsigned long long i = 0; i < runs; i++)
		for (int k = 0; k < 2; k++) {
			int with = (int)((i + (unsigned long long)k) % 2);
			char *av[] = { sluice, "run", job, "-D", def_in, "-D",
				def_out, with ? "--state-dir" : NULL, state,
				NULL };
			struct logstat ls;

			snprintf(state, sizeof(state), "%s/state-%llu", tmp, i);
			bench_run_or_die(
			    with ? "sluice run --state-dir" : "sluice run", av,
			    NULL, log, &w[with][i], NULL);
			bench_output_read(out, &o);
			bench_output_compare(&ref, &o, "the first run's",
			    "first run", with ? "with the log" : "without",
			    (unsigned long)i + 1);
			bench_output_free(&o);
			if (with) {
				log_stat(state, &ls, lpath, sizeof(lpath));
				bytes[i] = (double)ls.bytes;
				recs[i] = (double)ls.records;
				fin[i] = (double)ls.finished;
				bench_remove_tree(state);
			}
			bench_remove_tree(out);
			sync();
			fprintf(stderr, "run %llu/%llu: %-16s %6.2f s\n", i + 1,
			    runs, with ? "with the log" : "without",
			    w[with][i]);
		}
	bench_output_free(&ref);

	printf("1. job time with and without the log\n"
	       "three-stage blocking WordCount (examples/jobs/"
	       "wordcount-blocking.json) by sluice\nrun (2 workers x 2 "
	       "slots) on `sluice gen-words --words %llu --zipf 1.0`:\n"
	       "%.1f MB; %ld cores online; medians of %llu runs each, "
	       "alternating\n",
	    words, (double)st.st_size / 1e6, sysconf(_SC_NPROCESSORS_ONLN),
	    runs);
	for (unsigned long long i = 0; i < runs; i++)
		diff[i] = w[1][i] - w[0][i];
	printf("%-28s %7s %7s %7s\n", "", "wall s", "min", "max");
	for (int with = 0; with < 2; with++) {
		double m = bench_median(w[with], runs); /* sorts */

		printf("%-28s %7.2f %7.2f %7.2f\n",
		    with ? "with --state-dir (the log)" : "without the log", m,
		    w[with][0], w[with][runs - 1]);
	}
	printf("with / without: %.3f; with - without, same round: %+.3f s "
	       "(median)\n",
	    bench_median(w[1], runs) / bench_median(w[0], runs),
	    bench_median(diff, runs));
	printf("the log of a run: %.0f bytes, %.0f records, %.0f of them "
	       "\"finished\" (median)\n\n",
	    bench_median(bytes, runs), bench_median(recs, runs),
	    bench_median(fin, runs));
	free(w[0]);
	free(w[1]);
	free(bytes);
	free(recs);
	free(fin);
	free(diff);
}

/* ---- part 2: the log alone ---- */

/* 208-byte appends each followed by fdatasync, as a log synced on every
 * record would do without the log's code: the disk's rate, records/s. At
 * most max records, or up to budget seconds. */
static double
disk_sync_rate(
    const char *path, unsigned long long max, double budget, uint64_t *n)
{
	char rec[SLI_OPLOG_HEADER + PAYLOAD];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	double t0 = bench_now(), t;
	unsigned long long i;

	if (fd < 0)
		bench_die("%s: %s", path, strerror(errno));
	memset(rec, 'r', sizeof(rec));
	for (i = 0; i < max; i++) {
		if (pwrite(fd, rec, sizeof(rec), (off_t)(i * sizeof(rec))) !=
		        (ssize_t)sizeof(rec) ||
		    fdatasync(fd) != 0)
			bench_die("%s: %s", path, strerror(errno));
		if (bench_now() - t0 > budget) {
			i++;
			break;
		}
	}
	t = bench_now() - t0;
	close(fd);
	unlink(path);
	*n += i;
	return (double)i / t;
}

struct micro {
	unsigned long long every; /* 0: once at the end */
	uint64_t records, syncs;  /* summed over its slices */
	double rate;              /* records/s (median over the slices) */
};

/* One slice of configuration m: at most max records, or up to its first
 * sync after budget seconds, into a new log. Returns records/s. */
static double
oplog_rate(
    const char *path, unsigned long long max, double budget, struct micro *m)
{
	unsigned char payload[PAYLOAD];
	struct sli_oplog log;
	uint64_t n;
	double t0;

	unlink(path);
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (unsigned char)(i * 7);
	t0 = bench_now();
	if (sli_oplog_open(path, &log) != 0)
		bench_die("%s: %s", path, sl_errdetail());
	for (unsigned long long i = 0; i < max; i++) {
		if (sli_oplog_append(&log, payload, sizeof(payload)) != 0)
			bench_die("%s: %s", path, sl_errdetail());
		if (m->every != 0 && (i + 1) % m->every == 0) {
			if (sli_oplog_sync(&log) != 0)
				bench_die("%s: %s", path, sl_errdetail());
			if (bench_now() - t0 > budget)
				break;
		}
	}
	if (sli_oplog_sync(&log) != 0)
		bench_die("%s: %s", path, sl_errdetail());
	n = log.records;
	m->records += n;
	m->syncs += log.syncs;
	if (sli_oplog_close(&log) != 0)
		bench_die("%s: %s", path, sl_errdetail());
	t0 = bench_now() - t0;
	unlink(path);
	return (double)n / t0;
}

#define SLICES 5

static void
micro(const char *tmp, unsigned long long records)
{
	static const unsigned long long every[] = { 1, 10, 100, 1000, 0 };
	enum { NM = sizeof(every) / sizeof(every[0]) };
	struct micro m[NM] = { { 0 } };
	double disk[SLICES], one[SLICES], dm;
	char path[PATH_MAX];
	uint64_t dn = 0;

	snprintf(path, sizeof(path), "%s/micro.log", tmp);
	fprintf(stderr, "the log alone ...\n");
	/* the disk and the log synced on every record, in turns: the same
	 * load on the machine for both */
	m[0].every = 1;
	for (int i = 0; i < SLICES; i++) {
		disk[i] = disk_sync_rate(
		    path, records / SLICES, MICRO_BUDGET_S / SLICES, &dn);
		one[i] = oplog_rate(
		    path, records / SLICES, MICRO_BUDGET_S / SLICES, &m[0]);
	}
	dm = bench_median(disk, SLICES);
	m[0].rate = bench_median(one, SLICES);
	for (size_t i = 1; i < NM; i++) {
		m[i].every = every[i];
		m[i].rate = oplog_rate(path, records, MICRO_BUDGET_S, &m[i]);
	}
	printf("2. the log alone: %d-byte payloads (%d bytes framed) by "
	       "sli_oplog_append to a\nfile in %s, synced (write + "
	       "fdatasync) every K records; each\nconfiguration %llu "
	       "records or up to its first sync after %.0f s\n",
	    PAYLOAD, PAYLOAD + SLI_OPLOG_HEADER, tmp, records, MICRO_BUDGET_S);
	printf("the disk, same run: %.0f fdatasyncs/s (%" PRIu64
	       " appends of %d bytes, each followed\nby fdatasync, without "
	       "the log's code; median of %d slices of %.0f s, taken in\n"
	       "turns with the log's sync-every-1 slices)\n",
	    dm, dn, PAYLOAD + SLI_OPLOG_HEADER, SLICES,
	    MICRO_BUDGET_S / SLICES);
	printf("%-12s %9s %9s %11s %12s %8s %9s\n", "sync every", "records",
	    "syncs", "records/s", "records/sync", "MB/s", "x disk");
	for (size_t i = 0; i < NM; i++) {
		char k[32];

		if (m[i].every != 0)
			snprintf(k, sizeof(k), "%llu", m[i].every);
		else
			snprintf(k, sizeof(k), "end only");
		printf("%-12s %9" PRIu64 " %9" PRIu64 " %11.0f %12.1f %8.2f "
		       "%9.2f\n",
		    k, m[i].records, m[i].syncs, m[i].rate,
		    (double)m[i].records / (double)m[i].syncs,
		    m[i].rate * (PAYLOAD + SLI_OPLOG_HEADER) / 1e6,
		    m[i].rate / dm);
	}
	printf("\n");
}

/* ---- part 3: recovery ---- */

/* The job of n + n tasks as the coordinator logs it: compact, in order. */
static char *
job_text(uint32_t n, const char *out)
{
	char name[64];
	json_t *j;
	char *s;

	snprintf(name, sizeof(name), "oplog-bench-%u", n);
	j = json_pack("{s:s,s:[{s:s,s:s,s:i,s:{s:i}},{s:s,s:s,s:i,s:{s:s,s:s}}"
	              "],s:[{s:s,s:s,s:s,s:s,s:s}]}",
	    "name", name, "vertices", "id", "gen", "operator", "generate",
	    "parallelism", (int)n, "config", "count", 0, "id", "sink",
	    "operator", "file_sink", "parallelism", (int)n, "config", "path",
	    out, "format", "tsv", "edges", "from", "gen", "to", "sink",
	    "distribution", "pointwise", "type", "blocking", "shuffle",
	    "localdisk");
	if (j == NULL || (s = json_dumps(j, JSON_COMPACT)) == NULL)
		bench_die("out of memory");
	json_decref(j);
	return s;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0)
		bench_die("%s: cannot write it", path);
}

static int
first_json(void *arg, const void *p, size_t len, uint64_t off)
{
	json_t *r = sli_oplog_record_json(p, len);
	char **s = arg;

	(void)off;
	if (*s == NULL) {
		const char *j = json_string_value(json_object_get(r, "json"));

		*s = strdup(j != NULL ? j : "(none)");
	}
	json_decref(r);
	return 0;
}

/* The text this program logs must be the coordinator's own. */
static void
check_submitted(const char *tmp)
{
	char dir[PATH_MAX], out[PATH_MAX + 8], job[PATH_MAX], log[PATH_MAX];
	char state[PATH_MAX + 8], lpath[PATH_MAX], *mine, *theirs = NULL;
	struct logstat ls;
	double wall;

	snprintf(dir, sizeof(dir), "%s/check", tmp);
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(job, sizeof(job), "%s/job.json", tmp);
	snprintf(log, sizeof(log), "%s/check.txt", tmp);
	if (mkdir(dir, 0755) != 0)
		bench_die("%s: %s", dir, strerror(errno));
	mine = job_text(2, out);
	write_file(job, mine);
	{
		char *av[] = { sluice, "run", job, "--state-dir", state, NULL };

		bench_run_or_die("sluice run --state-dir (the job at "
		                 "parallelism 2)",
		    av, NULL, log, &wall, NULL);
	}
	log_stat(state, &ls, lpath, sizeof(lpath));
	if (sli_oplog_read_file(lpath, first_json, &theirs, NULL) != 0 ||
	    theirs == NULL)
		bench_die("%s: %s", lpath, sl_errdetail());
	if (strcmp(mine, theirs) != 0)
		bench_die("the submitted record's json differs from the "
		          "coordinator's:\n  ours:   %s\n  theirs: %s",
		    mine, theirs);
	free(mine);
	free(theirs);
	bench_remove_tree(dir);
}

/* The token in a localdisk descriptor (its 10th element): it names the
 * job's directory. */
static uint64_t
desc_token(const struct sl_bytes *d)
{
	msgpack_unpacked u;
	uint64_t token = 0;

	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, d->data, d->len, NULL) ==
	        MSGPACK_UNPACK_SUCCESS &&
	    u.data.type == MSGPACK_OBJECT_ARRAY &&
	    u.data.via.array.size >= 10 &&
	    u.data.via.array.ptr[9].type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		token = u.data.via.array.ptr[9].via.u64;
	msgpack_unpacked_destroy(&u);
	if (token == 0)
		bench_die("a localdisk descriptor without a token");
	return token;
}

/* Register n partitions of edge 0 with a fresh localdisk master (descs
 * get their descriptors), write gen#0's, empty, with the plugin's writer,
 * and link the others' files to it. */
static void
write_partitions(struct sli_plugin *p, const char *job, uint32_t n,
    const char *location, struct sl_bytes *descs)
{
	void *mst = calloc(1, p->ops.shuffle.master.state_size + 1);
	void *wst = calloc(1, p->ops.shuffle.writer.state_size + 1);
	const char *base = getenv("SLUICE_LOCALDISK_DIR");
	char dir[PATH_MAX], d0[PATH_MAX + 32], i0[PATH_MAX + 32];
	char di[PATH_MAX + 32], ii[PATH_MAX + 32];
	struct stat st;

	if (mst == NULL || wst == NULL || base == NULL)
		bench_die("out of memory");
	if (p->ops.shuffle.master.init(mst, &p->host, NULL) != 0)
		bench_die("localdisk master: %s", sl_errdetail());
	for (uint32_t i = 0; i < n; i++) {
		struct sl_partition_spec ps = {
			.struct_size = sizeof(ps),
			.type = SL_PARTITION_BLOCKING,
			.job_id = job,
			.edge = 0,
			.producer = i,
			.attempt = 0,
			.num_subpartitions = 1,
			.producer_location = location,
			.compression = SL_COMPRESSION_NONE,
		};

		if (p->ops.shuffle.master.register_partition(
		        mst, &ps, &descs[i]) != 0)
			bench_die("localdisk register: %s", sl_errdetail());
	}
	if (p->ops.shuffle.writer.open(
	        wst, &p->host, descs[0].data, descs[0].len) != 0 ||
	    p->ops.shuffle.writer.finish(wst) != 0)
		bench_die("localdisk writer: %s", sl_errdetail());
	p->ops.shuffle.writer.fini(wst);
	free(wst);
	snprintf(dir, sizeof(dir), "%s/%s.%016llx", base, job,
	    (unsigned long long)desc_token(&descs[0]));
	snprintf(d0, sizeof(d0), "%s/e0.p0.a0.data", dir);
	snprintf(i0, sizeof(i0), "%s/e0.p0.a0.index", dir);
	if (stat(d0, &st) != 0 || stat(i0, &st) != 0)
		bench_die("%s: the localdisk writer's files are not there "
		          "(its layout changed?)",
		    i0);
	for (uint32_t i = 1; i < n; i++) {
		snprintf(di, sizeof(di), "%s/e0.p%u.a0.data", dir, i);
		snprintf(ii, sizeof(ii), "%s/e0.p%u.a0.index", dir, i);
		if (link(d0, di) != 0 || link(i0, ii) != 0)
			bench_die("link %s: %s", di, strerror(errno));
	}
	p->ops.shuffle.master.fini(mst);
	free(mst);
}

/* The state directory's log: submitted, then gen#i finished, each. */
static void
write_log(const char *path, const char *job, const char *json, uint32_t n,
    const struct sl_bytes *descs)
{
	const uint64_t zero = 0;
	struct sli_oplog log;

	if (sli_oplog_open(path, &log) != 0 ||
	    sli_oplog_submitted(
	        &log, 0, job, "oplog_bench", json, strlen(json)) != 0 ||
	    sli_oplog_sync(&log) != 0)
		bench_die("%s: %s", path, sl_errdetail());
	for (uint32_t i = 0; i < n; i++) {
		struct sli_oplog_output o = { .edge = 0,
			.desc = descs[i],
			.sub_bytes = &zero,
			.nsub = 1 };

		if (sli_oplog_finished(&log, 1 + i, 0, i, 0, "w1", &o, 1) !=
		        0 ||
		    ((i + 1) % 64 == 0 && sli_oplog_sync(&log) != 0))
			bench_die("%s: %s", path, sl_errdetail());
	}
	if (sli_oplog_close(&log) != 0)
		bench_die("%s: %s", path, sl_errdetail());
}

/* The coordinator's stderr, read as it comes: when each line we wait for
 * came (bench_now(), -1 until then). */
struct watch {
	int fd;
	FILE *log;
	const char *path, *job;
	char buf[65536];
	size_t len;
	double read, reg, kept, done;
	unsigned nkept, rerun, ndone, ntasks;
};

static _Noreturn void
watch_die(struct watch *w, const char *why)
{
	fflush(w->log);
	bench_keep(w->path);
	bench_die(
	    "job %s: %s (the coordinator's output: %s)", w->job, why, w->path);
}

static void
watch_line(struct watch *w, const char *line, double now)
{
	char pat[256];
	const char *p;

	fprintf(w->log, "%s\n", line);
	fflush(w->log);
	snprintf(pat, sizeof(pat), "job %s recovered from", w->job);
	if (w->read < 0 && strstr(line, pat) != NULL)
		w->read = now;
	if (w->reg < 0 && strstr(line, "coordinator: worker w1 registered"))
		w->reg = now;
	snprintf(pat, sizeof(pat), "job %s: ", w->job);
	if (w->kept < 0 && strstr(line, "regions kept from the log") &&
	    (p = strstr(line, pat)) != NULL) {
		w->kept = now;
		if (sscanf(p + strlen(pat),
		        "%u regions kept from the log, %u finished tasks to "
		        "run again, %u tasks done of %u",
		        &w->nkept, &w->rerun, &w->ndone, &w->ntasks) != 4)
			watch_die(w, "cannot read its regions kept line");
	}
	snprintf(pat, sizeof(pat), "coordinator: job %s ", w->job);
	if ((p = strstr(line, pat)) != NULL) {
		p += strlen(pat);
		if (strncmp(p, "FINISHED", 8) == 0)
			w->done = now;
		else if (strncmp(p, "FAILED", 6) == 0 ||
		    strncmp(p, "CANCELLED", 9) == 0)
			watch_die(w, "it did not finish");
	}
}

/* Read lines until *until is set. */
static void
watch_until(struct watch *w, const double *until, const char *what)
{
	double t0 = bench_now();

	while (*until < 0) {
		struct pollfd pf = { .fd = w->fd, .events = POLLIN };
		ssize_t n;
		char *nl;

		bench_check_stop();
		if (bench_now() - t0 > WAIT_S) {
			char why[128];

			snprintf(why, sizeof(why), "no %s after %.0f s", what,
			    WAIT_S);
			watch_die(w, why);
		}
		if (poll(&pf, 1, 200) <= 0)
			continue;
		if (w->len == sizeof(w->buf) - 1)
			w->len = 0; /* a line this long is not one we want */
		n = read(w->fd, w->buf + w->len, sizeof(w->buf) - 1 - w->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			watch_die(w, "the coordinator exited");
		w->len += (size_t)n;
		w->buf[w->len] = '\0';
		while ((nl = strchr(w->buf, '\n')) != NULL) {
			*nl = '\0';
			watch_line(w, w->buf, bench_now());
			w->len -= (size_t)(nl + 1 - w->buf);
			memmove(w->buf, nl + 1, w->len + 1);
		}
	}
}

/* Start the coordinator with its stderr watched. */
static pid_t
start_coordinator(struct watch *w, const char *url, const char *state,
    const char *log, const char *job)
{
	char out[PATH_MAX + 64];
	char *av[] = { sluice, "coordinator", "--listen", (char *)url,
		"--state-dir", (char *)state, "--heartbeat-ms", "100", NULL };
	int fds[2];
	pid_t pid;

	memset(w, 0, sizeof(*w));
	w->read = w->reg = w->kept = w->done = -1;
	w->path = log;
	w->job = job;
	if ((w->log = fopen(log, "w")) == NULL)
		bench_die("%s: %s", log, strerror(errno));
	if (pipe2(fds, O_CLOEXEC) != 0)
		bench_die("pipe: %s", strerror(errno));
	snprintf(out, sizeof(out), "%s.out", log);
	pid = spawn(av, out, fds[1], NULL);
	close(fds[1]);
	w->fd = fds[0];
	return pid;
}

/* `sluice status` must list the job FINISHED. */
static void
check_status(struct watch *w, const char *url, const char *log)
{
	char *av[] = { sluice, "status", "--coordinator", (char *)url, NULL };
	char buf[4096] = "", pat[256], *line, *end;
	double wall;
	FILE *f;
	size_t n;

	bench_run_or_die("sluice status", av, NULL, log, &wall, NULL);
	if ((f = fopen(log, "r")) != NULL) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		fclose(f);
	}
	snprintf(pat, sizeof(pat), "\n%s ", w->job);
	if ((line = strstr(buf, pat)) != NULL &&
	    (end = strchr(line + 1, '\n')) != NULL)
		*end = '\0';
	if (line == NULL || strstr(line + strlen(pat), "FINISHED") == NULL)
		watch_die(w, "sluice status does not list it FINISHED");
}

/* How often the worker's log says it ran a task of vertex v. */
static unsigned
ran(const char *log, const char *v)
{
	char line[1024], pat[64];
	unsigned n = 0;
	FILE *f = fopen(log, "r");

	snprintf(pat, sizeof(pat), "running task %s#", v);
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, pat) != NULL;
	if (f != NULL)
		fclose(f);
	return n;
}

static unsigned
part_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;

	while (d != NULL && (e = readdir(d)) != NULL)
		n += strncmp(e->d_name, "part-", 5) == 0;
	if (d != NULL)
		closedir(d);
	return n;
}

struct rec_run {
	double read, reg, kept, done; /* s from the coordinator's fork */
	double scratch_done;          /* s from `sluice submit` */
	struct logstat ours, real;    /* the log we wrote, a real run's */
};

/* In dir, a job of n + n tasks: recovered from a log we write (p not
 * NULL), or run from scratch. */
static void
job_run(struct sli_plugin *p, const char *dir, uint32_t n, struct rec_run *r)
{
	char url[PATH_MAX + 32], state[PATH_MAX + 32], out[PATH_MAX + 32];
	char clog[PATH_MAX + 32], wlog[PATH_MAX + 32], slog[PATH_MAX + 32];
	char jpath[PATH_MAX + 32], lpath[PATH_MAX + 192], job[128];
	char location[128], *text;
	char *wav[] = { sluice, "worker", "--coordinator", url, "--id", "w1",
		"--slots", "8", NULL };
	char *sav[] = { sluice, "submit", "--coordinator", url, jpath, NULL };
	struct watch w;
	int hold;
	pid_t wp = 0, cp;
	double t0, wall;

	snprintf(url, sizeof(url), "ipc://%s/c.sock", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(clog, sizeof(clog), "%s/coordinator.txt", dir);
	snprintf(wlog, sizeof(wlog), "%s/worker.txt", dir);
	snprintf(slog, sizeof(slog), "%s/status.txt", dir);
	snprintf(jpath, sizeof(jpath), "%s/job.json", dir);
	snprintf(job, sizeof(job), "oplog-bench-%u-1", n);
	snprintf(lpath, sizeof(lpath), "%s/%s.log", state, job);
	if (mkdir(dir, 0755) != 0 || mkdir(state, 0700) != 0)
		bench_die("%s: %s", dir, strerror(errno));
	text = job_text(n, out);
	write_file(jpath, text);
	if (p != NULL) {
		struct sl_bytes *descs = calloc(n, sizeof(*descs));

		/* the worker first, held: its pid names its localdisk
		 * server */
		wp = spawn(wav, wlog, -1, &hold);
		snprintf(location, sizeof(location),
		    "ipc:///tmp/sluice-%d-localdisk.sock", (int)wp);
		if (descs == NULL)
			bench_die("out of memory");
		write_partitions(p, job, n, location, descs);
		write_log(lpath, job, text, n, descs);
		log_stat(state, &r->ours, lpath, sizeof(lpath));
		for (uint32_t i = 0; i < n; i++)
			p->host.free(descs[i].data);
		free(descs);
	}
	free(text);
	sync();

	t0 = bench_now();
	cp = start_coordinator(&w, url, state, clog, job);
	if (p != NULL) {
		if (write(hold, "x", 1) != 1)
			bench_die("the held worker: %s", strerror(errno));
		close(hold);
	} else {
		wp = spawn(wav, wlog, -1, NULL);
		watch_until(&w, &w.reg, "worker registered line");
		t0 = bench_now();
		bench_run_or_die("sluice submit", sav, NULL, slog, &wall, NULL);
	}
	watch_until(&w, &w.done, "FINISHED line");
	check_status(&w, url, slog);
	kid_stop(cp);
	kid_stop(wp);
	close(w.fd);
	fclose(w.log);
	if (p != NULL && (w.read < 0 || w.reg < 0 || w.kept < 0))
		watch_die(&w, "a line it should have printed is missing");
	if (p != NULL &&
	    (w.nkept != n || w.rerun != 0 || w.ndone != n || w.ntasks != 2 * n))
		watch_die(&w, "the recovery did not keep every gen region");
	if (ran(wlog, "gen") != (p != NULL ? 0 : n) || ran(wlog, "sink") != n)
		bench_die("job %s: the worker ran %u gen and %u sink tasks, "
		          "expected %u and %u (%s)",
		    job, ran(wlog, "gen"), ran(wlog, "sink"), p != NULL ? 0 : n,
		    n, wlog);
	if (part_files(out) != n)
		bench_die(
		    "%s: %u part files, expected %u", out, part_files(out), n);
	if (p == NULL) {
		r->scratch_done = w.done - t0;
		log_stat(state, &r->real, lpath, sizeof(lpath));
		return;
	}
	r->read = w.read - t0;
	r->reg = w.reg - t0;
	r->kept = w.kept - t0;
	r->done = w.done - t0;
}

static void
recovery(const char *tmp, const uint32_t *sizes, unsigned nsizes,
    unsigned long long rounds)
{
	struct sli_plugin_set set = { 0 };
	struct sli_plugin *p;
	double plan[MAX_SIZES], *t[5];
	struct rec_run r[MAX_SIZES];
	char dir[PATH_MAX], log[PATH_MAX], job[PATH_MAX];

	if (sli_plugin_set_load_default(&set, NULL, 0) < 0 ||
	    (p = sli_plugin_set_find(&set, SL_PLUGIN_SHUFFLE, "localdisk")) ==
	        NULL)
		bench_die("no localdisk shuffle plugin: %s", sl_errdetail());
	fprintf(stderr, "recovery: checking the submitted record ...\n");
	check_submitted(tmp);
	for (int k = 0; k < 5; k++)
		t[k] = bench_doubles(rounds);
	printf("3. recovery: a log of gen (generate, count 0) x N -> blocking "
	       "pointwise\nlocaldisk -> sink (file_sink) x N, with N gen tasks "
	       "finished; the coordinator\n(--heartbeat-ms 100) started on it, "
	       "the worker w1 (8 slots) right after;\ntimes in ms from the "
	       "coordinator's start, medians of %llu rounds\n",
	    rounds);
	printf("%6s %7s %9s %8s %9s %9s %10s %10s | %10s %9s\n", "N", "plan ms",
	    "log KB", "records", "log read", "w1 regist", "kept", "FINISHED",
	    "scratch ms", "real KB");
	for (unsigned s = 0; s < nsizes; s++) {
		uint32_t n = sizes[s];
		char *text;

		snprintf(job, sizeof(job), "%s/plan-%u.json", tmp, n);
		snprintf(log, sizeof(log), "%s/plan.txt", tmp);
		text = job_text(n, "/nonexistent");
		write_file(job, text);
		free(text);
		{
			char *av[] = { sluice, "plan", "regions", job, NULL };

			bench_run_or_die("sluice plan regions", av, NULL, log,
			    &plan[s], NULL);
		}
		for (unsigned long long i = 0; i < rounds; i++) {
			/* from scratch first in odd rounds */
			for (int k = 0; k < 2; k++) {
				bool rec = (i + (unsigned long long)k) % 2 == 0;

				snprintf(dir, sizeof(dir), "%s/%s-%u-%llu", tmp,
				    rec ? "rec" : "fresh", n, i);
				job_run(rec ? p : NULL, dir, n, &r[s]);
				bench_remove_tree(dir);
			}
			t[0][i] = r[s].read;
			t[1][i] = r[s].reg;
			t[2][i] = r[s].kept;
			t[3][i] = r[s].done;
			t[4][i] = r[s].scratch_done;
			fprintf(stderr,
			    "N %u, round %llu/%llu: kept at %.3f s, "
			    "FINISHED at %.3f s; from scratch %.3f s\n",
			    n, i + 1, rounds, r[s].kept, r[s].done,
			    r[s].scratch_done);
		}
		printf("%6u %7.1f %9.1f %8" PRIu64
		       " %9.1f %9.1f %10.1f %10.1f | %10.1f %9.1f\n",
		    n, plan[s] * 1e3, (double)r[s].ours.bytes / 1e3,
		    r[s].ours.records, bench_median(t[0], rounds) * 1e3,
		    bench_median(t[1], rounds) * 1e3,
		    bench_median(t[2], rounds) * 1e3,
		    bench_median(t[3], rounds) * 1e3,
		    bench_median(t[4], rounds) * 1e3,
		    (double)r[s].real.bytes / 1e3);
	}
	printf("plan: `sluice plan regions` on the job, wall time of the "
	       "process; log KB,\nrecords: the log written; log read, w1 "
	       "regist(ered), kept, FINISHED: the\ncoordinator's stderr "
	       "lines \"job ... recovered from\", \"worker w1 registered\",\n"
	       "\"N regions kept from the log, 0 finished tasks to run "
	       "again\" and \"job ...\nFINISHED\" (then `sluice status` lists "
	       "it FINISHED); scratch: the same job\non a fresh coordinator "
	       "and worker, from `sluice submit` to its FINISHED line;\nreal "
	       "KB: that run's log (N + N finished records)\n");
	for (int k = 0; k < 5; k++)
		free(t[k]);
	sli_plugin_set_clear(&set);
}

/* ---- main ---- */

static _Noreturn void
usage(void)
{
	fprintf(stderr,
	    "usage: oplog_bench [--words N] [--runs R] [--records N] "
	    "[--tasks N,...]\n"
	    "                   [--recoveries R] [--dir DIR]\n"
	    "\n"
	    "1. examples/jobs/wordcount-blocking.json on N words (default "
	    "10000000, about\n"
	    "   60 MB) by sluice run, R times (default 5) without and with "
	    "--state-dir;\n"
	    "2. N records (default 100000) of 200 bytes appended to an "
	    "operation log,\n"
	    "   synced every 1, 10, 100, 1000 records and at the end;\n"
	    "3. a coordinator recovering a job with N finished tasks "
	    "(default 1000,10000),\n"
	    "   R rounds (default 3), beside the same job from scratch.\n"
	    "Scratch files go to a temporary directory under DIR (default "
	    "$TMPDIR or /tmp).\n");
	exit(2);
}

static unsigned
parse_sizes(char *s, uint32_t *sizes)
{
	unsigned n = 0;

	for (char *tok = strtok(s, ","); tok != NULL; tok = strtok(NULL, ",")) {
		unsigned long long v = bench_count_arg(tok, 100000);

		if (v == 0 || n == MAX_SIZES)
			usage();
		sizes[n++] = (uint32_t)v;
	}
	if (n == 0)
		usage();
	return n;
}

int
main(int argc, char **argv)
{
	unsigned long long words = 10000000, runs = 5, records = 100000;
	unsigned long long rounds = 3;
	uint32_t sizes[MAX_SIZES] = { 1000, 10000 };
	unsigned nsizes = 2;
	const char *base = NULL, *tmp;

	bench_init("oplog_bench");
	for (int i = 1; i < argc; i++) {
		unsigned long long *v = NULL, max = 0;

		if (strcmp(argv[i], "--words") == 0)
			v = &words, max = 10000000000ULL;
		else if (strcmp(argv[i], "--runs") == 0)
			v = &runs, max = 1000;
		else if (strcmp(argv[i], "--records") == 0)
			v = &records, max = 100000000;
		else if (strcmp(argv[i], "--recoveries") == 0)
			v = &rounds, max = 1000;
		else if (strcmp(argv[i], "--tasks") == 0 && i + 1 < argc)
			nsizes = parse_sizes(argv[++i], sizes);
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			base = argv[++i];
		else
			usage();
		if (v != NULL &&
		    (i + 1 >= argc ||
		        (*v = bench_count_arg(argv[++i], max)) == 0))
			usage();
	}

	bench_catch_signals();
	bench_sluice_path(sluice, sizeof(sluice));
	tmp = bench_scratch_dir(base, "sluice-oplog");
	make_child_env();  /* with its SLUICE_LOCALDISK_DIR */
	atexit(kids_kill); /* before the scratch directory goes */

	wordcount(tmp, words, runs);
	fflush(stdout);
	micro(tmp, records);
	fflush(stdout);
	recovery(tmp, sizes, nsizes, rounds);
	return 0;
}
