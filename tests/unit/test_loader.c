/*
 * The plugin loader and the host table. The plugins under test live in
 * $SL_BINARY_DIR/test-plugins (built from tests/plugins/, one defect per
 * file) and its dup/ subdirectory.
 *
 * The good test plugins count "tp.NAME.reinit" when their init runs while
 * their image is initialised already; test_no_reinit, last, checks that no
 * test made that happen.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin/host.h"
#include "plugin/loader.h"
#include "common/log.h"
#include "sl_test.h"

/* Room for any path ctest gives us; snprintf cuts the rest. */
#define PATHLEN 1024

static char tp_dir[PATHLEN];
static char dup_dir[PATHLEN];

/* Where the test plugins are; false (and a failed assertion) when the
 * test does not run under ctest. */
static bool
find_dirs(void)
{
	const char *bin = getenv("SL_BINARY_DIR");

	CU_ASSERT_PTR_NOT_NULL(bin);
	if (bin == NULL)
		return false;
	snprintf(tp_dir, sizeof(tp_dir), "%s/test-plugins", bin);
	snprintf(dup_dir, sizeof(dup_dir), "%s/test-plugins/dup", bin);
	return true;
}

static void
tp_path(char *buf, size_t n, const char *file)
{
	snprintf(buf, n, "%s/%s", tp_dir, file);
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Each broken plugin and what the loader must say about it. reason is a
 * format that may use the two sizes. */
static const struct refusal {
	const char *file;
	int code;
	const char *reason;
	size_t a, b;
} refusals[] = {
	{ "tp-bad-magic.so", SL_EPLUGIN,
	    "bad magic 0xdeadbeef, expected 0x534c5550 (not a sluice plugin?)",
	    0, 0 },
	{ "tp-abi-major-2.so", SL_EABI, "ABI 2.0, this build speaks 1.x", 0,
	    0 },
	{ "tp-abi-minor-99.so", SL_EABI,
	    "ABI 1.99 is newer than this build's 1.4", 0, 0 },
	{ "tp-desc-short.so", SL_EABI,
	    "descriptor is %zu bytes, ABI 1.0 needs at least %zu",
	    offsetof(struct sl_plugin, ops), sizeof(struct sl_plugin) },
	{ "tp-kind-7.so", SL_EPLUGIN, "unknown kind 7", 0, 0 },
	{ "tp-name-empty.so", SL_EPLUGIN,
	    "name '' is not 1 to 64 characters of a-z 0-9 _ -", 0, 0 },
	{ "tp-name-bad.so", SL_EPLUGIN,
	    "name 'Bad Name' is not 1 to 64 characters of a-z 0-9 _ -", 0, 0 },
	{ "tp-name-null.so", SL_EPLUGIN, "no name (name is NULL)", 0, 0 },
	{ "tp-ops-null.so", SL_EPLUGIN, "shuffle ops table is missing", 0, 0 },
	{ "tp-shuffle-short.so", SL_EABI,
	    "shuffle ops table is %zu bytes, ABI 1.0 needs at least %zu",
	    offsetof(struct sl_shuffle_ops, reader),
	    offsetof(struct sl_shuffle_ops, reader) + sizeof(void *) },
	{ "tp-writer-short.so", SL_EABI,
	    "shuffle writer ops table is %zu bytes, ABI 1.0 needs at least %zu",
	    offsetof(struct sl_shuffle_writer_ops, fini),
	    sizeof(struct sl_shuffle_writer_ops) },
	{ "tp-writer-no-finish.so", SL_EPLUGIN,
	    "shuffle writer op 'finish' is missing", 0, 0 },
	{ "tp-master-no-release.so", SL_EPLUGIN,
	    "shuffle master op 'release_partition' is missing", 0, 0 },
	{ "tp-sched-no-start.so", SL_EPLUGIN,
	    "scheduler op 'on_start' is missing", 0, 0 },
	{ "tp-state-huge.so", SL_EPLUGIN,
	    "shuffle writer state_size 2097152 is above the limit of 1048576 "
	    "bytes",
	    0, 0 },
	{ "tp-init-fails.so", SL_EPLUGIN,
	    "init failed with ECONNREFUSED: cannot reach the shuffle service "
	    "at "
	    "192.0.2.1:7000",
	    0, 0 },
	{ "tp-no-entry.so", SL_EPLUGIN,
	    "no sl_plugin_entry function (not a sluice plugin?)", 0, 0 },
	{ "tp-entry-null.so", SL_EPLUGIN, "sl_plugin_entry returned NULL", 0,
	    0 },
	{ "tp-entry-data.so", SL_EPLUGIN,
	    "sl_plugin_entry is data, not a function (use SL_PLUGIN_DEFINE)", 0,
	    0 },
	{ "tp-no-caps.so", SL_EPLUGIN,
	    "declares no partition type (caps 0x0 has no SL_SHUFFLE_CAP_TYPE "
	    "bit)",
	    0, 0 },
	/* Operator libraries: the library, then each operator. */
	{ "tp-ops-lib-missing.so", SL_EPLUGIN,
	    "operator library table is missing (ops is NULL)", 0, 0 },
	{ "tp-ops-lib-short.so", SL_EABI,
	    "operator library table is %zu bytes, ABI 1.0 needs at least %zu",
	    offsetof(struct sl_operator_lib, ops),
	    sizeof(struct sl_operator_lib) },
	{ "tp-ops-count-0.so", SL_EPLUGIN,
	    "operator library lists no operators (count is 0)", 0, 0 },
	{ "tp-ops-count-huge.so", SL_EPLUGIN,
	    "operator library count 4097 is above the limit of 4096", 0, 0 },
	{ "tp-ops-array-null.so", SL_EPLUGIN,
	    "operator library has no operators (its ops array is NULL)", 0, 0 },
	{ "tp-ops-entry-null.so", SL_EPLUGIN,
	    "operator #1: ops table is missing (ops[1] is NULL)", 0, 0 },
	{ "tp-ops-short.so", SL_EABI,
	    "operator 'tp-map' (#1): ops table is %zu bytes, ABI 1.0 needs at "
	    "least %zu",
	    offsetof(struct sl_operator_ops, process),
	    offsetof(struct sl_operator_ops, finish) },
	{ "tp-ops-name-null.so", SL_EPLUGIN,
	    "operator #1: no name (name is NULL)", 0, 0 },
	{ "tp-ops-name-bad.so", SL_EPLUGIN,
	    "operator #1: name 'Map!' is not 1 to 64 characters of a-z 0-9 _ "
	    "-",
	    0, 0 },
	{ "tp-ops-name-dup.so", SL_EPLUGIN,
	    "operator 'tp-gen' (#1): name already used by operator #0", 0, 0 },
	{ "tp-ops-no-open.so", SL_EPLUGIN,
	    "operator 'tp-gen' (#0): op 'open' is missing", 0, 0 },
	{ "tp-ops-source-no-run.so", SL_EPLUGIN,
	    "operator 'tp-gen' (#0): op 'run' is missing (required of a "
	    "source)",
	    0, 0 },
	{ "tp-ops-source-process.so", SL_EPLUGIN,
	    "operator 'tp-gen' (#0): op 'process' is set, but a source has no "
	    "inputs (it must be NULL)",
	    0, 0 },
	{ "tp-ops-run-not-source.so", SL_EPLUGIN,
	    "operator 'tp-map' (#1): op 'run' is set, but only a source (caps "
	    "SL_OPERATOR_SOURCE) runs (it must be NULL)",
	    0, 0 },
	{ "tp-ops-no-process.so", SL_EPLUGIN,
	    "operator 'tp-map' (#1): op 'process' is missing (required of an "
	    "operator that is not a source)",
	    0, 0 },
	{ "tp-ops-state-huge.so", SL_EPLUGIN,
	    "operator 'tp-map' (#1): state_size 2097152 is above the limit of "
	    "1048576 bytes",
	    0, 0 },
};

static void
test_refusals(void)
{
	if (!find_dirs())
		return;
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		const struct refusal *r = &refusals[i];
		struct sli_plugin *p = NULL;
		char path[PATHLEN + 64], reason[256], want[PATHLEN + 400];
		int rc;

		tp_path(path, sizeof(path), r->file);
		snprintf(reason, sizeof(reason), r->reason, r->a, r->b);
		snprintf(want, sizeof(want), "plugin %s: %s", path, reason);
		rc = sli_plugin_open(path, &p);
		printf("\n    %s -> %s: %s", r->file, sl_errname(rc),
		    sl_errdetail());
		CU_ASSERT_EQUAL(rc, r->code);
		CU_ASSERT_PTR_NULL(p);
		CU_ASSERT_STRING_EQUAL(sl_errdetail(), want);
	}
	printf("\n");
}

