/*
 * The builtin operator library (operators/builtin), loaded with the core's
 * loader from $SL_BINARY_DIR/lib/sluice/plugins.d/operators-builtin.so and
 * run in-process by a small harness that plays the task runtime: it makes a
 * struct sl_task_ctx whose emit collects records (or hands them straight
 * to the next operator), and runs open -> run|process -> finish -> commit
 * (or abort) -> close.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "plugin/loader.h"
#include "sl_test.h"
#include "sl_testutil.h"

/* ---- the harness -------------------------------------------------------
 */

struct rec {
	char *key;
	char *val;
	uint32_t klen;
	uint32_t vlen;
};

struct recs {
	struct rec *v;
	size_t n;
	size_t cap;
};

struct task {
	struct sl_task_ctx ctx;
	const struct sl_operator_ops *ops;
	void *state;
	struct recs *out;  /* collects what the task emits, or */
	struct task *next; /* gets it through process */
	uint64_t emitted;
	uint64_t bad_output; /* records emitted on an edge but 0 */
	bool cancel;
};

static struct sli_plugin *lib;
/* The attempt number task_open gives the next task. */
static uint32_t next_attempt;

static char *
dup_bytes(const void *p, size_t n)
{
	char *c = malloc(n + 1);

	memcpy(c, p, n);
	c[n] = '\0';
	return c;
}

static void
recs_add(struct recs *r, const void *k, uint32_t kl, const void *v, uint32_t vl)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->v = realloc(r->v, r->cap * sizeof(*r->v));
	}
	r->v[r->n++] = (struct rec) {
		.key = dup_bytes(k, kl),
		.val = dup_bytes(v, vl),
		.klen = kl,
		.vlen = vl,
	};
}

static void
recs_free(struct recs *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].key);
		free(r->v[i].val);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}

static uint64_t
le64(const void *p)
{
	const unsigned char *b = p;
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | b[i];
	return v;
}

static void
put_le64(unsigned char *b, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		b[i] = (unsigned char)v;
}

static int
h_emit(const struct sl_task_ctx *ctx, uint32_t out, const struct sl_record *r)
{
	struct task *t = ctx->core;

	/* Counted, asserted by the cases: emit runs once per record. */
	if (out != 0)
		t->bad_output++;
	t->emitted++;
	if (t->next != NULL)
		return t->next->ops->process(
		    t->next->state, &t->next->ctx, 0, r);
	if (t->out != NULL)
		recs_add(t->out, r->key, r->key_len, r->value, r->value_len);
	return 0;
}

static bool
h_cancelled(const struct sl_task_ctx *ctx)
{
	return ((struct task *)ctx->core)->cancel;
}

static void
h_count(const struct sl_task_ctx *ctx, const char *name, int64_t d)
{
	(void)ctx;
	(void)name;
	(void)d;
}

static const struct sl_operator_ops *
find_op(const char *name)
{
	if (lib == NULL) {
		const char *bin = getenv("SL_BINARY_DIR");
		char path[1024];
		int rv;

		if (bin == NULL) {
			fprintf(stderr,
			    "SL_BINARY_DIR is not set: run under "
			    "ctest\n");
			return NULL;
		}
		snprintf(path, sizeof(path),
		    "%s/lib/sluice/plugins.d/operators-builtin.so", bin);
		if ((rv = sli_plugin_open(path, &lib)) != 0) {
			fprintf(stderr, "%s\n", sl_errdetail());
			return NULL;
		}
	}
	for (uint32_t i = 0; i < lib->ops.operators.n; i++)
		if (strcmp(lib->ops.operators.v[i].name, name) == 0)
			return &lib->ops.operators.v[i];
	return NULL;
}

/* Open operator name as task index of par; *t is ready for run/process
 * when 0 is returned, and must be ended with task_end either way. */
static int
task_open(struct task *t, const char *name, const char *config, uint32_t index,
    uint32_t par, struct recs *out)
{
	memset(t, 0, sizeof(*t));
	t->ops = find_op(name);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t->ops);
	t->ctx = (struct sl_task_ctx) {
		.struct_size = sizeof(struct sl_task_ctx),
		.host = &lib->host,
		.job = "test",
		.vertex = name,
		.config_json = config,
		.index = index,
		.parallelism = par,
		.attempt = next_attempt,
		.num_inputs = (t->ops->caps & SL_OPERATOR_SOURCE) ? 0 : 1,
		.num_outputs = (t->ops->caps & SL_OPERATOR_SINK) ? 0 : 1,
		.emit = h_emit,
		.cancelled = h_cancelled,
		.count = h_count,
		.core = t,
	};
	t->out = out;
	t->state = calloc(1, t->ops->state_size ? t->ops->state_size : 1);
	return t->ops->open(t->state, &t->ctx);
}

/* finish and commit when ok and rv is 0, else abort; then close. Returns
 * the first failure. */
static int
task_end(struct task *t, int rv)
{
	if (rv == 0)
		rv = t->ops->finish(t->state, &t->ctx);
	if (rv == 0)
		rv = t->ops->commit(t->state, &t->ctx);
	else
		t->ops->abort(t->state, &t->ctx);
	t->ops->close(t->state);
	free(t->state);
	t->state = NULL;
	CU_ASSERT_EQUAL(t->bad_output, 0);
	return rv;
}

static int
run_source(const char *name, const char *config, uint32_t index, uint32_t par,
    struct recs *out)
{
	struct task t;
	int rv = task_open(&t, name, config, index, par, out);

	if (rv == 0)
		rv = t.ops->run(t.state, &t.ctx);
	return task_end(&t, rv);
}

static int
run_op(const char *name, const char *config, uint32_t index, uint32_t par,
    const struct recs *in, struct recs *out)
{
	struct task t;
	int rv = task_open(&t, name, config, index, par, out);

	for (size_t i = 0; rv == 0 && in != NULL && i < in->n; i++) {
		struct sl_record r = {
			.key = in->v[i].key,
			.key_len = in->v[i].klen,
			.value = in->v[i].val,
			.value_len = in->v[i].vlen,
		};
		rv = t.ops->process(t.state, &t.ctx, 0, &r);
	}
	return task_end(&t, rv);
}

/* ---- files -------------------------------------------------------------
 */

static char tmp_root[256];

static const char *
tmp_dir(void)
{
	return sl_tmp_dir(tmp_root, sizeof(tmp_root), "sl-ops");
}

static void
tmp_path(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", tmp_dir(), name);
}

static bool
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* The reference's idea of a word byte. */
static bool
ref_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

/* ---- text_source -------------------------------------------------------
 */

/* The file's lines, split the plain way: '\n' ends a line, a last line
 * without one counts, and an empty file has none. */
static size_t
ref_lines(const char *data, size_t len, struct recs *out)
{
	size_t start = 0;

	for (size_t i = 0; i < len; i++)
		if (data[i] == '\n') {
			recs_add(out, "", 0, data + start, i - start);
			start = i + 1;
		}
	if (start < len)
		recs_add(out, "", 0, data + start, len - start);
	return out->n;
}

