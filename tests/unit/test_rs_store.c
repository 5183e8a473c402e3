/*
 * The remote shuffle service's partitions (shuffle-plugins/remote/
 * rs_store.c) on real files: batches appended in order, a batch sent again
 * dropped, one that skips refused, a malformed one refused whole; nothing
 * readable before the commit, everything once and in order after it; a
 * commit that does not count the batches pushed refused; release and
 * close remove what they must. The bytes held, against a count kept here;
 * the disk watermark (statvfs of the test's dir, read here too); attempts
 * taken over after a restart; a job's attempts dropped. The memory tier,
 * its feeders held: a push waits while it is full and goes on once it
 * has room; a release of an attempt whose batches are queued frees them
 * and ends its waiting push; a commit waits for every queued batch and
 * sees them all; a batch's owner gets it back exactly once. Pushes sent
 * together and taken in the wrong order: the later waits for the earlier
 * when its writer said it may (out), and is refused at once when not.
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "ld_file.h"
#include "rs_store.h"
#include "sl_test.h"
#include "sl_testutil.h"
#include "test_host.h"

static char root[256];

static struct ld_desc
key(uint32_t attempt)
{
	return (struct ld_desc) { .job = "job-rs",
		.edge = 2,
		.producer = 1,
		.attempt = attempt,
		.nsub = 3,
		.type = SL_PARTITION_BLOCKING,
		.token = 7 };
}

/* A batch of n blocks: block i of subpartition i % 3, i + 1 bytes of
 * value (base + i). */
static size_t
batch(unsigned char *p, int n, int base)
{
	size_t off = 0;

	for (int i = 0; i < n; i++) {
		uint32_t h[3] = { htole32((uint32_t)i % 3),
			htole32(SL_BUFFER_DATA), htole32((uint32_t)i + 1) };

		memcpy(p + off, h, sizeof(h));
		off += sizeof(h);
		memset(p + off, base + i, (size_t)i + 1);
		off += (size_t)i + 1;
	}
	return off;
}

static bool
readable(uint32_t attempt)
{
	struct ld_desc d = key(attempt);
	char *data, *index;
	bool there;

	CU_ASSERT_EQUAL_FATAL(ld_paths(&host, &d, false, &data, &index), 0);
	there = access(index, F_OK) == 0 && access(data, F_OK) == 0;
	free(data);
	free(index);
	return there;
}

/* Subpartition sub of attempt, its blocks' first bytes in order into
 * firsts (at most cap); how many. */
static int
read_sub(uint32_t attempt, uint32_t sub, int *firsts, int cap)
{
	struct ld_desc d = key(attempt);
	struct ld_reader *r;
	struct sl_buffer b;
	char *data, *index;
	int n = 0;

	CU_ASSERT_EQUAL_FATAL(ld_paths(&host, &d, false, &data, &index), 0);
	CU_ASSERT_EQUAL_FATAL(
	    ld_reader_open(&host, data, index, sub, sub, &r), 0);
	while (ld_reader_next(r, &b) == 0) {
		if (n < cap)
			firsts[n] = ((unsigned char *)b.data)[0];
		n++;
		free(b.data);
	}
	ld_reader_free(r);
	free(data);
	free(index);
	return n;
}

/* A store on a fresh scratch directory (SLUICE_LOCALDISK_DIR). */
static struct rs_store *
store_begin(void)
{
	struct rs_store *s = NULL;

	sl_tmp_dir(root, sizeof(root), "sl-rs-store");
	setenv("SLUICE_LOCALDISK_DIR", root, 1);
	CU_ASSERT_EQUAL_FATAL(rs_store_open(&host, &s), 0);
	return s;
}

/* Close s: nothing of it may be left in the scratch directory. */
static void
store_end(struct rs_store *s)
{
	rs_store_close(s);
	CU_ASSERT_EQUAL(sl_count_entries(root), 0);
	unsetenv("SLUICE_LOCALDISK_DIR");
}

