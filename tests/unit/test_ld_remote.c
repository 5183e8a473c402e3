/*
 * localdisk between processes (shuffle-plugins/localdisk: ld_server.c,
 * ld_fetch.c, ld_frame.c), compiled in and run over a real nng ipc
 * socket: a remote reader gets every block of its range in order, also a
 * block larger than a fetch; damage on the server's disk is caught by the
 * reader's checksum; a missing partition and a malformed request are
 * errors that say so, and the server carries on; a release removes the
 * files, and so does stopping the server for what nobody released. A
 * descriptor names a replica only when it has one (localdisk's stay as
 * they were).
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "ld_file.h"
#include "localdisk.h"
#include "sl_test.h"
#include "test_host.h"
#include "sl_testutil.h"

static char root[256];
static char url[512];

#define BIG (3u << 20) /* larger than a fetch (LD_NET_FETCH) */

static size_t
len_of(uint32_t s, uint32_t i)
{
	if (s == 2 && i == 7)
		return BIG;
	return (s * 7919u + i * 104729u) % 30000u + (i % 5 == 0 ? 0 : 1);
}

static void
fill(unsigned char *b, size_t n, uint32_t s, uint32_t i)
{
	for (size_t k = 0; k < n; k++)
		b[k] = (unsigned char)(s * 31 + i * 7 + k);
}

static struct ld_desc
key(uint32_t producer)
{
	return (struct ld_desc) { .job = "job-remote",
		.edge = 1,
		.producer = producer,
		.attempt = 0,
		.nsub = 5,
		.type = SL_PARTITION_BLOCKING,
		.location = url };
}

static void
start(void)
{
	char at[600];

	sl_tmp_dir(root, sizeof(root), "sl-ld-remote");
	snprintf(at, sizeof(at), "%s/ld", root);
	setenv("SLUICE_LOCALDISK_DIR", at, 1);
	snprintf(at, sizeof(at), "ipc://%s/ld.sock", root);
	CU_ASSERT_EQUAL_FATAL(
	    ld_server_ops.start(&host, at, url, sizeof(url)), 0);
	CU_ASSERT_STRING_EQUAL(url, at);
}

/* Write `per` buffers to each subpartition of producer p's partition, as
 * a worker's writer does, in runs of about spill bytes. */
static void
write_partition(uint32_t p, uint32_t per, size_t spill)
{
	struct ld_desc d = key(p);
	char *data, *index;
	struct ld_writer *w;

	CU_ASSERT_EQUAL_FATAL(ld_paths(&host, &d, true, &data, &index), 0);
	CU_ASSERT_EQUAL_FATAL(
	    ld_writer_open(&host, data, index, d.nsub, spill, &w), 0);
	/* producers 3 and 4 compress */
	CU_ASSERT_EQUAL_FATAL(ld_writer_compress(w,
	                          p == 3       ? SL_COMPRESSION_LZ4
	                              : p == 4 ? SL_COMPRESSION_ZSTD
	                                       : SL_COMPRESSION_NONE),
	    0);
	for (uint32_t i = 0; i < per; i++)
		for (uint32_t s = 0; s < d.nsub; s++) {
			size_t n = len_of(s, i);
			struct sl_buffer b = { .len = n,
				.kind =
				    i == 3 ? SL_BUFFER_EVENT : SL_BUFFER_DATA };

			b.data = malloc(n ? n : 1);
			fill(b.data, n, s, i);
			CU_ASSERT_EQUAL_FATAL(ld_writer_add(w, s, &b), 0);
		}
	CU_ASSERT_EQUAL_FATAL(ld_writer_finish(w), 0);
	ld_writer_free(w);
	CU_ASSERT_EQUAL(ld_served_add(&host, &d), 0);
	free(data);
	free(index);
}

static bool
exists(uint32_t p)
{
	struct ld_desc d = key(p);
	char *data, *index;
	bool there;

	CU_ASSERT_EQUAL_FATAL(ld_paths(&host, &d, false, &data, &index), 0);
	there = access(data, F_OK) == 0 || access(index, F_OK) == 0;
	free(data);
	free(index);
	return there;
}

static atomic_int notified;

static void
on_notify(void *arg)
{
	(void)arg;
	atomic_fetch_add(&notified, 1);
}

/*
 * Read lo..hi of producer p's partition through the server; with check,
 * every buffer is compared with what was written. Returns the last code
 * (SL_EEOF when all was read).
 */
