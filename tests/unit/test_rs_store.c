/*
 * The remote shuffle service's partitions (shuffle-plugins/remote/
 * rs_store.c) on real files: batches appended in order, a batch sent again
 * dropped, one that skips refused, a malformed one refused whole; nothing
 * readable before the commit, everything once and in order after it; a
 * commit that does not count the batches pushed refused; release and
 * close remove what they must.
 */
#include <endian.h>
#include <string.h>
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

static void
test_push_commit(void)
{
	struct rs_store *s;
	struct ld_desc d = key(0);
	unsigned char p[4096];
	uint64_t next;
	int firsts[8];
	size_t n;

	sl_tmp_dir(root, sizeof(root), "sl-rs-store");
	setenv("SLUICE_LOCALDISK_DIR", root, 1);
	CU_ASSERT_EQUAL_FATAL(rs_store_open(&host, &s), 0);

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

static void
cleanup(void)
{
	if (root[0] != '\0')
		sl_rm_rf(root);
}

static const struct sl_test tests[] = {
	{ "push, duplicates, gaps, malformed batches, commit, release",
	    test_push_commit },
	{ "cleanup", cleanup },
	{ NULL, NULL },
};

SL_TEST_MAIN("rs_store", tests)