static void
test_push_commit(void)
{
	struct rs_store *s;
	struct ld_desc d = key(0);
	unsigned char p[4096];
	uint64_t next;
	int firsts[8];
	size_t n;

	s = store_begin();

	/* a batch before batch 0 starts nothing */
	n = batch(p, 3, 10);
	CU_ASSERT_EQUAL(rs_store_push(s, &d, 1, p, n, &next), SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, "before batch 0"));

	CU_ASSERT_EQUAL(rs_store_push(s, &d, 0, p, n, &next), 0);
	CU_ASSERT_EQUAL(next, 1);
	/* sent again (its answer lost): dropped, the next one expected */
	CU_ASSERT_EQUAL(rs_store_push(s, &d, 0, p, n, &next), 0);
	CU_ASSERT_EQUAL(next, 1);
	/* a gap: refused, saying which is expected */
	n = batch(p, 3, 40);
	CU_ASSERT_EQUAL(rs_store_push(s, &d, 2, p, n, &next), SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, "expected batch 1"));
	n = batch(p, 3, 20);
	CU_ASSERT_EQUAL(rs_store_push(s, &d, 1, p, n, &next), 0);
	CU_ASSERT_EQUAL(next, 2);

	/* malformed: a block longer than the batch, a subpartition out of
	 * range, a header cut short; nothing of them appended */
	n = batch(p, 3, 30);
	p[8] = 200;
	CU_ASSERT_EQUAL(rs_store_push(s, &d, 2, p, n, &next), SL_EPARSE);
	n = batch(p, 3, 30);
	p[0] = 3;
	CU_ASSERT_EQUAL(rs_store_push(s, &d, 2, p, n, &next), SL_EPARSE);
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, "subpartition 3 of 3"));
	n = batch(p, 3, 30);
	CU_ASSERT_EQUAL(rs_store_push(s, &d, 2, p, n - 8, &next), SL_EPARSE);

	/* nothing readable before the commit; a commit miscounting refused */
	CU_ASSERT_FALSE(readable(0));
	CU_ASSERT_EQUAL(rs_store_commit(s, &d, 3), SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, "after 3 batches, but 2"));
	CU_ASSERT_FALSE(readable(0));
	CU_ASSERT_EQUAL(rs_store_commit(s, &d, 2), 0);
	CU_ASSERT_TRUE(readable(0));
	CU_ASSERT_EQUAL(rs_store_commit(s, &d, 2), 0); /* again: fine */

	/* every block once, in order: batch 0 then batch 1 */
	CU_ASSERT_EQUAL(read_sub(0, 0, firsts, 8), 2);
	CU_ASSERT_EQUAL(firsts[0], 10);
	CU_ASSERT_EQUAL(firsts[1], 20);
	CU_ASSERT_EQUAL(read_sub(0, 2, firsts, 8), 2);
	CU_ASSERT_EQUAL(firsts[0], 12);
	CU_ASSERT_EQUAL(firsts[1], 22);

	/* after the commit: an old batch is a duplicate, a new one refused */
	n = batch(p, 1, 50);
	CU_ASSERT_EQUAL(rs_store_push(s, &d, 1, p, n, &next), 0);
	CU_ASSERT_EQUAL(next, 2);
	CU_ASSERT_EQUAL(rs_store_push(s, &d, 2, p, n, &next), SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, "already committed"));
	CU_ASSERT_EQUAL(read_sub(0, 0, firsts, 8), 2);

	/* release: the files go */
	rs_store_release(s, &d);
	CU_ASSERT_FALSE(readable(0));

	/* close: an attempt never committed leaves nothing */
	d = key(1);
	n = batch(p, 2, 60);
	CU_ASSERT_EQUAL(rs_store_push(s, &d, 0, p, n, &next), 0);
	rs_store_close(s);
	CU_ASSERT_FALSE(readable(1));
	CU_ASSERT_EQUAL(sl_count_entries(root), 0);
	unsetenv("SLUICE_LOCALDISK_DIR");
}