static int
fetch_range(uint32_t p, uint32_t lo, uint32_t hi, uint32_t per, bool check)
{
	struct ld_desc d = key(p);
	struct sl_bytes desc;
	struct ld_remote *r;
	uint32_t next[5] = { 0 };
	struct sl_buffer b;
	unsigned char *want = malloc(BIG);
	int rv, spins = 0;

	CU_ASSERT_EQUAL_FATAL(ld_desc_encode(&host, &d, &desc), 0);
	CU_ASSERT_EQUAL_FATAL(
	    ld_remote_open(&host, &desc, url, lo, hi, on_notify, NULL, &r), 0);
	for (;;) {
		memset(&b, 0, sizeof(b));
		rv = ld_remote_next(r, &b);
		if (rv == SL_EAGAIN) {
			struct timespec ts = { 0, 1000000 };

			CU_ASSERT_FATAL(++spins < 20000); /* 20 s */
			nanosleep(&ts, NULL);
			continue;
		}
		if (rv != 0)
			break;
		if (check) {
			uint32_t s = b.subpartition, i;

			CU_ASSERT_FATAL(s >= lo && s <= hi);
			i = next[s]++;
			CU_ASSERT_EQUAL(b.len, len_of(s, i));
			CU_ASSERT_EQUAL(
			    b.kind, i == 3 ? SL_BUFFER_EVENT : SL_BUFFER_DATA);
			fill(want, b.len, s, i);
			CU_ASSERT(memcmp(b.data, want, b.len) == 0);
		}
		ld_remote_release(r, &b);
	}
	if (check && rv == SL_EEOF)
		for (uint32_t s = lo; s <= hi; s++)
			CU_ASSERT_EQUAL(next[s], per);
	ld_remote_free(r);
	free(desc.data);
	free(want);
	return rv;
}

static void
test_fetch(void)
{
	start();
	write_partition(0, 12, 64u << 20); /* one run */
	write_partition(1, 12, 100000);    /* many runs */
	for (uint32_t p = 0; p < 2; p++) {
		CU_ASSERT_EQUAL(fetch_range(p, 0, 4, 12, true), SL_EEOF);
		CU_ASSERT_EQUAL(fetch_range(p, 2, 2, 12, true), SL_EEOF);
		CU_ASSERT_EQUAL(fetch_range(p, 3, 4, 12, true), SL_EEOF);
	}
	CU_ASSERT(atomic_load(&notified) > 0);
	/* compressed blocks come out as they went in */
	write_partition(3, 12, 100000);
	write_partition(4, 12, 100000);
	for (uint32_t p = 3; p < 5; p++) {
		CU_ASSERT_EQUAL(fetch_range(p, 0, 4, 12, true), SL_EEOF);
		CU_ASSERT_EQUAL(fetch_range(p, 2, 3, 12, true), SL_EEOF);
	}
	/* nothing written: an empty range, at once */
	write_partition(2, 0, 1000);
	CU_ASSERT_EQUAL(fetch_range(2, 0, 4, 0, true), SL_EEOF);
}

static void
test_errors(void)
{
	struct stat st;
	char *data, *index;
	struct ld_desc d = key(1);
	uint64_t seed = 11;

	/* never written */
	CU_ASSERT_EQUAL(fetch_range(9, 0, 4, 0, false), SL_EUNREADABLE);
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, "producer at ipc://"));
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, "e1.p9.a0.index"));
	/* a flipped byte anywhere in the data file: the reader's checksum
	 * catches it on this side */
	CU_ASSERT_EQUAL_FATAL(ld_paths(&host, &d, false, &data, &index), 0);
	CU_ASSERT_EQUAL_FATAL(stat(data, &st), 0);
	for (int k = 0; k < 12; k++) {
		off_t off = (off_t)(sl_rng_next(&seed) % (uint64_t)st.st_size);
		unsigned char c;
		int fd = open(data, O_RDWR);

		CU_ASSERT_FATAL(fd >= 0);
		CU_ASSERT_EQUAL(pread(fd, &c, 1, off), 1);
		c ^= 0x10;
		CU_ASSERT_EQUAL(pwrite(fd, &c, 1, off), 1);
		CU_ASSERT_EQUAL(
		    fetch_range(1, 0, 4, 12, false), SL_EUNREADABLE);
		CU_ASSERT(strstr(detail, "checksum") != NULL ||
		    strstr(detail, "damaged block header") != NULL);
		c ^= 0x10;
		CU_ASSERT_EQUAL(pwrite(fd, &c, 1, off), 1);
		close(fd);
	}
	CU_ASSERT_EQUAL(fetch_range(1, 0, 4, 12, true), SL_EEOF);
	free(data);
	free(index);

	/* garbage to the server: an error reply, and it carries on */
	{
		nng_socket s;
		nng_msg *m;
		struct ld_rep rep;

		CU_ASSERT_EQUAL_FATAL(nng_req0_open(&s), 0);
		CU_ASSERT_EQUAL_FATAL(nng_dial(s, url, NULL, 0), 0);
		CU_ASSERT_EQUAL_FATAL(nng_msg_alloc(&m, 0), 0);
		CU_ASSERT_EQUAL(
		    nng_msg_append(m, "\x05\0\0\0\x81\xa1v\x01", 8), 0);
		CU_ASSERT_EQUAL_FATAL(nng_sendmsg(s, m, 0), 0);
		CU_ASSERT_EQUAL_FATAL(nng_recvmsg(s, &m, 0), 0);
		CU_ASSERT_EQUAL(
		    ld_rep_decode(nng_msg_body(m), nng_msg_len(m), &rep), 0);
		CU_ASSERT_EQUAL(rep.st, LD_ST_ERROR);
		CU_ASSERT_STRING_EQUAL(rep.err, "localdisk: malformed request");
		nng_msg_free(m);
		nng_close(s);
	}
	CU_ASSERT_EQUAL(fetch_range(0, 0, 4, 12, true), SL_EEOF);
}