static void
test_init_fails_no_fini(void)
{
	struct sli_plugin *p = NULL;
	char path[PATHLEN + 64];
	int64_t init0 = sli_counter_get("tp.init-fails.init");

	if (!find_dirs())
		return;
	tp_path(path, sizeof(path), "tp-init-fails.so");
	CU_ASSERT_EQUAL(sli_plugin_open(path, &p), SL_EPLUGIN);
	/* init ran, failed, and was trusted to undo its own work. */
	CU_ASSERT_EQUAL(sli_counter_get("tp.init-fails.init"), init0 + 1);
	CU_ASSERT_EQUAL(sli_counter_get("tp.init-fails.fini"), 0);
}

static void
test_missing_file(void)
{
	struct sli_plugin *p = NULL;
	char path[PATHLEN + 64], want[2 * PATHLEN];

	if (!find_dirs())
		return;
	tp_path(path, sizeof(path), "tp-no-such-plugin.so");
	snprintf(want, sizeof(want),
	    "plugin %s: cannot open: No such file or directory", path);
	CU_ASSERT_EQUAL(sli_plugin_open(path, &p), -ENOENT);
	CU_ASSERT_PTR_NULL(p);
	CU_ASSERT_STRING_EQUAL(sl_errdetail(), want);
	CU_ASSERT_EQUAL(sli_plugin_load(path, &p), -ENOENT);
	CU_ASSERT_PTR_NULL(p);
}

/*
 * A path is a file, never a name for dlopen to search the library path
 * with: a bare name is relative to the working directory ("x.so" in the cwd
 * loads; "libc.so.6" is not found rather than loading libc), and
 * directories and devices are refused before dlopen sees them.
 */
static void
test_paths_are_files(void)
{
	struct sli_plugin *p = NULL, *q = NULL;
	char cwd[PATH_MAX], path[PATHLEN + 64];

	if (!find_dirs())
		return;
	CU_ASSERT_PTR_NOT_NULL_FATAL(getcwd(cwd, sizeof(cwd)));
	CU_ASSERT_EQUAL_FATAL(chdir(tp_dir), 0);

	CU_ASSERT_EQUAL(sli_plugin_open("tp-good-shuffle.so", &p), 0);
	CU_ASSERT_PTR_NOT_NULL(p);
	if (p != NULL) {
		CU_ASSERT_STRING_EQUAL(p->path, "tp-good-shuffle.so");
		CU_ASSERT_STRING_EQUAL(p->name, "test-shuffle");
		/* ./ and the bare name are the same object. */
		CU_ASSERT_EQUAL(sli_plugin_open("./tp-good-shuffle.so", &q), 0);
		CU_ASSERT_PTR_EQUAL(q, p);
		sli_plugin_unref(q);
		sli_plugin_unref(p);
	}

	p = NULL;
	CU_ASSERT_EQUAL(sli_plugin_open("libc.so.6", &p), -ENOENT);
	CU_ASSERT_PTR_NULL(p);
	CU_ASSERT_STRING_EQUAL(sl_errdetail(),
	    "plugin libc.so.6: cannot open: No such file or directory");

	CU_ASSERT_EQUAL(sli_plugin_open("dup", &p), SL_EPLUGIN);
	CU_ASSERT_STRING_EQUAL(
	    sl_errdetail(), "plugin dup: is a directory, not a plugin file");
	CU_ASSERT_EQUAL(sli_plugin_open("/dev/null", &p), SL_EPLUGIN);
	CU_ASSERT_STRING_EQUAL(sl_errdetail(),
	    "plugin /dev/null: is not a regular file (a plugin is a shared "
	    "object)");
	CU_ASSERT_PTR_NULL(p);

	/* A regular file that is no shared object still reaches dlopen. */
	tp_path(path, sizeof(path), "../CMakeCache.txt");
	CU_ASSERT_EQUAL(sli_plugin_open(path, &p), SL_EPLUGIN);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), ": cannot load: "));
	CU_ASSERT_EQUAL(chdir(cwd), 0);
}

static void
test_good_scheduler(void)
{
	struct sli_plugin *p = NULL;
	const struct sl_scheduler_ops *s;
	char path[PATHLEN + 64];
	int64_t init0 = sli_counter_get("tp.test-sched.init");
	int64_t start0 = sli_counter_get("tp.test-sched.on_start");
	uint32_t regions[] = { 0, 2 };
	void *state;

	if (!find_dirs())
		return;
	tp_path(path, sizeof(path), "tp-good-sched.so");
	CU_ASSERT_EQUAL_FATAL(sli_plugin_open(path, &p), 0);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-sched.init"), init0 + 1);
	CU_ASSERT_EQUAL(p->desc.kind, SL_PLUGIN_SCHEDULER);
	CU_ASSERT_STRING_EQUAL(sli_plugin_kind_name(p->desc.kind), "scheduler");
	CU_ASSERT_STRING_EQUAL(p->name, "test-sched");
	CU_ASSERT_STRING_EQUAL(p->desc.name, "test-sched");
	CU_ASSERT_STRING_EQUAL(p->version, "0.0.1-test");
	CU_ASSERT_STRING_EQUAL(p->path, path);
	CU_ASSERT_STRING_EQUAL(p->host.plugin_name, "test-sched");
	CU_ASSERT_EQUAL(p->desc.struct_size, sizeof(struct sl_plugin));
	CU_ASSERT_EQUAL(p->state, SLI_PLUGIN_READY);
	/* A scheduler has no caps of its own; unknown bits would be fine. */
	CU_ASSERT_EQUAL(p->desc.caps, 0);

	s = &p->ops.scheduler;
	CU_ASSERT_EQUAL(s->struct_size, sizeof(*s));
	CU_ASSERT_EQUAL(s->state_size, 8);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s->init);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s->fini);
	CU_ASSERT_PTR_NULL(s->on_regions_reset);
	state = calloc(1, s->state_size);
	CU_ASSERT_PTR_NOT_NULL_FATAL(state);
	CU_ASSERT_EQUAL(s->init(state, &p->host, NULL), 0);
	CU_ASSERT_EQUAL(s->on_start(state, NULL), 0);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-sched.on_start"), start0 + 1);
	/* The default for a reset is to start over. */
	CU_ASSERT_EQUAL(sli_plugin_sched_reset(p, state, NULL, regions, 2), 0);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-sched.on_start"), start0 + 2);
	s->fini(state);
	free(state);
	sli_plugin_unref(p);
}