/* Whether any file of d's attempt is there, final or temporary. */
static bool
any_file(const struct ld_desc *d)
{
	char *data, *index, tmp[4200];
	bool there;

	CU_ASSERT_EQUAL_FATAL(ld_paths(&host, d, false, &data, &index), 0);
	there = access(data, F_OK) == 0 || access(index, F_OK) == 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", data);
	there = there || access(tmp, F_OK) == 0;
	free(data);
	free(index);
	return there;
}

/* The size of d's committed files, data and index. */
static uint64_t
files_size(const struct ld_desc *d)
{
	char *data, *index;
	struct stat a, b;

	CU_ASSERT_EQUAL_FATAL(ld_paths(&host, d, false, &data, &index), 0);
	CU_ASSERT_EQUAL_FATAL(stat(data, &a), 0);
	CU_ASSERT_EQUAL_FATAL(stat(index, &b), 0);
	free(data);
	free(index);
	return (uint64_t)a.st_size + (uint64_t)b.st_size;
}

/* n blocks of batch(): 1 + 2 + ... + n payload bytes */
static uint64_t
payload(int n)
{
	return (uint64_t)n * (uint64_t)(n + 1) / 2;
}

static void
test_bytes(void)
{
	struct rs_store *s;
	struct ld_desc a = key(0), b = key(1);
	unsigned char p[4096];
	uint64_t next, held = 0, fa;
	size_t n;

	sl_tmp_dir(root, sizeof(root), "sl-rs-store");
	setenv("SLUICE_LOCALDISK_DIR", root, 1);
	/* the store keeps its own key: never the caller's location or
	 * replica (these are not the host's to free) */
	a.location = "tcp://here:1";
	b.replica = "tcp://elsewhere:1";
	CU_ASSERT_EQUAL_FATAL(rs_store_open(&host, &s), 0);
	CU_ASSERT_EQUAL(rs_store_bytes(s), 0);

	/* being written: the blocks' bytes; a duplicate or a malformed
	 * batch adds nothing */
	n = batch(p, 3, 10);
	CU_ASSERT_EQUAL(rs_store_push(s, &a, 0, p, n, &next), 0);
	CU_ASSERT_EQUAL(rs_store_bytes(s), held += payload(3));
	CU_ASSERT_EQUAL(rs_store_push(s, &a, 0, p, n, &next), 0);
	CU_ASSERT_EQUAL(rs_store_bytes(s), held);
	n = batch(p, 4, 20);
	CU_ASSERT_EQUAL(rs_store_push(s, &a, 1, p, n - 1, &next), SL_EPARSE);
	CU_ASSERT_EQUAL(rs_store_push(s, &a, 2, p, n, &next), SL_EINVAL);
	CU_ASSERT_EQUAL(rs_store_bytes(s), held);
	CU_ASSERT_EQUAL(rs_store_push(s, &a, 1, p, n, &next), 0);
	CU_ASSERT_EQUAL(rs_store_bytes(s), held += payload(4));
	n = batch(p, 2, 30);
	CU_ASSERT_EQUAL(rs_store_push(s, &b, 0, p, n, &next), 0);
	CU_ASSERT_EQUAL(rs_store_bytes(s), held += payload(2));

	/* committed: its files' size instead */
	CU_ASSERT_EQUAL(rs_store_commit(s, &a, 2), 0);
	fa = files_size(&a);
	CU_ASSERT(fa > payload(3) + payload(4)); /* block headers, index */
	CU_ASSERT_EQUAL(rs_store_bytes(s), fa + payload(2));
	CU_ASSERT_EQUAL(rs_store_commit(s, &a, 2), 0); /* again: no change */
	CU_ASSERT_EQUAL(rs_store_bytes(s), fa + payload(2));

	/* a release takes its bytes off, committed or not */
	rs_store_release(s, &b);
	CU_ASSERT_EQUAL(rs_store_bytes(s), fa);
	rs_store_release(s, &b); /* again: nothing */
	CU_ASSERT_EQUAL(rs_store_bytes(s), fa);
	rs_store_release(s, &a);
	CU_ASSERT_EQUAL(rs_store_bytes(s), 0);
	store_end(s);
}