/* Every p in 1..maxp gives the file's lines once, in order when the tasks
 * are taken in order. Returns the number of mismatches. */
static int
check_split(const char *path, const char *data, size_t len, uint32_t maxp)
{
	struct recs want = { 0 };
	char config[1200];
	int bad = 0;

	ref_lines(data, len, &want);
	snprintf(config, sizeof(config), "{\"path\": \"%s\"}", path);
	for (uint32_t p = 1; p <= maxp; p++) {
		struct recs got = { 0 };

		for (uint32_t i = 0; i < p; i++)
			CU_ASSERT_EQUAL(
			    run_source("text_source", config, i, p, &got), 0);
		if (got.n != want.n) {
			bad++;
		} else {
			for (size_t k = 0; k < got.n; k++)
				if (got.v[k].klen != 0 ||
				    got.v[k].vlen != want.v[k].vlen ||
				    memcmp(got.v[k].val, want.v[k].val,
				        want.v[k].vlen) != 0) {
					bad++;
					break;
				}
		}
		recs_free(&got);
	}
	recs_free(&want);
	return bad;
}

/* record_source: every record once, split on record boundaries for every
 * p, key and value cut where the config says; a file of broken records is
 * refused. */
static void
test_record_source(void)
{
	char path[512], cfg[700];
	unsigned char file[37 * 12];
	struct recs out;

	for (size_t i = 0; i < sizeof(file); i++)
		file[i] = (unsigned char)(i * 7 + i / 12);
	tmp_path(path, sizeof(path), "recs.bin");
	sl_write_file(path, file, sizeof(file));
	snprintf(cfg, sizeof(cfg),
	    "{\"path\": \"%s\", \"record_bytes\": 12, \"key_bytes\": 3}", path);
	for (uint32_t p = 1; p <= 6; p++) {
		size_t seen = 0;

		for (uint32_t i = 0; i < p; i++) {
			memset(&out, 0, sizeof(out));
			CU_ASSERT_EQUAL(
			    run_source("record_source", cfg, i, p, &out), 0);
			for (size_t k = 0; k < out.n; k++, seen++) {
				CU_ASSERT_EQUAL(out.v[k].klen, 3);
				CU_ASSERT_EQUAL(out.v[k].vlen, 9);
				CU_ASSERT(memcmp(out.v[k].key, file + seen * 12,
				              3) == 0);
				CU_ASSERT(memcmp(out.v[k].val,
				              file + seen * 12 + 3, 9) == 0);
			}
			recs_free(&out);
		}
		CU_ASSERT_EQUAL(seen, 37);
	}
	sl_write_file(path, file, sizeof(file) - 5);
	memset(&out, 0, sizeof(out));
	CU_ASSERT_EQUAL(
	    run_source("record_source", cfg, 0, 1, &out), SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(sl_errdetail(), "not a whole number of 12-byte records"));
	recs_free(&out);
	tmp_path(path, sizeof(path), "no-such-records");
	snprintf(cfg, sizeof(cfg), "{\"path\": \"%s\"}", path);
	CU_ASSERT_EQUAL(run_source("record_source", cfg, 0, 1, &out), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "no-such-records: open"));
	recs_free(&out);
	/* a directory is not a file of records */
	snprintf(cfg, sizeof(cfg), "{\"path\": \"%s\"}", tmp_dir());
	CU_ASSERT_EQUAL(
	    run_source("record_source", cfg, 0, 1, &out), SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "not a regular file"));
	recs_free(&out);
}

/* sort: by key as unsigned bytes, a prefix first, equal keys in arrival
 * order. */
static void
test_sort(void)
{
	static const char *keys[] = { "b", "a\xff", "a", "", "b", "a\x01",
		"\xff", "a" };
	struct recs in = { 0 }, out = { 0 };
	char v[8];

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(v, sizeof(v), "%zu", i);
		recs_add(&in, keys[i], (uint32_t)strlen(keys[i]), v,
		    (uint32_t)strlen(v));
	}
	CU_ASSERT_EQUAL_FATAL(run_op("sort", "{}", 0, 1, &in, &out), 0);
	CU_ASSERT_EQUAL_FATAL(out.n, in.n);
	{
		/* expected order: "", a(2), a(7), a\x01(5), a\xff(1), b(0),
		 * b(4), \xff(6) */
		static const char *want[] = { "3", "2", "7", "5", "1", "0", "4",
			"6" };

		for (size_t i = 0; i < out.n; i++)
			CU_ASSERT(out.v[i].vlen == strlen(want[i]) &&
			    memcmp(out.v[i].val, want[i], out.v[i].vlen) == 0);
	}
	recs_free(&in);
	recs_free(&out);

	/* 20000 keys of 0..12 bytes over 3 letters: many share their first
	 * 8 bytes (the radix pass), many are equal (arrival order) */
	{
		uint64_t seed = 11;
		const size_t n = 20000;
		char k[16];

		for (size_t i = 0; i < n; i++) {
			uint32_t len = sl_rng_below(&seed, 13);

			for (uint32_t c = 0; c < len; c++)
				k[c] = (char)('a' + sl_rng_below(&seed, 3));
			recs_add(&in, k, len, &i, sizeof(i));
		}
		CU_ASSERT_EQUAL_FATAL(run_op("sort", "{}", 0, 1, &in, &out), 0);
		CU_ASSERT_EQUAL_FATAL(out.n, n);
		for (size_t i = 1; i < n; i++) {
			const struct rec *a = &out.v[i - 1], *b = &out.v[i];
			uint32_t m = a->klen < b->klen ? a->klen : b->klen;
			int c = m ? memcmp(a->key, b->key, m) : 0;
			size_t sa, sb;

			if (c == 0)
				c = (a->klen > b->klen) - (a->klen < b->klen);
			memcpy(&sa, a->val, sizeof(sa));
			memcpy(&sb, b->val, sizeof(sb));
			CU_ASSERT(c < 0 || (c == 0 && sa < sb));
		}
		recs_free(&in);
		recs_free(&out);
	}
	CU_ASSERT_EQUAL(
	    run_op("sort", "{\"by\": \"key\"}", 0, 1, NULL, &out), SL_EINVAL);
	recs_free(&out);
}

static void
test_library(void)
{
	CU_ASSERT_PTR_NOT_NULL_FATAL(find_op("text_source"));
	CU_ASSERT_STRING_EQUAL(lib->name, "builtin");
	CU_ASSERT_EQUAL(lib->desc.kind, SL_PLUGIN_OPERATORS);
	CU_ASSERT_EQUAL(lib->ops.operators.n, 7);
	CU_ASSERT(find_op("text_source")->caps & SL_OPERATOR_SOURCE);
	CU_ASSERT(find_op("generate")->caps & SL_OPERATOR_SOURCE);
	CU_ASSERT(find_op("record_source")->caps & SL_OPERATOR_SOURCE);
	CU_ASSERT_EQUAL(find_op("sort")->caps, 0);
	CU_ASSERT(find_op("file_sink")->caps & SL_OPERATOR_SINK);
	CU_ASSERT_EQUAL(find_op("tokenize")->caps, 0);
	CU_ASSERT_EQUAL(find_op("hash_aggregate")->caps, 0);
}

