/*
 * The shuffle plugin conformance suite: the same tests against any shuffle
 * plugin .so, bundled or third-party.
 *
 *   shuffle_conformance PLUGIN.so [NAME-FILTER]
 *   SL_CONFORMANCE_PLUGIN=PLUGIN.so shuffle_conformance [NAME-FILTER]
 *
 * The plugin is loaded with the core's loader, so what is tested is what
 * the core sees: the checked, copied ops tables with their defaults.
 * Tests register partitions of one type the plugin declares; tests that
 * only make sense for pipelined partitions (back pressure) are left out,
 * with a line saying so, for plugins that do not declare that type.
 */
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conformance.h"
#include "sl_test.h"

#define MAX_PRODUCERS 4

/*
 * One exchange: nprod producers, each writing nsub subpartitions, read by
 * one consumer per range. The ranges must cover every subpartition: a
 * pipelined writer waits for a reader of each.
 */
struct exchange {
	uint32_t nprod, nsub;
	const uint32_t (*ranges)[2];
	uint32_t nranges;
	bool readers_first;
	bool event_first;
	uint32_t credits;
	unsigned reader_delay_us;
	struct conf_bp *bp;
	uint32_t fail_producer; /* UINT32_MAX: none fails */
};

struct run {
	char job[64];
	void *master;
	struct sl_bytes desc[MAX_PRODUCERS];
	uint32_t producer_of[MAX_PRODUCERS];
	struct conf_producer prod[MAX_PRODUCERS];
	struct conf_consumer cons[CONF_MAX_SUBS];
	struct conf_err err;
};

/* Say why an op that must succeed failed, before the assert stops. */
static void
report(int rv, const char *what)
{
	if (rv != 0)
		fprintf(stderr, "\n    conformance: %s: %s: %s\n", what,
		    sl_errname(rv), sl_errdetail());
}

static void
open_consumers(struct run *run, const struct exchange *x)
{
	for (uint32_t i = 0; i < x->nranges; i++) {
		struct conf_consumer *c = &run->cons[i];
		uint32_t nsub = x->ranges[i][1] - x->ranges[i][0] + 1;
		int rv;

		c->lo = x->ranges[i][0];
		c->hi = x->ranges[i][1];
		c->ninputs = x->nprod;
		c->producer_of = run->producer_of;
		c->event_first = x->event_first;
		c->delay_us = x->reader_delay_us;
		c->bp = x->bp;
		c->err = &run->err;
		c->seq = calloc((size_t)x->nprod * nsub, sizeof(*c->seq));
		conf_waiter_init(&c->wt);
		c->r = conf_reader_open(
		    run->desc, x->nprod, c->lo, c->hi, x->credits, &c->wt, &rv);
		report(rv, "reader open");
		CU_ASSERT_EQUAL_FATAL(rv, 0);
	}
}

static void
open_producers(struct run *run, const struct exchange *x)
{
	for (uint32_t p = 0; p < x->nprod; p++) {
		struct conf_producer *pr = &run->prod[p];
		int rv;

		pr->id = run->producer_of[p];
		pr->nsub = x->nsub;
		pr->event_first = x->event_first;
		pr->fail_after = p == x->fail_producer ? 2 : 0;
		pr->bp = x->bp;
		pr->err = &run->err;
		pr->w = conf_writer_open(&run->desc[p], &rv);
		report(rv, "writer open");
		CU_ASSERT_EQUAL_FATAL(rv, 0);
	}
}

/* A thread that does not return in time means the plugin hangs: close
 * everything, and give up on the process if even that does not help. */
static void
join_or_die(
    pthread_t t, struct run *run, const struct exchange *x, const char *what)
{
	if (conf_join(t, CONF_TIMEOUT_MS))
		return;
	CU_FAIL("a thread hung");
	fprintf(stderr, "\n    conformance: %s did not return within %d ms\n",
	    what, CONF_TIMEOUT_MS);
	for (uint32_t p = 0; p < x->nprod; p++)
		conf_wops->close(run->prod[p].w);
	for (uint32_t i = 0; i < x->nranges; i++)
		conf_rops->close(run->cons[i].r);
	if (!conf_join(t, 2000)) {
		fprintf(stderr,
		    "    conformance: still hung after close; "
		    "cannot continue safely\n");
		_exit(1);
	}
}

/* Runs x; leaves results in run for the caller to check, then cleans up
 * with run_end. */