static void
test_watermark(void)
{
	struct rs_store *s;
	struct ld_desc a = key(0), b = key(1);
	unsigned char p[4096];
	char want[600];
	struct statvfs v;
	uint64_t next, used, all;
	uint32_t pct;
	size_t n;

	sl_tmp_dir(root, sizeof(root), "sl-rs-store");
	setenv("SLUICE_LOCALDISK_DIR", root, 1);
	/* as df counts it, rounded up */
	CU_ASSERT_EQUAL_FATAL(statvfs(root, &v), 0);
	used = v.f_blocks - v.f_bfree;
	all = used + v.f_bavail;
	CU_ASSERT_EQUAL_FATAL(rs_disk_used(root, &pct), 0);
	CU_ASSERT_EQUAL(pct, all ? (used * 100 + all - 1) / all : 0);
	CU_ASSERT_EQUAL(rs_disk_used("/nonexistent/dir", &pct), -ENOENT);
	CU_ASSERT_EQUAL_FATAL(rs_disk_used(root, &pct), 0);
	if (pct == 0) {
		printf("skipped: %s's file system is 0 %% used\n", root);
		unsetenv("SLUICE_LOCALDISK_DIR");
		return;
	}
	CU_ASSERT_EQUAL_FATAL(rs_store_open(&host, &s), 0);
	rs_store_set_disk(s, root, 100);
	n = batch(p, 3, 10);
	CU_ASSERT_EQUAL(rs_store_push(s, &a, 0, p, n, &next), 0);

	/* above the watermark: a new attempt refused, saying so */
	rs_store_set_disk(s, root, pct - 1);
	CU_ASSERT_EQUAL(rs_store_push(s, &b, 0, p, n, &next), SL_EBUSY);
	snprintf(want, sizeof(want),
	    "remote: data dir %s is %u %% full (limit %u %%)", root, pct,
	    pct - 1);
	CU_ASSERT_STRING_EQUAL(detail, want);
	CU_ASSERT_FALSE(any_file(&b));
	/* an attempt begun goes on: a batch, one sent again, the commit */
	CU_ASSERT_EQUAL(rs_store_push(s, &a, 1, p, n, &next), 0);
	CU_ASSERT_EQUAL(next, 2);
	CU_ASSERT_EQUAL(rs_store_push(s, &a, 0, p, n, &next), 0);
	CU_ASSERT_EQUAL(next, 2);
	CU_ASSERT_EQUAL(rs_store_commit(s, &a, 2), 0);
	CU_ASSERT_TRUE(readable(0));
	/* at the watermark (not above it): taken */
	rs_store_set_disk(s, root, pct);
	CU_ASSERT_EQUAL(rs_store_push(s, &b, 0, p, n, &next), 0);
	rs_store_release(s, &a);
	store_end(s);
}

