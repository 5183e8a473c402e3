/*
 * The task executor (core/exec): whole jobs of builtin operators run with
 * sli_local_run over the memory shuffle, every task on its own thread, and
 * single tasks run with sli_task_run against partitions the test registers
 * and writes itself (cancel while blocked, malformed and failed inputs).
 * Plugins come from $SL_BINARY_DIR/lib/sluice/plugins.d.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "data/records.h"
#include "exec/task.h"
#include "graph/exec.h"
#include "plugin/loader.h"
#include "sl_test.h"
#include "sl_testutil.h"

static struct sli_plugin_set set;
static bool set_loaded;

static struct sli_plugin_set *
plugins(void)
{
	if (!set_loaded) {
		const char *bin = getenv("SL_BINARY_DIR");
		char dir[1024];
		int rv;

		if (bin == NULL) {
			fprintf(stderr,
			    "SL_BINARY_DIR is not set: run under "
			    "ctest\n");
			CU_FAIL_FATAL("SL_BINARY_DIR");
		}
		snprintf(dir, sizeof(dir), "%s/lib/sluice/plugins.d", bin);
		rv = sli_plugin_set_scan(&set, dir, true);
		if (rv < 0)
			fprintf(stderr, "%s\n", sl_errdetail());
		CU_ASSERT_FATAL(rv > 0);
		set_loaded = true;
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(
	    sli_plugin_set_find(&set, SL_PLUGIN_SHUFFLE, "memory"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(sli_operator_find(&set, "generate", NULL));
	return &set;
}

/* ---- files -------------------------------------------------------------
 */

static char tmp_root[256];

static void
tmp_path(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s",
	    sl_tmp_dir(tmp_root, sizeof(tmp_root), "sl-exec"), name);
}

/* ---- records files (file_sink "records") -------------------------------
 */

struct blob {
	unsigned char *p;
	size_t n;
};

struct blobs {
	struct blob *v;
	size_t n;
	size_t cap;
};

static void
blobs_add(struct blobs *b, const void *p, size_t n)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 256;
		b->v = realloc(b->v, b->cap * sizeof(*b->v));
	}
	b->v[b->n].p = malloc(n ? n : 1);
	memcpy(b->v[b->n].p, p, n);
	b->v[b->n++].n = n;
}

static void
blobs_free(struct blobs *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->v[i].p);
	free(b->v);
	memset(b, 0, sizeof(*b));
}

static int
cmp_blob(const void *a, const void *b)
{
	const struct blob *x = a, *y = b;
	int c = memcmp(x->p, y->p, x->n < y->n ? x->n : y->n);

	return c != 0 ? c : (x->n > y->n) - (x->n < y->n);
}

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* Append the records of DIR/part-IIIII to out (each as its bytes after
 * the length); -1 when the file is missing or malformed, else the count. */
static long
read_records(const char *dir, uint32_t part, struct blobs *out)
{
	char path[700];
	size_t len, off = 0;
	long count = 0;
	unsigned char *data;

	snprintf(path, sizeof(path), "%s/part-%05u", dir, part);
	if ((data = (unsigned char *)sl_read_file(path, &len)) == NULL)
		return -1;
	while (off + 4 <= len) {
		uint32_t l = le32(data + off);

		if (l < 4 || l > len - off - 4)
			break;
		blobs_add(out, data + off + 4, l);
		off += 4 + (size_t)l;
		count++;
	}
	free(data);
	return off == len ? count : -1;
}

static bool
same_blobs(struct blobs *a, struct blobs *b)
{
	qsort(a->v, a->n, sizeof(*a->v), cmp_blob);
	qsort(b->v, b->n, sizeof(*b->v), cmp_blob);
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (cmp_blob(&a->v[i], &b->v[i]) != 0)
			return false;
	return true;
}

/* Whether s starts with prefix; says what it got when not. */
static bool
starts_with(const char *s, const char *prefix)
{
	if (strncmp(s, prefix, strlen(prefix)) == 0)
		return true;
	fprintf(stderr, "\ngot '%s'\nwant '%s...'\n", s, prefix);
	return false;
}

/* ---- jobs --------------------------------------------------------------
 */

struct run {
	sl_job *job;
	struct sli_exec x;
	struct sli_task_metrics *m;
	int rv;
	char detail[1200];
};

static void
run_free(struct run *r)
{
	sli_exec_free(&r->x);
	sl_job_free(r->job);
	free(r->m);
	memset(r, 0, sizeof(*r));
}

/* Load the job text, run it with sli_local_run; r->rv and r->detail say
 * how it went. cancel is passed on (may be NULL). */
static bool no_chaining; /* run_job runs every task on its own thread */

static void
run_job(struct run *r, atomic_bool *cancel, const char *fmt, ...)
{
	static char text[16384];
	struct sli_local_opts o = { .no_chaining = no_chaining };
	va_list ap;
	int rv;

	memset(r, 0, sizeof(*r));
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	rv = sl_job_load_json(text, strlen(text), "test.json", &r->job);
	if (rv != 0)
		fprintf(stderr, "%s\n", sl_errdetail());
	CU_ASSERT_EQUAL_FATAL(rv, 0);
	CU_ASSERT_EQUAL_FATAL(sli_exec_build(r->job, NULL, &r->x), 0);
	r->m = calloc(r->x.ntasks + 1, sizeof(*r->m));
	o.metrics = r->m;
	o.cancel = cancel;
	r->rv = sli_local_run(&r->x, plugins(), &o);
	snprintf(r->detail, sizeof(r->detail), "%s", sl_errdetail());
	/* A run that went through ended every task (progress counts them). */
	for (uint32_t t = 0; r->rv == 0 && t < r->x.ntasks; t++)
		CU_ASSERT_TRUE(atomic_load(&r->m[t].ended));
	if (r->rv != 0 && getenv("SL_TEST_VERBOSE") != NULL)
		fprintf(stderr, "run: %s: %s\n", sl_errname(r->rv), r->detail);
}

/* Sum of a metric over the tasks of vertex id. */
enum metric { REC_IN, BYTES_IN, REC_OUT, BYTES_OUT };

static uint64_t
vsum(const struct run *r, const char *id, enum metric what)
{
	int64_t v = sli_job_find_vertex(r->job, id);
	uint64_t s = 0;

	CU_ASSERT_FATAL(v >= 0);
	for (uint32_t i = 0; i < r->x.par[v]; i++) {
		struct sli_task_metrics *m = &r->m[r->x.base[v] + i];

		s += what == REC_IN    ? atomic_load(&m->records_in)
		    : what == BYTES_IN ? atomic_load(&m->bytes_in)
		    : what == REC_OUT  ? atomic_load(&m->records_out)
		                       : atomic_load(&m->bytes_out);
	}
	return s;
}