static void
run_begin(struct run *run, const struct exchange *x)
{
	memset(run, 0, sizeof(*run));
	conf_err_init(&run->err);
	conf_job_id(run->job, sizeof(run->job));
	CU_ASSERT_FATAL(x->nprod <= MAX_PRODUCERS && x->nsub <= CONF_MAX_SUBS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(run->master = conf_master_new());
	for (uint32_t p = 0; p < x->nprod; p++) {
		run->producer_of[p] = p;
		CU_ASSERT_EQUAL_FATAL(conf_register(run->master, run->job, 1, p,
		                          0, x->nsub, &run->desc[p]),
		    0);
	}
	if (x->readers_first)
		open_consumers(run, x);
	open_producers(run, x);
	for (uint32_t p = 0; p < x->nprod; p++)
		conf_start(
		    &run->prod[p].thread, conf_producer_main, &run->prod[p]);
	if (!x->readers_first)
		open_consumers(run, x);
	for (uint32_t i = 0; i < x->nranges; i++)
		conf_start(
		    &run->cons[i].thread, conf_consumer_main, &run->cons[i]);
	for (uint32_t i = 0; i < x->nranges; i++)
		join_or_die(run->cons[i].thread, run, x, "a reader");
	/* A reader that stopped early leaves its writers waiting for credit:
	 * close them so their threads end. */
	for (uint32_t i = 0; i < x->nranges; i++)
		if (run->cons[i].rv != SL_EEOF)
			for (uint32_t p = 0; p < x->nprod; p++)
				conf_wops->close(run->prod[p].w);
	for (uint32_t p = 0; p < x->nprod; p++)
		join_or_die(run->prod[p].thread, run, x, "a writer");
}

static void
run_end(struct run *run, const struct exchange *x)
{
	for (uint32_t i = 0; i < x->nranges; i++) {
		conf_reader_free(run->cons[i].r);
		conf_waiter_fini(&run->cons[i].wt);
		free(run->cons[i].seq);
	}
	for (uint32_t p = 0; p < x->nprod; p++)
		conf_writer_free(run->prod[p].w);
	for (uint32_t p = 0; p < x->nprod; p++) {
		CU_ASSERT_EQUAL(conf_mops->release_partition(run->master,
		                    run->desc[p].data, run->desc[p].len),
		    0);
		CU_ASSERT_FALSE(conf_mops->is_available(
		    run->master, run->desc[p].data, run->desc[p].len));
		conf_host->free(run->desc[p].data);
	}
	conf_master_free(run->master);
	conf_err_fini(&run->err);
}

static void
round_trip(const struct exchange *x)
{
	struct run *run = calloc(1, sizeof(*run));
	uint64_t records = 0, want = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(run);
	run_begin(run, x);
	for (uint32_t p = 0; p < x->nprod; p++)
		CU_ASSERT_EQUAL(run->prod[p].rv, 0);
	for (uint32_t i = 0; i < x->nranges; i++) {
		CU_ASSERT_EQUAL(run->cons[i].rv, SL_EEOF);
		if (run->cons[i].rv == SL_EEOF)
			conf_consumer_check_complete(&run->cons[i]);
		records += run->cons[i].records;
	}
	for (uint32_t p = 0; p < x->nprod; p++)
		for (uint32_t s = 0; s < x->nsub; s++)
			want += conf_rec_count(p, s);
	CU_ASSERT_EQUAL(records, want);
	CU_ASSERT(conf_err_ok(&run->err));
	run_end(run, x);
	free(run);
}

/* [0,0] [1,3] [4,5]: readers of different subpartitions of one partition. */
static void
test_round_trip_ranges(void)
{
	static const uint32_t ranges[][2] = { { 0, 0 }, { 1, 3 }, { 4, 5 } };
	struct exchange x = { .nprod = 3,
		.nsub = 6,
		.ranges = ranges,
		.nranges = 3,
		.fail_producer = UINT32_MAX };

	round_trip(&x);
}

/* [0,n-1]: one reader of everything, events in band. */
static void
test_round_trip_all(void)
{
	static const uint32_t ranges[][2] = { { 0, 5 } };
	struct exchange x = { .nprod = 4,
		.nsub = 6,
		.ranges = ranges,
		.nranges = 1,
		.event_first = true,
		.fail_producer = UINT32_MAX };

	round_trip(&x);
}

static void
test_readers_first(void)
{
	static const uint32_t ranges[][2] = { { 0, 1 }, { 2, 2 } };
	struct exchange x = { .nprod = 2,
		.nsub = 3,
		.ranges = ranges,
		.nranges = 2,
		.readers_first = true,
		.fail_producer = UINT32_MAX };

	round_trip(&x);
}

/*
 * A reader with credits=2 that sleeps before every release: the writer must
 * get ahead by the credits and never further. One subpartition, so that
 * credits per input and per subpartition mean the same.
 */
static void
test_back_pressure(void)
{
	static const uint32_t ranges[][2] = { { 0, 0 } };
	struct conf_bp bp = { .credits = 2 };
	struct exchange x = { .nprod = 1,
		.nsub = 1,
		.ranges = ranges,
		.nranges = 1,
		.readers_first = true,
		.credits = 2,
		.reader_delay_us = 2000,
		.bp = &bp,
		.fail_producer = UINT32_MAX };
	unsigned gap;

	round_trip(&x);
	gap = atomic_load(&bp.max_gap);
	if (gap > bp.credits)
		fprintf(stderr,
		    "\n    conformance: writer got %u buffers "
		    "ahead of the reader with %u credits\n",
		    gap, bp.credits);
	else if (gap < bp.credits)
		fprintf(stderr,
		    "\n    conformance: writer never got %u "
		    "buffers ahead (max %u): is the reader's "
		    "release what unblocks it?\n",
		    bp.credits, gap);
	CU_ASSERT_EQUAL(gap, bp.credits);
}

/* Producer 1 of 3 fails after two buffers. */
static void
test_fail_unreadable(void)
{
	static const uint32_t ranges[][2] = { { 0, 2 } };
	struct exchange x = { .nprod = 3,
		.nsub = 3,
		.ranges = ranges,
		.nranges = 1,
		.fail_producer = 1 };
	struct run *run = calloc(1, sizeof(*run));

	CU_ASSERT_PTR_NOT_NULL_FATAL(run);
	run_begin(run, &x);
	CU_ASSERT_EQUAL(run->cons[0].rv, SL_EUNREADABLE);
	CU_ASSERT_EQUAL(run->cons[0].input, 1);
	if (run->cons[0].rv != SL_EUNREADABLE || run->cons[0].input != 1)
		fprintf(stderr,
		    "\n    conformance: reader ended with %s on "
		    "input %u, expected SL_EUNREADABLE on input 1\n",
		    sl_errname(run->cons[0].rv), run->cons[0].input);
	CU_ASSERT(conf_err_ok(&run->err));
	run_end(run, &x);
	free(run);
}

/* Wait until next gives something other than SL_EAGAIN; each SL_EAGAIN
 * must be followed by a notify. */
static int
next_wait(void *r, struct conf_waiter *wt, struct sl_buffer *b)
{
	for (;;) {
		uint64_t seen = conf_waiter_count(wt);
		int rv;

		memset(b, 0, sizeof(*b));
		if ((rv = conf_rops->next(r, b)) != SL_EAGAIN)
			return rv;
		if (!conf_waiter_wait(wt, seen, CONF_TIMEOUT_MS)) {
			fprintf(stderr,
			    "\n    conformance: no notify within "
			    "%d ms after SL_EAGAIN\n",
			    CONF_TIMEOUT_MS);
			return SL_EAGAIN;
		}
	}
}

struct single {
	char job[64];
	void *m;
	struct sl_bytes desc;
	void *w, *r;
	struct conf_waiter wt;
};

/* Register one partition; open its reader (when credits > 0, with that
 * many credits, before the writer) and its writer. */
static void
single_open(struct single *s, uint32_t nsub, uint32_t credits)
{
	int rv;

	memset(s, 0, sizeof(*s));
	conf_waiter_init(&s->wt);
	conf_job_id(s->job, sizeof(s->job));
	CU_ASSERT_PTR_NOT_NULL_FATAL(s->m = conf_master_new());
	CU_ASSERT_EQUAL_FATAL(
	    conf_register(s->m, s->job, 0, 0, 0, nsub, &s->desc), 0);
	if (credits > 0) {
		s->r = conf_reader_open(
		    &s->desc, 1, 0, nsub - 1, credits, &s->wt, &rv);
		report(rv, "reader open");
		CU_ASSERT_EQUAL_FATAL(rv, 0);
	}
	s->w = conf_writer_open(&s->desc, &rv);
	report(rv, "writer open");
	CU_ASSERT_EQUAL_FATAL(rv, 0);
}

static void
single_close(struct single *s)
{
	conf_reader_free(s->r);
	conf_writer_free(s->w);
	CU_ASSERT_EQUAL(
	    conf_mops->release_partition(s->m, s->desc.data, s->desc.len), 0);
	conf_host->free(s->desc.data);
	conf_master_free(s->m);
	conf_waiter_fini(&s->wt);
}

static int
write_bytes(void *w, uint32_t sub, size_t len)
{
	struct sl_buffer b = { .data = conf_buf_new(len), .len = len };
	int rv = conf_wops->write(w, sub, &b);

	conf_host->free(b.data); /* NULL after a successful write */
	return rv;
}

static void
test_notify_after_eagain(void)
{
	struct single s;
	struct sl_buffer b, w = { .len = 100 };
	uintptr_t written;
	uint64_t seen;

	single_open(&s, 1, 2);
	seen = conf_waiter_count(&s.wt);
	memset(&b, 0, sizeof(b));
	CU_ASSERT_EQUAL(conf_rops->next(s.r, &b), SL_EAGAIN);
	w.data = conf_buf_new(100);
	written = (uintptr_t)w.data;
	CU_ASSERT_EQUAL(conf_wops->write(s.w, 0, &w), 0);
	conf_host->free(w.data);
	/* Other types may show nothing before the end. */
	if (conf_type != SL_PARTITION_PIPELINED)
		CU_ASSERT_EQUAL(conf_wops->finish(s.w), 0);
	CU_ASSERT(conf_waiter_wait(&s.wt, seen, CONF_TIMEOUT_MS));
	CU_ASSERT_EQUAL(next_wait(s.r, &s.wt, &b), 0);
	/* Not a requirement, but worth knowing. */
	printf("\n    conformance: same-process hand-off is %s ...",
	    (uintptr_t)b.data == written ? "zero copy" : "a copy");
	CU_ASSERT_EQUAL(b.len, 100);
	CU_ASSERT_EQUAL(b.subpartition, 0);
	CU_ASSERT_EQUAL(b.input, 0);
	conf_rops->release(s.r, &b);

	/* The end of data is news too. */
	if (conf_type == SL_PARTITION_PIPELINED) {
		seen = conf_waiter_count(&s.wt);
		CU_ASSERT_EQUAL(conf_rops->next(s.r, &b), SL_EAGAIN);
		CU_ASSERT_EQUAL(conf_wops->finish(s.w), 0);
		CU_ASSERT(conf_waiter_wait(&s.wt, seen, CONF_TIMEOUT_MS));
	}
	CU_ASSERT_EQUAL(next_wait(s.r, &s.wt, &b), SL_EEOF);
	single_close(&s);
}

static void
test_empty_partition(void)
{
	struct single s;
	struct sl_buffer b;
	void *late;
	int rv;

	/* Reader before the end... */
	single_open(&s, 3, 2);
	CU_ASSERT_EQUAL(conf_wops->finish(s.w), 0);
	CU_ASSERT_EQUAL(next_wait(s.r, &s.wt, &b), SL_EEOF);
	conf_reader_free(s.r);
	s.r = NULL;
	single_close(&s);

	/* ...and after it. */
	single_open(&s, 3, 0);
	CU_ASSERT_EQUAL(conf_wops->finish(s.w), 0);
	late = conf_reader_open(&s.desc, 1, 0, 2, 0, &s.wt, &rv);
	CU_ASSERT_EQUAL_FATAL(rv, 0);
	CU_ASSERT_EQUAL(next_wait(late, &s.wt, &b), SL_EEOF);
	conf_reader_free(late);
	single_close(&s);
}

struct blocked_writer {
	void *w;
	atomic_uint calls, returns;
	atomic_bool done;
	int rv;
	bool kept_buffer;
};

static void *
blocked_writer_main(void *arg)
{
	struct blocked_writer *bw = arg;

	for (int i = 0; i < 100000; i++) {
		struct sl_buffer b = { .data = conf_buf_new(1024),
			.len = 1024 };

		atomic_fetch_add(&bw->calls, 1);
		bw->rv = conf_wops->write(bw->w, 0, &b);
		atomic_fetch_add(&bw->returns, 1);
		if (bw->rv != 0) {
			bw->kept_buffer = b.data != NULL;
			conf_host->free(b.data);
			break;
		}
	}
	atomic_store(&bw->done, true);
	return NULL;
}

/* A reader with one credit that never reads: the writer blocks; close
 * from another thread must free it with SL_ECLOSED. */
static void
test_close_unblocks_writer(void)
{
	struct single s;
	struct blocked_writer bw = { 0 };
	pthread_t t;
	unsigned last = 0;
	int still = 0;

	single_open(&s, 1, 1);
	bw.w = s.w;
	conf_start(&t, blocked_writer_main, &bw);
	/* Blocked: inside write, with no progress for 300 ms. */
	for (int ms = 0; ms < CONF_TIMEOUT_MS && still < 30; ms += 10) {
		unsigned calls, rets;

		usleep(10000);
		calls = atomic_load(&bw.calls);
		rets = atomic_load(&bw.returns);
		if (atomic_load(&bw.done))
			break;
		still = calls != rets && rets == last ? still + 1 : 0;
		last = rets;
	}
	if (still < 30)
		fprintf(stderr,
		    "\n    conformance: writer did not block "
		    "(%u writes to a reader with 1 credit%s)\n",
		    atomic_load(&bw.returns),
		    atomic_load(&bw.done) ? ", then it stopped" : "");
	CU_ASSERT(still >= 30);
	conf_wops->close(bw.w);
	if (!conf_join(t, CONF_TIMEOUT_MS)) {
		CU_FAIL("close did not unblock the writer");
		fprintf(stderr,
		    "\n    conformance: write still blocked %d ms "
		    "after close; cannot continue safely\n",
		    CONF_TIMEOUT_MS);
		_exit(1);
	}
	CU_ASSERT_EQUAL(bw.rv, SL_ECLOSED);
	CU_ASSERT(bw.kept_buffer);
	/* Buffers still queued at teardown must not leak. */
	single_close(&s);
}

static void
test_release_unavailable(void)
{
	struct single s;
	struct sl_buffer held, b;
	int rv;

	single_open(&s, 2, 2);
	CU_ASSERT_TRUE(conf_mops->is_available(s.m, s.desc.data, s.desc.len));
	CU_ASSERT_EQUAL(write_bytes(s.w, 0, 500), 0);
	CU_ASSERT_EQUAL(write_bytes(s.w, 1, 600), 0);
	CU_ASSERT_EQUAL(write_bytes(s.w, 1, 700), 0);
	if (conf_type != SL_PARTITION_PIPELINED)
		CU_ASSERT_EQUAL(conf_wops->finish(s.w), 0);
	CU_ASSERT_EQUAL_FATAL(next_wait(s.r, &s.wt, &held), 0);

	/* Released while a reader holds a buffer and the writer is open:
	 * the held buffer stays valid, nothing crashes or hangs. */
	CU_ASSERT_EQUAL(
	    conf_mops->release_partition(s.m, s.desc.data, s.desc.len), 0);
	CU_ASSERT_FALSE(conf_mops->is_available(s.m, s.desc.data, s.desc.len));
	CU_ASSERT_EQUAL(
	    conf_mops->release_partition(s.m, s.desc.data, s.desc.len),
	    0); /* idempotent */
	memset(held.data, 0xab, held.len);
	do {
		rv = next_wait(s.r, &s.wt, &b);
		if (rv == 0)
			conf_rops->release(s.r, &b);
	} while (rv == 0);
	CU_ASSERT(rv == SL_EUNREADABLE || rv == SL_EEOF);
	conf_rops->release(s.r, &held);
	if (conf_type == SL_PARTITION_PIPELINED) {
		rv = write_bytes(s.w, 0, 10);
		(void)rv; /* refusing or dropping are both fine */
	}
	single_close(&s);
}

static void
test_out_of_range_write(void)
{
	struct single s;
	struct sl_buffer b = { .data = conf_buf_new(16), .len = 16 };

	single_open(&s, 2, 0);
	CU_ASSERT_NOT_EQUAL(conf_wops->write(s.w, 2, &b), 0);
	CU_ASSERT_PTR_NOT_NULL(b.data); /* refused: still the caller's */
	conf_host->free(b.data);
	CU_ASSERT_EQUAL(conf_wops->finish(s.w), 0);
	single_close(&s);
}

static void
test_descriptor_msgpack(void)
{
	char job[64];
	void *m;
	struct sl_bytes d[3];
	uint8_t junk[] = { 0xc1 };
	void *x;
	int rv;

	conf_job_id(job, sizeof(job));
	CU_ASSERT_PTR_NOT_NULL_FATAL(m = conf_master_new());
	for (uint32_t i = 0; i < 3; i++) {
		msgpack_unpacked u;
		size_t off = 0;

		CU_ASSERT_EQUAL_FATAL(
		    conf_register(m, job, 2, i % 2, i / 2, 4, &d[i]), 0);
		CU_ASSERT_PTR_NOT_NULL(d[i].data);
		CU_ASSERT(d[i].len > 0);
		msgpack_unpacked_init(&u);
		CU_ASSERT_EQUAL(
		    msgpack_unpack_next(&u, d[i].data, d[i].len, &off),
		    MSGPACK_UNPACK_SUCCESS);
		CU_ASSERT_EQUAL(off, d[i].len); /* one object, nothing after */
		msgpack_unpacked_destroy(&u);
	}
	/* Different producers and attempts get different descriptors. */
	CU_ASSERT(d[0].len != d[1].len ||
	    memcmp(d[0].data, d[1].data, d[0].len) != 0);
	CU_ASSERT(d[0].len != d[2].len ||
	    memcmp(d[0].data, d[2].data, d[0].len) != 0);

	/* Registering a type the plugin does not declare is refused. */
	for (uint32_t t = 0; t < 4; t++) {
		struct sl_partition_spec spec = { .struct_size = sizeof(spec),
			.type = t,
			.job_id = job,
			.edge = 9,
			.num_subpartitions = 1 };
		struct sl_bytes b = { 0 };

		if (conf_plugin->desc.caps & SL_SHUFFLE_CAP_TYPE(t))
			continue;
		CU_ASSERT_NOT_EQUAL(
		    conf_mops->register_partition(m, &spec, &b), 0);
		CU_ASSERT_PTR_NULL(b.data);
	}

	/* Bad descriptors are refused, not trusted. */
	{
		struct sl_bytes bad[] = { { junk, sizeof(junk) },
			{ d[0].data, d[0].len - 1 } };
		struct conf_waiter wt;

		conf_waiter_init(&wt);
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			x = conf_writer_open(&bad[i], &rv);
			CU_ASSERT_NOT_EQUAL(rv, 0);
			conf_writer_free(x);
			x = conf_reader_open(&bad[i], 1, 0, 0, 0, &wt, &rv);
			CU_ASSERT_NOT_EQUAL(rv, 0);
			conf_reader_free(x);
		}
		conf_waiter_fini(&wt);
	}
	for (uint32_t i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(
		    conf_mops->release_partition(m, d[i].data, d[i].len), 0);
		conf_host->free(d[i].data);
	}
	conf_master_free(m);
}