static void
test_adopt_drop(void)
{
	struct rs_store *s;
	struct ld_desc a = key(0), c = key(2), o = key(0), x = key(0);
	unsigned char p[4096];
	uint64_t next, fa, fo, bytes;
	size_t n = batch(p, 3, 10);

	sl_tmp_dir(root, sizeof(root), "sl-rs-store");
	setenv("SLUICE_LOCALDISK_DIR", root, 1);
	o.job = "job-other";
	/* one directory, two names: ("x.00000000000000ab", 0) is ("x",
	 * 0xab) */
	x.job = "x.00000000000000ab";
	x.token = 0;

	/* a daemon commits a, leaves c unfinished, and is gone */
	CU_ASSERT_EQUAL_FATAL(rs_store_open(&host, &s), 0);
	CU_ASSERT_EQUAL(rs_store_push(s, &a, 0, p, n, &next), 0);
	CU_ASSERT_EQUAL(rs_store_commit(s, &a, 1), 0);
	CU_ASSERT_EQUAL(rs_store_push(s, &c, 0, p, n, &next), 0);
	rs_store_close(s);
	CU_ASSERT_TRUE(readable(0));
	CU_ASSERT_FALSE(any_file(&c));
	fa = files_size(&a);

	/* the next one takes a over */
	CU_ASSERT_EQUAL_FATAL(rs_store_open(&host, &s), 0);
	CU_ASSERT_EQUAL(rs_store_adopt(s, &a, fa), 0);
	CU_ASSERT_EQUAL(rs_store_adopt(s, &a, fa), SL_EEXISTS);
	CU_ASSERT_EQUAL(rs_store_bytes(s), fa);
	/* its commit sent again (the answer lost with the daemon): taken;
	 * a batch: refused */
	CU_ASSERT_EQUAL(rs_store_commit(s, &a, 1), 0);
	CU_ASSERT_EQUAL(rs_store_push(s, &a, 0, p, n, &next), SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(detail, "committed before the daemon restarted"));
	CU_ASSERT_TRUE(readable(0));

	/* dropping job-rs: its attempts and their files go, committed or
	 * not; another job's stay */
	CU_ASSERT_EQUAL(rs_store_push(s, &c, 0, p, n, &next), 0);
	CU_ASSERT_EQUAL(rs_store_push(s, &o, 0, p, n, &next), 0);
	CU_ASSERT_EQUAL(rs_store_commit(s, &o, 1), 0);
	fo = files_size(&o);
	CU_ASSERT_EQUAL(rs_store_bytes(s), fa + payload(3) + fo);
	CU_ASSERT_EQUAL(rs_store_drop_job(s, "job-rs", 7, &bytes), 2);
	CU_ASSERT_EQUAL(bytes, fa + payload(3));
	CU_ASSERT_FALSE(any_file(&a));
	CU_ASSERT_FALSE(any_file(&c));
	CU_ASSERT_TRUE(any_file(&o));
	CU_ASSERT_EQUAL(rs_store_bytes(s), fo);
	CU_ASSERT_EQUAL(rs_store_drop_job(s, "job-rs", 7, &bytes), 0);
	CU_ASSERT_EQUAL(bytes, 0);
	CU_ASSERT_EQUAL(rs_store_drop_job(s, "job-other", 8, &bytes), 0);
	CU_ASSERT_TRUE(any_file(&o));

	/* by its directory's other name */
	CU_ASSERT_EQUAL(rs_store_push(s, &x, 0, p, n, &next), 0);
	CU_ASSERT_TRUE(any_file(&x));
	CU_ASSERT_EQUAL(rs_store_drop_job(s, "x", 0xab, &bytes), 1);
	CU_ASSERT_FALSE(any_file(&x));
	CU_ASSERT_EQUAL(rs_store_drop_job(s, "job-other", 7, &bytes), 1);
	CU_ASSERT_EQUAL(bytes, fo);
	CU_ASSERT_EQUAL(rs_store_bytes(s), 0);
	store_end(s);
}

/* ---- the memory tier ---- */

static void
pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* A push or a commit on a thread of its own, to see whether it waits. */
struct call {
	struct rs_store *s;
	struct ld_desc d;
	uint64_t seq; /* push: the batch; commit: how many */
	uint32_t out; /* push: as a writer with pushes on the wire says */
	bool commit;
	unsigned char p[4096];
	size_t n;
	uint64_t next;
	char why[1024];
	atomic_int rv; /* 1 until it returned */
	pthread_t th;
};

static void *
call_run(void *arg)
{
	struct call *c = arg;
	unsigned char *copy = malloc(c->n ? c->n : 1);
	int rv;

	memcpy(copy, c->p, c->n);
	if (c->commit)
		rv = rs_store_commit(c->s, &c->d, c->seq);
	else
		rv = rs_store_push_owned(c->s, &c->d, c->seq, c->out, copy,
		    c->n, free, copy, &c->next);
	if (c->commit || rv != 0)
		free(copy);

	snprintf(c->why, sizeof(c->why), "%s", detail);
	atomic_store(&c->rv, rv);
	return NULL;
}