/* The records generate makes, by a run of one task into one part file. */
static void
ref_generate(
    uint64_t count, uint64_t seed, uint32_t kb, uint32_t vb, struct blobs *out)
{
	char dir[512];
	struct run r;

	tmp_path(dir, sizeof(dir), "ref");
	sl_rm_rf(dir);
	run_job(&r, NULL,
	    "{\"name\": \"ref\", \"vertices\": ["
	    "{\"id\": \"g\", \"operator\": \"generate\", \"parallelism\": 1,"
	    " \"config\": {\"count\": %llu, \"seed\": %llu, \"key_bytes\": %u,"
	    " \"value_bytes\": %u}},"
	    "{\"id\": \"s\", \"operator\": \"file_sink\", \"parallelism\": 1,"
	    " \"config\": {\"path\": \"%s\", \"format\": \"records\"}}],"
	    "\"edges\": [{\"from\": \"g\", \"to\": \"s\", \"distribution\":"
	    " \"pointwise\", \"type\": \"pipelined\"}]}",
	    (unsigned long long)count, (unsigned long long)seed, kb, vb, dir);
	CU_ASSERT_EQUAL(r.rv, 0);
	CU_ASSERT_EQUAL(read_records(dir, 0, out), (long)count);
	run_free(&r);
	sl_rm_rf(dir);
}

/* ---- WordCount ---------------------------------------------------------
 */

static char *
wordcount_text(size_t want, size_t *len, size_t *nlines)
{
	static const char *vocab[] = { "the", "The", "THE", "sluice", "gate",
		"r2d2", "42", "x", "Zebra", "naïve", "café", "don't", "e-mail",
		"a_b", "λόγος", "2024年", "Flow", "flow", "FLOW" };
	char *text = malloc(want + 64);
	uint64_t s = 11;
	size_t n = 0;

	*nlines = 0;
	while (n < want) {
		const char *w;
		unsigned sep;

		s = s * 6364136223846793005u + 1442695040888963407u;
		w = vocab[(s >> 33) % (sizeof(vocab) / sizeof(vocab[0]))];
		memcpy(text + n, w, strlen(w));
		n += strlen(w);
		sep = (unsigned)((s >> 20) % 19);
		if (sep < 12) {
			text[n++] = ' ';
		} else if (sep < 14) {
			text[n++] = '\n';
			(*nlines)++;
		} else if (sep < 15) {
			n += (size_t)sprintf(text + n, "\r\n\n");
			*nlines += 2;
		} else if (sep < 17) {
			n += (size_t)sprintf(
			    text + n, ", w%u.", (unsigned)(s >> 54));
		} else {
			n += (size_t)sprintf(text + n, "\t--");
		}
	}
	/* the last line has no '\n' and still counts */
	if (n > 0 && text[n - 1] != '\n')
		(*nlines)++;
	*len = n;
	return text;
}

static void
test_wordcount(void)
{
	char input[512], outdir[512], names[256], path[700];
	char **want, **got = NULL;
	size_t len, nlines, nwords, nwant, ngot = 0, gotcap = 0;
	char *text = wordcount_text(400000, &len, &nlines);
	struct run r;
	int misrouted = 0;

	tmp_path(input, sizeof(input), "wc.txt");
	tmp_path(outdir, sizeof(outdir), "wc-out");
	sl_write_file(input, text, len);
	run_job(&r, NULL,
	    "{\"name\": \"wordcount\", \"vertices\": ["
	    "{\"id\": \"read\", \"operator\": \"text_source\", "
	    "\"parallelism\": 3, \"config\": {\"path\": \"%s\"}},"
	    "{\"id\": \"words\", \"operator\": \"tokenize\", "
	    "\"parallelism\": 3},"
	    "{\"id\": \"combine\", \"operator\": \"hash_aggregate\", "
	    "\"parallelism\": 3, \"config\": {\"function\": \"count\", "
	    "\"mode\": \"partial\", \"max_entries\": 64}},"
	    "{\"id\": \"count\", \"operator\": \"hash_aggregate\", "
	    "\"parallelism\": 2, \"config\": {\"function\": \"sum\", "
	    "\"mode\": \"final\"}},"
	    "{\"id\": \"write\", \"operator\": \"file_sink\", "
	    "\"parallelism\": 2, \"config\": {\"path\": \"%s\", "
	    "\"format\": \"tsv\"}}],"
	    "\"edges\": ["
	    "{\"from\": \"read\", \"to\": \"words\", \"distribution\": "
	    "\"pointwise\", \"type\": \"pipelined\"},"
	    "{\"from\": \"words\", \"to\": \"combine\", \"distribution\": "
	    "\"pointwise\", \"type\": \"pipelined\"},"
	    "{\"from\": \"combine\", \"to\": \"count\", \"distribution\": "
	    "\"all_to_all\", \"partitioner\": \"hash\", \"type\": "
	    "\"pipelined\"},"
	    "{\"from\": \"count\", \"to\": \"write\", \"distribution\": "
	    "\"pointwise\", \"type\": \"pipelined\"}]}",
	    input, outdir);
	CU_ASSERT_EQUAL_FATAL(r.rv, 0);
	sl_list_dir(outdir, names, sizeof(names));
	CU_ASSERT_STRING_EQUAL(names, "part-00000 part-00001");

	for (int j = 0; j < 2; j++) {
		size_t plen;
		char *data, *save = NULL;

		snprintf(path, sizeof(path), "%s/part-%05d", outdir, j);
		data = sl_read_file(path, &plen);
		CU_ASSERT_PTR_NOT_NULL_FATAL(data);
		for (char *l = strtok_r(data, "\n", &save); l != NULL;
		     l = strtok_r(NULL, "\n", &save)) {
			char *tab = strchr(l, '\t');

			/* the hash partitioner sent the word here */
			if (tab == NULL ||
			    XXH3_64bits(l, (size_t)(tab - l)) % 2 !=
			        (uint64_t)j)
				misrouted++;
			if (ngot == gotcap) {
				gotcap = gotcap ? gotcap * 2 : 256;
				got = realloc(got, gotcap * sizeof(*got));
			}
			got[ngot++] = strdup(l);
		}
		free(data);
	}
	CU_ASSERT_EQUAL(misrouted, 0);
	qsort(got, ngot, sizeof(*got), sl_cmp_str);
	nwant = sl_ref_wordcount(text, len, &want, &nwords);
	CU_ASSERT(nwant > 20);
	CU_ASSERT_EQUAL(ngot, nwant);
	{
		int bad = 0;

		for (size_t i = 0; i < ngot && i < nwant; i++)
			if (strcmp(got[i], want[i]) != 0 && bad++ < 5)
				fprintf(stderr, "got '%s', want '%s'\n", got[i],
				    want[i]);
		CU_ASSERT_EQUAL(bad, 0);
	}

	/* What left each stage arrived at the next, records and bytes. */
	CU_ASSERT_EQUAL(vsum(&r, "read", REC_IN), 0);
	CU_ASSERT_EQUAL(vsum(&r, "read", REC_OUT), nlines);
	CU_ASSERT_EQUAL(vsum(&r, "words", REC_IN), nlines);
	CU_ASSERT_EQUAL(vsum(&r, "words", REC_OUT), nwords);
	CU_ASSERT_EQUAL(vsum(&r, "combine", REC_IN), nwords);
	CU_ASSERT(vsum(&r, "combine", REC_OUT) < nwords / 4);
	CU_ASSERT_EQUAL(
	    vsum(&r, "count", REC_IN), vsum(&r, "combine", REC_OUT));
	CU_ASSERT_EQUAL(vsum(&r, "count", REC_OUT), nwant);
	CU_ASSERT_EQUAL(vsum(&r, "write", REC_IN), nwant);
	CU_ASSERT_EQUAL(vsum(&r, "write", REC_OUT), 0);
	CU_ASSERT_EQUAL(vsum(&r, "write", BYTES_OUT), 0);
	CU_ASSERT(vsum(&r, "read", BYTES_OUT) > len / 2);
	CU_ASSERT_EQUAL(
	    vsum(&r, "read", BYTES_OUT), vsum(&r, "words", BYTES_IN));
	CU_ASSERT_EQUAL(
	    vsum(&r, "words", BYTES_OUT), vsum(&r, "combine", BYTES_IN));
	CU_ASSERT_EQUAL(
	    vsum(&r, "combine", BYTES_OUT), vsum(&r, "count", BYTES_IN));
	CU_ASSERT_EQUAL(
	    vsum(&r, "count", BYTES_OUT), vsum(&r, "write", BYTES_IN));
	/* every task of a stage did its share */
	for (uint32_t t = 0; t < r.x.ntasks; t++)
		if (r.x.task_vertex[t] !=
		    (uint32_t)sli_job_find_vertex(r.job, "read"))
			CU_ASSERT(atomic_load(&r.m[t].records_in) > 0);

	for (size_t i = 0; i < ngot; i++)
		free(got[i]);
	free(got);
	for (size_t i = 0; i < nwant; i++)
		free(want[i]);
	free(want);
	free(text);
	run_free(&r);
	sl_rm_rf(outdir);
	unlink(input);
}