/* Every file of up to 9 bytes over {'a', '\n'}: each possible placement
 * of range boundaries against line starts, for p = 1..7. */
static void
test_text_split_exhaustive(void)
{
	char path[512], data[16];
	int bad = 0;

	tmp_path(path, sizeof(path), "tiny.txt");
	for (size_t len = 0; len <= 9; len++)
		for (unsigned bits = 0; bits < (1u << len); bits++) {
			for (size_t i = 0; i < len; i++)
				data[i] = (bits >> i) & 1 ? '\n' : 'a';
			sl_write_file(path, data, len);
			if (check_split(path, data, len, 7) != 0) {
				fprintf(stderr,
				    "split differs: %zu bytes, "
				    "pattern %#x\n",
				    len, bits);
				bad++;
			}
		}
	CU_ASSERT_EQUAL(bad, 0);
	unlink(path);
}

/* Short lines, empty lines, CRLF, lines of several MiB (longer than the
 * read buffer), no final newline. */
static void
test_text_split_generated(void)
{
	size_t cap = 12u << 20, len = 0;
	char *data = malloc(cap);
	char path[512];
	uint64_t x = 42;

	tmp_path(path, sizeof(path), "gen.txt");
	for (int line = 0; line < 40000; line++) {
		size_t n;

		x = x * 6364136223846793005u + 1442695040888963407u;
		n = (x >> 33) % 120;
		if (line % 7 == 0)
			n = 0;
		if (line == 5000)
			n = 3u << 20; /* three buffers */
		if (line == 20000)
			n = (1u << 20) - 1; /* with '\n': one buffer */
		if (line == 20001)
			n = (1u << 20) + 1;
		for (size_t i = 0; i < n; i++)
			data[len++] = (char)(' ' + (x >> (i % 40)) % 90);
		if (line % 11 == 0)
			data[len++] = '\r';
		data[len++] = '\n';
	}
	memcpy(data + len, "last line without newline", 25);
	len += 25;
	CU_ASSERT_FATAL(len <= cap);
	sl_write_file(path, data, len);
	CU_ASSERT_EQUAL(check_split(path, data, len, 7), 0);
	unlink(path);
	free(data);
}

static void
test_text_split_gpl(void)
{
	const char *gpl = "/usr/share/common-licenses/GPL-3";
	size_t len;
	char *data = sl_read_file(gpl, &len);

	/* Debian's base-files ships it: real prose, always there. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(data);
	CU_ASSERT_EQUAL(check_split(gpl, data, len, 7), 0);
	free(data);
}

static void
test_text_source_errors(void)
{
	struct recs got = { 0 };
	char config[1200], path[512];
	struct task t;

	tmp_path(path, sizeof(path), "no-such-file");
	snprintf(config, sizeof(config), "{\"path\": \"%s\"}", path);
	CU_ASSERT_EQUAL(run_source("text_source", config, 0, 1, &got), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), path));
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "No such file"));

	snprintf(config, sizeof(config), "{\"path\": \"%s\"}", tmp_dir());
	CU_ASSERT_EQUAL(
	    run_source("text_source", config, 0, 1, &got), SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "not a regular file"));

	CU_ASSERT_EQUAL(run_source("text_source", "{}", 0, 1, &got), SL_EINVAL);
	CU_ASSERT_STRING_EQUAL(
	    sl_errdetail(), "text_source: config: 'path' is missing");
	CU_ASSERT_EQUAL(run_source("text_source",
	                    "{\"path\": \"x\", \"paht\": 1}", 0, 1, &got),
	    SL_EINVAL);
	CU_ASSERT_STRING_EQUAL(
	    sl_errdetail(), "text_source: config: unknown key 'paht'");
	CU_ASSERT_EQUAL(
	    run_source("text_source", "{\"path\": 3}", 0, 1, &got), SL_EINVAL);
	CU_ASSERT_EQUAL(run_source("text_source", "[]", 0, 1, &got), SL_EINVAL);
	CU_ASSERT_EQUAL(run_source("text_source", "{", 0, 1, &got), SL_EINVAL);
	CU_ASSERT_EQUAL(got.n, 0);

	/* Cancelled before the first read: nothing emitted. */
	sl_write_file(path, "a\nb\n", 4);
	snprintf(config, sizeof(config), "{\"path\": \"%s\"}", path);
	CU_ASSERT_EQUAL_FATAL(
	    task_open(&t, "text_source", config, 0, 1, &got), 0);
	t.cancel = true;
	CU_ASSERT_EQUAL(t.ops->run(t.state, &t.ctx), SL_ECLOSED);
	CU_ASSERT_EQUAL(task_end(&t, SL_ECLOSED), SL_ECLOSED);
	CU_ASSERT_EQUAL(got.n, 0);
	unlink(path);
	recs_free(&got);
}

/* ---- tokenize ----------------------------------------------------------
 */

/* Random values against a plain reference splitter: words across the
 * tokenizer's 64-byte blocks, at the very end, values of every length
 * around the block size, NUL and high bytes. */