static void
call_start(struct call *c, struct rs_store *s, const struct ld_desc *d,
    uint64_t seq, uint32_t out, bool commit, int n, int base)
{
	c->s = s;
	c->d = *d;
	c->seq = seq;
	c->out = out;
	c->commit = commit;
	c->n = commit ? 0 : batch(c->p, n, base);
	atomic_init(&c->rv, 1);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&c->th, NULL, call_run, c), 0);
}

/* Whether it is still waiting 200 ms on. */
static bool
call_waits(struct call *c)
{
	pause_ms(200);
	return atomic_load(&c->rv) == 1;
}

static int
call_end(struct call *c)
{
	pthread_join(c->th, NULL);
	return atomic_load(&c->rv);
}

static void
test_memory_full(void)
{
	struct rs_store *s;
	struct ld_desc d = key(0);
	unsigned char p[4096];
	uint64_t next;
	struct call c;
	int firsts[8];
	size_t n = batch(p, 6, 10); /* every batch below is this long */

	s = store_begin();
	rs_store_set_memory(s, 2 * n);
	rs_store_feed(s, false);

	/* two batches fill it; the first is let in whatever the limit */
	CU_ASSERT_EQUAL(rs_store_push(s, &d, 0, p, n, &next), 0);
	n = batch(p, 6, 20);
	CU_ASSERT_EQUAL(rs_store_push(s, &d, 1, p, n, &next), 0);
	CU_ASSERT_EQUAL(rs_store_memory(s), 2 * n);
	/* the third waits for room, unanswered */
	call_start(&c, s, &d, 2, 0, false, 6, 30);
	CU_ASSERT_TRUE(call_waits(&c));
	CU_ASSERT_EQUAL(rs_store_memory(s), 2 * n);
	/* taken already: sent again meanwhile, it is a duplicate, answered
	 * at once, and not queued twice */
	n = batch(p, 6, 30);
	CU_ASSERT_EQUAL(rs_store_push(s, &d, 2, p, n, &next), 0);
	CU_ASSERT_EQUAL(next, 3);
	CU_ASSERT_TRUE(call_waits(&c));
	/* the batches written: room, and the push answered */
	rs_store_feed(s, true);
	CU_ASSERT_EQUAL(call_end(&c), 0);
	CU_ASSERT_EQUAL(c.next, 3);
	CU_ASSERT_EQUAL(rs_store_commit(s, &d, 3), 0);
	/* all written: nothing left in memory */
	CU_ASSERT_EQUAL(rs_store_memory(s), 0);
	CU_ASSERT_EQUAL(read_sub(0, 0, firsts, 8), 6);
	CU_ASSERT_EQUAL(firsts[0], 10);
	CU_ASSERT_EQUAL(firsts[1], 13);
	CU_ASSERT_EQUAL(firsts[2], 20);
	CU_ASSERT_EQUAL(firsts[4], 30);
	CU_ASSERT_EQUAL(firsts[5], 33);
	rs_store_release(s, &d);
	store_end(s);
}