/* ---- routing -----------------------------------------------------------
 */

/* generate(m) -DIST-> file_sink records(n); parts[j] gets part j. */
static void
run_gen_sink(struct run *r, const char *outdir, uint32_t m, uint32_t n,
    const char *dist, uint64_t count, struct blobs *parts)
{
	sl_rm_rf(outdir);
	run_job(r, NULL,
	    "{\"name\": \"route\", \"vertices\": ["
	    "{\"id\": \"gen\", \"operator\": \"generate\", \"parallelism\": %u,"
	    " \"config\": {\"count\": %llu, \"key_bytes\": 6, "
	    "\"value_bytes\": 20, \"seed\": 5}},"
	    "{\"id\": \"sink\", \"operator\": \"file_sink\", "
	    "\"parallelism\": %u, \"config\": {\"path\": \"%s\", "
	    "\"format\": \"records\"}}],"
	    "\"edges\": [{\"from\": \"gen\", \"to\": \"sink\", %s, "
	    "\"type\": \"pipelined\"}]}",
	    m, (unsigned long long)count, n, outdir, dist);
	CU_ASSERT_EQUAL(r->rv, 0);
	for (uint32_t j = 0; j < n; j++)
		CU_ASSERT(read_records(outdir, j, &parts[j]) >= 0);
}

static void
test_round_robin(void)
{
	char outdir[512];
	struct blobs parts[3] = { 0 }, all = { 0 }, want = { 0 };
	struct run r;

	tmp_path(outdir, sizeof(outdir), "rr");
	run_gen_sink(&r, outdir, 2, 3,
	    "\"distribution\": \"all_to_all\", \"partitioner\": "
	    "\"round_robin\"",
	    5001, parts);
	/* 2500 and 2501 records dealt over 3: 833 or 834 each, so the
	 * parts differ by at most 2 */
	for (int j = 0; j < 3; j++) {
		CU_ASSERT(parts[j].n >= 1666 && parts[j].n <= 1668);
		for (size_t i = 0; i < parts[j].n; i++)
			blobs_add(&all, parts[j].v[i].p, parts[j].v[i].n);
	}
	ref_generate(5001, 5, 6, 20, &want);
	CU_ASSERT_TRUE(same_blobs(&all, &want));
	CU_ASSERT_EQUAL(vsum(&r, "gen", REC_OUT), 5001);
	CU_ASSERT_EQUAL(vsum(&r, "sink", REC_IN), 5001);
	CU_ASSERT_EQUAL(vsum(&r, "gen", BYTES_OUT), 5001 * (8 + 26));
	CU_ASSERT_EQUAL(vsum(&r, "sink", BYTES_IN), 5001 * (8 + 26));
	for (int j = 0; j < 3; j++)
		blobs_free(&parts[j]);
	blobs_free(&all);
	blobs_free(&want);
	run_free(&r);
	sl_rm_rf(outdir);
}