static void
test_tokenize_random(void)
{
	static const char alphabet[] = "aZ09 .\n\0\x80\xffqQ-";
	uint64_t x = 99;
	int bad = 0;

	for (int round = 0; round < 3000; round++) {
		struct recs in = { 0 }, got = { 0 };
		char v[300];
		size_t len = round < 300 ? (size_t)round : (x >> 40) % 300;
		size_t k = 0;

		for (size_t i = 0; i < len; i++) {
			x = x * 6364136223846793005u + 1442695040888963407u;
			/* long runs of one class now and then */
			v[i] = (x >> 60) < 3 && i > 0
			    ? v[i - 1]
			    : alphabet[(x >> 33) % (sizeof(alphabet) - 1)];
		}
		recs_add(&in, "", 0, v, (uint32_t)len);
		CU_ASSERT_EQUAL(run_op("tokenize", "{}", 0, 1, &in, &got), 0);
		for (size_t i = 0; i < len;) {
			size_t j = i;
			char w[300];

			while (j < len && ref_alnum((unsigned char)v[j])) {
				w[j - i] = v[j] >= 'A' && v[j] <= 'Z'
				    ? (char)(v[j] - 'A' + 'a')
				    : v[j];
				j++;
			}
			if (j == i) {
				i++;
				continue;
			}
			if (k >= got.n || got.v[k].klen != j - i ||
			    memcmp(got.v[k].key, w, j - i) != 0)
				bad++;
			k++;
			i = j;
		}
		if (k != got.n)
			bad++;
		recs_free(&in);
		recs_free(&got);
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* The words tokenize makes of text, joined by ' '. */
static void
tokens(const char *text, size_t len, char *out, size_t n)
{
	struct recs in = { 0 }, got = { 0 };

	recs_add(&in, "k", 1, text, (uint32_t)len);
	CU_ASSERT_EQUAL(run_op("tokenize", "{}", 0, 1, &in, &got), 0);
	out[0] = '\0';
	for (size_t i = 0; i < got.n; i++) {
		size_t l = strlen(out);

		CU_ASSERT_EQUAL(got.v[i].vlen, 8);
		CU_ASSERT_EQUAL(le64(got.v[i].val), 1);
		snprintf(out + l, n - l, "%s%s", i ? " " : "", got.v[i].key);
	}
	recs_free(&in);
	recs_free(&got);
}

#define TOKENS_ARE(text, want)                                      \
	do {                                                        \
		char out_[512];                                     \
		tokens(text, sizeof(text) - 1, out_, sizeof(out_)); \
		CU_ASSERT_STRING_EQUAL(out_, want);                 \
	} while (0)

static void
test_tokenize(void)
{
	TOKENS_ARE("Hello, World! hello-world", "hello world hello world");
	TOKENS_ARE("  42abc ABC_def\tx\r\n", "42abc abc def x");
	TOKENS_ARE("", "");
	TOKENS_ARE("...;:!?", "");
	TOKENS_ARE("R2D2 and C-3PO, 1999.", "r2d2 and c 3po 1999");
	/* Bytes >= 0x80 separate words: UTF-8 letters split them. */
	TOKENS_ARE(
	    "na\xc3\xafve caf\xc3\xa9 2024\xe5\xb9\xb4", "na ve caf 2024");
	TOKENS_ARE("a\0b\x7f"
	           "c\xff"
	           "D",
	    "a b c d");
	TOKENS_ARE("@[`{", ""); /* the neighbours of the letter ranges */
	TOKENS_ARE("AZaz09/:", "azaz09");

	/* A word longer than any earlier value. */
	{
		size_t n = 100000;
		char *big = malloc(n);
		struct recs in = { 0 }, got = { 0 };

		memset(big, 'Q', n);
		big[0] = ' ';
		recs_add(&in, "", 0, "short", 5);
		recs_add(&in, "", 0, big, (uint32_t)n);
		CU_ASSERT_EQUAL(run_op("tokenize", "{}", 0, 1, &in, &got), 0);
		CU_ASSERT_EQUAL_FATAL(got.n, 2);
		CU_ASSERT_EQUAL(got.v[1].klen, n - 1);
		CU_ASSERT_EQUAL(got.v[1].key[0], 'q');
		CU_ASSERT_EQUAL(got.v[1].key[n - 2], 'q');
		recs_free(&in);
		recs_free(&got);
		free(big);
	}
	{
		struct recs got = { 0 };
		CU_ASSERT_EQUAL(
		    run_op("tokenize", "{\"lower\": true}", 0, 1, NULL, &got),
		    SL_EINVAL);
		CU_ASSERT_STRING_EQUAL(
		    sl_errdetail(), "tokenize: config: unknown key 'lower'");
	}
}

/* ---- hash_aggregate ----------------------------------------------------
 */

static void
add_u64(struct recs *r, const char *key, uint64_t v)
{
	unsigned char b[8];

	put_le64(b, v);
	recs_add(r, key, (uint32_t)strlen(key), b, 8);
}

/* The total of key over recs (u64 values), and how often it appears. */
static uint64_t
total_of(const struct recs *r, const char *key, size_t *times)
{
	uint64_t sum = 0;

	*times = 0;
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].klen == strlen(key) &&
		    memcmp(r->v[i].key, key, r->v[i].klen) == 0) {
			CU_ASSERT_EQUAL(r->v[i].vlen, 8);
			sum += le64(r->v[i].val);
			(*times)++;
		}
	return sum;
}

static void
test_aggregate_partial_flushes(void)
{
	struct recs in = { 0 }, part = { 0 }, fin = { 0 };
	char key[32];
	size_t times;
	int bad = 0;

	/* key k<i> appears i + 1 times, interleaved */
	for (int round = 0; round < 100; round++)
		for (int i = round; i < 100; i++) {
			snprintf(key, sizeof(key), "k%d", i);
			add_u64(&in, key, 1000); /* ignored by count */
		}
	CU_ASSERT_EQUAL(run_op("hash_aggregate",
	                    "{\"function\": \"count\", \"mode\": "
	                    "\"partial\", \"max_entries\": 3}",
	                    0, 1, &in, &part),
	    0);
	/* Three keys at most between flushes: far more than 100 records. */
	CU_ASSERT(part.n > 1000);
	CU_ASSERT_EQUAL(run_op("hash_aggregate",
	                    "{\"function\": \"sum\", \"mode\": \"final\"}", 0,
	                    1, &part, &fin),
	    0);
	CU_ASSERT_EQUAL(fin.n, 100);
	for (int i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		if (total_of(&part, key, &times) != (uint64_t)i + 1)
			bad++;
		if (total_of(&fin, key, &times) != (uint64_t)i + 1 ||
		    times != 1)
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
	recs_free(&in);
	recs_free(&part);
	recs_free(&fin);

	/* The default max_entries keeps 100 keys in one table: one
	 * record per key, emitted at finish. */
	for (int i = 0; i < 300; i++) {
		snprintf(key, sizeof(key), "k%d", i % 100);
		add_u64(&in, key, 1);
	}
	CU_ASSERT_EQUAL(run_op("hash_aggregate",
	                    "{\"function\": \"count\", \"mode\": "
	                    "\"partial\"}",
	                    0, 1, &in, &part),
	    0);
	CU_ASSERT_EQUAL(part.n, 100);
	CU_ASSERT_EQUAL(total_of(&part, "k7", &times), 3);
	recs_free(&in);
	recs_free(&part);
}

static void
test_aggregate_count_sum(void)
{
	struct recs in = { 0 }, out = { 0 };
	size_t times;

	add_u64(&in, "a", 5);
	add_u64(&in, "b", 1);
	add_u64(&in, "a", 7);
	add_u64(&in, "", 10); /* the empty key is a key */
	add_u64(&in, "", 0);
	CU_ASSERT_EQUAL(run_op("hash_aggregate",
	                    "{\"function\": \"sum\", \"mode\": \"final\"}", 0,
	                    1, &in, &out),
	    0);
	CU_ASSERT_EQUAL(out.n, 3);
	CU_ASSERT_EQUAL(total_of(&out, "a", &times), 12);
	CU_ASSERT_EQUAL(total_of(&out, "b", &times), 1);
	CU_ASSERT_EQUAL(total_of(&out, "", &times), 10);
	recs_free(&out);
	CU_ASSERT_EQUAL(run_op("hash_aggregate",
	                    "{\"function\": \"count\", \"mode\": \"final\"}", 0,
	                    1, &in, &out),
	    0);
	CU_ASSERT_EQUAL(out.n, 3);
	CU_ASSERT_EQUAL(total_of(&out, "a", &times), 2);
	CU_ASSERT_EQUAL(total_of(&out, "b", &times), 1);
	CU_ASSERT_EQUAL(total_of(&out, "", &times), 2);
	recs_free(&out);

	/* sum wants u64 values; count takes anything */
	recs_add(&in, "c", 1, "1234567", 7);
	CU_ASSERT_EQUAL(run_op("hash_aggregate",
	                    "{\"function\": \"sum\", \"mode\": \"partial\"}", 0,
	                    1, &in, &out),
	    SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "7 bytes"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "u64 LE (8 bytes)"));
	recs_free(&out);
	CU_ASSERT_EQUAL(run_op("hash_aggregate",
	                    "{\"function\": \"count\", \"mode\": \"final\"}", 0,
	                    1, &in, &out),
	    0);
	CU_ASSERT_EQUAL(total_of(&out, "c", &times), 1);
	recs_free(&out);
	recs_free(&in);

	/* a total past 2^64 - 1 is refused, not wrapped */
	add_u64(&in, "big", UINT64_MAX);
	add_u64(&in, "big", 1);
	CU_ASSERT_EQUAL(run_op("hash_aggregate",
	                    "{\"function\": \"sum\", \"mode\": \"final\"}", 0,
	                    1, &in, &out),
	    SL_ERANGE);
	recs_free(&in);
	recs_free(&out);
}