static void
test_memory_release(void)
{
	struct rs_store *s;
	struct ld_desc a = key(0), b = key(1);
	unsigned char p[4096];
	uint64_t next;
	struct call c;
	size_t n = batch(p, 6, 10);

	s = store_begin();
	rs_store_set_memory(s, 2 * n);
	rs_store_feed(s, false);
	CU_ASSERT_EQUAL(rs_store_push(s, &a, 0, p, n, &next), 0);
	CU_ASSERT_EQUAL(rs_store_push(s, &a, 1, p, n, &next), 0);
	call_start(&c, s, &a, 2, 0, false, 6, 10);
	CU_ASSERT_TRUE(call_waits(&c));
	/* another attempt with nothing queued is let in, over the limit */
	CU_ASSERT_EQUAL(rs_store_push(s, &b, 0, p, n, &next), 0);
	CU_ASSERT_EQUAL(rs_store_memory(s), 3 * n);
	/* held: the one waiting too (taken, as a duplicate would find) */
	CU_ASSERT_EQUAL(rs_store_bytes(s), 4 * payload(6));

	/* a released: its queued batches freed, its waiting push refused,
	 * its files gone, its bytes no longer held */
	rs_store_release(s, &a);
	CU_ASSERT_EQUAL(call_end(&c), SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(c.why, "released"));
	CU_ASSERT_EQUAL(rs_store_memory(s), n);
	CU_ASSERT_EQUAL(rs_store_bytes(s), payload(6));
	CU_ASSERT_FALSE(any_file(&a));
	/* and pushed again from batch 0, it starts afresh */
	CU_ASSERT_EQUAL(rs_store_push(s, &a, 1, p, n, &next), SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, "before batch 0"));
	CU_ASSERT_EQUAL(rs_store_push(s, &a, 0, p, n, &next), 0);
	CU_ASSERT_EQUAL(rs_store_memory(s), 2 * n);

	/* dropping the job frees the rest, queued or not */
	{
		uint64_t bytes;

		CU_ASSERT_EQUAL(rs_store_drop_job(s, "job-rs", 7, &bytes), 2);
		CU_ASSERT_EQUAL(bytes, 2 * payload(6));
	}
	CU_ASSERT_EQUAL(rs_store_memory(s), 0);
	CU_ASSERT_EQUAL(rs_store_bytes(s), 0);
	store_end(s);
}

static void
test_commit_queued(void)
{
	struct rs_store *s;
	struct ld_desc d = key(0);
	unsigned char p[4096];
	uint64_t next;
	struct call c;
	int firsts[16];
	size_t n;

	s = store_begin();
	rs_store_feed(s, false);
	for (int i = 0; i < 4; i++) {
		n = batch(p, 3, 10 * (i + 1));
		CU_ASSERT_EQUAL(
		    rs_store_push(s, &d, (uint64_t)i, p, n, &next), 0);
	}
	/* the commit waits for the batches to be written */
	call_start(&c, s, &d, 4, 0, true, 0, 0);
	CU_ASSERT_TRUE(call_waits(&c));
	CU_ASSERT_FALSE(readable(0));
	/* nor is a new batch taken once it began */
	n = batch(p, 3, 50);
	CU_ASSERT_EQUAL(rs_store_push(s, &d, 4, p, n, &next), SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, "already committed"));
	rs_store_feed(s, true);
	CU_ASSERT_EQUAL(call_end(&c), 0);
	CU_ASSERT_TRUE(readable(0));
	/* every batch, in order */
	CU_ASSERT_EQUAL(read_sub(0, 1, firsts, 16), 4);
	for (int i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(firsts[i], 10 * (i + 1) + 1);
	CU_ASSERT_EQUAL(rs_store_memory(s), 0);
	rs_store_release(s, &d);
	store_end(s);
}

static void
test_reorder(void)
{
	struct rs_store *s;
	struct ld_desc d = key(0);
	unsigned char p[4096];
	uint64_t next;
	struct call c;
	int firsts[8];
	size_t n;

	s = store_begin();

	/* batch 1 first, its writer saying one may be before it: it waits
	 * for batch 0, even before the attempt exists */
	call_start(&c, s, &d, 1, 1, false, 3, 20);
	CU_ASSERT_TRUE(call_waits(&c));
	n = batch(p, 3, 10);
	CU_ASSERT_EQUAL(rs_store_push(s, &d, 0, p, n, &next), 0);
	CU_ASSERT_EQUAL(call_end(&c), 0);
	CU_ASSERT_EQUAL(c.next, 2);
	/* batch 4 with out 1 skips two: a gap, refused at once */
	n = batch(p, 3, 40);
	CU_ASSERT_EQUAL(
	    rs_store_push_owned(s, &d, 4, 1, p, n, free, NULL, &next),
	    SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, "expected batch 2"));
	/* waiting for a batch 2 that never comes: the commit after batch
	 * 1 ends the wait, refused */
	call_start(&c, s, &d, 3, 1, false, 3, 40);
	CU_ASSERT_TRUE(call_waits(&c));
	CU_ASSERT_EQUAL(rs_store_commit(s, &d, 2), 0);
	CU_ASSERT_EQUAL(call_end(&c), SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(c.why, "already committed"));
	CU_ASSERT_EQUAL(read_sub(0, 0, firsts, 8), 2);
	CU_ASSERT_EQUAL(firsts[0], 10);
	CU_ASSERT_EQUAL(firsts[1], 20);
	rs_store_release(s, &d);
	store_end(s);
}