static void
test_good_shuffle(void)
{
	struct sli_plugin *p = NULL;
	const struct sl_shuffle_master_ops *m;
	const struct sl_shuffle_writer_ops *w;
	const struct sl_shuffle_reader_ops *r;
	struct sl_bytes snap = { (void *)1, 99 };
	struct sl_buffer buf = { 0 };
	char path[PATHLEN + 64];
	char state[64] = { 0 };

	if (!find_dirs())
		return;
	tp_path(path, sizeof(path), "tp-good-shuffle.so");
	CU_ASSERT_EQUAL_FATAL(sli_plugin_open(path, &p), 0);
	CU_ASSERT_EQUAL(p->desc.kind, SL_PLUGIN_SHUFFLE);
	CU_ASSERT_STRING_EQUAL(sli_plugin_kind_name(p->desc.kind), "shuffle");
	CU_ASSERT_STRING_EQUAL(p->name, "test-shuffle");
	m = &p->ops.shuffle.master;
	w = &p->ops.shuffle.writer;
	r = &p->ops.shuffle.reader;
	CU_ASSERT_EQUAL(m->struct_size, sizeof(*m));
	CU_ASSERT_EQUAL(w->struct_size, sizeof(*w));
	CU_ASSERT_EQUAL(r->struct_size, sizeof(*r));
	CU_ASSERT(m->state_size <= sizeof(state));
	CU_ASSERT(w->state_size <= sizeof(state));
	CU_ASSERT(r->state_size <= sizeof(state));

	/* The plugin's own (stub) ops. */
	CU_ASSERT_EQUAL(m->register_partition(state, NULL, &snap), SL_ENOTSUP);
	CU_ASSERT_EQUAL(w->write(state, 0, &buf), SL_ENOTSUP);
	CU_ASSERT_EQUAL(r->next(state, &buf), SL_EEOF);

	/* The defaults: none of these is in the plugin. */
	CU_ASSERT_EQUAL(m->init(state, &p->host, NULL), 0);
	CU_ASSERT_TRUE(m->is_available(state, "x", 1));
	m->worker_lost(state, "worker-1");
	CU_ASSERT_EQUAL(m->snapshot(state, &snap), 0);
	CU_ASSERT_PTR_NULL(snap.data);
	CU_ASSERT_EQUAL(snap.len, 0);
	CU_ASSERT_EQUAL(m->restore(state, NULL, 0), 0);
	CU_ASSERT_EQUAL(m->restore(state, "abc", 3), SL_ENOTSUP);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(sl_errdetail(), "cannot restore 3 bytes"));
	m->fini(state);
	w->close(state);
	r->close(state);
	sli_plugin_unref(p);
}

/*
 * Tables declared shorter than this build's, with garbage where the missing
 * members would be: the loader reads only the declared bytes and uses the
 * defaults. A call through the garbage would crash.
 */
static void
test_small_tables(void)
{
	struct sli_plugin *good = NULL, *small = NULL, *sched = NULL;
	char path[PATHLEN + 64];
	char state[64] = { 0 };
	int64_t start0 = sli_counter_get("tp.test-small-sched.on_start");

	if (!find_dirs())
		return;
	tp_path(path, sizeof(path), "tp-good-shuffle.so");
	CU_ASSERT_EQUAL_FATAL(sli_plugin_open(path, &good), 0);
	tp_path(path, sizeof(path), "tp-small-shuffle.so");
	CU_ASSERT_EQUAL_FATAL(sli_plugin_open(path, &small), 0);
	CU_ASSERT_PTR_EQUAL(small->ops.shuffle.master.worker_lost,
	    good->ops.shuffle.master.worker_lost);
	small->ops.shuffle.master.worker_lost(state, "worker-1");
	CU_ASSERT_EQUAL(small->ops.shuffle.master.struct_size,
	    sizeof(struct sl_shuffle_master_ops));

	tp_path(path, sizeof(path), "tp-small-sched.so");
	CU_ASSERT_EQUAL_FATAL(sli_plugin_open(path, &sched), 0);
	/* Half a pointer beyond the declared size is ignored. */
	CU_ASSERT_PTR_NULL(sched->ops.scheduler.on_regions_reset);
	CU_ASSERT_EQUAL(sli_plugin_sched_reset(sched, state, NULL, NULL, 0), 0);
	CU_ASSERT_EQUAL(
	    sli_counter_get("tp.test-small-sched.on_start"), start0 + 1);
	sli_plugin_unref(sched);
	sli_plugin_unref(small);
	sli_plugin_unref(good);
}

/* Each scheduler's default reset calls its own on_start, also with two of
 * them loaded and the same image opened twice (which is one plugin). */
static void
test_reset_defaults_per_plugin(void)
{
	struct sli_plugin *a = NULL, *b = NULL, *c = NULL;
	char path[PATHLEN + 64];
	char state[16] = { 0 };
	int64_t sa = sli_counter_get("tp.test-sched.on_start");
	int64_t sc = sli_counter_get("tp.test-small-sched.on_start");
	int64_t ia = sli_counter_get("tp.test-sched.init");

	if (!find_dirs())
		return;
	tp_path(path, sizeof(path), "tp-good-sched.so");
	CU_ASSERT_EQUAL_FATAL(sli_plugin_open(path, &a), 0);
	CU_ASSERT_EQUAL_FATAL(sli_plugin_open(path, &b), 0);
	CU_ASSERT_PTR_EQUAL(a, b);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-sched.init"), ia + 1);
	tp_path(path, sizeof(path), "tp-small-sched.so");
	CU_ASSERT_EQUAL_FATAL(sli_plugin_open(path, &c), 0);
	sli_plugin_sched_reset(a, state, NULL, NULL, 0);
	sli_plugin_sched_reset(c, state, NULL, NULL, 0);
	sli_plugin_sched_reset(c, state, NULL, NULL, 0);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-sched.on_start"), sa + 1);
	CU_ASSERT_EQUAL(
	    sli_counter_get("tp.test-small-sched.on_start"), sc + 2);
	sli_plugin_unref(a);
	sli_plugin_sched_reset(b, state, NULL, NULL, 0);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-sched.on_start"), sa + 2);
	sli_plugin_unref(b);
	sli_plugin_unref(c);
}

static void
test_refcount(void)
{
	struct sli_plugin *p = NULL;
	char path[PATHLEN + 64];
	int64_t init0 = sli_counter_get("tp.test-shuffle.init");
	int64_t fini0 = sli_counter_get("tp.test-shuffle.fini");

	if (!find_dirs())
		return;
	tp_path(path, sizeof(path), "tp-good-shuffle.so");
	CU_ASSERT_EQUAL_FATAL(sli_plugin_open(path, &p), 0);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-shuffle.init"), init0 + 1);
	CU_ASSERT_EQUAL(atomic_load(&p->refs), 1);
	sli_plugin_ref(p);
	sli_plugin_ref(p);
	CU_ASSERT_EQUAL(atomic_load(&p->refs), 3);
	sli_plugin_unref(p);
	sli_plugin_unref(p);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-shuffle.fini"), fini0);
	sli_plugin_unref(p);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-shuffle.fini"), fini0 + 1);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-shuffle.init"), init0 + 1);
	sli_plugin_unref(NULL);
}

/* The good plugins in test-plugins/, sorted by file name. */
static const char *const good_files[] = {
	"tp-caps-unknown.so",
#ifdef TP_HAVE_CXX
	"tp-cxx-shuffle.so",
#endif
	"tp-good-ops.so",
	"tp-good-sched.so",
	"tp-good-shuffle.so",
	"tp-ops-small.so",
	"tp-small-sched.so",
	"tp-small-shuffle.so",
};
#define NGOOD (sizeof(good_files) / sizeof(good_files[0]))

