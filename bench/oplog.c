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
 * 3. Recovery from a crash: for each N of --tasks (default 1000, 10000),
 *    the job "gen" (generate, GEN_RECORDS records a task, printable keys of
 *    KEY_BYTES and u64 values) x N -> a blocking pointwise localdisk edge
 *    -> "sink" (file_sink, tsv) x N, submitted to `sluice coordinator
 *    --listen ipc://... --state-dir DIR --heartbeat-ms 100` with one
 *    `sluice worker --coordinator URL --id w1 --slots 8` (both
 *    SLUICE_LOG=info). The log is read with core/oplog every POLL_MS while
 *    the job runs; once it holds a "finished" record of every gen task,
 *    whole, the coordinator gets SIGKILL and a new one is started at once
 *    on the same state directory and URL. The worker lives on: the new
 *    coordinator answers its heartbeat with "unknown worker" and it says
 *    hello again, listing the partitions it holds. Timed from the new
 *    coordinator's fork, its stderr lines "recovered from" (the log read),
 *    "worker w1 registered", "regions kept from the log" and "job ...
 *    FINISHED"; then `sluice status` must list the job FINISHED. It must
 *    keep a region per task finished in the log at the kill (every gen
 *    task's among them) and run none of those again: no gen task runs
 *    again (the worker's log says which tasks ran, at which attempt; the
 *    new coordinator's attempts are 1), every sink task not logged
 *    finished runs once more. Tasks that ran at attempt 0 and again at 1
 *    (they were running at the kill) are counted: work lost. Beside it the
 *    same job from scratch on a fresh coordinator (with --state-dir) and
 *    worker, from `sluice submit` to its FINISHED line; both outputs must
 *    hold N part files, equal file for file, N x GEN_RECORDS lines.
 *    --recoveries rounds of both, alternating which goes first, medians.
 *    It stops when a worker is declared lost for missed heartbeats (a
 *    loaded machine: a failover follows, not the recovery measured), and
 *    when w1 has not registered with the new coordinator after
 *    REGISTER_WAIT_S (the end of its log is printed).
 *
 * For bench/run (bench_util.h): the ratios without / with the log (1),
 * the log's records/s synced every record and every 100 over the disk's
 * fdatasyncs/s (2), per N the job from scratch over its end after the
 * crash, and when the finished regions were kept (3); the curves of the
 * recovery's steps against the tasks finished at the kill, and of both
 * jobs' times against N.
 *
 *   oplog_bench [--part 1|2|3]... [--words N] [--runs R] [--records N]
 *               [--tasks N,...] [--recoveries R] [--dir DIR]
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <msgpack.h>
#include <sluice/errors.h>

#include "oplog/oplog.h"
#include "oplog/oplog_events.h"

#include "bench_util.h"

#ifndef SL_SOURCE_DIR
#define SL_SOURCE_DIR "."
#endif

#define MAX_SIZES 8
#define MICRO_BUDGET_S 10.0
#define PAYLOAD 200
#define WAIT_S 900.0 /* the longest a recovery or a job may take */
/* The longest a worker may take to register, with a new coordinator too:
 * its hellos back off to 2 s, a hello unanswered for 6 s is dialled again.
 * Seen once under load: w1 never came back, and the wait was WAIT_S. */
#define REGISTER_WAIT_S 60.0

extern char **environ;

static char sluice[PATH_MAX];
static char **child_env; /* environ with SLUICE_LOG=info */

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

/* What a log holds. With n > 0, the recovery job's too: which of its gen
 * (vertex 0) and sink (vertex 1) tasks finished, and gen's bytes. */
struct logstat {
	uint64_t bytes, records, finished;
	uint64_t limit; /* > 0: only the records that end within it */
	uint32_t n;     /* tasks per vertex */
	uint32_t fin[2];
	uint8_t *done[2];    /* n each: task i finished */
	uint64_t *gen_bytes; /* n: gen task i's partition, bytes */
};

static void
logstat_init(struct logstat *s, uint32_t n)
{
	memset(s, 0, sizeof(*s));
	s->n = n;
	if (n == 0)
		return;
	s->done[0] = calloc(n, 1);
	s->done[1] = calloc(n, 1);
	s->gen_bytes = calloc(n, sizeof(*s->gen_bytes));
	if (s->done[0] == NULL || s->done[1] == NULL || s->gen_bytes == NULL)
		bench_die("out of memory");
}

/* Counts to zero, for another read. */
static void
logstat_clear(struct logstat *s)
{
	s->bytes = s->records = s->finished = 0;
	s->fin[0] = s->fin[1] = 0;
	if (s->n == 0)
		return;
	memset(s->done[0], 0, s->n);
	memset(s->done[1], 0, s->n);
	memset(s->gen_bytes, 0, s->n * sizeof(*s->gen_bytes));
}

static void
logstat_free(struct logstat *s)
{
	free(s->done[0]);
	free(s->done[1]);
	free(s->gen_bytes);
}

/* A finished record of the recovery job: its task, and a gen task's bytes
 * (outputs: [edge, descriptor, [bytes per subpartition]]). */
static void
count_task(struct logstat *s, const msgpack_object *m)
{
	uint64_t v = sli_oplog_u64(sli_oplog_get(m, "vertex")),
	         i = sli_oplog_u64(sli_oplog_get(m, "index"));
	const msgpack_object *outs = sli_oplog_get(m, "outputs");

	if (v > 1 || i >= s->n || s->done[v][i])
		return;
	s->done[v][i] = 1;
	s->fin[v]++;
	for (uint32_t k = 0; v == 0 && outs != NULL &&
	     outs->type == MSGPACK_OBJECT_ARRAY && k < outs->via.array.size;
	     k++) {
		const msgpack_object *o = &outs->via.array.ptr[k], *sub;

		if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 3 ||
		    (sub = &o->via.array.ptr[2])->type != MSGPACK_OBJECT_ARRAY)
			continue;
		for (uint32_t b = 0; b < sub->via.array.size; b++)
			s->gen_bytes[i] +=
			    sli_oplog_u64(&sub->via.array.ptr[b]);
	}
}

static int
count_record(void *arg, const void *p, size_t len, uint64_t off)
{
	struct logstat *s = arg;
	const msgpack_object *t;
	msgpack_unpacked u;

	if (s->limit > 0 && off + SLI_OPLOG_HEADER + len > s->limit)
		return 0;
	s->records++;
	s->bytes = off + SLI_OPLOG_HEADER + len;
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, p, len, NULL) == MSGPACK_UNPACK_SUCCESS &&
	    (t = sli_oplog_get(&u.data, "t")) != NULL &&
	    t->type == MSGPACK_OBJECT_STR && t->via.str.size == 8 &&
	    memcmp(t->via.str.ptr, "finished", 8) == 0) {
		s->finished++;
		if (s->n > 0)
			count_task(s, &u.data);
	}
	msgpack_unpacked_destroy(&u);
	return 0;
}