static atomic_int given_back;

static void
give_back(void *owner)
{
	atomic_fetch_add(&given_back, 1);
	free(owner);
}

static void
test_owned(void)
{
	struct rs_store *s;
	struct ld_desc d = key(0);
	unsigned char *p;
	uint64_t next;
	size_t n;

	s = store_begin();
	rs_store_feed(s, false);
	/* taken: given back once written */
	p = malloc(4096);
	n = batch(p, 3, 10);
	CU_ASSERT_EQUAL(
	    rs_store_push_owned(s, &d, 0, 0, p, n, give_back, p, &next), 0);
	CU_ASSERT_EQUAL(atomic_load(&given_back), 0);
	/* a duplicate: given back at once */
	p = malloc(4096);
	n = batch(p, 3, 10);
	CU_ASSERT_EQUAL(
	    rs_store_push_owned(s, &d, 0, 0, p, n, give_back, p, &next), 0);
	CU_ASSERT_EQUAL(atomic_load(&given_back), 1);
	/* refused (a gap, a malformed batch): the caller's still */
	p = malloc(4096);
	n = batch(p, 3, 10);
	CU_ASSERT_EQUAL(
	    rs_store_push_owned(s, &d, 5, 0, p, n, give_back, p, &next),
	    SL_EINVAL);
	CU_ASSERT_EQUAL(
	    rs_store_push_owned(s, &d, 1, 0, p, n - 1, give_back, p, &next),
	    SL_EPARSE);
	CU_ASSERT_EQUAL(atomic_load(&given_back), 1);
	free(p);
	rs_store_feed(s, true);
	CU_ASSERT_EQUAL(rs_store_commit(s, &d, 1), 0);
	CU_ASSERT_EQUAL(atomic_load(&given_back), 2);
	/* queued, then the store closed: given back too */
	d = key(1);
	rs_store_feed(s, false);
	p = malloc(4096);
	n = batch(p, 3, 10);
	CU_ASSERT_EQUAL(
	    rs_store_push_owned(s, &d, 0, 0, p, n, give_back, p, &next), 0);
	rs_store_close(s);
	CU_ASSERT_EQUAL(atomic_load(&given_back), 3);
	CU_ASSERT_FALSE(any_file(&d));
	d = key(0);
	CU_ASSERT_TRUE(any_file(&d)); /* committed: it stays */
	unsetenv("SLUICE_LOCALDISK_DIR");
}

static void
cleanup(void)
{
	if (root[0] != '\0')
		sl_rm_rf(root);
}

static const struct sl_test tests[] = {
	{ "push, duplicates, gaps, malformed batches, commit, release",
	    test_push_commit },
	{ "bytes held", test_bytes },
	{ "disk watermark", test_watermark },
	{ "taken over after a restart; a job dropped", test_adopt_drop },
	{ "memory tier full: a push waits, then goes on", test_memory_full },
	{ "memory tier: a release frees what is queued", test_memory_release },
	{ "a commit waits for the queued batches, sees them all",
	    test_commit_queued },
	{ "a batch's owner gets it back once", test_owned },
	{ "pushes taken out of order: the later waits when it may",
	    test_reorder },
	{ "cleanup", cleanup },
	{ NULL, NULL },
};

SL_TEST_MAIN("rs_store", tests)