static void
test_hash_routing(void)
{
	char outdir[512];
	struct blobs parts[4] = { 0 }, all = { 0 }, want = { 0 };
	struct run r;
	int bad = 0;

	tmp_path(outdir, sizeof(outdir), "hash");
	run_gen_sink(&r, outdir, 3, 4,
	    "\"distribution\": \"all_to_all\", \"partitioner\": \"hash\"", 4000,
	    parts);
	for (uint32_t j = 0; j < 4; j++) {
		CU_ASSERT(parts[j].n > 700);
		for (size_t i = 0; i < parts[j].n; i++) {
			const unsigned char *p = parts[j].v[i].p;

			/* u32 key_len, then the key */
			if (XXH3_64bits(p + 4, le32(p)) % 4 != j)
				bad++;
			blobs_add(&all, p, parts[j].v[i].n);
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	ref_generate(4000, 5, 6, 20, &want);
	CU_ASSERT_TRUE(same_blobs(&all, &want));
	for (int j = 0; j < 4; j++)
		blobs_free(&parts[j]);
	blobs_free(&all);
	blobs_free(&want);
	run_free(&r);
	sl_rm_rf(outdir);
}

static void
test_broadcast(void)
{
	char outdir[512];
	struct blobs parts[3] = { 0 }, want = { 0 };
	struct run r;

	tmp_path(outdir, sizeof(outdir), "bcast");
	run_gen_sink(
	    &r, outdir, 2, 3, "\"distribution\": \"broadcast\"", 1000, parts);
	for (int j = 0; j < 3; j++) {
		ref_generate(1000, 5, 6, 20, &want);
		CU_ASSERT_EQUAL(parts[j].n, 1000);
		CU_ASSERT_TRUE(same_blobs(&parts[j], &want));
		blobs_free(&want);
		blobs_free(&parts[j]);
	}
	/* one record emitted, three copies written and read */
	CU_ASSERT_EQUAL(vsum(&r, "gen", REC_OUT), 1000);
	CU_ASSERT_EQUAL(vsum(&r, "sink", REC_IN), 3000);
	CU_ASSERT_EQUAL(vsum(&r, "gen", BYTES_OUT), vsum(&r, "sink", BYTES_IN));
	run_free(&r);
	sl_rm_rf(outdir);
}

static void
test_pointwise(void)
{
	char outdir[512];
	struct blobs parts[5] = { 0 }, all = { 0 }, want = { 0 };
	struct run r;

	tmp_path(outdir, sizeof(outdir), "pw");
	ref_generate(3001, 5, 6, 20, &want);

	/* m > n: producers [0,2) -> sink#0, [2,5) -> sink#1; generate
	 * makes 600, 600, 600, 600, 601 */
	run_gen_sink(
	    &r, outdir, 5, 2, "\"distribution\": \"pointwise\"", 3001, parts);
	CU_ASSERT_EQUAL(parts[0].n, 1200);
	CU_ASSERT_EQUAL(parts[1].n, 1801);
	for (int j = 0; j < 2; j++) {
		for (size_t i = 0; i < parts[j].n; i++)
			blobs_add(&all, parts[j].v[i].p, parts[j].v[i].n);
		blobs_free(&parts[j]);
	}
	CU_ASSERT_TRUE(same_blobs(&all, &want));
	blobs_free(&all);
	run_free(&r);

	/* m < n: gen#0 (1500) feeds sinks 0..1, gen#1 (1501) sinks 2..4,
	 * round robin */
	run_gen_sink(
	    &r, outdir, 2, 5, "\"distribution\": \"pointwise\"", 3001, parts);
	CU_ASSERT_EQUAL(parts[0].n, 750);
	CU_ASSERT_EQUAL(parts[1].n, 750);
	CU_ASSERT_EQUAL(parts[2].n + parts[3].n + parts[4].n, 1501);
	for (int j = 2; j < 5; j++)
		CU_ASSERT(parts[j].n == 500 || parts[j].n == 501);
	for (int j = 0; j < 5; j++) {
		for (size_t i = 0; i < parts[j].n; i++)
			blobs_add(&all, parts[j].v[i].p, parts[j].v[i].n);
		blobs_free(&parts[j]);
	}
	CU_ASSERT_TRUE(same_blobs(&all, &want));
	blobs_free(&all);
	blobs_free(&want);
	run_free(&r);
	sl_rm_rf(outdir);
}

/* Two inputs into one sink, and a source with two outputs. */
static void
test_fan_in_out(void)
{
	char d1[512], d2[512];
	struct blobs s[2] = { 0 }, t = { 0 }, all = { 0 }, want = { 0 };
	struct blobs ref_b = { 0 };
	struct run r;

	tmp_path(d1, sizeof(d1), "fan-s");
	tmp_path(d2, sizeof(d2), "fan-t");
	run_job(&r, NULL,
	    "{\"name\": \"fan\", \"vertices\": ["
	    "{\"id\": \"a\", \"operator\": \"generate\", \"parallelism\": 2,"
	    " \"config\": {\"count\": 700, \"key_bytes\": 6, "
	    "\"value_bytes\": 20, \"seed\": 5}},"
	    "{\"id\": \"b\", \"operator\": \"generate\", \"parallelism\": 1,"
	    " \"config\": {\"count\": 300, \"key_bytes\": 3, "
	    "\"value_bytes\": 9, \"seed\": 9}},"
	    "{\"id\": \"s\", \"operator\": \"file_sink\", \"parallelism\": 2,"
	    " \"config\": {\"path\": \"%s\", \"format\": \"records\"}},"
	    "{\"id\": \"t\", \"operator\": \"file_sink\", \"parallelism\": 1,"
	    " \"config\": {\"path\": \"%s\", \"format\": \"records\"}}],"
	    "\"edges\": ["
	    "{\"from\": \"a\", \"to\": \"s\", \"distribution\": "
	    "\"all_to_all\", \"type\": \"pipelined\"},"
	    "{\"from\": \"b\", \"to\": \"s\", \"distribution\": "
	    "\"broadcast\", \"type\": \"pipelined\"},"
	    "{\"from\": \"a\", \"to\": \"t\", \"distribution\": "
	    "\"pointwise\", \"type\": \"pipelined\"}]}",
	    d1, d2);
	CU_ASSERT_EQUAL_FATAL(r.rv, 0);
	CU_ASSERT_EQUAL(read_records(d1, 0, &s[0]) + read_records(d1, 1, &s[1]),
	    700 + 2 * 300);
	CU_ASSERT_EQUAL(read_records(d2, 0, &t), 700);
	ref_generate(700, 5, 6, 20, &want);
	CU_ASSERT_TRUE(same_blobs(&t, &want));
	ref_generate(300, 9, 3, 9, &ref_b);
	for (size_t i = 0; i < ref_b.n; i++) {
		blobs_add(&want, ref_b.v[i].p, ref_b.v[i].n);
		blobs_add(&want, ref_b.v[i].p, ref_b.v[i].n);
	}
	for (int j = 0; j < 2; j++)
		for (size_t i = 0; i < s[j].n; i++)
			blobs_add(&all, s[j].v[i].p, s[j].v[i].n);
	CU_ASSERT_TRUE(same_blobs(&all, &want));
	/* a emits each record on both of its edges */
	CU_ASSERT_EQUAL(vsum(&r, "a", REC_OUT), 1400);
	CU_ASSERT_EQUAL(vsum(&r, "s", REC_IN), 1300);
	CU_ASSERT_EQUAL(vsum(&r, "t", REC_IN), 700);
	CU_ASSERT_EQUAL(vsum(&r, "a", BYTES_OUT) + vsum(&r, "b", BYTES_OUT),
	    vsum(&r, "s", BYTES_IN) + vsum(&r, "t", BYTES_IN));
	for (int j = 0; j < 2; j++)
		blobs_free(&s[j]);
	blobs_free(&t);
	blobs_free(&all);
	blobs_free(&want);
	blobs_free(&ref_b);
	run_free(&r);
	sl_rm_rf(d1);
	sl_rm_rf(d2);
}

/* ---- failures and refusals ---------------------------------------------
 */

static void
test_sink_uncreatable(void)
{
	char file[512], outdir[600], names[256];
	struct run r;

	tmp_path(file, sizeof(file), "plain-file");
	sl_write_file(file, "x", 1);
	snprintf(outdir, sizeof(outdir), "%s/out", file);
	/* sources that never end: only the cancel that follows the sinks'
	 * failure stops them */
	run_job(&r, NULL,
	    "{\"name\": \"badsink\", \"vertices\": ["
	    "{\"id\": \"gen\", \"operator\": \"generate\", \"parallelism\": 2,"
	    " \"config\": {\"count\": 1000000000000}},"
	    "{\"id\": \"write\", \"operator\": \"file_sink\", "
	    "\"parallelism\": 2, \"config\": {\"path\": \"%s\", "
	    "\"format\": \"records\"}}],"
	    "\"edges\": [{\"from\": \"gen\", \"to\": \"write\", "
	    "\"distribution\": \"all_to_all\", \"type\": \"pipelined\"}]}",
	    outdir);
	CU_ASSERT_EQUAL(r.rv, -ENOTDIR);
	CU_ASSERT(starts_with(r.detail, "task write#"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.detail, "file_sink: "));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.detail, "mkdir"));
	sl_list_dir(outdir, names, sizeof(names));
	CU_ASSERT_STRING_EQUAL(names, "");
	run_free(&r);
	unlink(file);
}