/* What the server's held op lists, one bit per producer of key(). */
static void
held_one(void *arg, const char *job, uint32_t edge, uint32_t producer,
    uint32_t attempt)
{
	unsigned *bits = arg;

	CU_ASSERT_STRING_EQUAL(job, "job-remote");
	CU_ASSERT_EQUAL(edge, 1);
	CU_ASSERT_EQUAL(attempt, 0);
	CU_ASSERT_FATAL(producer < 32);
	CU_ASSERT_EQUAL(*bits & 1u << producer, 0); /* once each */
	*bits |= 1u << producer;
}

static unsigned
held_now(void)
{
	unsigned bits = 0;

	CU_ASSERT_EQUAL(ld_server_ops.held(held_one, &bits), 0);
	return bits;
}

/*
 * After a coordinator restart a worker lists what it still holds: the
 * partitions its writers finished whose files are both there. A reader on
 * the worker that wrote a partition whose files are gone fails at once
 * (it used to wait for a writer that would never come).
 */
static void
test_held(void)
{
	struct ld_desc d = key(5);
	struct sl_bytes desc;
	char *data, *index;
	void *st = calloc(1, ld_reader_ops.state_size);
	struct sl_reader_spec spec = { .struct_size = sizeof(spec),
		.descriptors = &desc,
		.num_descriptors = 1,
		.sub_lo = 0,
		.sub_hi = 4,
		.notify = on_notify };
	struct sl_buffer b = { 0 };

	CU_ASSERT_EQUAL(held_now(), 0x1fu); /* producers 0..4 */
	write_partition(5, 2, 1000);
	CU_ASSERT_EQUAL(held_now(), 0x3fu);
	CU_ASSERT_EQUAL_FATAL(ld_paths(&host, &d, false, &data, &index), 0);
	CU_ASSERT_EQUAL(unlink(index), 0);
	CU_ASSERT_EQUAL(held_now(), 0x1fu);
	CU_ASSERT_EQUAL(unlink(data), 0);

	CU_ASSERT_EQUAL_FATAL(ld_desc_encode(&host, &d, &desc), 0);
	CU_ASSERT_EQUAL_FATAL(ld_reader_ops.open(st, &host, &spec), 0);
	CU_ASSERT_EQUAL(ld_reader_ops.next(st, &b), SL_EUNREADABLE);
	CU_ASSERT_EQUAL(b.input, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, "files are missing"));
	ld_reader_ops.fini(st);
	ld_served_release(&host, &d);
	free(st);
	free(desc.data);
	free(data);
	free(index);
}

static void
test_release(void)
{
	struct ld_desc d = key(0);
	struct sl_bytes desc;
	int waited = 0;

	CU_ASSERT_TRUE(exists(0));
	CU_ASSERT_EQUAL_FATAL(ld_desc_encode(&host, &d, &desc), 0);
	ld_remote_release_partition(&host, url, &desc);
	free(desc.data);
	while (exists(0) && waited++ < 500) {
		struct timespec ts = { 0, 10000000 };

		nanosleep(&ts, NULL);
	}
	CU_ASSERT_FALSE(exists(0));
	CU_ASSERT_EQUAL(fetch_range(0, 0, 4, 12, false), SL_EUNREADABLE);
	/* stopping the server removes what nobody released */
	CU_ASSERT_TRUE(exists(1));
	CU_ASSERT_TRUE(exists(2));
	CU_ASSERT_TRUE(exists(4));
	ld_server_ops.stop();
	CU_ASSERT_FALSE(exists(1));
	CU_ASSERT_FALSE(exists(2));
	CU_ASSERT_FALSE(exists(4));
	ld_net_fini(&host);
}