static void
test_snapshot_restore(void)
{
	char job[64];
	void *a, *b;
	struct sl_bytes d[3], snap = { 0 };
	uint8_t junk[] = { 0xc1, 0x00 };

	conf_job_id(job, sizeof(job));
	CU_ASSERT_PTR_NOT_NULL_FATAL(a = conf_master_new());
	for (uint32_t i = 0; i < 3; i++)
		CU_ASSERT_EQUAL_FATAL(
		    conf_register(a, job, 0, i, 0, 2, &d[i]), 0);
	CU_ASSERT_EQUAL(
	    conf_mops->release_partition(a, d[1].data, d[1].len), 0);
	CU_ASSERT_EQUAL_FATAL(conf_mops->snapshot(a, &snap), 0);

	CU_ASSERT_PTR_NOT_NULL_FATAL(b = conf_master_new());
	CU_ASSERT_EQUAL(conf_mops->restore(b, snap.data, snap.len), 0);
	for (uint32_t i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(conf_mops->is_available(a, d[i].data, d[i].len),
		    conf_mops->is_available(b, d[i].data, d[i].len));
	conf_master_free(b);

	/* Garbage is refused and leaves a state fini can take. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(b = conf_master_new());
	CU_ASSERT_NOT_EQUAL(conf_mops->restore(b, junk, sizeof(junk)), 0);
	conf_master_free(b);

	conf_host->free(snap.data);
	for (uint32_t i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(
		    conf_mops->release_partition(a, d[i].data, d[i].len), 0);
		conf_host->free(d[i].data);
	}
	conf_master_free(a);
}

static void
test_teardown_queued(void)
{
	struct single s;
	struct sl_buffer b;

	/* Data queued and a buffer read but the rest not: every role goes
	 * away in an order the core may use; ASan checks for leaks. */
	single_open(&s, 2, 2);
	for (int i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(write_bytes(s.w, 0, 1000), 0);
		CU_ASSERT_EQUAL(write_bytes(s.w, 1, 1000), 0);
	}
	CU_ASSERT_EQUAL(conf_wops->finish(s.w), 0);
	CU_ASSERT_EQUAL_FATAL(next_wait(s.r, &s.wt, &b), 0);
	conf_rops->release(s.r, &b);
	conf_rops->close(s.r);
	single_close(&s);
}

static void
test_no_type(void)
{
	CU_FAIL("the plugin declares no partition type in its caps");
}

static const struct sl_test generic_tests[] = {
	{ "round trip, ranges [0,0] [1,3] [4,5]", test_round_trip_ranges },
	{ "round trip, one reader of [0,n-1], events", test_round_trip_all },
	{ "readers opened before writers", test_readers_first },
	{ "fail makes the input SL_EUNREADABLE", test_fail_unreadable },
	{ "notify after SL_EAGAIN", test_notify_after_eagain },
	{ "empty partition reads as SL_EEOF", test_empty_partition },
	{ "release_partition, then not available", test_release_unavailable },
	{ "write out of range is refused", test_out_of_range_write },
	{ "descriptors are msgpack", test_descriptor_msgpack },
	{ "master snapshot and restore", test_snapshot_restore },
	{ "teardown with buffers queued", test_teardown_queued },
	{ NULL, NULL },
};

static const struct sl_test pipelined_tests[] = {
	{ "pipelined: back pressure with 2 credits", test_back_pressure },
	{ "pipelined: close unblocks a blocked writer",
	    test_close_unblocks_writer },
	{ NULL, NULL },
};

static const char *const type_names[] = { "pipelined", "blocking",
	"hybrid_full", "hybrid_selective" };

int
main(int argc, char **argv)
{
	struct sl_test tests[32];
	const char *path = getenv("SL_CONFORMANCE_PLUGIN");
	size_t n = 0;
	int rv;

	if (argc > 1) {
		path = argv[1];
		argc--;
		argv++;
	}
	if (path == NULL) {
		fprintf(stderr,
		    "usage: shuffle_conformance PLUGIN.so "
		    "[FILTER]\n   or: SL_CONFORMANCE_PLUGIN=PLUGIN.so "
		    "shuffle_conformance [FILTER]\n");
		return 2;
	}
	if ((rv = sli_plugin_open(path, &conf_plugin)) != 0) {
		fprintf(stderr, "%s: %s\n", sl_errname(rv), sl_errdetail());
		return 1;
	}
	if (conf_plugin->desc.kind != SL_PLUGIN_SHUFFLE) {
		fprintf(stderr, "%s: not a shuffle plugin\n", path);
		sli_plugin_unref(conf_plugin);
		return 1;
	}
	conf_host = &conf_plugin->host;
	conf_mops = &conf_plugin->ops.shuffle.master;
	conf_wops = &conf_plugin->ops.shuffle.writer;
	conf_rops = &conf_plugin->ops.shuffle.reader;

	/* The generic tests use the first type the plugin declares. */
	for (conf_type = 0; conf_type < 4; conf_type++)
		if (conf_plugin->desc.caps & SL_SHUFFLE_CAP_TYPE(conf_type))
			break;
	if (conf_type == 4) {
		tests[n++] =
		    (struct sl_test) { "partition types", test_no_type };
	} else {
		printf("conformance: plugin '%s' %s, tests register %s "
		       "partitions\n",
		    conf_plugin->name, conf_plugin->version,
		    type_names[conf_type]);
		for (const struct sl_test *t = generic_tests; t->name; t++)
			tests[n++] = *t;
	}
	if (conf_plugin->desc.caps &
	    SL_SHUFFLE_CAP_TYPE(SL_PARTITION_PIPELINED)) {
		for (const struct sl_test *t = pipelined_tests; t->name; t++)
			tests[n++] = *t;
	} else {
		for (const struct sl_test *t = pipelined_tests; t->name; t++)
			printf("conformance: not run: '%s': the plugin does "
			       "not declare SL_PARTITION_PIPELINED\n",
			    t->name);
	}
	tests[n] = (struct sl_test) { NULL, NULL };

	rv = sl_test_run("shuffle conformance", tests, argc, argv);
	sli_plugin_unref(conf_plugin);
	return rv;
}