static void
test_source_missing(void)
{
	char input[512], outdir[512], names[256];
	struct run r;

	tmp_path(input, sizeof(input), "no-such-file.txt");
	tmp_path(outdir, sizeof(outdir), "missing-out");
	run_job(&r, NULL,
	    "{\"name\": \"missing\", \"vertices\": ["
	    "{\"id\": \"read\", \"operator\": \"text_source\", "
	    "\"parallelism\": 3, \"config\": {\"path\": \"%s\"}},"
	    "{\"id\": \"words\", \"operator\": \"tokenize\", "
	    "\"parallelism\": 3},"
	    "{\"id\": \"count\", \"operator\": \"hash_aggregate\", "
	    "\"parallelism\": 2, \"config\": {\"function\": \"count\", "
	    "\"mode\": \"final\"}},"
	    "{\"id\": \"write\", \"operator\": \"file_sink\", "
	    "\"parallelism\": 2, \"config\": {\"path\": \"%s\"}}],"
	    "\"edges\": ["
	    "{\"from\": \"read\", \"to\": \"words\", \"distribution\": "
	    "\"pointwise\", \"type\": \"pipelined\"},"
	    "{\"from\": \"words\", \"to\": \"count\", \"distribution\": "
	    "\"all_to_all\", \"type\": \"pipelined\"},"
	    "{\"from\": \"count\", \"to\": \"write\", \"distribution\": "
	    "\"pointwise\", \"type\": \"pipelined\"}]}",
	    input, outdir);
	/* the cause, not the unreadable inputs downstream */
	CU_ASSERT_EQUAL(r.rv, -ENOENT);
	CU_ASSERT(starts_with(r.detail, "task read#"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.detail, "text_source: "));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.detail, "no-such-file.txt"));
	sl_list_dir(outdir, names, sizeof(names));
	CU_ASSERT_STRING_EQUAL(names, "");
	run_free(&r);
	sl_rm_rf(outdir);
}

/* A sink that fails in process while its producers still emit. */
static void
test_process_fails(void)
{
	char outdir[512], names[256];
	struct run r;

	tmp_path(outdir, sizeof(outdir), "tsv-bad");
	run_job(&r, NULL,
	    "{\"name\": \"badvalue\", \"vertices\": ["
	    "{\"id\": \"gen\", \"operator\": \"generate\", \"parallelism\": 2,"
	    " \"config\": {\"count\": 1000000000000, \"value_bytes\": 5}},"
	    "{\"id\": \"write\", \"operator\": \"file_sink\", "
	    "\"parallelism\": 2, \"config\": {\"path\": \"%s\", "
	    "\"format\": \"tsv\"}}],"
	    "\"edges\": [{\"from\": \"gen\", \"to\": \"write\", "
	    "\"distribution\": \"all_to_all\", \"partitioner\": "
	    "\"round_robin\", \"type\": \"pipelined\"}]}",
	    outdir);
	CU_ASSERT_EQUAL(r.rv, SL_EINVAL);
	CU_ASSERT(starts_with(r.detail, "task write#"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.detail, "a value of 5 bytes"));
	sl_list_dir(outdir, names, sizeof(names));
	CU_ASSERT_STRING_EQUAL(names, "");
	run_free(&r);
	sl_rm_rf(outdir);
}

static void
expect_refused(
    int want, const char *needle, const char *fmt, const char *a, const char *b)
{
	sl_job *job;
	struct sli_exec x;
	char text[2048];
	int rv;

	snprintf(text, sizeof(text), fmt, a, b);
	CU_ASSERT_EQUAL_FATAL(
	    sl_job_load_json(text, strlen(text), "t.json", &job), 0);
	CU_ASSERT_EQUAL_FATAL(sli_exec_build(job, NULL, &x), 0);
	rv = sli_local_run(&x, plugins(), NULL);
	CU_ASSERT_EQUAL(rv, want);
	if (strstr(sl_errdetail(), needle) == NULL) {
		fprintf(
		    stderr, "detail '%s' lacks '%s'\n", sl_errdetail(), needle);
		CU_FAIL("detail");
	}
	sli_exec_free(&x);
	sl_job_free(job);
}

static void
test_refusals(void)
{
	char job[1024], out[512];

	/* Some of these run (the range one fails at its first record): the
	 * sink's directory is the test's own. */
	tmp_path(out, sizeof(out), "refuse-out");
	snprintf(job, sizeof(job),
	    "{\"name\": \"refuse\", \"vertices\": ["
	    "{\"id\": \"gen\", \"operator\": \"%%s\", \"parallelism\": 2,"
	    " \"config\": {\"count\": 10}},"
	    "{\"id\": \"sink\", \"operator\": \"file_sink\", "
	    "\"parallelism\": 2, \"config\": {\"path\": \"%s\"}}],"
	    "\"edges\": [{\"from\": \"gen\", \"to\": \"sink\", %%s}]}",
	    out);

	expect_refused(SL_ENOTSUP,
	    "edge 0 ('gen' -> 'sink'): shuffle plugin 'memory' does not "
	    "offer blocking partitions",
	    job, "generate",
	    "\"distribution\": \"all_to_all\", \"type\": \"blocking\"");
	/* range needs the producer's sample of its keys; generate gives none */
	expect_refused(SL_EINVAL, "gave no sample of its keys", job, "generate",
	    "\"distribution\": \"all_to_all\", \"partitioner\": \"range\", "
	    "\"type\": \"pipelined\"");
	expect_refused(SL_ENOTFOUND, "shuffle plugin 'nosuch' is not loaded",
	    job, "generate",
	    "\"distribution\": \"pointwise\", \"type\": \"pipelined\", "
	    "\"shuffle\": \"nosuch\"");
	expect_refused(SL_ENOTFOUND,
	    "vertex 'gen': operator 'nosuch_op' is not", job, "nosuch_op",
	    "\"distribution\": \"pointwise\", \"type\": \"pipelined\"");
	expect_refused(SL_EINVAL, "vertex 'gen': operator 'tokenize' needs",
	    job, "tokenize",
	    "\"distribution\": \"pointwise\", \"type\": \"pipelined\"");
}

/* ---- cancel ------------------------------------------------------------
 */

struct setter {
	atomic_bool *flag;
	unsigned ms;
};

static void *
set_later(void *arg)
{
	struct setter *s = arg;

	usleep(s->ms * 1000u);
	atomic_store(s->flag, true);
	return NULL;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
test_cancel_run(void)
{
	char outdir[512], names[256];
	atomic_bool flag;
	struct setter s = { &flag, 150 };
	pthread_t th;
	struct run r;
	double t0 = now_s();

	atomic_init(&flag, false);
	tmp_path(outdir, sizeof(outdir), "cancel-out");
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, set_later, &s), 0);
	run_job(&r, &flag,
	    "{\"name\": \"cancel\", \"vertices\": ["
	    "{\"id\": \"gen\", \"operator\": \"generate\", \"parallelism\": 2,"
	    " \"config\": {\"count\": 1000000000000, \"key_bytes\": 0, "
	    "\"value_bytes\": 7, \"ascii\": true}},"
	    "{\"id\": \"up\", \"operator\": \"tokenize\", \"parallelism\": 2},"
	    "{\"id\": \"write\", \"operator\": \"file_sink\", "
	    "\"parallelism\": 1, \"config\": {\"path\": \"%s\", "
	    "\"format\": \"lines\"}}],"
	    "\"edges\": ["
	    "{\"from\": \"gen\", \"to\": \"up\", \"distribution\": "
	    "\"pointwise\", \"type\": \"pipelined\"},"
	    "{\"from\": \"up\", \"to\": \"write\", \"distribution\": "
	    "\"all_to_all\", \"type\": \"pipelined\"}]}",
	    outdir);
	pthread_join(th, NULL);
	CU_ASSERT_EQUAL(r.rv, SL_ECLOSED);
	CU_ASSERT_STRING_EQUAL(r.detail, "job 'cancel': cancelled");
	CU_ASSERT(now_s() - t0 < 5.0);
	CU_ASSERT(vsum(&r, "gen", REC_OUT) > 0);
	/* the sink aborted: not even its temporary file is left */
	sl_list_dir(outdir, names, sizeof(names));
	CU_ASSERT_STRING_EQUAL(names, "");
	run_free(&r);
	sl_rm_rf(outdir);
}