/* The descriptor as localdisk encoded it before replicas, by hand. */
static void
desc_by_hand(const struct ld_desc *d, msgpack_sbuffer *sb)
{
	msgpack_packer pk;

	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 10);
	msgpack_pack_uint32(&pk, LD_DESC_VERSION);
	msgpack_pack_str(&pk, strlen(d->job));
	msgpack_pack_str_body(&pk, d->job, strlen(d->job));
	msgpack_pack_uint32(&pk, d->edge);
	msgpack_pack_uint32(&pk, d->producer);
	msgpack_pack_uint32(&pk, d->attempt);
	msgpack_pack_uint32(&pk, d->nsub);
	msgpack_pack_uint32(&pk, d->type);
	msgpack_pack_str(&pk, strlen(d->location));
	msgpack_pack_str_body(&pk, d->location, strlen(d->location));
	msgpack_pack_uint32(&pk, d->codec);
	msgpack_pack_uint64(&pk, d->token);
}

/*
 * A replica (a remote service's second daemon) is an 11th element, there
 * only when there is one: localdisk's descriptors stay byte for byte what
 * they were. Decoded back; nil taken as none; anything else refused; not
 * part of the partition's identity.
 */
static void
test_desc_replica(void)
{
	struct ld_desc d = key(3), e, f;
	struct sl_bytes b, b2;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	d.location = "ipc:///x";
	d.codec = SL_COMPRESSION_ZSTD;
	d.token = 0x1234567890ull;
	CU_ASSERT_EQUAL_FATAL(ld_desc_encode(&host, &d, &b), 0);
	desc_by_hand(&d, &sb);
	CU_ASSERT_EQUAL(b.len, sb.size);
	CU_ASSERT(b.len == sb.size && memcmp(b.data, sb.data, b.len) == 0);
	msgpack_sbuffer_destroy(&sb);
	CU_ASSERT_EQUAL_FATAL(ld_desc_decode(&host, b.data, b.len, &e), 0);
	CU_ASSERT_PTR_NULL(e.replica);
	ld_desc_clear(&host, &e);

	d.replica = "tcp://10.0.0.2:7000";
	CU_ASSERT_EQUAL_FATAL(ld_desc_encode(&host, &d, &b2), 0);
	/* the same ten, then the replica */
	CU_ASSERT_EQUAL(((unsigned char *)b2.data)[0], 0x9b);
	CU_ASSERT(
	    memcmp((char *)b2.data + 1, (char *)b.data + 1, b.len - 1) == 0);
	CU_ASSERT_EQUAL_FATAL(ld_desc_decode(&host, b2.data, b2.len, &e), 0);
	CU_ASSERT_STRING_EQUAL(e.replica, "tcp://10.0.0.2:7000");
	CU_ASSERT_STRING_EQUAL(e.location, "ipc:///x");
	CU_ASSERT_EQUAL(e.token, d.token);
	CU_ASSERT_EQUAL(e.codec, SL_COMPRESSION_ZSTD);
	/* the same partition, wherever its copies are */
	CU_ASSERT_EQUAL_FATAL(ld_desc_decode(&host, b.data, b.len, &f), 0);
	CU_ASSERT_TRUE(ld_same_partition(&e, &f));
	ld_desc_clear(&host, &f);
	ld_desc_clear(&host, &e);
	CU_ASSERT_PTR_NULL(e.replica);
	free(b2.data);

	/* an 11th element nil: none; a number, or "": malformed */
	for (int k = 0; k < 3; k++) {
		desc_by_hand(&d, &sb);
		((unsigned char *)sb.data)[0] = 0x9b;
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		if (k == 0)
			msgpack_pack_nil(&pk);
		else if (k == 1)
			msgpack_pack_uint32(&pk, 7);
		else
			msgpack_pack_str(&pk, 0);
		CU_ASSERT_EQUAL(ld_desc_decode(&host, sb.data, sb.size, &e),
		    k == 0 ? 0 : SL_EPARSE);
		if (k == 0)
			CU_ASSERT_PTR_NULL(e.replica);
		ld_desc_clear(&host, &e);
		msgpack_sbuffer_destroy(&sb);
	}
	free(b.data);
}

static void
cleanup(void)
{
	if (root[0] != '\0')
		sl_rm_rf(root);
}

static const struct sl_test tests[] = {
	{ "descriptor: a replica only when there is one", test_desc_replica },
	{ "fetch: ranges, runs, a block larger than a fetch", test_fetch },
	{ "missing, damaged, malformed: errors that say so", test_errors },
	{ "held: what is still there; a local reader of a gone partition "
	  "fails",
	    test_held },
	{ "release, and stopping, remove the files", test_release },
	{ "cleanup", cleanup },
	{ NULL, NULL },
};

SL_TEST_MAIN("ld-remote", tests)