/* Many keys: the table grows, and each key is still found. */
static void
test_aggregate_many_keys(void)
{
	struct recs in = { 0 }, out = { 0 };
	char key[32];
	int bad = 0;

	for (int i = 0; i < 200000; i++) {
		snprintf(key, sizeof(key), "key-%d", (i * 7919) % 100000);
		add_u64(&in, key, (uint64_t)i % 3);
	}
	CU_ASSERT_EQUAL(run_op("hash_aggregate",
	                    "{\"function\": \"sum\", \"mode\": \"final\"}", 0,
	                    1, &in, &out),
	    0);
	CU_ASSERT_EQUAL_FATAL(out.n, 100000);
	/* Each key k gets i = k' and k' + 100000 for the one k' that maps
	 * to it; recompute by brute force over the input instead. */
	{
		uint64_t *want = calloc(100000, sizeof(*want));

		for (size_t i = 0; i < in.n; i++)
			want[atoi(in.v[i].key + 4)] += le64(in.v[i].val);
		for (size_t i = 0; i < out.n; i++)
			if (le64(out.v[i].val) != want[atoi(out.v[i].key + 4)])
				bad++;
		free(want);
	}
	CU_ASSERT_EQUAL(bad, 0);
	recs_free(&in);
	recs_free(&out);
}

/* Keys of every length around the table's inline limit (16 bytes) and
 * beyond, keys that differ only in their last byte, trailing NULs ("a"
 * and "a\0" are two keys), the empty key: each keeps its own total. */