/* ---- single tasks against partitions the test registers ----------------
 */

/* gen(1) -pointwise-> sink(1), one partition registered by the test. */
struct single {
	sl_job *job;
	struct sli_exec x;
	struct sli_plugin *mem;
	void *master;
	struct sl_bytes desc;
	uint64_t sub_bytes[1];
	struct sli_task_output out;
	struct sli_task_input in;
	struct sli_task_ctl ctl;
	struct sli_task_metrics m;
	struct sli_task_spec spec;
	char outdir[512];
	/* set by the thread running the task */
	int rv;
	char detail[1200];
};

static void
single_init(struct single *s, const char *gen_config)
{
	const struct sl_shuffle_master_ops *mo;
	struct sl_partition_spec ps = {
		.struct_size = sizeof(ps),
		.type = SL_PARTITION_PIPELINED,
		.job_id = "single",
		.edge = 0,
		.producer = 0,
		.attempt = 0,
		.num_subpartitions = 1,
	};
	char text[2048];

	memset(s, 0, sizeof(*s));
	tmp_path(s->outdir, sizeof(s->outdir), "single-out");
	sl_rm_rf(s->outdir);
	snprintf(text, sizeof(text),
	    "{\"name\": \"single\", \"vertices\": ["
	    "{\"id\": \"gen\", \"operator\": \"generate\", \"parallelism\": 1"
	    "%s%s},"
	    "{\"id\": \"sink\", \"operator\": \"file_sink\", "
	    "\"parallelism\": 1, \"config\": {\"path\": \"%s\", "
	    "\"format\": \"records\"}}],"
	    "\"edges\": [{\"from\": \"gen\", \"to\": \"sink\", "
	    "\"distribution\": \"pointwise\", \"type\": \"pipelined\"}]}",
	    gen_config != NULL ? ", \"config\": " : "",
	    gen_config != NULL ? gen_config : "", s->outdir);
	CU_ASSERT_EQUAL_FATAL(
	    sl_job_load_json(text, strlen(text), "single.json", &s->job), 0);
	CU_ASSERT_EQUAL_FATAL(sli_exec_build(s->job, NULL, &s->x), 0);
	s->mem = sli_plugin_set_find(plugins(), SL_PLUGIN_SHUFFLE, "memory");
	mo = &s->mem->ops.shuffle.master;
	s->master = calloc(1, mo->state_size);
	CU_ASSERT_EQUAL_FATAL(mo->init(s->master, &s->mem->host, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(
	    mo->register_partition(s->master, &ps, &s->desc), 0);
	s->out = (struct sli_task_output) {
		.shuffle = s->mem,
		.desc = s->desc,
		.num_subpartitions = 1,
		.sub_bytes = s->sub_bytes,
	};
	s->in = (struct sli_task_input) {
		.shuffle = s->mem,
		.descs = &s->desc,
		.ndescs = 1,
	};
	CU_ASSERT_EQUAL_FATAL(sli_task_ctl_init(&s->ctl), 0);
	sli_task_metrics_init(&s->m);
}

/* The spec of task id t (0: gen#0, 1: sink#0). */
static struct sli_task_spec *
single_spec(struct single *s, uint32_t t)
{
	struct sli_plugin *lib;
	const char *op = t == 0 ? "generate" : "file_sink";

	s->spec = (struct sli_task_spec) {
		.exec = &s->x,
		.task = t,
		.op = sli_operator_find(plugins(), op, &lib),
		.outputs = t == 0 ? &s->out : NULL,
		.inputs = t == 1 ? &s->in : NULL,
		.ctl = &s->ctl,
		.metrics = &s->m,
	};
	s->spec.op_host = &lib->host;
	return &s->spec;
}

static void
single_fini(struct single *s)
{
	const struct sl_shuffle_master_ops *mo = &s->mem->ops.shuffle.master;

	mo->release_partition(s->master, s->desc.data, s->desc.len);
	s->mem->host.free(s->desc.data);
	mo->fini(s->master);
	free(s->master);
	sli_task_ctl_destroy(&s->ctl);
	sli_exec_free(&s->x);
	sl_job_free(s->job);
	sl_rm_rf(s->outdir);
}

static void *
single_thread(void *arg)
{
	struct single *s = arg;

	s->rv = sli_task_run(&s->spec);
	snprintf(s->detail, sizeof(s->detail), "%s", sl_errdetail());
	return NULL;
}

/* A producer whose partition nobody reads blocks on credit; a cancel
 * wakes it. */
static void
test_cancel_blocked_writer(void)
{
	struct single s;
	pthread_t th;
	double t0;

	single_init(&s, "{\"count\": 1000000000}");
	single_spec(&s, 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, single_thread, &s), 0);
	/* Wait until it wrote the buffers its credit allows and blocks. */
	t0 = now_s();
	while (atomic_load(&s.m.bytes_out) == 0 && now_s() - t0 < 5)
		usleep(1000);
	usleep(100 * 1000);
	CU_ASSERT(atomic_load(&s.m.bytes_out) > 0);
	sli_task_cancel(&s.ctl);
	pthread_join(th, NULL);
	CU_ASSERT_EQUAL(s.rv, SL_ECLOSED);
	CU_ASSERT_STRING_EQUAL(s.detail, "task gen#0: cancelled");
	CU_ASSERT_EQUAL(s.sub_bytes[0], atomic_load(&s.m.bytes_out));
	single_fini(&s);
}

/* A consumer whose producer never comes waits; a cancel wakes it, and a
 * cancel before the start stops it at once. */
static void
test_cancel_waiting_reader(void)
{
	char names[256];
	struct single s;
	pthread_t th;

	single_init(&s, "{\"count\": 1}");
	single_spec(&s, 1);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, single_thread, &s), 0);
	usleep(100 * 1000);
	sli_task_cancel(&s.ctl);
	pthread_join(th, NULL);
	CU_ASSERT_EQUAL(s.rv, SL_ECLOSED);
	CU_ASSERT_STRING_EQUAL(s.detail, "task sink#0: cancelled");
	sl_list_dir(s.outdir, names, sizeof(names));
	CU_ASSERT_STRING_EQUAL(names, "");

	/* cancelled before it started: the flag stays set */
	CU_ASSERT_TRUE(sli_task_cancelled(&s.ctl));
	CU_ASSERT_EQUAL(sli_task_run(&s.spec), SL_ECLOSED);
	single_fini(&s);
}

/* Write raw buffers into the registered partition, as a producer would. */
static void
write_partition(struct single *s, const void *bytes, size_t len, bool finish)
{
	const struct sl_shuffle_writer_ops *wo = &s->mem->ops.shuffle.writer;
	void *w = calloc(1, wo->state_size);
	struct sl_buffer b = { .kind = SL_BUFFER_DATA, .len = len };

	CU_ASSERT_EQUAL_FATAL(
	    wo->open(w, &s->mem->host, s->desc.data, s->desc.len), 0);
	b.data = s->mem->host.alloc(len);
	memcpy(b.data, bytes, len);
	CU_ASSERT_EQUAL(wo->write(w, 0, &b), 0);
	if (finish) {
		CU_ASSERT_EQUAL(wo->finish(w), 0);
	} else {
		wo->fail(w);
	}
	wo->fini(w);
	free(w);
}