static void
test_set_scan(void)
{
	struct sli_plugin_set set = { 0 };
	struct sli_plugin *p, *dup = NULL;
	char good[PATHLEN + 64], path[PATHLEN + 64], want[3 * PATHLEN];
	int64_t dinit0 = sli_counter_get("tp.dup-sched.init");
	int64_t dfini0 = sli_counter_get("tp.dup-sched.fini");
	int64_t fini0 = sli_counter_get("tp.test-sched.fini");

	if (!find_dirs())
		return;
	/* The broken ones are logged and skipped; the good ones load. */
	CU_ASSERT_EQUAL(sli_plugin_set_scan(&set, tp_dir, true), (int)NGOOD);
	CU_ASSERT_EQUAL_FATAL(set.n, NGOOD);
	/* Sorted by file name. */
	for (size_t i = 0; i < NGOOD; i++) {
		char suffix[64];

		snprintf(suffix, sizeof(suffix), "/%s", good_files[i]);
		CU_ASSERT(ends_with(set.v[i]->path, suffix));
		CU_ASSERT_EQUAL(set.v[i]->state, SLI_PLUGIN_READY);
	}
	tp_path(good, sizeof(good), "tp-good-sched.so");
	p = sli_plugin_set_find(&set, SL_PLUGIN_SCHEDULER, "test-sched");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_STRING_EQUAL(p->path, good);
	CU_ASSERT_PTR_NULL(
	    sli_plugin_set_find(&set, SL_PLUGIN_SHUFFLE, "test-sched"));
	CU_ASSERT_PTR_NOT_NULL(
	    sli_plugin_set_find(&set, SL_PLUGIN_SHUFFLE, "test-shuffle"));
	CU_ASSERT_PTR_NOT_NULL(
	    sli_plugin_set_find(&set, SL_PLUGIN_SHUFFLE, "test-small-shuffle"));
	CU_ASSERT_PTR_NOT_NULL(
	    sli_plugin_set_find(&set, SL_PLUGIN_SCHEDULER, "test-small-sched"));
	CU_ASSERT_PTR_NOT_NULL(
	    sli_plugin_set_find(&set, SL_PLUGIN_SHUFFLE, "test-caps-unknown"));
	CU_ASSERT_PTR_NULL(
	    sli_plugin_set_find(&set, SL_PLUGIN_SHUFFLE, "memory-nope"));

	/* The same name from a second directory: opened and checked, then
	 * refused by the set before its init ran, and unloaded again
	 * without fini. */
	snprintf(path, sizeof(path), "%s/tp-dup-sched.so", dup_dir);
	snprintf(want, sizeof(want),
	    "plugin %s: a plugin named 'test-sched' is already loaded from %s",
	    path, good);
	CU_ASSERT_EQUAL(sli_plugin_set_scan(&set, dup_dir, true), 0);
	CU_ASSERT_STRING_EQUAL(sl_errdetail(), want);
	CU_ASSERT_EQUAL(set.n, NGOOD);
	CU_ASSERT_EQUAL(sli_counter_get("tp.dup-sched.init"), dinit0);
	CU_ASSERT_EQUAL(sli_counter_get("tp.dup-sched.fini"), dfini0);

	/* Adding it by hand: refused, not started, and the reference stays
	 * with us. */
	CU_ASSERT_EQUAL_FATAL(sli_plugin_load(path, &dup), 0);
	CU_ASSERT_EQUAL(dup->state, SLI_PLUGIN_LOADED);
	CU_ASSERT_EQUAL(sli_plugin_set_add(&set, dup), SL_EEXISTS);
	CU_ASSERT_STRING_EQUAL(sl_errdetail(), want);
	CU_ASSERT_EQUAL(dup->state, SLI_PLUGIN_LOADED);
	sli_plugin_unref(dup);
	CU_ASSERT_EQUAL(sli_counter_get("tp.dup-sched.init"), dinit0);
	CU_ASSERT_EQUAL(sli_counter_get("tp.dup-sched.fini"), dfini0);

	CU_ASSERT_STRING_EQUAL(set.v[0]->name, "test-caps-unknown");
	sli_plugin_set_clear(&set);
	CU_ASSERT_EQUAL(set.n, 0);
	CU_ASSERT_PTR_NULL(set.v);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-sched.fini"), fini0 + 1);
	sli_plugin_set_clear(&set);
}

/* sli_plugin_load checks without init; the set starts what it accepts. */
static void
test_load_then_add(void)
{
	struct sli_plugin_set set = { 0 };
	struct sli_plugin *p = NULL;
	char path[PATHLEN + 64];
	int64_t init0 = sli_counter_get("tp.test-shuffle.init");
	int64_t fini0 = sli_counter_get("tp.test-shuffle.fini");

	if (!find_dirs())
		return;
	tp_path(path, sizeof(path), "tp-good-shuffle.so");
	CU_ASSERT_EQUAL_FATAL(sli_plugin_load(path, &p), 0);
	CU_ASSERT_EQUAL(p->state, SLI_PLUGIN_LOADED);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-shuffle.init"), init0);
	CU_ASSERT_EQUAL_FATAL(sli_plugin_set_add(&set, p), 0);
	CU_ASSERT_EQUAL(p->state, SLI_PLUGIN_READY);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-shuffle.init"), init0 + 1);
	/* Starting again is a no-op. */
	CU_ASSERT_EQUAL(sli_plugin_start(p), 0);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-shuffle.init"), init0 + 1);
	sli_plugin_set_clear(&set);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-shuffle.fini"), fini0 + 1);

	/* A failing init: the set refuses the plugin with its reason, and
	 * the caller still holds it, FAILED. */
	tp_path(path, sizeof(path), "tp-init-fails.so");
	CU_ASSERT_EQUAL_FATAL(sli_plugin_load(path, &p), 0);
	CU_ASSERT_EQUAL(sli_plugin_set_add(&set, p), SL_EPLUGIN);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "init failed with"));
	CU_ASSERT_EQUAL(p->state, SLI_PLUGIN_FAILED);
	CU_ASSERT_EQUAL(set.n, 0);
	/* Asked again, it says the same without a second init. */
	{
		int64_t i0 = sli_counter_get("tp.init-fails.init");

		CU_ASSERT_EQUAL(sli_plugin_start(p), SL_EPLUGIN);
		CU_ASSERT_PTR_NOT_NULL(
		    strstr(sl_errdetail(), "cannot reach the shuffle"));
		CU_ASSERT_EQUAL(sli_counter_get("tp.init-fails.init"), i0);
	}
	sli_plugin_unref(p);
	CU_ASSERT_EQUAL(sli_counter_get("tp.init-fails.fini"), 0);
	sli_plugin_set_clear(&set);
}

/* A scratch directory for links; removed by rm_scratch. */
static bool
make_scratch(char *dir, size_t n)
{
	const char *tmp = getenv("TMPDIR");

	bool ok;

	snprintf(dir, n, "%s/sl-loader.XXXXXX", tmp ? tmp : "/tmp");
	ok = mkdtemp(dir) != NULL;
	CU_ASSERT(ok);
	return ok;
}

static void
link_in(const char *dir, const char *target, const char *name)
{
	char path[2 * PATHLEN];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	CU_ASSERT_EQUAL(symlink(target, path), 0);
}