static void
test_aggregate_key_shapes(void)
{
	struct recs in = { 0 }, out = { 0 };
	unsigned char key[48];
	int bad = 0, nkeys = 0;

	for (uint32_t len = 0; len <= 40; len++)
		for (int variant = 0; variant < 4; variant++) {
			for (uint32_t i = 0; i < len; i++)
				key[i] = (unsigned char)(i * 37 + 1);
			if (len > 0 && variant == 1)
				key[len - 1] ^=
				    0x80; /* the last byte differs */
			if (len > 0 && variant == 2)
				key[len - 1] = 0; /* a trailing NUL */
			if (len > 0 && variant == 3)
				key[0] = 0;
			if ((len == 0 && variant > 0) ||
			    (len == 1 && variant == 3))
				continue; /* the same key again */
			/* key number nkeys appears nkeys + 1 times */
			for (int rep = 0; rep <= nkeys; rep++)
				add_u64(&in, "", 0);
			for (size_t r = in.n - (size_t)nkeys - 1; r < in.n;
			     r++) {
				free(in.v[r].key);
				in.v[r].key = dup_bytes(key, len);
				in.v[r].klen = len;
			}
			nkeys++;
		}
	/* shuffled, so that equal keys are not neighbours */
	for (size_t i = in.n - 1; i > 0; i--) {
		size_t j = (i * 2654435761u) % (i + 1);
		struct rec tmp = in.v[i];
		in.v[i] = in.v[j];
		in.v[j] = tmp;
	}
	CU_ASSERT_EQUAL(run_op("hash_aggregate",
	                    "{\"function\": \"count\", \"mode\": \"final\"}", 0,
	                    1, &in, &out),
	    0);
	CU_ASSERT_EQUAL(out.n, (size_t)nkeys);
	for (size_t i = 0; i < out.n; i++) {
		size_t times = 0;

		for (size_t r = 0; r < in.n; r++)
			times += in.v[r].klen == out.v[i].klen &&
			    memcmp(in.v[r].key, out.v[i].key, in.v[r].klen) ==
			        0;
		if (le64(out.v[i].val) != times)
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
	recs_free(&in);
	recs_free(&out);
}

static void
test_aggregate_config(void)
{
	static const struct {
		const char *config;
		const char *detail;
	} bad[] = {
		{ "{\"mode\": \"final\"}",
		    "hash_aggregate: config: 'function' is missing" },
		{ "{\"function\": \"count\"}",
		    "hash_aggregate: config: 'mode' is missing" },
		{ "{\"function\": \"avg\", \"mode\": \"final\"}",
		    "hash_aggregate: config: 'function' must be one of "
		    "\"count\", \"sum\"" },
		{ "{\"function\": \"sum\", \"mode\": \"final\", "
		  "\"max_entries\": 5}",
		    "hash_aggregate: config: 'max_entries' applies to mode "
		    "\"partial\" only" },
		{ "{\"function\": \"sum\", \"mode\": \"partial\", "
		  "\"max_entries\": 0}",
		    "hash_aggregate: config: 'max_entries' is 0, not in [1, "
		    "4294967294]" },
		{ "{\"function\": \"sum\", \"mode\": \"partial\", "
		  "\"max_entries\": \"10\"}",
		    "hash_aggregate: config: 'max_entries' must be an "
		    "integer" },
		{ "{\"function\": \"sum\", \"mode\": \"partial\", "
		  "\"combine\": 1}",
		    "hash_aggregate: config: unknown key 'combine'" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct recs out = { 0 };

		CU_ASSERT_EQUAL(
		    run_op("hash_aggregate", bad[i].config, 0, 1, NULL, &out),
		    SL_EINVAL);
		CU_ASSERT_STRING_EQUAL(sl_errdetail(), bad[i].detail);
	}
}

/* ---- file_sink ---------------------------------------------------------
 */

static int
feed(struct task *t, const struct recs *in)
{
	for (size_t i = 0; i < in->n; i++) {
		struct sl_record r = {
			.key = in->v[i].key,
			.key_len = in->v[i].klen,
			.value = in->v[i].val,
			.value_len = in->v[i].vlen,
		};
		int rv = t->ops->process(t->state, &t->ctx, 0, &r);
		if (rv != 0)
			return rv;
	}
	return 0;
}

static void
sink_config(char *buf, size_t n, const char *dir, const char *format)
{
	snprintf(buf, n, "{\"path\": \"%s\", \"format\": \"%s\"}", dir, format);
}

static void
test_file_sink_commit(void)
{
	char dir[512], cfg[1200], path[700], names[1024];
	struct recs in = { 0 };
	struct task t;
	size_t len;
	char *data;

	tmp_path(dir, sizeof(dir), "sink/a/b"); /* made by the sink */
	sink_config(cfg, sizeof(cfg), dir, "tsv");
	add_u64(&in, "the", 3);
	add_u64(&in, "", 0);
	add_u64(&in, "max", UINT64_MAX);
	next_attempt = 2;
	CU_ASSERT_EQUAL_FATAL(task_open(&t, "file_sink", cfg, 3, 8, NULL), 0);
	next_attempt = 0;
	CU_ASSERT_EQUAL(feed(&t, &in), 0);
	CU_ASSERT_EQUAL(t.ops->finish(t.state, &t.ctx), 0);
	sl_list_dir(dir, names, sizeof(names));
	CU_ASSERT_STRING_EQUAL(names, ".part-00003.attempt-2.tmp");
	CU_ASSERT_EQUAL(t.ops->commit(t.state, &t.ctx), 0);
	t.ops->close(t.state);
	free(t.state);
	sl_list_dir(dir, names, sizeof(names));
	CU_ASSERT_STRING_EQUAL(names, "part-00003");
	snprintf(path, sizeof(path), "%s/part-00003", dir);
	data = sl_read_file(path, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(data);
	CU_ASSERT_STRING_EQUAL(
	    data, "the\t3\n\t0\nmax\t18446744073709551615\n");
	free(data);
	recs_free(&in);

	/* "lines": the values; "records": u32 length, u32 key length, key,
	 * value. */
	recs_add(&in, "k", 1, "x", 1);
	recs_add(&in, "", 0, "", 0);
	recs_add(&in, "key", 3, "yz", 2);
	sink_config(cfg, sizeof(cfg), dir, "lines");
	CU_ASSERT_EQUAL(run_op("file_sink", cfg, 0, 2, &in, NULL), 0);
	snprintf(path, sizeof(path), "%s/part-00000", dir);
	data = sl_read_file(path, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(data);
	CU_ASSERT_EQUAL(len, 6);
	CU_ASSERT_STRING_EQUAL(data, "x\n\nyz\n");
	free(data);
	sink_config(cfg, sizeof(cfg), dir, "records");
	CU_ASSERT_EQUAL(run_op("file_sink", cfg, 1, 2, &in, NULL), 0);
	snprintf(path, sizeof(path), "%s/part-00001", dir);
	data = sl_read_file(path, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(data);
	CU_ASSERT_EQUAL_FATAL(len, 10 + 8 + 13);
	CU_ASSERT_EQUAL(memcmp(data,
	                    "\x06\0\0\0\x01\0\0\0kx"
	                    "\x04\0\0\0\0\0\0\0"
	                    "\x09\0\0\0\x03\0\0\0keyyz",
	                    len),
	    0);
	free(data);
	sl_list_dir(dir, names, sizeof(names));
	CU_ASSERT_STRING_EQUAL(names, "part-00000 part-00001 part-00003");
	recs_free(&in);

	/* More than the write buffer, and one value larger than it. */
	{
		size_t big = 3u << 20, want_len = 0;
		char *v = malloc(big);
		char *want;

		memset(v, 'v', big);
		for (int i = 0; i < 3000; i++) {
			recs_add(&in, "", 0, v, 700);
			want_len += 701;
		}
		recs_add(&in, "", 0, v, (uint32_t)big);
		want_len += big + 1;
		sink_config(cfg, sizeof(cfg), dir, "lines");
		CU_ASSERT_EQUAL(run_op("file_sink", cfg, 0, 1, &in, NULL), 0);
		snprintf(path, sizeof(path), "%s/part-00000", dir);
		data = sl_read_file(path, &len);
		CU_ASSERT_PTR_NOT_NULL_FATAL(data);
		CU_ASSERT_EQUAL(len, want_len);
		want = malloc(want_len);
		for (size_t i = 0, o = 0; i < in.n; i++) {
			memcpy(want + o, v, in.v[i].vlen);
			o += in.v[i].vlen;
			want[o++] = '\n';
		}
		CU_ASSERT(len == want_len && memcmp(data, want, len) == 0);
		free(want);
		free(data);
		free(v);
		recs_free(&in);
	}
}

static void
test_file_sink_abort(void)
{
	char dir[512], cfg[1200], names[1024];
	struct recs in = { 0 };
	struct task t;

	tmp_path(dir, sizeof(dir), "sink-abort");
	sink_config(cfg, sizeof(cfg), dir, "tsv");
	add_u64(&in, "word", 1);

	/* Failed after finish: abort removes the file. */
	CU_ASSERT_EQUAL_FATAL(task_open(&t, "file_sink", cfg, 3, 4, NULL), 0);
	CU_ASSERT_EQUAL(feed(&t, &in), 0);
	CU_ASSERT_EQUAL(t.ops->finish(t.state, &t.ctx), 0);
	sl_list_dir(dir, names, sizeof(names));
	CU_ASSERT_STRING_EQUAL(names, ".part-00003.attempt-0.tmp");
	CU_ASSERT_EQUAL(task_end(&t, SL_ECLOSED), SL_ECLOSED);
	sl_list_dir(dir, names, sizeof(names));
	CU_ASSERT_STRING_EQUAL(names, "");

	/* Closed without commit or abort: nothing left either. */
	CU_ASSERT_EQUAL_FATAL(task_open(&t, "file_sink", cfg, 1, 4, NULL), 0);
	CU_ASSERT_EQUAL(feed(&t, &in), 0);
	t.ops->close(t.state);
	free(t.state);
	sl_list_dir(dir, names, sizeof(names));
	CU_ASSERT_STRING_EQUAL(names, "");

	/* tsv needs u64 values */
	recs_add(&in, "w", 1, "123", 3);
	CU_ASSERT_EQUAL(run_op("file_sink", cfg, 0, 1, &in, NULL), SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "3 bytes"));
	sl_list_dir(dir, names, sizeof(names));
	CU_ASSERT_STRING_EQUAL(names, "");
	recs_free(&in);

	CU_ASSERT_EQUAL(
	    run_op("file_sink", "{\"path\": \"x\", \"format\": \"csv\"}", 0, 1,
	        NULL, NULL),
	    SL_EINVAL);
	CU_ASSERT_STRING_EQUAL(sl_errdetail(),
	    "file_sink: config: 'format' must be one of \"tsv\", \"lines\", "
	    "\"records\", \"raw\"");
	CU_ASSERT_EQUAL(
	    run_op("file_sink", "{\"dir\": \"x\"}", 0, 1, NULL, NULL),
	    SL_EINVAL);
	CU_ASSERT_STRING_EQUAL(
	    sl_errdetail(), "file_sink: config: unknown key 'dir'");
}

/*
 * Write errors, provoked for real without root or a small file system:
 * the temporary file's name is a symbolic link to /dev/full, where every
 * write fails with ENOSPC; and a DIR below a regular file cannot be made.
 */
static void
test_file_sink_errors(void)
{
	char dir[700], cfg[1200], link[900], names[1024], file[512];
	struct recs small = { 0 }, big = { 0 };
	char line[1000];
	struct task t;
	int rv;

	tmp_path(dir, sizeof(dir), "sink-full");
	CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0777), 0);
	snprintf(link, sizeof(link), "%s/.part-00000.attempt-0.tmp", dir);
	sink_config(cfg, sizeof(cfg), dir, "lines");
	memset(line, 'x', sizeof(line));
	recs_add(&small, "", 0, "hello", 5);
	for (int i = 0; i < 2100; i++) /* over 2 MiB: fails in process */
		recs_add(&big, "", 0, line, sizeof(line));

	if (!exists("/dev/full")) {
		printf("(no /dev/full: the full-disk case cannot run) ");
		CU_FAIL("no /dev/full");
	} else {
		CU_ASSERT_EQUAL_FATAL(symlink("/dev/full", link), 0);
		CU_ASSERT_EQUAL_FATAL(
		    task_open(&t, "file_sink", cfg, 0, 1, NULL), 0);
		rv = feed(&t, &big);
		CU_ASSERT_EQUAL(rv, -ENOSPC);
		CU_ASSERT_PTR_NOT_NULL(
		    strstr(sl_errdetail(), ".part-00000.attempt-0.tmp: write"));
		CU_ASSERT_PTR_NOT_NULL(
		    strstr(sl_errdetail(), "No space left on device"));
		CU_ASSERT_EQUAL(task_end(&t, rv), -ENOSPC);
		sl_list_dir(dir, names, sizeof(names));
		CU_ASSERT_STRING_EQUAL(names, "");

		/* A few bytes stay buffered until finish flushes them. */
		CU_ASSERT_EQUAL_FATAL(symlink("/dev/full", link), 0);
		CU_ASSERT_EQUAL(
		    run_op("file_sink", cfg, 0, 1, &small, NULL), -ENOSPC);
		CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), link));
		sl_list_dir(dir, names, sizeof(names));
		CU_ASSERT_STRING_EQUAL(names, "");
	}

	tmp_path(file, sizeof(file), "plain-file");
	sl_write_file(file, "x", 1);
	snprintf(dir, sizeof(dir), "%s/sub", file);
	sink_config(cfg, sizeof(cfg), dir, "lines");
	CU_ASSERT_EQUAL(run_op("file_sink", cfg, 0, 1, &small, NULL), -ENOTDIR);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(sl_errdetail(), "plain-file: mkdir: Not a directory"));
	recs_free(&small);
	recs_free(&big);
}