/* The log at path read (its counts cleared first): it must end clean
 * unless torn_ok, when a record being written may be cut short. */
static void
log_read(const char *path, struct logstat *s, bool torn_ok)
{
	struct sli_oplog_read rd;

	logstat_clear(s);
	if (sli_oplog_read_file(path, count_record, s, &rd) != 0)
		bench_die("%s: %s", path, sl_errdetail());
	if (rd.end == SLI_OPLOG_CORRUPT ||
	    (rd.end == SLI_OPLOG_TORN && !torn_ok))
		bench_die("%s: the log does not end clean (%s at byte %" PRIu64
		          ")",
		    path, rd.end == SLI_OPLOG_TORN ? "torn" : "corrupt",
		    rd.good);
}

/* The one *.log in dir, read to its end (s set up for it: counts only):
 * it must end clean. */
static void
log_stat(const char *dir, struct logstat *s)
{
	char path[PATH_MAX + 256];
	struct dirent *e;
	DIR *d = opendir(dir);
	unsigned n = 0;

	logstat_init(s, 0);
	while (d != NULL && (e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len > 4 && strcmp(e->d_name + len - 4, ".log") == 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			n++;
		}
	}
	if (d != NULL)
		closedir(d);
	if (n != 1)
		bench_die("%s: %u logs, expected one", dir, n);
	log_read(path, s, false);
}

/* ---- part 1: job time with and without the log ---- */

static void
wordcount(const char *tmp, unsigned long long words, unsigned long long runs)
{
	const char *example_path =
	    SL_SOURCE_DIR "/examples/jobs/wordcount-blocking.json";
	char text[PATH_MAX], out[PATH_MAX], log[PATH_MAX], job[PATH_MAX];
	char state[PATH_MAX], nwords[32];
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
				log_stat(state, &ls);
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
	bench_result("oplog: job wall time with the log",
	    bench_median(w[1], runs), "s", "without the log",
	    bench_median(w[0], runs),
	    bench_median(w[0], runs) / bench_median(w[1], runs), 0);
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
	char path[PATH_MAX], ref[64];
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
	/* synced every record: the log's own cost over the disk's; every
	 * 100: what group commit gains */
	snprintf(ref, sizeof(ref), "fdatasync after each %d-byte write",
	    PAYLOAD + SLI_OPLOG_HEADER);
	bench_result("oplog: appends synced every record", m[0].rate,
	    "records/s", ref, dm, m[0].rate / dm, 0);
	bench_result("oplog: appends synced every 100 records", m[2].rate,
	    "records/s", ref, dm, m[2].rate / dm, 0);
}