static void
rm_scratch(const char *dir, const char *const *names, size_t n)
{
	char path[2 * PATHLEN];

	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

/*
 * One file reached by two paths is one plugin: opening it again returns a
 * new reference to the same struct, init runs once and fini once, at the
 * last reference.
 */
static void
test_open_same_file(void)
{
	static const char *const names[] = { "alias.so" };
	struct sli_plugin *a = NULL, *b = NULL, *c = NULL;
	char dir[PATHLEN], path[PATHLEN + 64], alias[2 * PATHLEN];
	int64_t init0 = sli_counter_get("tp.test-shuffle.init");
	int64_t fini0 = sli_counter_get("tp.test-shuffle.fini");

	if (!find_dirs() || !make_scratch(dir, sizeof(dir)))
		return;
	tp_path(path, sizeof(path), "tp-good-shuffle.so");
	link_in(dir, path, "alias.so");
	snprintf(alias, sizeof(alias), "%s/alias.so", dir);

	CU_ASSERT_EQUAL_FATAL(sli_plugin_open(path, &a), 0);
	CU_ASSERT_EQUAL_FATAL(sli_plugin_open(alias, &b), 0);
	CU_ASSERT_EQUAL_FATAL(sli_plugin_load(path, &c), 0);
	CU_ASSERT_PTR_EQUAL(a, b);
	CU_ASSERT_PTR_EQUAL(a, c);
	CU_ASSERT_EQUAL(atomic_load(&a->refs), 3);
	CU_ASSERT_STRING_EQUAL(a->path, path); /* the first path */
	CU_ASSERT_EQUAL(c->state, SLI_PLUGIN_READY);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-shuffle.init"), init0 + 1);
	sli_plugin_unref(a);
	sli_plugin_unref(b);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-shuffle.fini"), fini0);
	sli_plugin_unref(c);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-shuffle.fini"), fini0 + 1);

	/* Unloaded, it loads and inits afresh: init and fini alternate. */
	CU_ASSERT_EQUAL_FATAL(sli_plugin_open(alias, &a), 0);
	CU_ASSERT_STRING_EQUAL(a->path, alias);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-shuffle.init"), init0 + 2);
	sli_plugin_unref(a);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-shuffle.fini"), fini0 + 2);
	rm_scratch(dir, names, 1);
}

/*
 * The set holds each file once, however it is reached: a symbolic link to a
 * plugin, a link to the whole directory, the same directory scanned twice,
 * SLUICE_PLUGIN_PATH naming it twice and --plugin-dir once more. Every
 * duplicate is refused before init, so each init runs exactly once.
 */
static void
test_set_same_file(void)
{
	static const char *const names[] = { "alias.so", "dirlink" };
	struct sli_plugin_set set = { 0 };
	char dir[PATHLEN], path[PATHLEN + 64], dirlink[2 * PATHLEN];
	char want[4 * PATHLEN], env[5 * PATHLEN];
	const char *extra[1];
	int64_t init0 = sli_counter_get("tp.test-shuffle.init");
	int64_t sinit0 = sli_counter_get("tp.test-sched.init");
	int64_t fini0 = sli_counter_get("tp.test-shuffle.fini");
	int rc;

	if (!find_dirs() || !make_scratch(dir, sizeof(dir)))
		return;
	tp_path(path, sizeof(path), "tp-good-shuffle.so");
	link_in(dir, path, "alias.so");
	link_in(dir, tp_dir, "dirlink");
	snprintf(dirlink, sizeof(dirlink), "%s/dirlink", dir);

	CU_ASSERT_EQUAL(sli_plugin_set_scan(&set, tp_dir, true), (int)NGOOD);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-shuffle.init"), init0 + 1);

	/* A link to one of them, under another name. */
	snprintf(want, sizeof(want),
	    "plugin %s/alias.so: already loaded as 'test-shuffle' from %s "
	    "(the same file)",
	    dir, path);
	CU_ASSERT_EQUAL(sli_plugin_set_scan(&set, dir, true), 0);
	CU_ASSERT_STRING_EQUAL(sl_errdetail(), want);

	/* The same directory again, and through a link. */
	CU_ASSERT_EQUAL(sli_plugin_set_scan(&set, tp_dir, true), 0);
	CU_ASSERT_EQUAL(sli_plugin_set_scan(&set, dirlink, true), 0);
	CU_ASSERT_EQUAL(set.n, NGOOD);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-shuffle.init"), init0 + 1);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-sched.init"), sinit0 + 1);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-shuffle.fini"), fini0);
	sli_plugin_set_clear(&set);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-shuffle.fini"), fini0 + 1);

	/* The default directories, naming it three times. */
	snprintf(env, sizeof(env), "%s:%s:%s", tp_dir, dirlink, tp_dir);
	setenv("SLUICE_PLUGIN_PATH", env, 1);
	extra[0] = tp_dir;
	rc = sli_plugin_set_load_default(&set, extra, 1);
	unsetenv("SLUICE_PLUGIN_PATH");
	CU_ASSERT(rc >= (int)NGOOD);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-shuffle.init"), init0 + 2);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-sched.init"), sinit0 + 2);
	for (size_t i = 0; i < set.n; i++)
		for (size_t j = i + 1; j < set.n; j++)
			CU_ASSERT_PTR_NOT_EQUAL(set.v[i]->dl, set.v[j]->dl);
	sli_plugin_set_clear(&set);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-shuffle.fini"), fini0 + 2);
	rm_scratch(dir, names, 2);
}

/* Unknown caps bits load, and are kept for whoever learns them later. */
static void
test_caps_unknown(void)
{
	struct sli_plugin *p = NULL;
	char path[PATHLEN + 64];

	if (!find_dirs())
		return;
	tp_path(path, sizeof(path), "tp-caps-unknown.so");
	CU_ASSERT_EQUAL_FATAL(sli_plugin_open(path, &p), 0);
	CU_ASSERT_EQUAL(p->desc.caps,
	    SL_SHUFFLE_CAP_TYPE(SL_PARTITION_BLOCKING) | (UINT64_C(1) << 40) |
	        (UINT64_C(1) << 63));
	sli_plugin_unref(p);
}

/* A plugin written in C++ (tests/plugins/cxx-shuffle.cpp) loads: its
 * entry has C linkage, and its static constructor ran. */
static void
test_cxx_plugin(void)
{
#ifdef TP_HAVE_CXX
	struct sli_plugin *p = NULL;
	const struct sl_shuffle_writer_ops *w;
	char path[PATHLEN + 64];
	_Alignas(16) char state[64] = { 0 };
	struct sl_buffer buf = { 0 };
	int64_t init0 = sli_counter_get("tp.test-cxx.init");
	int64_t ctor0 = sli_counter_get("tp.test-cxx.ctor");
	int64_t fini0 = sli_counter_get("tp.test-cxx.fini");

	if (!find_dirs())
		return;
	tp_path(path, sizeof(path), "tp-cxx-shuffle.so");
	CU_ASSERT_EQUAL_FATAL(sli_plugin_open(path, &p), 0);
	CU_ASSERT_STRING_EQUAL(p->name, "test-cxx");
	CU_ASSERT_STRING_EQUAL(p->version, "0.0.1-c++");
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-cxx.init"), init0 + 1);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-cxx.ctor"), ctor0 + 1);
	w = &p->ops.shuffle.writer;
	CU_ASSERT_FATAL(w->state_size <= sizeof(state));
	CU_ASSERT_EQUAL(w->open(state, &p->host, "", 0), 0);
	CU_ASSERT_EQUAL(w->write(state, 0, &buf), SL_ENOTSUP);
	CU_ASSERT_EQUAL(w->write(state, 3, &buf), SL_ERANGE);
	w->close(state); /* the loader's default */
	w->fini(state);
	sli_plugin_unref(p);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-cxx.fini"), fini0 + 1);
#else
	printf("\n    skipped: no C++ compiler when this was built\n");
#endif
}

/* What the operators under test emitted through their task context. */
static struct {
	int n;
	char values[16];
} emitted;

static int
collect_emit(
    const struct sl_task_ctx *ctx, uint32_t out, const struct sl_record *rec)
{
	CU_ASSERT_EQUAL(out, 0);
	if (rec->value_len != 1 || emitted.n >= (int)sizeof(emitted.values))
		return SL_EINVAL;
	emitted.values[emitted.n++] = *(const char *)rec->value;
	return 0;
}

static void
task_ctx(struct sl_task_ctx *ctx, const struct sli_plugin *p)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->struct_size = sizeof(*ctx);
	ctx->host = &p->host;
	ctx->job = "job";
	ctx->vertex = "v";
	ctx->config_json = "{}";
	ctx->parallelism = 1;
	ctx->num_outputs = 1;
	ctx->emit = collect_emit;
	memset(&emitted, 0, sizeof(emitted));
}