static void
test_inputs_checked(void)
{
	struct sl_record rec = {
		.key = "k", .key_len = 1, .value = "vv", .value_len = 2
	};
	struct sli_recbuf rb;
	struct blobs got = { 0 };
	char names[256];
	void *data;
	size_t len;
	struct single s;

	sli_recbuf_init(&rb, 0);
	CU_ASSERT_EQUAL(sli_recbuf_append(&rb, &rec), 0);
	CU_ASSERT_EQUAL(sli_recbuf_append(&rb, &rec), 0);
	sli_recbuf_take(&rb, &data, &len);

	/* well-formed and finished: the sink commits both records */
	single_init(&s, "{\"count\": 1}");
	write_partition(&s, data, len, true);
	CU_ASSERT_EQUAL(sli_task_run(single_spec(&s, 1)), 0);
	CU_ASSERT_EQUAL(read_records(s.outdir, 0, &got), 2);
	CU_ASSERT_EQUAL(atomic_load(&s.m.records_in), 2);
	CU_ASSERT_EQUAL(atomic_load(&s.m.bytes_in), len);
	blobs_free(&got);
	single_fini(&s);

	/* a buffer that is not records: unreadable, the producer named */
	single_init(&s, "{\"count\": 1}");
	write_partition(&s, data, len - 1, true);
	CU_ASSERT_EQUAL(sli_task_run(single_spec(&s, 1)), SL_EUNREADABLE);
	CU_ASSERT(starts_with(sl_errdetail(),
	    "task sink#0: input 0 (edge 0 from 'gen'): producer gen#0: "
	    "malformed buffer: "));
	sl_list_dir(s.outdir, names, sizeof(names));
	CU_ASSERT_STRING_EQUAL(names, "");
	single_fini(&s);

	/* the producer failed: unreadable too */
	single_init(&s, "{\"count\": 1}");
	write_partition(&s, data, len, false);
	CU_ASSERT_EQUAL(sli_task_run(single_spec(&s, 1)), SL_EUNREADABLE);
	CU_ASSERT(starts_with(sl_errdetail(),
	    "task sink#0: input 0 (edge 0 from 'gen'): producer gen#0: "
	    "partition unreadable: "));
	sl_list_dir(s.outdir, names, sizeof(names));
	CU_ASSERT_STRING_EQUAL(names, "");

	/* a spec that does not fit the graph */
	single_spec(&s, 1)->inputs = NULL;
	CU_ASSERT_EQUAL(sli_task_run(&s.spec), SL_EINVAL);
	CU_ASSERT(starts_with(sl_errdetail(), "task sink#0: "));
	single_spec(&s, 0);
	s.out.num_subpartitions = 2;
	CU_ASSERT_EQUAL(sli_task_run(&s.spec), SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "2 subpartitions"));
	single_fini(&s);
	free(data);
}

/* ---- an operator of the test's own ------------------------------------
 */

/* What the probe saw and which of its ops ran. */
/* Operator chaining (a pointwise edge of equal parallelism runs the
 * consumer in the producer's thread): the same part files and the same
 * counters as without it; a chained stage's failure is reported as its
 * own, and leaves nothing visible. */
static void
test_chaining(void)
{
	static const char job[] =
	    "{\"name\": \"chain\", \"vertices\": ["
	    "{\"id\": \"gen\", \"operator\": \"generate\", \"parallelism\": 3,"
	    " \"config\": {\"count\": 20000, \"value_bytes\": %u}},"
	    "{\"id\": \"write\", \"operator\": \"file_sink\", "
	    "\"parallelism\": 3, \"config\": {\"path\": \"%s\", "
	    "\"format\": \"%s\"}}],"
	    "\"edges\": [{\"from\": \"gen\", \"to\": \"write\", "
	    "\"distribution\": \"pointwise\", \"type\": \"pipelined\"}]}";
	char dir[2][512], names[256], path[600];
	struct run r[2];

	for (int c = 0; c < 2; c++) {
		tmp_path(dir[c], sizeof(dir[c]), c ? "chain-off" : "chain-on");
		no_chaining = c == 1;
		run_job(&r[c], NULL, job, 7u, dir[c], "records");
		no_chaining = false;
		CU_ASSERT_EQUAL_FATAL(r[c].rv, 0);
	}
	CU_ASSERT_TRUE(sli_exec_chained(&r[0].x, 0));
	for (int m = REC_IN; m <= BYTES_OUT; m++) {
		CU_ASSERT_EQUAL(vsum(&r[0], "gen", (enum metric)m),
		    vsum(&r[1], "gen", (enum metric)m));
		CU_ASSERT_EQUAL(vsum(&r[0], "write", (enum metric)m),
		    vsum(&r[1], "write", (enum metric)m));
	}
	CU_ASSERT_EQUAL(vsum(&r[0], "write", REC_IN), 20000);
	for (int i = 0; i < 3; i++) {
		size_t a, b;
		char *pa, *pb;

		snprintf(path, sizeof(path), "%s/part-%05d", dir[0], i);
		pa = sl_read_file(path, &a);
		snprintf(path, sizeof(path), "%s/part-%05d", dir[1], i);
		pb = sl_read_file(path, &b);
		CU_ASSERT_TRUE(pa != NULL && pb != NULL && a == b && a > 0 &&
		    memcmp(pa, pb, a) == 0);
		free(pa);
		free(pb);
	}
	for (int c = 0; c < 2; c++) {
		run_free(&r[c]);
		sl_rm_rf(dir[c]);
	}

	/* the chained sink refuses a 5-byte value as a tsv count */
	tmp_path(dir[0], sizeof(dir[0]), "chain-bad");
	run_job(&r[0], NULL, job, 5u, dir[0], "tsv");
	CU_ASSERT_EQUAL(r[0].rv, SL_EINVAL);
	CU_ASSERT(starts_with(r[0].detail, "task write#"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r[0].detail, "a value of 5 bytes"));
	sl_list_dir(dir[0], names, sizeof(names));
	CU_ASSERT_STRING_EQUAL(names, "");
	run_free(&r[0]);
	sl_rm_rf(dir[0]);
}

static struct {
	struct sl_task_ctx ctx; /* a copy, taken in open */
	char config[64];
	int emit_rv;   /* what its bad emit returned */
	int commit_rv; /* what commit returns */
	bool bad_emit; /* emit on an output that does not exist */
	int opened, committed, aborted, closed;
} probe;

static int
probe_open(void *state, const struct sl_task_ctx *ctx)
{
	(void)state;
	probe.ctx = *ctx;
	snprintf(probe.config, sizeof(probe.config), "%s", ctx->config_json);
	probe.opened++;
	return 0;
}