/* ---- generate ----------------------------------------------------------
 */

static bool
recs_equal(const struct recs *a, const struct recs *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].klen != b->v[i].klen ||
		    a->v[i].vlen != b->v[i].vlen ||
		    memcmp(a->v[i].key, b->v[i].key, a->v[i].klen) != 0 ||
		    memcmp(a->v[i].val, b->v[i].val, a->v[i].vlen) != 0)
			return false;
	return true;
}

static int
cmp_key10(const void *a, const void *b)
{
	return memcmp(*(char *const *)a, *(char *const *)b, 10);
}

static void
test_generate(void)
{
	const char *cfg = "{\"count\": 1000, \"seed\": 7}";
	struct recs one = { 0 }, other = { 0 };
	char *keys[1000];
	int dups = 0;

	CU_ASSERT_EQUAL(run_source("generate", cfg, 0, 1, &one), 0);
	CU_ASSERT_EQUAL_FATAL(one.n, 1000);
	CU_ASSERT_EQUAL(one.v[0].klen, 10);
	CU_ASSERT_EQUAL(one.v[0].vlen, 90);
	for (uint32_t p = 2; p <= 7; p++) {
		struct recs all = { 0 };

		for (uint32_t i = 0; i < p; i++)
			CU_ASSERT_EQUAL(
			    run_source("generate", cfg, i, p, &all), 0);
		CU_ASSERT(recs_equal(&one, &all));
		recs_free(&all);
	}
	/* Random keys: no two alike. */
	for (int i = 0; i < 1000; i++)
		keys[i] = one.v[i].key;
	qsort(keys, 1000, sizeof(keys[0]), cmp_key10);
	for (int i = 1; i < 1000; i++)
		dups += memcmp(keys[i - 1], keys[i], 10) == 0;
	CU_ASSERT_EQUAL(dups, 0);

	CU_ASSERT_EQUAL(run_source("generate", "{\"count\": 1000, \"seed\": 8}",
	                    0, 1, &other),
	    0);
	CU_ASSERT_FATAL(other.n == 1000);
	CU_ASSERT(memcmp(one.v[5].key, other.v[5].key, 10) != 0);
	recs_free(&other);
	recs_free(&one);

	CU_ASSERT_EQUAL(run_source("generate",
	                    "{\"count\": 300, \"key_bytes\": 13, "
	                    "\"value_bytes\": 3, \"ascii\": true}",
	                    0, 1, &one),
	    0);
	CU_ASSERT_EQUAL_FATAL(one.n, 300);
	for (size_t i = 0; i < one.n; i++) {
		CU_ASSERT_EQUAL(one.v[i].klen, 13);
		CU_ASSERT_EQUAL(one.v[i].vlen, 3);
		for (int k = 0; k < 13; k++)
			CU_ASSERT(
			    one.v[i].key[k] >= '!' && one.v[i].key[k] <= '~');
		for (int k = 0; k < 3; k++)
			CU_ASSERT(
			    one.v[i].val[k] >= '!' && one.v[i].val[k] <= '~');
	}
	recs_free(&one);

	CU_ASSERT_EQUAL(run_source("generate",
	                    "{\"count\": 0, \"key_bytes\": 0}", 0, 1, &one),
	    0);
	CU_ASSERT_EQUAL(one.n, 0);
	CU_ASSERT_EQUAL(run_source("generate",
	                    "{\"count\": 5, \"key_bytes\": 0, "
	                    "\"value_bytes\": 0}",
	                    0, 7, &one),
	    0);
	CU_ASSERT_EQUAL(one.n, 0); /* floor(5/7) = 0 records for task 0 */
	CU_ASSERT_EQUAL(run_source("generate",
	                    "{\"count\": 5, \"key_bytes\": 0}", 6, 7, &one),
	    0);
	CU_ASSERT_EQUAL_FATAL(one.n, 1);
	CU_ASSERT_EQUAL(one.v[0].klen, 0);
	recs_free(&one);

	CU_ASSERT_EQUAL(
	    run_source("generate", "{\"seed\": 1}", 0, 1, &one), SL_EINVAL);
	CU_ASSERT_STRING_EQUAL(
	    sl_errdetail(), "generate: config: 'count' is missing");
	CU_ASSERT_EQUAL(
	    run_source("generate", "{\"count\": -1}", 0, 1, &one), SL_EINVAL);
	CU_ASSERT_EQUAL(
	    run_source("generate", "{\"count\": 1, \"ascii\": 1}", 0, 1, &one),
	    SL_EINVAL);
	CU_ASSERT_STRING_EQUAL(
	    sl_errdetail(), "generate: config: 'ascii' must be true or false");
	CU_ASSERT_EQUAL(one.n, 0);
}

/* ---- WordCount, in-process ---------------------------------------------
 */

/* The reference: words split by a plain loop, sorted and counted into
 * "word\tcount" lines. */