/*
 * An operator library of a source and a map with only the ops they need:
 * the copies are complete tables, exactly one of run and process is set,
 * and the loader's defaults stand in for the rest (and are called here).
 */
static void
test_good_operators(void)
{
	struct sli_plugin *p = NULL;
	const struct sl_operator_ops *gen, *map;
	struct sl_task_ctx ctx;
	struct sl_record rec = { .value = "x", .value_len = 1 };
	char path[PATHLEN + 64];
	char state[16] = { 0 };
	int64_t init0 = sli_counter_get("tp.test-ops.init");
	int64_t open0 = sli_counter_get("tp.test-ops.open");
	int64_t finish0 = sli_counter_get("tp.test-ops.finish");
	int64_t process0 = sli_counter_get("tp.test-ops.process");
	int64_t fini0 = sli_counter_get("tp.test-ops.fini");

	if (!find_dirs())
		return;
	tp_path(path, sizeof(path), "tp-good-ops.so");
	CU_ASSERT_EQUAL_FATAL(sli_plugin_open(path, &p), 0);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-ops.init"), init0 + 1);
	CU_ASSERT_EQUAL(p->desc.kind, SL_PLUGIN_OPERATORS);
	CU_ASSERT_STRING_EQUAL(sli_plugin_kind_name(p->desc.kind), "operators");
	CU_ASSERT_STRING_EQUAL(p->name, "test-ops");
	CU_ASSERT_EQUAL_FATAL(p->ops.operators.n, 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p->ops.operators.v);
	gen = &p->ops.operators.v[0];
	map = &p->ops.operators.v[1];
	CU_ASSERT_STRING_EQUAL(gen->name, "tp-gen");
	CU_ASSERT_STRING_EQUAL(map->name, "tp-map");
	CU_ASSERT_EQUAL(gen->struct_size, sizeof(*gen));
	CU_ASSERT_EQUAL(map->struct_size, sizeof(*map));
	CU_ASSERT_EQUAL(gen->caps, SL_OPERATOR_SOURCE);
	CU_ASSERT_EQUAL(map->caps, 0);
	CU_ASSERT(gen->state_size <= sizeof(state));
	CU_ASSERT(map->state_size <= sizeof(state));
	/* Exactly one of run and process, as declared. */
	CU_ASSERT_PTR_NOT_NULL(gen->run);
	CU_ASSERT_PTR_NULL(gen->process);
	CU_ASSERT_PTR_NULL(map->run);
	CU_ASSERT_PTR_NOT_NULL(map->process);
	/* Every other op is there, the plugin's own or a default. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(gen->commit);
	CU_ASSERT_PTR_NOT_NULL_FATAL(gen->abort);
	CU_ASSERT_PTR_NOT_NULL_FATAL(gen->close);
	CU_ASSERT_PTR_NOT_NULL_FATAL(map->finish);
	CU_ASSERT_PTR_NOT_NULL_FATAL(map->commit);
	CU_ASSERT_PTR_NOT_NULL_FATAL(map->abort);
	CU_ASSERT_PTR_NOT_NULL_FATAL(map->close);
	CU_ASSERT_PTR_NOT_EQUAL(gen->finish, map->finish);

	/* A source's task: open, run, finish (its own), commit, close. */
	task_ctx(&ctx, p);
	CU_ASSERT_EQUAL(gen->open(state, &ctx), 0);
	CU_ASSERT_EQUAL(gen->run(state, &ctx), 0);
	CU_ASSERT_EQUAL(emitted.n, 3);
	CU_ASSERT_NSTRING_EQUAL(emitted.values, "012", 3);
	CU_ASSERT_EQUAL(gen->finish(state, &ctx), 0);
	CU_ASSERT_EQUAL(gen->commit(state, &ctx), 0);
	gen->close(state);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-ops.finish"), finish0 + 1);

	/* A map's: process, then the defaults finish and commit; abort and
	 * close do nothing. */
	task_ctx(&ctx, p);
	CU_ASSERT_EQUAL(map->open(state, &ctx), 0);
	CU_ASSERT_EQUAL(map->process(state, &ctx, 0, &rec), 0);
	CU_ASSERT_EQUAL(emitted.n, 1);
	CU_ASSERT_EQUAL(emitted.values[0], 'x');
	CU_ASSERT_EQUAL(map->finish(state, &ctx), 0);
	CU_ASSERT_EQUAL(map->commit(state, &ctx), 0);
	map->abort(state, &ctx);
	map->close(state);
	CU_ASSERT_EQUAL(emitted.n, 1);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-ops.open"), open0 + 2);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-ops.process"), process0 + 1);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-ops.finish"), finish0 + 1);
	sli_plugin_unref(p);
	CU_ASSERT_EQUAL(sli_counter_get("tp.test-ops.fini"), fini0 + 1);
}

/* An operator table that ends after process, with garbage beyond: the
 * loader must take the defaults, not the garbage. */
static void
test_small_operators(void)
{
	struct sli_plugin *good = NULL, *small = NULL;
	const struct sl_operator_ops *map, *ref;
	struct sl_task_ctx ctx;
	char path[PATHLEN + 64];
	char state[16] = { 0 };

	if (!find_dirs())
		return;
	tp_path(path, sizeof(path), "tp-good-ops.so");
	CU_ASSERT_EQUAL_FATAL(sli_plugin_open(path, &good), 0);
	tp_path(path, sizeof(path), "tp-ops-small.so");
	CU_ASSERT_EQUAL_FATAL(sli_plugin_open(path, &small), 0);
	CU_ASSERT_EQUAL_FATAL(small->ops.operators.n, 2);
	map = &small->ops.operators.v[1];
	ref = &good->ops.operators.v[1]; /* tp-map: all defaults */
	CU_ASSERT_STRING_EQUAL(map->name, "small-map");
	CU_ASSERT_EQUAL(map->struct_size, sizeof(*map));
	CU_ASSERT_PTR_EQUAL(map->finish, ref->finish);
	CU_ASSERT_PTR_EQUAL(map->commit, ref->commit);
	CU_ASSERT_PTR_EQUAL(map->abort, ref->abort);
	CU_ASSERT_PTR_EQUAL(map->close, ref->close);
	task_ctx(&ctx, small);
	CU_ASSERT_EQUAL(map->finish(state, &ctx), 0);
	map->abort(state, &ctx);
	map->close(state);
	sli_plugin_unref(small);
	sli_plugin_unref(good);
}

/*
 * Operators are found by name across the set's libraries; a library that
 * repeats an operator name of another is refused by the set before its
 * init ran, the reason naming both files.
 */