/* ---- part 3: recovery from a crash ---- */

#define GEN_RECORDS 100 /* records a gen task makes */
#define KEY_BYTES 10
#define POLL_MS 50 /* the log is read this often while the job runs */

/* The job of n + n tasks. The values are u64s, as file_sink's tsv wants
 * them; the keys printable ("ascii"), so a line holds no tab or newline
 * of its own. */
static char *
job_text(uint32_t n, const char *out)
{
	char name[64];
	json_t *j;
	char *s;

	snprintf(name, sizeof(name), "oplog-bench-%u", n);
	j = json_pack("{s:s,s:[{s:s,s:s,s:i,s:{s:I,s:i,s:i,s:b}},{s:s,s:s,s:"
	              "i,s:{s:s,s:s}}],s:[{s:s,s:s,s:s,s:s,s:s}]}",
	    "name", name, "vertices", "id", "gen", "operator", "generate",
	    "parallelism", (int)n, "config", "count",
	    (json_int_t)GEN_RECORDS * n, "key_bytes", KEY_BYTES, "value_bytes",
	    8, "ascii", 1, "id", "sink", "operator", "file_sink", "parallelism",
	    (int)n, "config", "path", out, "format", "tsv", "edges", "from",
	    "gen", "to", "sink", "distribution", "pointwise", "type",
	    "blocking", "shuffle", "localdisk");
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

/* A coordinator's stderr, read as it comes: when each line we wait for
 * came (bench_now(), -1 until then). */
struct watch {
	int fd;
	FILE *log;
	const char *path, *job;
	char buf[65536];
	size_t len;
	double read, reg, kept, done;
	unsigned nkept, rerun, ndone, ntasks, pid;
	unsigned gone;       /* "no longer holds the partition" lines */
	char gone_line[512]; /* the first of them */
};

static _Noreturn void
watch_die(struct watch *w, const char *why)
{
	if (w->log != NULL)
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
	if (w->reg < 0 &&
	    (p = strstr(line, "coordinator: worker w1 registered")) != NULL) {
		w->reg = now;
		if (sscanf(p,
		        "coordinator: worker w1 registered: %*u slots, pid %u",
		        &w->pid) != 1)
			watch_die(w, "cannot read its worker registered line");
	}
	/* --heartbeat-ms 100 keeps re-registering quick, but a loaded
	 * machine can starve the worker for the 6 beats it may miss; the
	 * failover that follows would spoil the figures and the checks */
	if (strstr(line, "lost: no heartbeat") != NULL)
		watch_die(w,
		    "its worker was declared lost for missed heartbeats (is "
		    "the machine loaded?): a failover, not the recovery "
		    "measured; run it again");
	if (strstr(line, "no longer holds the partition") != NULL &&
	    w->gone++ == 0)
		snprintf(w->gone_line, sizeof(w->gone_line), "%s", line);
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

/* Take in what the coordinator printed within ms, line by line. */
static void
watch_pump(struct watch *w, int ms)
{
	struct pollfd pf = { .fd = w->fd, .events = POLLIN };
	ssize_t n;
	char *nl;

	bench_check_stop();
	if (poll(&pf, 1, ms) <= 0)
		return;
	if (w->len == sizeof(w->buf) - 1)
		w->len = 0; /* a line this long is not one we want */
	n = read(w->fd, w->buf + w->len, sizeof(w->buf) - 1 - w->len);
	if (n < 0 && errno == EINTR)
		return;
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

/* Read lines until *until is set. */
static void
watch_until(
    struct watch *w, const double *until, const char *what, double limit)
{
	double t0 = bench_now();

	while (*until < 0) {
		if (bench_now() - t0 > limit) {
			char why[128];

			snprintf(why, sizeof(why), "no %s after %.0f s", what,
			    limit);
			watch_die(w, why);
		}
		watch_pump(w, 200);
	}
}

/* Start the coordinator with its stderr watched (and copied to log). */
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
	pid = bench_start("sluice coordinator", av, child_env, out, fds[1]);
	close(fds[1]);
	w->fd = fds[0];
	return pid;
}

static void
watch_close(struct watch *w)
{
	close(w->fd);
	fclose(w->log);
	w->log = NULL; /* watch_die still names it */
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

/* The tasks the worker ran, from its log's lines "running task V#I of job
 * J (attempt A)": per vertex (gen, sink), at attempt 0 (the first
 * coordinator's), at a later one (the second's), and both. */
struct ran {
	unsigned first[2], later[2], twice[2];
};

static void
ran_read(const char *log, uint32_t n, struct ran *r)
{
	uint8_t *at0[2] = { calloc(n, 1), calloc(n, 1) };
	char line[1024], v[16];
	FILE *f = fopen(log, "r");
	unsigned i, a;

	memset(r, 0, sizeof(*r));
	if (f == NULL)
		bench_die("%s: %s", log, strerror(errno));
	if (at0[0] == NULL || at0[1] == NULL)
		bench_die("out of memory");
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *p = strstr(line, "running task ");
		int k;

		if (p == NULL ||
		    sscanf(p, "running task %15[^#]#%u of job %*s (attempt %u)",
		        v, &i, &a) != 3 ||
		    i >= n)
			continue;
		k = strcmp(v, "gen") == 0 ? 0 : strcmp(v, "sink") == 0 ? 1 : -1;
		if (k < 0)
			continue;
		if (a == 0) {
			r->first[k]++;
			at0[k][i] = 1;
		} else {
			r->later[k]++;
			r->twice[k] += at0[k][i];
		}
	}
	fclose(f);
	free(at0[0]);
	free(at0[1]);
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

/* The contents of dir/part-IIIII (*len bytes); the caller frees them. */
static char *
read_part(const char *dir, uint32_t i, size_t *len)
{
	char path[PATH_MAX + 32];
	struct stat st;
	char *buf;
	int fd;

	snprintf(path, sizeof(path), "%s/part-%05u", dir, i);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0)
		bench_die("%s: %s", path, strerror(errno));
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		bench_die("out of memory");
	*len = bench_read_full(fd, buf, (size_t)st.st_size, path);
	close(fd);
	return buf;
}

/* The recovered job's output must be the one from scratch, file for
 * file: N part files, N x GEN_RECORDS lines in all. */
static void
outputs_check(const char *ref, const char *out, uint32_t n)
{
	uint64_t lines = 0;

	if (part_files(ref) != n || part_files(out) != n)
		bench_die("%u and %u part files, expected %u (%s, %s)",
		    part_files(ref), part_files(out), n, ref, out);
	for (uint32_t i = 0; i < n; i++) {
		size_t la, lb;
		char *a = read_part(ref, i, &la), *b = read_part(out, i, &lb);

		if (la != lb || memcmp(a, b, la) != 0)
			bench_die("MISMATCH: %s/part-%05u (%zu bytes) differs "
			          "from the run from scratch's (%zu bytes)",
			    out, i, lb, la);
		for (size_t k = 0; k < la; k++)
			lines += a[k] == '\n';
		free(a);
		free(b);
	}
	if (lines != (uint64_t)GEN_RECORDS * n)
		bench_die("%s: %" PRIu64 " lines, expected %" PRIu64, ref,
		    lines, (uint64_t)GEN_RECORDS * n);
}

/* One run of the job of n + n tasks, in its own directory. */
struct run {
	char dir[PATH_MAX], url[PATH_MAX + 32], state[PATH_MAX + 32];
	char out[PATH_MAX + 32], clog[PATH_MAX + 32], wlog[PATH_MAX + 32];
	char slog[PATH_MAX + 32], jpath[PATH_MAX + 32];
	char lpath[PATH_MAX + 192], job[128];
	pid_t cp, wp;
	struct watch w;
};

/* Start a coordinator and the worker w1 in dir, and submit the job once
 * w1 registered: the time just before `sluice submit`. */
static double
run_start(struct run *r, const char *dir, uint32_t n)
{
	char *wav[] = { sluice, "worker", "--coordinator", r->url, "--id", "w1",
		"--slots", "8", NULL };
	char *sav[] = { sluice, "submit", "--coordinator", r->url, r->jpath,
		NULL };
	double t0, wall;
	char *text;

	snprintf(r->dir, sizeof(r->dir), "%s", dir);
	snprintf(r->url, sizeof(r->url), "ipc://%s/c.sock", dir);
	snprintf(r->state, sizeof(r->state), "%s/state", dir);
	snprintf(r->out, sizeof(r->out), "%s/out", dir);
	snprintf(r->clog, sizeof(r->clog), "%s/coordinator.txt", dir);
	snprintf(r->wlog, sizeof(r->wlog), "%s/worker.txt", dir);
	snprintf(r->slog, sizeof(r->slog), "%s/status.txt", dir);
	snprintf(r->jpath, sizeof(r->jpath), "%s/job.json", dir);
	snprintf(r->job, sizeof(r->job), "oplog-bench-%u-1", n);
	snprintf(r->lpath, sizeof(r->lpath), "%s/%s.log", r->state, r->job);
	if (mkdir(dir, 0755) != 0 || mkdir(r->state, 0700) != 0)
		bench_die("%s: %s", dir, strerror(errno));
	text = job_text(n, r->out);
	write_file(r->jpath, text);
	free(text);
	sync();
	r->cp = start_coordinator(&r->w, r->url, r->state, r->clog, r->job);
	r->wp = bench_start("sluice worker", wav, child_env, r->wlog, -1);
	watch_until(
	    &r->w, &r->w.reg, "worker registered line", REGISTER_WAIT_S);
	t0 = bench_now();
	bench_run_or_die("sluice submit", sav, NULL, r->slog, &wall, NULL);
	return t0;
}

/* Wait for the job's FINISHED line, check its status, stop both. */
static void
run_end(struct run *r)
{
	watch_until(&r->w, &r->w.done, "FINISHED line", WAIT_S);
	check_status(&r->w, r->url, r->slog);
	bench_stop(r->cp);
	bench_stop(r->wp);
	watch_close(&r->w);
}

/* The job from scratch: s from `sluice submit` to its FINISHED line. */
static double
scratch_run(const char *dir, uint32_t n)
{
	struct run r;
	struct ran ran;
	double t0 = run_start(&r, dir, n);

	run_end(&r);
	ran_read(r.wlog, n, &ran);
	if (ran.first[0] != n || ran.first[1] != n || ran.later[0] != 0 ||
	    ran.later[1] != 0)
		bench_die("job %s from scratch: the worker ran %u gen and %u "
		          "sink tasks, %u and %u again, expected %u each once "
		          "(%s)",
		    r.job, ran.first[0], ran.first[1], ran.later[0],
		    ran.later[1], n, r.wlog);
	return r.w.done - t0;
}

/* The end of the log at path on stderr: a worker's, when it is the
 * culprit (bench_keep keeps only the coordinator's). */
static void
print_tail(const char *path)
{
	char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return;
	if (fseek(f, -(long)sizeof(buf) + 1, SEEK_END) != 0)
		rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	fprintf(stderr, "--- the end of %s ---\n%s--- end ---\n", path, buf);
}

/* What a crash and its recovery took and kept. */
struct crash {
	double at;                    /* s from submit to the kill */
	double read, reg, kept, done; /* s from the new coordinator's fork */
	uint64_t kill_bytes, kill_records, end_bytes;
	unsigned sinks; /* sink tasks logged finished at the kill */
	unsigned nkept; /* regions kept */
	unsigned after; /* tasks the new coordinator ran */
	unsigned twice; /* of them, ones running at the kill */
	double saved_tasks, saved_bytes; /* shares of the job not run again */
};

/* The job until every gen task is logged finished; SIGKILL to its
 * coordinator, a new one at once on the same state directory; the
 * worker lives on. */
static void
crash_run(const char *dir, uint32_t n, struct crash *c)
{
	char clog2[PATH_MAX + 32], why[1024];
	struct logstat s, end;
	struct run r;
	struct ran ran;
	struct stat st;
	off_t seen = -1;
	double t_submit, t0;
	uint64_t all = 0, kept = 0;

	logstat_init(&s, n);
	t_submit = run_start(&r, dir, n);
	while (s.fin[0] < n) {
		watch_pump(&r.w, POLL_MS);
		if (r.w.done >= 0)
			watch_die(&r.w,
			    "it finished before the log held all "
			    "its gen tasks' finished records");
		if (bench_now() - t_submit > WAIT_S)
			watch_die(&r.w, "its gen tasks did not all finish");
		if (stat(r.lpath, &st) != 0 || st.st_size == seen)
			continue;
		seen = st.st_size;
		log_read(r.lpath, &s, true);
	}
	bench_kill(r.cp);
	c->at = bench_now() - t_submit;
	watch_close(&r.w);
	if (stat(r.lpath, &st) != 0)
		bench_die("%s: %s", r.lpath, strerror(errno));

	snprintf(clog2, sizeof(clog2), "%s/coordinator-after.txt", dir);
	t0 = bench_now();
	r.cp = start_coordinator(&r.w, r.url, r.state, clog2, r.job);
	while (r.w.reg < 0 && bench_now() - t0 < REGISTER_WAIT_S)
		watch_pump(&r.w, 200);
	if (r.w.reg < 0) {
		print_tail(r.wlog);
		watch_die(&r.w,
		    "w1 did not register again (the end of its "
		    "log is above)");
	}
	run_end(&r);
	if (r.w.read < 0 || r.w.reg < 0 || r.w.kept < 0)
		watch_die(&r.w, "a line it should have printed is missing");
	if (r.w.pid != (unsigned)r.wp)
		watch_die(&r.w, "w1 registered from another process");
	c->read = r.w.read - t0;
	c->reg = r.w.reg - t0;
	c->kept = r.w.kept - t0;
	c->done = r.w.done - t0;

	/* the log as the new coordinator found it */
	s.limit = (uint64_t)st.st_size;
	log_read(r.lpath, &s, true);
	c->kill_bytes = s.bytes;
	c->kill_records = s.records;
	c->sinks = s.fin[1];
	logstat_init(&end, 0);
	log_read(r.lpath, &end, false);
	c->end_bytes = end.bytes;
	c->nkept = r.w.nkept;
	ran_read(r.wlog, n, &ran);
	if (s.fin[0] != n || r.w.nkept != s.fin[0] + s.fin[1] ||
	    r.w.rerun != 0 || r.w.ndone != r.w.nkept || r.w.ntasks != 2 * n ||
	    ran.later[0] != 0 || r.w.gone != 0) {
		snprintf(why, sizeof(why),
		    "the log held %u gen and %u sink tasks finished at the "
		    "kill; the coordinator kept %u regions, %u finished tasks "
		    "to run again, %u done of %u; the worker ran %u gen tasks "
		    "again; %u \"no longer holds\" lines%s%s",
		    s.fin[0], s.fin[1], r.w.nkept, r.w.rerun, r.w.ndone,
		    r.w.ntasks, ran.later[0], r.w.gone,
		    r.w.gone ? ", the first: " : "", r.w.gone_line);
		watch_die(&r.w, why);
	}
	if (ran.first[0] != n || ran.later[1] != n - s.fin[1])
		bench_die("job %s: the worker ran %u gen tasks, then %u sink "
		          "tasks after the crash; expected %u and %u (%s)",
		    r.job, ran.first[0], ran.later[1], n, n - s.fin[1], r.wlog);
	c->after = ran.later[0] + ran.later[1];
	c->twice = ran.twice[0] + ran.twice[1];
	/* the job's work in bytes: each partition written by its gen task
	 * and read by its sink task */
	for (uint32_t i = 0; i < n; i++) {
		all += s.gen_bytes[i];
		kept += s.gen_bytes[i] * (1u + s.done[1][i]);
	}
	c->saved_tasks = (double)r.w.nkept / (2.0 * n);
	c->saved_bytes = all > 0 ? (double)kept / (2.0 * (double)all) : 0;
	logstat_free(&s);
}

enum {
	M_AT,
	M_READ,
	M_REG,
	M_KEPT,
	M_DONE,
	M_SCRATCH,
	M_KB,
	M_RECS,
	M_SINKS,
	M_NKEPT,
	M_AFTER,
	M_TWICE,
	M_SAVED_T,
	M_SAVED_B,
	M_END_KB,
	NMED
};

/* For bench/run: per N, the job's end after the crash against the same
 * job from scratch, and when the new coordinator had kept the finished
 * regions (no reference: nothing else does that); the curves of the
 * recovery's steps against the tasks finished at the kill, and of the two
 * jobs' times against N. */
static void
recovery_results(const uint32_t *sizes, unsigned nsizes, double med[][NMED])
{
	static const char fin[] = "tasks finished in the log at the kill";
	static const char ms[] = "ms from the new coordinator's start";
	static const char tn[] = "N (gen tasks, and as many sink tasks)";
	char name[128];

	for (unsigned z = 0; z < nsizes; z++) {
		double *m = med[z];

		snprintf(name, sizeof(name),
		    "oplog: recovery, %u + %u tasks: job finished after the "
		    "crash",
		    sizes[z], sizes[z]);
		bench_result(name, m[M_DONE], "s", "the same job from scratch",
		    m[M_SCRATCH], m[M_SCRATCH] / m[M_DONE], 0);
		snprintf(name, sizeof(name),
		    "oplog: recovery, %u + %u tasks: finished regions kept",
		    sizes[z], sizes[z]);
		bench_result(name, m[M_KEPT] * 1e3, "ms", NULL, 0, 0, 0);
		bench_point("recovery_time", fin, ms, "log read", m[M_NKEPT],
		    m[M_READ] * 1e3);
		bench_point("recovery_time", fin, ms, "worker registered again",
		    m[M_NKEPT], m[M_REG] * 1e3);
		bench_point("recovery_time", fin, ms, "finished regions kept",
		    m[M_NKEPT], m[M_KEPT] * 1e3);
		bench_point("recovery_job", tn, "s",
		    "after the crash, from the new coordinator's start",
		    sizes[z], m[M_DONE]);
		bench_point("recovery_job", tn, "s",
		    "from scratch, from sluice submit", sizes[z], m[M_SCRATCH]);
	}
}

static void
recovery(const char *tmp, const uint32_t *sizes, unsigned nsizes,
    unsigned long long rounds)
{
	double med[MAX_SIZES][NMED];
	char rdir[PATH_MAX], sdir[PATH_MAX];
	char rout[PATH_MAX + 8], sout[PATH_MAX + 8];

	for (unsigned z = 0; z < nsizes; z++) {
		uint32_t n = sizes[z];
		double *v[NMED];

		for (int k = 0; k < NMED; k++)
			v[k] = bench_doubles(rounds);
		for (unsigned long long i = 0; i < rounds; i++) {
			struct crash c = { 0 };
			double scratch = 0;

			snprintf(
			    rdir, sizeof(rdir), "%s/crash-%u-%llu", tmp, n, i);
			snprintf(sdir, sizeof(sdir), "%s/scratch-%u-%llu", tmp,
			    n, i);
			/* from scratch first in odd rounds */
			for (int k = 0; k < 2; k++) {
				if ((i + (unsigned long long)k) % 2 == 0)
					crash_run(rdir, n, &c);
				else
					scratch = scratch_run(sdir, n);
			}
			snprintf(rout, sizeof(rout), "%s/out", rdir);
			snprintf(sout, sizeof(sout), "%s/out", sdir);
			outputs_check(sout, rout, n);
			bench_remove_tree(rdir);
			bench_remove_tree(sdir);
			v[M_AT][i] = c.at;
			v[M_READ][i] = c.read;
			v[M_REG][i] = c.reg;
			v[M_KEPT][i] = c.kept;
			v[M_DONE][i] = c.done;
			v[M_SCRATCH][i] = scratch;
			v[M_KB][i] = (double)c.kill_bytes / 1e3;
			v[M_RECS][i] = (double)c.kill_records;
			v[M_SINKS][i] = c.sinks;
			v[M_NKEPT][i] = c.nkept;
			v[M_AFTER][i] = c.after;
			v[M_TWICE][i] = c.twice;
			v[M_SAVED_T][i] = c.saved_tasks * 100;
			v[M_SAVED_B][i] = c.saved_bytes * 100;
			v[M_END_KB][i] = (double)c.end_bytes / 1e3;
			fprintf(stderr,
			    "N %u, round %llu/%llu: killed %.3f s after submit "
			    "(%u sink tasks logged finished); kept %u regions "
			    "at %.3f s, %u tasks run after, %u of them twice, "
			    "FINISHED at %.3f s; from scratch %.3f s\n",
			    n, i + 1, rounds, c.at, c.sinks, c.nkept, c.kept,
			    c.after, c.twice, c.done, scratch);
		}
		for (int k = 0; k < NMED; k++) {
			med[z][k] = bench_median(v[k], rounds);
			free(v[k]);
		}
	}

	printf("3. recovery from a crash: gen (generate, %d records of %d + 8 "
	       "bytes a task) x N\n-> blocking pointwise localdisk -> sink "
	       "(file_sink, tsv) x N, submitted to a\nstandalone coordinator "
	       "(--state-dir, --heartbeat-ms 100) with one worker w1 (8\n"
	       "slots); SIGKILL to the coordinator once its log holds every "
	       "gen task's\nfinished record, and a new one started at once "
	       "on the same state directory;\nw1 lives on and registers "
	       "again. Medians of %llu rounds\n",
	    GEN_RECORDS, KEY_BYTES, rounds);
	printf("%6s %9s | %9s %9s %9s %9s | %9s\n", "N", "killed at",
	    "log read", "w1 regist", "kept", "FINISHED", "scratch");
	for (unsigned z = 0; z < nsizes; z++)
		printf("%6u %9.0f | %9.1f %9.1f %9.1f %9.0f | %9.0f\n",
		    sizes[z], med[z][M_AT] * 1e3, med[z][M_READ] * 1e3,
		    med[z][M_REG] * 1e3, med[z][M_KEPT] * 1e3,
		    med[z][M_DONE] * 1e3, med[z][M_SCRATCH] * 1e3);
	printf(
	    "ms; killed at: from `sluice submit`; log read, w1 regist(ered), "
	    "kept, FINISHED:\nfrom the new coordinator's start to its "
	    "stderr lines \"job ... recovered from\",\n\"worker w1 "
	    "registered\", \"K regions kept from the log, 0 finished tasks "
	    "to run\nagain\" and \"job ... FINISHED\" (then `sluice status` "
	    "lists it FINISHED);\nscratch: the same job on a fresh "
	    "coordinator and worker, from `sluice submit`\nto its "
	    "FINISHED line\n");
	printf("%6s %8s %8s %6s | %6s %6s %6s | %7s %7s | %8s\n", "N", "log KB",
	    "records", "sinks", "kept", "after", "twice", "tasks %", "bytes %",
	    "end KB");
	for (unsigned z = 0; z < nsizes; z++)
		printf(
		    "%6u %8.1f %8.0f %6.0f | %6.0f %6.0f %6.0f | %7.1f %7.1f "
		    "| %8.1f\n",
		    sizes[z], med[z][M_KB], med[z][M_RECS], med[z][M_SINKS],
		    med[z][M_NKEPT], med[z][M_AFTER], med[z][M_TWICE],
		    med[z][M_SAVED_T], med[z][M_SAVED_B], med[z][M_END_KB]);
	printf("log KB, records: the log at the kill, as the new coordinator "
	       "read it; sinks:\nsink tasks logged finished by then (every "
	       "gen task was); kept: regions kept\n(a task each, of 2N); "
	       "after: tasks the new coordinator ran; twice: those of\nthem "
	       "that were running at the kill (their work lost); tasks %%, "
	       "bytes %%: the\njob's work not run again, in tasks and in "
	       "partition bytes (each written by its\ngen task and read by "
	       "its sink task); end KB: the log when the job ended\n");
	recovery_results(sizes, nsizes, med);
}

/* ---- main ---- */

static _Noreturn void
usage(void)
{
	fprintf(stderr,
	    "usage: oplog_bench [--part 1|2|3]... [--words N] [--runs R] "
	    "[--records N]\n"
	    "                   [--tasks N,...] [--recoveries R] [--dir DIR]\n"
	    "\n"
	    "1. examples/jobs/wordcount-blocking.json on N words (default "
	    "10000000, about\n"
	    "   60 MB) by sluice run, R times (default 5) without and with "
	    "--state-dir;\n"
	    "2. N records (default 100000) of 200 bytes appended to an "
	    "operation log,\n"
	    "   synced every 1, 10, 100, 1000 records and at the end;\n"
	    "3. a job of N + N tasks (default 1000,10000) whose coordinator "
	    "is SIGKILLed\n"
	    "   once its N gen tasks are logged finished, and recovered by a "
	    "new one, R\n"
	    "   rounds (default 3) beside the same job from scratch.\n"
	    "--part runs only the parts named (default all). Scratch files go "
	    "to a\ntemporary directory under DIR (default $TMPDIR or /tmp).\n");
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
	unsigned long long rounds = 3, part = 0;
	uint32_t sizes[MAX_SIZES] = { 1000, 10000 };
	unsigned nsizes = 2, parts = 0;
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
		else if (strcmp(argv[i], "--part") == 0)
			v = &part, max = 3;
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
		if (v == &part)
			parts |= 1u << part;
	}
	if (parts == 0)
		parts = 1u << 1 | 1u << 2 | 1u << 3;

	bench_catch_signals();
	bench_sluice_path(sluice, sizeof(sluice));
	tmp = bench_scratch_dir(base, "sluice-oplog");
	make_child_env(); /* with its SLUICE_LOCALDISK_DIR */

	if (parts & 1u << 1) {
		wordcount(tmp, words, runs);
		fflush(stdout);
	}
	if (parts & 1u << 2) {
		micro(tmp, records);
		fflush(stdout);
	}
	if (parts & 1u << 3)
		recovery(tmp, sizes, nsizes, rounds);
	return 0;
}
