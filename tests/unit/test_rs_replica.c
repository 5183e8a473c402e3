/*
 * Replicas and a daemon's loss, with real sluice-shuffled processes
 * (rs_daemons.h): the remote plugin's writer pushes every batch to the
 * descriptor's daemon and to its replica, whose files come out the same
 * bytes; its reader goes on from the replica when the daemon fails it (its
 * files missing, nobody listening, SIGKILLed halfway), every buffer once
 * and right. Without a replica, a SIGKILLed daemon fails a reader and a
 * writer within seconds saying so; a daemon that is connected but silent
 * is waited for.
 */
#include <pthread.h>

#include "rs_daemons.h"

static char root[256];
static struct daemon da, db, dc;

static void
setup(void)
{
	char self[600];

	if (root[0] != '\0')
		return;
	sl_tmp_dir(root, sizeof(root), "sl-rs-replica");
	snprintf(self, sizeof(self), "%s/self", root);
	setenv("SLUICE_LOCALDISK_DIR", self, 1);
	unsetenv("SLUICE_SHUFFLE_SECRET");
}

/* Whether the files of d are on both daemons, the same bytes. */
static bool
same_files(
    const struct daemon *x, const struct daemon *y, const struct ld_desc *d)
{
	char *f[2][2];
	bool same = has_files(x, d, &f[0][0], &f[0][1]) &&
	    has_files(y, d, &f[1][0], &f[1][1]);

	for (int k = 0; same && k < 2; k++) {
		size_t n0, n1;
		char *b0 = sl_read_file(f[0][k], &n0);
		char *b1 = sl_read_file(f[1][k], &n1);

		same = b0 != NULL && b1 != NULL && n0 == n1 && n0 > 0 &&
		    memcmp(b0, b1, n0) == 0;
		free(b0);
		free(b1);
	}
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < 2; k++)
			free(f[i][k]);
	return same;
}

static void
remove_files(const struct daemon *dm, const struct ld_desc *d)
{
	char *data, *index;

	CU_ASSERT_TRUE(has_files(dm, d, &data, &index));
	CU_ASSERT_EQUAL(unlink(index), 0);
	CU_ASSERT_EQUAL(unlink(data), 0);
	free(data);
	free(index);
}

static void
test_writer_both(void)
{
	struct ld_desc d1, d2, d3;
	char *data, *index;

	setup();
	daemon_start(&da, root, "a", "tcp://127.0.0.1:0");
	daemon_start(&db, root, "b", "tcp://127.0.0.1:0");
	/* several batches; compressed too: the same bytes either way */
	d1 = part(1, da.url, db.url, SL_COMPRESSION_NONE);
	d2 = part(2, da.url, db.url, SL_COMPRESSION_ZSTD);
	d3 = part(3, da.url, db.url, SL_COMPRESSION_LZ4);
	CU_ASSERT_EQUAL(push_partition(&d1, 40, 60000, 0, NULL, NULL), 0);
	CU_ASSERT_EQUAL(push_partition(&d2, 40, 60000, 0, NULL, NULL), 0);
	CU_ASSERT_EQUAL(push_partition(&d3, 40, 60000, 0, NULL, NULL), 0);
	CU_ASSERT_TRUE(same_files(&da, &db, &d1));
	CU_ASSERT_TRUE(same_files(&da, &db, &d2));
	CU_ASSERT_TRUE(same_files(&da, &db, &d3));
	CU_ASSERT_TRUE(read_all(&d1, 40, 60000));
	CU_ASSERT_TRUE(read_all(&d2, 40, 60000));
	/* without a replica: the one daemon only */
	d1 = part(4, da.url, NULL, SL_COMPRESSION_NONE);
	CU_ASSERT_EQUAL(push_partition(&d1, 5, 1000, 0, NULL, NULL), 0);
	CU_ASSERT_TRUE(has_files(&da, &d1, &data, &index));
	free(data);
	free(index);
	CU_ASSERT_FALSE(has_files(&db, &d1, &data, &index));
	free(data);
	free(index);
	CU_ASSERT_TRUE(read_all(&d1, 5, 1000));
}