static void
test_operator_find(void)
{
	struct sli_plugin_set set = { 0 };
	struct sli_plugin *lib = NULL, *dup = NULL;
	const struct sl_operator_ops *o;
	char good[PATHLEN + 64], path[PATHLEN + 64], want[3 * PATHLEN];
	int64_t dinit0 = sli_counter_get("tp.dup-ops.init");
	int64_t dfini0 = sli_counter_get("tp.dup-ops.fini");

	if (!find_dirs())
		return;
	CU_ASSERT_EQUAL_FATAL(
	    sli_plugin_set_scan(&set, tp_dir, true), (int)NGOOD);
	tp_path(good, sizeof(good), "tp-good-ops.so");

	o = sli_operator_find(&set, "tp-map", &lib);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(lib);
	CU_ASSERT_STRING_EQUAL(o->name, "tp-map");
	CU_ASSERT_PTR_NOT_NULL(o->process);
	CU_ASSERT_STRING_EQUAL(lib->name, "test-ops");
	CU_ASSERT_STRING_EQUAL(lib->path, good);
	CU_ASSERT_PTR_EQUAL(o, &lib->ops.operators.v[1]);
	o = sli_operator_find(&set, "small-gen", &lib);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_STRING_EQUAL(lib->name, "test-ops-small");
	CU_ASSERT_PTR_NOT_NULL(o->run);
	CU_ASSERT_PTR_NOT_NULL(sli_operator_find(&set, "tp-gen", NULL));
	/* Unknown names, and names of plugins rather than operators. */
	lib = set.v[0]; /* to see it cleared */
	CU_ASSERT_PTR_NULL(sli_operator_find(&set, "no-such-op", &lib));
	CU_ASSERT_PTR_NULL(lib);
	CU_ASSERT_PTR_NULL(sli_operator_find(&set, "test-ops", NULL));
	CU_ASSERT_PTR_NULL(sli_operator_find(&set, "test-sched", NULL));
	CU_ASSERT_PTR_NULL(sli_operator_find(&set, "", NULL));

	/* dup-ops provides dup-gen and tp-map: refused, not started. */
	snprintf(path, sizeof(path), "%s/tp-dup-ops.so", dup_dir);
	snprintf(want, sizeof(want),
	    "plugin %s: operator 'tp-map' is already provided by operator "
	    "library 'test-ops' from %s",
	    path, good);
	CU_ASSERT_EQUAL_FATAL(sli_plugin_load(path, &dup), 0);
	CU_ASSERT_EQUAL(dup->state, SLI_PLUGIN_LOADED);
	CU_ASSERT_EQUAL(sli_plugin_set_add(&set, dup), SL_EEXISTS);
	CU_ASSERT_STRING_EQUAL(sl_errdetail(), want);
	CU_ASSERT_EQUAL(dup->state, SLI_PLUGIN_LOADED);
	CU_ASSERT_EQUAL(set.n, NGOOD);
	CU_ASSERT_PTR_NULL(sli_operator_find(&set, "dup-gen", NULL));
	sli_plugin_unref(dup);
	/* Scanning its directory says the same (for the log) and skips it. */
	CU_ASSERT_EQUAL(sli_plugin_set_scan(&set, dup_dir, true), 0);
	CU_ASSERT_EQUAL(set.n, NGOOD);
	CU_ASSERT_EQUAL(sli_counter_get("tp.dup-ops.init"), dinit0);
	CU_ASSERT_EQUAL(sli_counter_get("tp.dup-ops.fini"), dfini0);
	sli_plugin_set_clear(&set);

	/* Alone, the same library is fine: it is the repeat that is not. */
	CU_ASSERT_EQUAL_FATAL(sli_plugin_load(path, &dup), 0);
	CU_ASSERT_EQUAL(sli_plugin_set_add(&set, dup), 0);
	CU_ASSERT_EQUAL(sli_counter_get("tp.dup-ops.init"), dinit0 + 1);
	o = sli_operator_find(&set, "tp-map", &lib);
	CU_ASSERT_PTR_NOT_NULL(o);
	CU_ASSERT_PTR_EQUAL(lib, dup);
	sli_plugin_set_clear(&set);
	CU_ASSERT_EQUAL(sli_counter_get("tp.dup-ops.fini"), dfini0 + 1);
}

/* No test plugin ever saw init twice without a fini between. */
static void
test_no_reinit(void)
{
	static const char *const names[] = { "test-shuffle", "test-sched",
		"test-small-shuffle", "test-small-sched", "test-caps-unknown",
		"dup-sched", "test-ops", "test-ops-small", "dup-ops" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char counter[64];

		snprintf(counter, sizeof(counter), "tp.%s.reinit", names[i]);
		CU_ASSERT_EQUAL(sli_counter_get(counter), 0);
	}
}

static void
test_scan_missing(void)
{
	struct sli_plugin_set set = { 0 };
	char dir[PATHLEN + 64], file[PATHLEN + 64];

	if (!find_dirs())
		return;
	tp_path(dir, sizeof(dir), "no-such-dir");
	tp_path(file, sizeof(file), "tp-good-sched.so");
	CU_ASSERT_EQUAL(sli_plugin_set_scan(&set, dir, false), 0);
	CU_ASSERT_EQUAL(sli_plugin_set_scan(&set, file, false), 0);
	CU_ASSERT_EQUAL(sli_plugin_set_scan(&set, dir, true), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), dir));
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "No such file"));
	CU_ASSERT_EQUAL(sli_plugin_set_scan(&set, file, true), -ENOTDIR);
	CU_ASSERT_EQUAL(set.n, 0);
	sli_plugin_set_clear(&set);
}

/* Set or unset SLUICE_PLUGIN_PATH for one test. */
static void
plugin_path(const char *v)
{
	if (v != NULL)
		setenv("SLUICE_PLUGIN_PATH", v, 1);
	else
		unsetenv("SLUICE_PLUGIN_PATH");
}

static void
test_dirs(void)
{
	const char *extra[] = { "/c", "/d" };
	char bundled[PATH_MAX + 64], real[PATH_MAX], parent[PATH_MAX];
	char **dirs = NULL;
	size_t n = 0;
	ssize_t len;

	if (!find_dirs())
		return;
	/* <dir of the executable>/../SL_PLUGIN_SUBDIR, resolved here by the
	 * kernel rather than by dropping path components as the loader does:
	 * build/bin/sluice -> build/lib/sluice/plugins.d. */
	len = readlink("/proc/self/exe", real, sizeof(real) - 4);
	CU_ASSERT_FATAL(len > 0 && (size_t)len < sizeof(real) - 4);
	real[len] = '\0';
	strcpy(strrchr(real, '/'), "/..");
	CU_ASSERT_PTR_NOT_NULL_FATAL(realpath(real, parent));
	if (SL_PLUGIN_SUBDIR[0] == '/')
		snprintf(bundled, sizeof(bundled), "%s", SL_PLUGIN_SUBDIR);
	else if (strcmp(parent, "/") == 0)
		snprintf(bundled, sizeof(bundled), "/%s", SL_PLUGIN_SUBDIR);
	else
		snprintf(bundled, sizeof(bundled), "%s/%s", parent,
		    SL_PLUGIN_SUBDIR);
	printf("\n    bundled: %s\n", bundled);

	plugin_path(":/a::/b:");
	CU_ASSERT_EQUAL_FATAL(sli_plugin_dirs(extra, 2, &dirs, &n), 0);
	CU_ASSERT_EQUAL_FATAL(n, 5);
	CU_ASSERT_STRING_EQUAL(dirs[0], bundled);
	CU_ASSERT_STRING_EQUAL(dirs[1], "/a");
	CU_ASSERT_STRING_EQUAL(dirs[2], "/b");
	CU_ASSERT_STRING_EQUAL(dirs[3], "/c");
	CU_ASSERT_STRING_EQUAL(dirs[4], "/d");
	sli_plugin_dirs_free(dirs, n);

	plugin_path(NULL);
	CU_ASSERT_EQUAL_FATAL(sli_plugin_dirs(extra, 1, &dirs, &n), 0);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_STRING_EQUAL(dirs[0], bundled);
	CU_ASSERT_STRING_EQUAL(dirs[1], "/c");
	sli_plugin_dirs_free(dirs, n);

	plugin_path("");
	CU_ASSERT_EQUAL_FATAL(sli_plugin_dirs(NULL, 0, &dirs, &n), 0);
	CU_ASSERT_EQUAL(n, 1);
	sli_plugin_dirs_free(dirs, n);
	plugin_path(NULL);
}