static int
probe_run(void *state, const struct sl_task_ctx *ctx)
{
	struct sl_record rec = {
		.key = "a", .key_len = 1, .value = "b", .value_len = 1
	};
	char name[32];

	(void)state;
	ctx->count(ctx, "things", 2);
	ctx->count(ctx, "things", 3);
	for (int i = 0; i < SLI_TASK_COUNTERS + 2; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		ctx->count(ctx, name, 1);
	}
	for (int i = 0; i < 10; i++)
		if (ctx->emit(ctx, 0, &rec) != 0)
			return SL_EINVAL;
	/* a careless operator: the task fails all the same */
	if (probe.bad_emit)
		probe.emit_rv = ctx->emit(ctx, 1, &rec);
	return 0;
}

static int
probe_commit(void *state, const struct sl_task_ctx *ctx)
{
	(void)state;
	probe.committed++;
	if (probe.commit_rv != 0)
		ctx->host->set_error("probe: commit refused");
	return probe.commit_rv;
}

static void
probe_abort(void *state, const struct sl_task_ctx *ctx)
{
	(void)state;
	(void)ctx;
	probe.aborted++;
}

static void
probe_close(void *state)
{
	(void)state;
	probe.closed++;
}

static int
probe_step(void *state, const struct sl_task_ctx *ctx)
{
	(void)state;
	(void)ctx;
	return 0;
}

static const struct sl_operator_ops probe_ops = {
	.struct_size = sizeof(struct sl_operator_ops),
	.name = "probe",
	.state_size = 8,
	.caps = SL_OPERATOR_SOURCE,
	.open = probe_open,
	.run = probe_run,
	.finish = probe_step,
	.commit = probe_commit,
	.abort = probe_abort,
	.close = probe_close,
};

static void
test_probe_operator(void)
{
	struct single s;
	struct blobs got = { 0 };

	/* the context, the counters, a clean run read by the sink */
	memset(&probe, 0, sizeof(probe));
	single_init(&s, NULL);
	single_spec(&s, 0)->op = &probe_ops;
	s.spec.attempt = 3;
	CU_ASSERT_EQUAL(sli_task_run(&s.spec), 0);
	CU_ASSERT_STRING_EQUAL(probe.ctx.job, "single");
	CU_ASSERT_STRING_EQUAL(probe.ctx.vertex, "gen");
	CU_ASSERT_STRING_EQUAL(probe.config, "{}");
	CU_ASSERT_EQUAL(probe.ctx.index, 0);
	CU_ASSERT_EQUAL(probe.ctx.parallelism, 1);
	CU_ASSERT_EQUAL(probe.ctx.attempt, 3);
	CU_ASSERT_EQUAL(probe.ctx.num_inputs, 0);
	CU_ASSERT_EQUAL(probe.ctx.num_outputs, 1);
	CU_ASSERT_PTR_EQUAL(probe.ctx.host, s.spec.op_host);
	CU_ASSERT_EQUAL(probe.opened, 1);
	CU_ASSERT_EQUAL(probe.committed, 1);
	CU_ASSERT_EQUAL(probe.aborted, 0);
	CU_ASSERT_EQUAL(probe.closed, 1);
	CU_ASSERT_EQUAL(s.m.ncounters, SLI_TASK_COUNTERS);
	CU_ASSERT_STRING_EQUAL(s.m.counters[0].name, "things");
	CU_ASSERT_EQUAL(s.m.counters[0].value, 5);
	CU_ASSERT_EQUAL(s.m.counters_dropped, 3);
	CU_ASSERT_EQUAL(atomic_load(&s.m.records_out), 10);
	CU_ASSERT_EQUAL(atomic_load(&s.m.bytes_out), 10 * (8 + 2));
	CU_ASSERT_EQUAL(s.sub_bytes[0], 10 * (8 + 2));
	sli_task_metrics_init(&s.m);
	CU_ASSERT_EQUAL(sli_task_run(single_spec(&s, 1)), 0);
	CU_ASSERT_EQUAL(read_records(s.outdir, 0, &got), 10);
	blobs_free(&got);
	single_fini(&s);

	/* an emit on an output the vertex lacks fails the task, even when
	 * the operator carries on */
	memset(&probe, 0, sizeof(probe));
	probe.bad_emit = true;
	single_init(&s, "{\"x\": 1}");
	single_spec(&s, 0)->op = &probe_ops;
	CU_ASSERT_EQUAL(sli_task_run(&s.spec), SL_EINVAL);
	CU_ASSERT_EQUAL(probe.emit_rv, SL_EINVAL);
	/* the vertex's config, as the job stored it */
	CU_ASSERT_PTR_NOT_NULL(strstr(probe.config, "\"x\""));
	CU_ASSERT_STRING_EQUAL(sl_errdetail(),
	    "task gen#0: operator 'probe' emitted on output 1; the vertex "
	    "has 1");
	CU_ASSERT_EQUAL(probe.committed, 0);
	CU_ASSERT_EQUAL(probe.aborted, 1);
	CU_ASSERT_EQUAL(probe.closed, 1);
	/* its partition was failed: the consumer cannot read it */
	CU_ASSERT_EQUAL(sli_task_run(single_spec(&s, 1)), SL_EUNREADABLE);
	single_fini(&s);

	/* a commit that fails: the task fails with its reason, and the
	 * partition it had finished is failed after all */
	memset(&probe, 0, sizeof(probe));
	probe.commit_rv = SL_EBUSY;
	single_init(&s, NULL);
	single_spec(&s, 0)->op = &probe_ops;
	CU_ASSERT_EQUAL(sli_task_run(&s.spec), SL_EBUSY);
	CU_ASSERT_STRING_EQUAL(
	    sl_errdetail(), "task gen#0: probe: commit refused");
	CU_ASSERT_EQUAL(probe.aborted, 1);
	CU_ASSERT_EQUAL(sli_task_run(single_spec(&s, 1)), SL_EUNREADABLE);
	single_fini(&s);
}

static void
test_unload(void)
{
	sli_plugin_set_clear(&set);
	set_loaded = false;
	if (tmp_root[0] != '\0')
		sl_rm_rf(tmp_root);
}

static const struct sl_test tests[] = {
	{ "wordcount: 3 -> 3 -> 3 => 2 -> 2, against a reference",
	    test_wordcount },
	{ "all_to_all round_robin: balanced, every record once",
	    test_round_robin },
	{ "all_to_all hash: XXH3(key) % n", test_hash_routing },
	{ "broadcast: every consumer gets every record", test_broadcast },
	{ "pointwise m > n and m < n: every record once", test_pointwise },
	{ "two inputs into one task, two outputs from one", test_fan_in_out },
	{ "sink to an uncreatable directory fails the run",
	    test_sink_uncreatable },
	{ "source on a missing file: the cause is reported",
	    test_source_missing },
	{ "process fails while producers block on credit", test_process_fails },
	{ "operator chaining", test_chaining },
	{ "refused before running: type, range, plugin, operator",
	    test_refusals },
	{ "cancel a running job", test_cancel_run },
	{ "cancel a task blocked on credit", test_cancel_blocked_writer },
	{ "cancel a task waiting for input", test_cancel_waiting_reader },
	{ "malformed, failed and mismatched inputs", test_inputs_checked },
	{ "an operator of the test's own: ctx, counters, misuse",
	    test_probe_operator },
	{ "unload the plugins", test_unload },
	{ NULL, NULL },
};

SL_TEST_MAIN("exec_task", tests)