static void
test_reader_replica(void)
{
	char dead[64];
	struct ld_desc d;
	struct reading rd;
	double t0;

	dead_url(dead, sizeof(dead));
	/* the daemon's files gone (an error reply): the replica's (a
	 * partition never fetched: the daemon keeps recent ones open) */
	d = part(3, da.url, db.url, SL_COMPRESSION_LZ4);
	remove_files(&da, &d);
	CU_ASSERT_TRUE(read_all(&d, 40, 60000));

	/* nobody at the daemon's URL: the replica's, in seconds */
	d = part(2, dead, db.url, SL_COMPRESSION_ZSTD);
	t0 = now_s();
	CU_ASSERT_TRUE(read_all(&d, 40, 60000));
	CU_ASSERT(now_s() - t0 < 10);

	/* nobody there and no replica: unreachable, in seconds */
	d = part(2, dead, NULL, SL_COMPRESSION_ZSTD);
	read_open(&rd, &d, 60000);
	t0 = now_s();
	CU_ASSERT_EQUAL(read_some(&rd, 0, 30), SL_EUNREADABLE);
	CU_ASSERT(now_s() - t0 < 8);
	CU_ASSERT(now_s() - t0 > 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, "the shuffle service at "));
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, " is unreachable"));
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, dead));
	read_close(&rd);

	/* both fail: the error names both */
	d = part(3, dead, da.url, SL_COMPRESSION_LZ4);
	read_open(&rd, &d, 60000);
	CU_ASSERT_EQUAL(read_some(&rd, 0, 30), SL_EUNREADABLE);
	CU_ASSERT_EQUAL(rd.bufs, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, dead));
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, "is unreachable; its replica"));
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, da.url));
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, "e1.p3.a0.index"));
	read_close(&rd);
}

static void
test_kill_reader(void)
{
	struct ld_desc d5 = part(5, da.url, db.url, SL_COMPRESSION_NONE);
	struct ld_desc d6 = part(6, da.url, NULL, SL_COMPRESSION_NONE);
	struct reading r5, r6;
	double t0;

	/* 25 MiB each: many fetches after the first */
	CU_ASSERT_EQUAL_FATAL(
	    push_partition(&d5, 100, 131072, 0, NULL, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(
	    push_partition(&d6, 100, 131072, 0, NULL, NULL), 0);
	read_open(&r5, &d5, 131072);
	read_open(&r6, &d6, 131072);
	CU_ASSERT_EQUAL(read_some(&r5, 3, 10), 0);
	CU_ASSERT_EQUAL(read_some(&r6, 3, 10), 0);
	daemon_kill(&da, SIGKILL);
	t0 = now_s();
	/* no replica: fails in seconds, saying which */
	CU_ASSERT_EQUAL(read_some(&r6, 0, 60), SL_EUNREADABLE);
	CU_ASSERT(now_s() - t0 < 8);
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, da.url));
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, "is unreachable"));
	CU_ASSERT_EQUAL(r6.wrong, 0);
	read_close(&r6);
	/* a replica: the rest from it, every buffer once and right */
	CU_ASSERT_EQUAL(read_some(&r5, 0, 60), SL_EEOF);
	CU_ASSERT(now_s() - t0 < 12);
	CU_ASSERT_EQUAL(r5.wrong, 0);
	CU_ASSERT_EQUAL(r5.bufs, 100 * NSUB);
	for (uint32_t s = 0; s < NSUB; s++)
		CU_ASSERT_EQUAL(r5.next[s], 100);
	read_close(&r5);
}

static struct daemon *victim;

static void
kill_victim(void)
{
	daemon_kill(victim, SIGKILL);
}