static void
test_load_default(void)
{
	struct sli_plugin_set set = { 0 };
	const char *extra[1];
	char env[3 * PATHLEN], missing[PATHLEN + 64];
	struct sli_plugin *p;
	int rc;

	if (!find_dirs())
		return;
	/* SLUICE_PLUGIN_PATH first, then the extra dirs: the first of a
	 * name wins. The bundled dir may hold real plugins, so counts are
	 * lower bounds. */
	plugin_path(tp_dir);
	extra[0] = dup_dir;
	rc = sli_plugin_set_load_default(&set, extra, 1);
	CU_ASSERT(rc >= 4);
	p = sli_plugin_set_find(&set, SL_PLUGIN_SCHEDULER, "test-sched");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT(ends_with(p->path, "/test-plugins/tp-good-sched.so"));
	sli_plugin_set_clear(&set);

	/* The order within SLUICE_PLUGIN_PATH counts too. */
	snprintf(env, sizeof(env), "%s:%s", dup_dir, tp_dir);
	plugin_path(env);
	rc = sli_plugin_set_load_default(&set, NULL, 0);
	CU_ASSERT(rc >= 4);
	p = sli_plugin_set_find(&set, SL_PLUGIN_SCHEDULER, "test-sched");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT(ends_with(p->path, "/dup/tp-dup-sched.so"));
	sli_plugin_set_clear(&set);

	/* Missing dirs in the path are skipped; a missing extra dir (one
	 * given with --plugin-dir) is an error naming it. */
	tp_path(missing, sizeof(missing), "no-such-dir");
	snprintf(env, sizeof(env), "%s:%s", missing, tp_dir);
	plugin_path(env);
	rc = sli_plugin_set_load_default(&set, NULL, 0);
	CU_ASSERT(rc >= 4);
	sli_plugin_set_clear(&set);
	extra[0] = missing;
	rc = sli_plugin_set_load_default(&set, extra, 1);
	CU_ASSERT_EQUAL(rc, -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), missing));
	sli_plugin_set_clear(&set);
	plugin_path(NULL);
}

#define NTHREADS 4
#define NADDS 20000

static void *
add_many(void *arg)
{
	struct sl_host *h = arg;

	for (int i = 0; i < NADDS; i++) {
		h->counter_add("test.threads", 1);
		h->counter_add(
		    i % 2 ? "test.threads.odd" : "test.threads.even", 2);
	}
	return NULL;
}

static void
test_counters(void)
{
	struct sl_host h;
	pthread_t t[NTHREADS];
	char name[32];

	sli_host_init(&h, "counters");
	CU_ASSERT_EQUAL(sli_counter_get("test.never-added"), 0);
	CU_ASSERT_EQUAL(sli_counter_get(NULL), 0);
	h.counter_add("test.a", 5);
	h.counter_add("test.a", -7);
	CU_ASSERT_EQUAL(sli_counter_get("test.a"), -2);
	h.counter_add(NULL, 1);

	/* The name is copied. */
	snprintf(name, sizeof(name), "test.copied");
	h.counter_add(name, 3);
	memset(name, 'x', sizeof(name) - 1);
	CU_ASSERT_EQUAL(sli_counter_get("test.copied"), 3);

	/* Enough names to make the table grow a few times. */
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "test.many.%d", i);
		h.counter_add(name, i);
	}
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "test.many.%d", i);
		CU_ASSERT_EQUAL(sli_counter_get(name), i);
	}
	CU_ASSERT_EQUAL(sli_counter_get("test.a"), -2);

	for (int i = 0; i < NTHREADS; i++)
		CU_ASSERT_EQUAL_FATAL(
		    pthread_create(&t[i], NULL, add_many, &h), 0);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	CU_ASSERT_EQUAL(sli_counter_get("test.threads"), NTHREADS * NADDS);
	CU_ASSERT_EQUAL(sli_counter_get("test.threads.odd"), NTHREADS * NADDS);
	CU_ASSERT_EQUAL(sli_counter_get("test.threads.even"), NTHREADS * NADDS);
}

static void
test_host(void)
{
	struct sl_host h;
	char big[4000];
	uint64_t t0, t1;
	int level = sli_log_level();
	char *m;

	sli_host_init(&h, "hosttest");
	CU_ASSERT_EQUAL(h.struct_size, sizeof(h));
	CU_ASSERT_EQUAL(h.abi_major, SL_ABI_MAJOR);
	CU_ASSERT_EQUAL(h.abi_minor, SL_ABI_MINOR);
	CU_ASSERT_STRING_EQUAL(h.plugin_name, "hosttest");

	m = h.alloc(16);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	memcpy(m, "0123456789abcde", 16);
	m = h.realloc(m, 4096);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_STRING_EQUAL(m, "0123456789abcde");
	h.free(m);
	h.free(NULL);

	t0 = h.now_ns();
	t1 = h.now_ns();
	CU_ASSERT(t0 > 0);
	CU_ASSERT(t1 >= t0);

	h.set_error("cannot reach %s:%d", "example", 7000);
	CU_ASSERT_STRING_EQUAL(sl_errdetail(), "cannot reach example:7000");

	/* The plugins' sl_strerror: static strings, errno values too. */
	CU_ASSERT_PTR_EQUAL(h.strerror(SL_EINVAL), sl_strerror(SL_EINVAL));
	CU_ASSERT_STRING_EQUAL(h.strerror(SL_EINVAL), "invalid argument");
	CU_ASSERT_STRING_EQUAL(
	    h.strerror(-ENOENT), "No such file or directory");
	CU_ASSERT_STRING_EQUAL(h.strerror(-999), "unknown error");
	CU_ASSERT_STRING_EQUAL(h.strerror(1), "unknown error");

	/* Every level, an unknown one, a line longer than the logger's
	 * buffer, and no table: none may crash. */
	sli_log_set_level(SL_LOG_DEBUG);
	h.log(&h, SL_LOG_ERROR, "error %d", 1);
	h.log(&h, SL_LOG_WARN, "warning %s", "two");
	h.log(&h, SL_LOG_INFO, "info");
	h.log(&h, SL_LOG_DEBUG, "debug");
	h.log(&h, 42, "out of range level");
	h.log(&h, -1, "negative level");
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	h.log(&h, SL_LOG_DEBUG, "%s", big);
	h.log(NULL, SL_LOG_DEBUG, "no host table");
	sli_log_set_level(level);
}

static const struct sl_test tests[] = {
	{ "broken plugins are refused with the reason", test_refusals },
	{ "a failed init is not followed by fini", test_init_fails_no_fini },
	{ "a missing file is refused", test_missing_file },
	{ "paths are files, never searched for", test_paths_are_files },
	{ "a minimal scheduler loads with defaults", test_good_scheduler },
	{ "a minimal shuffle plugin loads with defaults", test_good_shuffle },
	{ "members beyond the declared size are ignored", test_small_tables },
	{ "default on_regions_reset calls the right on_start",
	    test_reset_defaults_per_plugin },
	{ "references; fini once at zero", test_refcount },
	{ "scan a directory; duplicates refused before init", test_set_scan },
	{ "load checks, the set starts what it takes", test_load_then_add },
	{ "one file opened by two paths is one plugin", test_open_same_file },
	{ "the set holds each file once; init once", test_set_same_file },
	{ "unknown caps bits are allowed", test_caps_unknown },
	{ "a C++ plugin loads", test_cxx_plugin },
	{ "an operator library loads with defaults", test_good_operators },
	{ "operator ops beyond the declared size are ignored",
	    test_small_operators },
	{ "operators by name; a repeated one refused before init",
	    test_operator_find },
	{ "missing directories", test_scan_missing },
	{ "plugin directories and SLUICE_PLUGIN_PATH", test_dirs },
	{ "load the default directories", test_load_default },
	{ "host counters", test_counters },
	{ "host table", test_host },
	{ "no plugin was initialised twice", test_no_reinit },
	{ NULL, NULL },
};

SL_TEST_MAIN("loader", tests)