/* Text with mixed case, digits, punctuation, UTF-8, CRLF, empty lines and
 * no final newline, after GPL-3 when it is installed. */
static char *
wordcount_text(size_t *len)
{
	static const char *vocab[] = { "the", "The", "THE", "sluice", "gate",
		"r2d2", "42", "x", "Zebra", "naïve", "café", "über", "don't",
		"e-mail", "a_b", "Ünïcödé", "λόγος", "2024年" };
	size_t gl = 0, cap = 1300000, n;
	char *gpl = sl_read_file("/usr/share/common-licenses/GPL-3", &gl);
	char *text = malloc(cap + gl);
	uint64_t x = 7;

	n = 0;
	if (gpl != NULL) {
		memcpy(text, gpl, gl);
		n = gl;
		free(gpl);
	}
	while (n < cap + gl - 200) {
		const char *w;
		int sep;

		x = x * 6364136223846793005u + 1442695040888963407u;
		w = vocab[(x >> 33) % (sizeof(vocab) / sizeof(vocab[0]))];
		memcpy(text + n, w, strlen(w));
		n += strlen(w);
		sep = (int)((x >> 20) % 23);
		if (sep < 14)
			text[n++] = ' ';
		else if (sep < 16)
			text[n++] = '\n';
		else if (sep < 17)
			n += (size_t)sprintf(text + n, "\r\n\n");
		else if (sep < 19)
			n += (size_t)sprintf(text + n, ", ");
		else if (sep < 20)
			n += (size_t)sprintf(
			    text + n, "w%u.", (unsigned)(x >> 50));
		else
			n += (size_t)sprintf(text + n, "\t--");
	}
	*len = n;
	return text;
}

static uint32_t
fnv1a(const char *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h;
}

static void
test_wordcount(void)
{
	struct recs lines[3] = { 0 }, words[3] = { 0 }, part[3] = { 0 };
	struct recs bucket[2] = { 0 }, fin[2] = { 0 };
	char input[512], outdir[512], cfg[1200], names[1024], path[700];
	char **want, **got = NULL;
	size_t len, nwant, ngot = 0, gotcap = 0;
	char *text = wordcount_text(&len);

	tmp_path(input, sizeof(input), "wc-input.txt");
	tmp_path(outdir, sizeof(outdir), "wc-out");
	sl_write_file(input, text, len);
	snprintf(cfg, sizeof(cfg), "{\"path\": \"%s\"}", input);
	for (uint32_t i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(
		    run_source("text_source", cfg, i, 3, &lines[i]), 0);
		CU_ASSERT(lines[i].n > 0);
		CU_ASSERT_EQUAL(
		    run_op("tokenize", "{}", i, 3, &lines[i], &words[i]), 0);
		/* a small table: the partial stage flushes many times */
		CU_ASSERT_EQUAL(run_op("hash_aggregate",
		                    "{\"function\": \"count\", \"mode\": "
		                    "\"partial\", \"max_entries\": 40}",
		                    i, 3, &words[i], &part[i]),
		    0);
		CU_ASSERT(part[i].n < words[i].n);
		for (size_t k = 0; k < part[i].n; k++) {
			const struct rec *r = &part[i].v[k];
			recs_add(&bucket[fnv1a(r->key, r->klen) % 2], r->key,
			    r->klen, r->val, r->vlen);
		}
	}
	snprintf(cfg, sizeof(cfg), "{\"path\": \"%s\", \"format\": \"tsv\"}",
	    outdir);
	for (uint32_t j = 0; j < 2; j++) {
		CU_ASSERT_EQUAL(run_op("hash_aggregate",
		                    "{\"function\": \"sum\", \"mode\": "
		                    "\"final\"}",
		                    j, 2, &bucket[j], &fin[j]),
		    0);
		CU_ASSERT_EQUAL(
		    run_op("file_sink", cfg, j, 2, &fin[j], NULL), 0);
	}
	sl_list_dir(outdir, names, sizeof(names));
	CU_ASSERT_STRING_EQUAL(names, "part-00000 part-00001");

	for (int j = 0; j < 2; j++) {
		size_t plen;
		char *data, *save = NULL;

		snprintf(path, sizeof(path), "%s/part-%05d", outdir, j);
		data = sl_read_file(path, &plen);
		CU_ASSERT_PTR_NOT_NULL_FATAL(data);
		CU_ASSERT(plen > 0 && data[plen - 1] == '\n');
		for (char *l = strtok_r(data, "\n", &save); l != NULL;
		     l = strtok_r(NULL, "\n", &save)) {
			if (ngot == gotcap) {
				gotcap = gotcap ? gotcap * 2 : 256;
				got = realloc(got, gotcap * sizeof(*got));
			}
			got[ngot++] = strdup(l);
		}
		free(data);
	}
	qsort(got, ngot, sizeof(*got), sl_cmp_str);
	nwant = sl_ref_wordcount(text, len, &want, NULL);
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

	for (size_t i = 0; i < ngot; i++)
		free(got[i]);
	free(got);
	for (size_t i = 0; i < nwant; i++)
		free(want[i]);
	free(want);
	for (int i = 0; i < 3; i++) {
		recs_free(&lines[i]);
		recs_free(&words[i]);
		recs_free(&part[i]);
	}
	for (int j = 0; j < 2; j++) {
		recs_free(&bucket[j]);
		recs_free(&fin[j]);
	}
	free(text);
}

static const struct sl_test tests[] = {
	{ "library lists the seven operators", test_library },
	{ "record_source: every record once, any p", test_record_source },
	{ "sort: unsigned bytes, prefix first, stable", test_sort },
	{ "text_source: every tiny file, p = 1..7",
	    test_text_split_exhaustive },
	{ "text_source: long, empty and CRLF lines, p = 1..7",
	    test_text_split_generated },
	{ "text_source: GPL-3, p = 1..7", test_text_split_gpl },
	{ "text_source: errors name the file; cancel",
	    test_text_source_errors },
	{ "tokenize: case, digits, punctuation, non-ASCII", test_tokenize },
	{ "tokenize: random values against a reference", test_tokenize_random },
	{ "hash_aggregate: partial flushes, totals still right",
	    test_aggregate_partial_flushes },
	{ "hash_aggregate: count vs sum", test_aggregate_count_sum },
	{ "hash_aggregate: 100000 keys", test_aggregate_many_keys },
	{ "hash_aggregate: key lengths 0..40, NULs, last bytes",
	    test_aggregate_key_shapes },
	{ "hash_aggregate: config errors", test_aggregate_config },
	{ "file_sink: commit makes the part visible", test_file_sink_commit },
	{ "file_sink: abort leaves nothing", test_file_sink_abort },
	{ "file_sink: full disk and mkdir errors", test_file_sink_errors },
	{ "generate: deterministic, independent of p", test_generate },
	{ "WordCount in-process", test_wordcount },
	{ NULL, NULL },
};

int
main(int argc, char **argv)
{
	int rv = sl_test_run("operators", tests, argc, argv);

	if (tmp_root[0] != '\0')
		sl_rm_rf(tmp_root);
	if (lib != NULL)
		sli_plugin_unref(lib);
	return rv;
}