static void
test_kill_writer(void)
{
	struct ld_desc d;
	double secs;

	daemon_start(&dc, root, "c", "tcp://127.0.0.1:0");
	/* the replica killed halfway: the writer fails naming it */
	victim = &db;
	d = part(7, dc.url, db.url, SL_COMPRESSION_NONE);
	CU_ASSERT_EQUAL(
	    push_partition(&d, 60, 131072, 3, kill_victim, &secs), SL_EIO);
	CU_ASSERT(secs < 8);
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, "the shuffle service at "));
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, db.url));
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, "is unreachable"));
	/* the one daemon killed halfway */
	victim = &dc;
	d = part(8, dc.url, NULL, SL_COMPRESSION_NONE);
	CU_ASSERT_EQUAL(
	    push_partition(&d, 60, 131072, 3, kill_victim, &secs), SL_EIO);
	CU_ASSERT(secs < 8);
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, dc.url));
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, "is unreachable"));
}

/* ---- a daemon connected but silent ---- */

struct finishing {
	void *st;
	int rv;
	bool done;
};

static void *
finish_thread(void *arg)
{
	struct finishing *f = arg;

	f->rv = rs_writer_ops.finish(f->st);
	__atomic_store_n(&f->done, true, __ATOMIC_SEQ_CST);
	return NULL;
}

static void
test_silent(void)
{
	struct ld_desc d;
	struct sl_bytes desc;
	struct reading rd;
	struct finishing f = { 0 };
	struct sl_buffer b = { .len = 10, .kind = SL_BUFFER_DATA };
	nng_socket s;
	nng_listener l;
	char url[64];
	pthread_t th;
	int port;

	/* takes every connection, answers nothing */
	CU_ASSERT_EQUAL_FATAL(nng_rep0_open(&s), 0);
	CU_ASSERT_EQUAL_FATAL(nng_listen(s, "tcp://127.0.0.1:0", &l, 0), 0);
	CU_ASSERT_EQUAL_FATAL(
	    nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port), 0);
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);
	d = part(9, url, NULL, SL_COMPRESSION_NONE);

	/* a reader waits on, well past SHC_LOST_MS */
	read_open(&rd, &d, 100);
	CU_ASSERT_EQUAL(read_some(&rd, 0, 5), SL_EAGAIN);
	read_close(&rd);

	/* so does a writer's commit, until the task closes it */
	f.st = calloc(1, rs_writer_ops.state_size);
	CU_ASSERT_EQUAL_FATAL(ld_desc_encode(&host, &d, &desc), 0);
	CU_ASSERT_EQUAL_FATAL(
	    rs_writer_ops.open(f.st, &host, desc.data, desc.len), 0);
	b.data = calloc(1, 10);
	CU_ASSERT_EQUAL(rs_writer_ops.write(f.st, 0, &b), 0);
	free(b.data);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, finish_thread, &f), 0);
	sleep_ms(5000);
	CU_ASSERT_FALSE(__atomic_load_n(&f.done, __ATOMIC_SEQ_CST));
	rs_writer_ops.close(f.st);
	pthread_join(th, NULL);
	CU_ASSERT_EQUAL(f.rv, SL_ECLOSED);
	rs_writer_ops.fini(f.st);
	free(f.st);
	free(desc.data);
	nng_close(s);
}

static void
cleanup(void)
{
	daemon_kill(&da, SIGKILL);
	daemon_kill(&db, SIGKILL);
	daemon_kill(&dc, SIGKILL);
	ld_net_fini(&host);
	if (root[0] != '\0')
		sl_rm_rf(root);
}

static const struct sl_test tests[] = {
	{ "writer: every batch to both daemons, the same files",
	    test_writer_both },
	{ "reader: the replica when the daemon fails", test_reader_replica },
	{ "reader: a daemon SIGKILLed halfway", test_kill_reader },
	{ "writer: a daemon SIGKILLed halfway", test_kill_writer },
	{ "a daemon connected but silent is waited for", test_silent },
	{ "cleanup", cleanup },
	{ NULL, NULL },
};

SL_TEST_MAIN("rs-replica", tests)
