/*
 * The remote shuffle service (shuffle-plugins/remote/service): its service
 * code compiled in, over a real nng ipc socket, as writers and readers see
 * it: batches pushed (a duplicate dropped, a gap refused), nothing readable
 * before the commit, every block once and in order after it through
 * localdisk's reader (ld_remote); a wrong secret refused with nothing
 * stored; malformed frames answered with an error and the daemon serving
 * on; a release removing the files and the store's entry; a ping's bytes
 * held and disk used; jobs not named for the expiry time dropped, the
 * others kept, and a partition of a dropped job no longer served even
 * when the server had its reader open; the disk watermark and a disk really
 * full (a small tmpfs, when it can be mounted). Then the sluice-shuffled
 * program itself: its exit codes for bad arguments, a daemon started, used over
 * tcp and stopped by SIGTERM (exit 0), also as `sluice shuffled`; a daemon
 * SIGKILLed and the next one taking its data dir over.
 */
#include <endian.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "localdisk.h"
#include "rs_frame.h"
#include "rs_store.h"
#include "service.h"
#include "sl_test.h"
#include "sl_testutil.h"
#include "test_host.h"

#define SECRET "s3cret"
#define NSUB 3
#define BIG (1u << 20) /* a block of the big batch */

static char root[256];
static char url[512];

static struct ld_desc
keyj(const char *job, uint64_t token, uint32_t producer)
{
	return (struct ld_desc) { .job = (char *)job,
		.edge = 1,
		.producer = producer,
		.attempt = 0,
		.nsub = NSUB,
		.type = SL_PARTITION_BLOCKING,
		.token = token };
}

static struct ld_desc
key(uint32_t producer)
{
	return keyj("job-rs", 42, producer);
}

/* Block i of a batch: subpartition i % NSUB, big or i + 1 bytes, every
 * byte (base + i). */
static size_t
block_len(int i, bool big)
{
	return big ? BIG + (size_t)i : (size_t)i + 1;
}

/* A batch of n such blocks into *out (malloc'd); its length. */
static size_t
batch(unsigned char **out, int n, int base, bool big)
{
	size_t len = 0, off = 0;
	unsigned char *p;

	for (int i = 0; i < n; i++)
		len += RS_BLOCK_HEADER + block_len(i, big);
	p = malloc(len ? len : 1);
	for (int i = 0; i < n; i++) {
		size_t bl = block_len(i, big);
		uint32_t h[3] = { htole32((uint32_t)i % NSUB),
			htole32(SL_BUFFER_DATA), htole32((uint32_t)bl) };

		memcpy(p + off, h, sizeof(h));
		off += sizeof(h);
		memset(p + off, base + i, bl);
		off += bl;
	}
	*out = p;
	return len;
}

/* ---- a client of the daemon ---- */

static nng_socket
dial(const char *u)
{
	nng_socket s;

	CU_ASSERT_EQUAL_FATAL(nng_req0_open(&s), 0);
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 5000);
	nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, 5000);
	nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, 1u << 20);
	CU_ASSERT_EQUAL_FATAL(nng_dial(s, u, NULL, 0), 0);
	return s;
}

/* Send the frame (len bytes), the reply into *m. */
static void
exchange(nng_socket s, const void *frame, size_t len, nng_msg **m)
{
	CU_ASSERT_EQUAL_FATAL(nng_msg_alloc(m, len), 0);
	if (len > 0)
		memcpy(nng_msg_body(*m), frame, len);
	CU_ASSERT_EQUAL_FATAL(nng_sendmsg(s, *m, 0), 0);
	CU_ASSERT_EQUAL_FATAL(nng_recvmsg(s, m, 0), 0);
}

/* A push (blocks, len) or commit of d; the reply into *rep. */
static void
rs_call(nng_socket s, uint32_t op, const char *secret, const struct ld_desc *d,
    uint64_t seq, const unsigned char *blocks, size_t len, struct rs_rep *rep)
{
	struct sl_bytes desc;
	struct rs_req q = { .op = op, .seq = seq };
	msgpack_sbuffer sb;
	unsigned char *f;
	nng_msg *m;

	CU_ASSERT_EQUAL_FATAL(ld_desc_encode(&host, d, &desc), 0);
	q.desc = desc.data;
	q.desc_len = desc.len;
	snprintf(q.secret, sizeof(q.secret), "%s", secret);
	msgpack_sbuffer_init(&sb);
	CU_ASSERT_EQUAL_FATAL(rs_req_encode(&sb, &q), 0);
	f = malloc(4 + sb.size + len);
	shc_frame_header(&sb, f);
	if (len > 0)
		memcpy(f + 4 + sb.size, blocks, len);
	exchange(s, f, 4 + sb.size + len, &m);
	CU_ASSERT_EQUAL_FATAL(
	    rs_rep_decode(nng_msg_body(m), nng_msg_len(m), rep), 0);
	nng_msg_free(m);
	free(f);
	msgpack_sbuffer_destroy(&sb);
	free(desc.data);
}

static void
push_d(nng_socket s, const char *secret, const struct ld_desc *d, uint64_t seq,
    int n, int base, bool big, struct rs_rep *rep)
{
	unsigned char *p;
	size_t len = batch(&p, n, base, big);

	rs_call(s, RS_OP_PUSH, secret, d, seq, p, len, rep);
	free(p);
}

static void
push(nng_socket s, const char *secret, uint32_t producer, uint64_t seq, int n,
    int base, bool big, struct rs_rep *rep)
{
	struct ld_desc d = key(producer);

	push_d(s, secret, &d, seq, n, base, big, rep);
}

static void
commit(nng_socket s, const char *secret, uint32_t producer, uint64_t nbatches,
    struct rs_rep *rep)
{
	struct ld_desc d = key(producer);

	rs_call(s, RS_OP_COMMIT, secret, &d, nbatches, NULL, 0, rep);
}

/* A ping of (job, token); the reply into *rep. */
static void
ping(nng_socket s, const char *secret, const char *job, uint64_t token,
    struct rs_rep *rep)
{
	struct rs_req q = { .op = RS_OP_PING, .token = token };
	msgpack_sbuffer sb;
	unsigned char f[1024];
	nng_msg *m;

	snprintf(q.secret, sizeof(q.secret), "%s", secret);
	snprintf(q.job, sizeof(q.job), "%s", job);
	msgpack_sbuffer_init(&sb);
	CU_ASSERT_EQUAL_FATAL(rs_req_encode(&sb, &q), 0);
	CU_ASSERT_FATAL(4 + sb.size <= sizeof(f));
	shc_frame_header(&sb, f);
	exchange(s, f, 4 + sb.size, &m);
	CU_ASSERT_EQUAL_FATAL(
	    rs_rep_decode(nng_msg_body(m), nng_msg_len(m), rep), 0);
	nng_msg_free(m);
	msgpack_sbuffer_destroy(&sb);
}

/* localdisk's RELEASE of producer's partition; waits for the answer. */
static void
release(nng_socket s, uint32_t producer)
{
	struct ld_desc d = key(producer);
	struct sl_bytes desc;
	struct ld_req q = { .op = LD_OP_RELEASE, .max = 1 };
	struct ld_rep rep;
	msgpack_sbuffer sb;
	unsigned char f[1024];
	nng_msg *m;

	snprintf(q.secret, sizeof(q.secret), "%s", SECRET);
	CU_ASSERT_EQUAL_FATAL(ld_desc_encode(&host, &d, &desc), 0);
	q.desc = desc.data;
	q.desc_len = desc.len;
	msgpack_sbuffer_init(&sb);
	CU_ASSERT_EQUAL_FATAL(ld_req_encode(&sb, &q), 0);
	CU_ASSERT_FATAL(4 + sb.size <= sizeof(f));
	shc_frame_header(&sb, f);
	exchange(s, f, 4 + sb.size, &m);
	CU_ASSERT_EQUAL(
	    ld_rep_decode(nng_msg_body(m), nng_msg_len(m), &rep), 0);
	CU_ASSERT_EQUAL(rep.st, LD_ST_DATA);
	nng_msg_free(m);
	msgpack_sbuffer_destroy(&sb);
	free(desc.data);
}

/* Whether any file of d's partition is there, final or not. */
static bool
files_of_d(const struct ld_desc *d)
{
	char *data, *index, tmp[4200];
	bool there;

	CU_ASSERT_EQUAL_FATAL(ld_paths(&host, d, false, &data, &index), 0);
	there = access(data, F_OK) == 0 || access(index, F_OK) == 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", data);
	there = there || access(tmp, F_OK) == 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", index);
	there = there || access(tmp, F_OK) == 0;
	free(data);
	free(index);
	return there;
}

static bool
files_of(uint32_t producer)
{
	struct ld_desc d = key(producer);

	return files_of_d(&d);
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

/* ---- reading through localdisk's remote reader ---- */

static atomic_int notified;

static void
on_notify(void *arg)
{
	(void)arg;
	atomic_fetch_add(&notified, 1);
}

/* What a fetch of lo..hi got: per subpartition, each block's first byte
 * and length, in the order they came. */
struct got {
	int n[NSUB];
	int first[NSUB][16];
	size_t len[NSUB][16];
};

/* Read lo..hi of partition dk from u; the last code (SL_EEOF when all was
 * read). Every byte of a block is checked to be its first. */
static int
fetch_d(const char *u, const struct ld_desc *dk, uint32_t lo, uint32_t hi,
    struct got *g)
{
	struct ld_desc d = *dk;
	struct sl_bytes desc;
	struct ld_remote *r;
	struct sl_buffer b;
	int rv, spins = 0;

	memset(g, 0, sizeof(*g));
	d.location = (char *)u;
	CU_ASSERT_EQUAL_FATAL(ld_desc_encode(&host, &d, &desc), 0);
	CU_ASSERT_EQUAL_FATAL(
	    ld_remote_open(&host, &desc, u, lo, hi, on_notify, NULL, &r), 0);
	for (;;) {
		memset(&b, 0, sizeof(b));
		rv = ld_remote_next(r, &b);
		if (rv == SL_EAGAIN) {
			struct timespec ts = { 0, 1000000 };

			CU_ASSERT_FATAL(++spins < 5000); /* 5 s */
			nanosleep(&ts, NULL);
			continue;
		}
		if (rv != 0)
			break;
		CU_ASSERT_FATAL(b.subpartition >= lo && b.subpartition <= hi);
		CU_ASSERT_FATAL(g->n[b.subpartition] < 16);
		if (b.len > 0) {
			const unsigned char *p = b.data;
			size_t k = 0;

			while (k < b.len && p[k] == p[0])
				k++;
			CU_ASSERT_EQUAL(k, b.len);
			g->first[b.subpartition][g->n[b.subpartition]] = p[0];
		}
		g->len[b.subpartition][g->n[b.subpartition]++] = b.len;
		ld_remote_release(r, &b);
	}
	ld_remote_free(r);
	free(desc.data);
	return rv;
}

static int
fetch(const char *u, uint32_t producer, uint32_t lo, uint32_t hi, struct got *g)
{
	struct ld_desc d = key(producer);

	return fetch_d(u, &d, lo, hi, g);
}

/* ---- in-process ---- */

/* Start the service at ipc://ROOT/name on data_dir (NULL: ROOT/data),
 * expiring after expire_ms, refusing new partitions above max_use %. */
static void
start_with(const char *name, const char *secret, const char *data_dir,
    uint64_t expire_ms, uint32_t max_use)
{
	char at[600], data[600];
	struct rs_service_config c = { .url = at,
		.secret = secret,
		.expire_ms = expire_ms,
		.max_disk_use = max_use };

	sl_tmp_dir(root, sizeof(root), "sl-rs-service");
	snprintf(data, sizeof(data), "%s/data", root);
	setenv("SLUICE_LOCALDISK_DIR", data_dir ? data_dir : data, 1);
	snprintf(at, sizeof(at), "ipc://%s/%s", root, name);
	CU_ASSERT_EQUAL_FATAL(rs_service_start(&host, &c, url, sizeof(url)), 0);
	CU_ASSERT_STRING_EQUAL(url, at);
	/* what the remote plugin's fetches send (built in with
	 * LD_REMOTE_SERVICE, as here) */
	if (secret != NULL)
		setenv("SLUICE_SHUFFLE_SECRET", secret, 1);
	else
		unsetenv("SLUICE_SHUFFLE_SECRET");
}

/* Stop right after the last reply: the client has it before the server's
 * nng_ctx_send returned, which localdisk's server stop must survive. */
static void
stop_service(void)
{
	rs_service_stop();
}

static void
start(const char *name, const char *secret)
{
	start_with(name, secret, NULL, 3600000, 100);
}

static void
test_push_fetch(void)
{
	struct rs_rep rep;
	struct got g;
	nng_socket s;

	start("rs.sock", SECRET);
	s = dial(url);

	/* batch 0; again (its answer lost): dropped; batch 2: a gap */
	push(s, SECRET, 0, 0, 6, 10, false, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_DATA);
	CU_ASSERT_EQUAL(rep.next, 1);
	push(s, SECRET, 0, 0, 6, 10, false, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_DATA);
	CU_ASSERT_EQUAL(rep.next, 1);
	push(s, SECRET, 0, 2, 3, 90, false, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_ERROR);
	CU_ASSERT_EQUAL(rep.next, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(rep.err, "expected batch 1"));
	/* batch 1: blocks of 1 MiB, a push far above localdisk's own
	 * request limit, and replies of more than one fetch */
	push(s, SECRET, 0, 1, 3, 20, true, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_DATA);
	CU_ASSERT_EQUAL(rep.next, 2);

	/* before the commit: nothing to read */
	CU_ASSERT_EQUAL(fetch(url, 0, 0, NSUB - 1, &g), SL_EUNREADABLE);
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, "e1.p0.a0.index"));
	/* a commit miscounting the batches: refused, still nothing */
	commit(s, SECRET, 0, 3, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_ERROR);
	CU_ASSERT_PTR_NOT_NULL(strstr(rep.err, "after 3 batches, but 2"));
	CU_ASSERT_EQUAL(fetch(url, 0, 0, NSUB - 1, &g), SL_EUNREADABLE);
	commit(s, SECRET, 0, 2, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_DATA);
	CU_ASSERT_STRING_EQUAL(rep.err, "");

	/* every block once, in order: batch 0's, then batch 1's */
	CU_ASSERT_EQUAL(fetch(url, 0, 0, NSUB - 1, &g), SL_EEOF);
	for (int sub = 0; sub < NSUB; sub++) {
		CU_ASSERT_EQUAL_FATAL(g.n[sub], 3);
		CU_ASSERT_EQUAL(g.first[sub][0], 10 + sub);
		CU_ASSERT_EQUAL(g.len[sub][0], (size_t)sub + 1);
		CU_ASSERT_EQUAL(g.first[sub][1], 10 + sub + 3);
		CU_ASSERT_EQUAL(g.len[sub][1], (size_t)sub + 4);
		CU_ASSERT_EQUAL(g.first[sub][2], 20 + sub);
		CU_ASSERT_EQUAL(g.len[sub][2], BIG + (size_t)sub);
	}
	CU_ASSERT_EQUAL(fetch(url, 0, 1, 1, &g), SL_EEOF);
	CU_ASSERT_EQUAL(g.n[0] + g.n[1] + g.n[2], 3);
	CU_ASSERT_EQUAL(g.n[1], 3);
	CU_ASSERT(atomic_load(&notified) > 0);
	/* fetches need the secret too: without it, or a wrong one, the
	 * partition cannot be read */
	setenv("SLUICE_SHUFFLE_SECRET", "guess", 1);
	CU_ASSERT_EQUAL(fetch(url, 0, 0, NSUB - 1, &g), SL_EUNREADABLE);
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, "wrong secret"));
	unsetenv("SLUICE_SHUFFLE_SECRET");
	CU_ASSERT_EQUAL(fetch(url, 0, 0, NSUB - 1, &g), SL_EUNREADABLE);
	setenv("SLUICE_SHUFFLE_SECRET", SECRET, 1);
	CU_ASSERT_EQUAL(fetch(url, 0, 0, NSUB - 1, &g), SL_EEOF);
	nng_close(s);
}

/* A push's "out" (rs_frame.h): absent when 0, so that frames are as
 * before it; else carried, and refused above RS_MAX_OUT or on a commit. */
static void
test_frame_out(void)
{
	struct rs_req q = { .op = RS_OP_PUSH, .desc = "d", .desc_len = 1 };
	struct rs_req got;
	msgpack_sbuffer sb;
	unsigned char f[512];
	static const uint32_t outs[] = { 0, 1, RS_MAX_OUT, RS_MAX_OUT + 1 };

	for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++) {
		uint32_t out = outs[i];

		q.out = out;
		msgpack_sbuffer_init(&sb);
		CU_ASSERT_EQUAL_FATAL(rs_req_encode(&sb, &q), 0);
		CU_ASSERT_EQUAL(
		    memmem(sb.data, sb.size, "\xa3out", 4) != NULL, out != 0);
		shc_frame_header(&sb, f);
		if (out <= RS_MAX_OUT) {
			CU_ASSERT_EQUAL(rs_req_decode(f, 4 + sb.size, &got), 0);
			CU_ASSERT_EQUAL(got.out, out);
		} else {
			CU_ASSERT_EQUAL(
			    rs_req_decode(f, 4 + sb.size, &got), SL_EPARSE);
		}
		msgpack_sbuffer_destroy(&sb);
	}
	q.op = RS_OP_COMMIT;
	q.out = 1;
	msgpack_sbuffer_init(&sb);
	CU_ASSERT_EQUAL_FATAL(rs_req_encode(&sb, &q), 0);
	shc_frame_header(&sb, f);
	CU_ASSERT_EQUAL(rs_req_decode(f, 4 + sb.size, &got), SL_EPARSE);
	msgpack_sbuffer_destroy(&sb);
}

static void
test_secret(void)
{
	struct rs_rep rep;
	struct got g;
	nng_socket s = dial(url);

	/* a wrong secret, and none: refused, saying so, nothing stored */
	push(s, "wrong", 1, 0, 3, 30, false, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_ERROR);
	CU_ASSERT_STRING_EQUAL(rep.err, "remote: wrong secret");
	push(s, "", 1, 0, 3, 30, false, &rep);
	CU_ASSERT_STRING_EQUAL(rep.err, "remote: wrong secret");
	push(s, SECRET "x", 1, 0, 3, 30, false, &rep);
	CU_ASSERT_STRING_EQUAL(rep.err, "remote: wrong secret");
	CU_ASSERT_FALSE(files_of(1));
	push(s, SECRET, 1, 1, 3, 30, false, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_ERROR);
	CU_ASSERT_PTR_NOT_NULL(strstr(rep.err, "before batch 0"));

	/* a commit with a wrong secret does not commit */
	push(s, SECRET, 1, 0, 3, 30, false, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_DATA);
	commit(s, "wrong", 1, 1, &rep);
	CU_ASSERT_STRING_EQUAL(rep.err, "remote: wrong secret");
	CU_ASSERT_EQUAL(fetch(url, 1, 0, NSUB - 1, &g), SL_EUNREADABLE);
	commit(s, SECRET, 1, 1, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_DATA);
	CU_ASSERT_EQUAL(fetch(url, 1, 0, NSUB - 1, &g), SL_EEOF);
	CU_ASSERT_EQUAL(g.n[0] + g.n[1] + g.n[2], 3);
	nng_close(s);
}

static void
test_malformed(void)
{
	static const unsigned char garbage[] = "\x05\0\0\0\x81\xa1v\x01";
	struct ld_desc d = key(2);
	struct rs_rep rep;
	struct ld_rep lrep;
	struct got g;
	unsigned char *p;
	size_t len;
	nng_socket s = dial(url);
	nng_msg *m;

	/* not a frame of anyone's: an error both kinds of client read */
	exchange(s, garbage, sizeof(garbage) - 1, &m);
	CU_ASSERT_EQUAL(
	    rs_rep_decode(nng_msg_body(m), nng_msg_len(m), &rep), 0);
	CU_ASSERT_EQUAL(rep.st, LD_ST_ERROR);
	CU_ASSERT_STRING_EQUAL(rep.err, "remote: malformed request");
	CU_ASSERT_EQUAL(
	    ld_rep_decode(nng_msg_body(m), nng_msg_len(m), &lrep), 0);
	CU_ASSERT_EQUAL(lrep.st, LD_ST_ERROR);
	nng_msg_free(m);
	exchange(s, "", 0, &m);
	CU_ASSERT_EQUAL(
	    rs_rep_decode(nng_msg_body(m), nng_msg_len(m), &rep), 0);
	CU_ASSERT_STRING_EQUAL(rep.err, "remote: malformed request");
	nng_msg_free(m);

	/* a push whose descriptor is not one */
	{
		struct rs_req q = { .op = RS_OP_PUSH,
			.desc = "\x93\x01\x02\x03",
			.desc_len = 4 };
		msgpack_sbuffer sb;
		unsigned char f[512];

		snprintf(q.secret, sizeof(q.secret), "%s", SECRET);
		msgpack_sbuffer_init(&sb);
		CU_ASSERT_EQUAL_FATAL(rs_req_encode(&sb, &q), 0);
		shc_frame_header(&sb, f);
		exchange(s, f, 4 + sb.size, &m);
		CU_ASSERT_EQUAL(
		    rs_rep_decode(nng_msg_body(m), nng_msg_len(m), &rep), 0);
		CU_ASSERT_EQUAL(rep.st, LD_ST_ERROR);
		CU_ASSERT_PTR_NOT_NULL(strstr(rep.err,
		    "malformed shuffle "
		    "descriptor"));
		nng_msg_free(m);
		msgpack_sbuffer_destroy(&sb);
	}

	/* a batch whose block runs past its end: refused whole */
	len = batch(&p, 3, 50, false);
	p[8] = 200;
	rs_call(s, RS_OP_PUSH, SECRET, &d, 0, p, len, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_ERROR);
	CU_ASSERT_PTR_NOT_NULL(strstr(rep.err, "block 0"));
	free(p);
	CU_ASSERT_FALSE(files_of(2));

	/* and the daemon goes on serving */
	CU_ASSERT_EQUAL(fetch(url, 0, 0, NSUB - 1, &g), SL_EEOF);
	CU_ASSERT_EQUAL(g.n[0] + g.n[1] + g.n[2], 9);
	push(s, SECRET, 2, 0, 3, 50, false, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_DATA);
	CU_ASSERT_EQUAL(rep.next, 1);
	nng_close(s);
}

static void
test_release(void)
{
	struct rs_rep rep;
	struct got g;
	nng_socket s = dial(url);

	/* committed: the files go, and the store forgets it */
	CU_ASSERT_TRUE(files_of(0));
	release(s, 0);
	CU_ASSERT_FALSE(files_of(0));
	CU_ASSERT_EQUAL(fetch(url, 0, 0, NSUB - 1, &g), SL_EUNREADABLE);
	push(s, SECRET, 0, 1, 3, 60, false, &rep);
	CU_ASSERT_PTR_NOT_NULL(strstr(rep.err, "before batch 0"));
	/* so batch 0 starts it afresh */
	push(s, SECRET, 0, 0, 3, 60, false, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_DATA);
	CU_ASSERT_EQUAL(rep.next, 1);
	commit(s, SECRET, 0, 1, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_DATA);
	CU_ASSERT_EQUAL(fetch(url, 0, 0, NSUB - 1, &g), SL_EEOF);
	for (int sub = 0; sub < NSUB; sub++) {
		CU_ASSERT_EQUAL_FATAL(g.n[sub], 1);
		CU_ASSERT_EQUAL(g.first[sub][0], 60 + sub);
	}

	/* not committed (producer 2, from test_malformed): its temporary
	 * files go, and so does its entry */
	CU_ASSERT_TRUE(files_of(2));
	release(s, 2);
	CU_ASSERT_FALSE(files_of(2));
	push(s, SECRET, 2, 1, 3, 60, false, &rep);
	CU_ASSERT_PTR_NOT_NULL(strstr(rep.err, "before batch 0"));
	nng_close(s);
}

static void
test_ping(void)
{
	struct ld_desc d0 = key(0), d1 = key(1);
	struct rs_rep rep;
	struct statvfs v;
	char data[600];
	uint64_t held, used, all, want;
	nng_socket s = dial(url);

	ping(s, "wrong", "job-rs", 42, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_ERROR);
	CU_ASSERT_STRING_EQUAL(rep.err, "remote: wrong secret");
	CU_ASSERT_EQUAL(rep.bytes, 0);

	/* what is held: producers 0 and 1, committed (test_release) */
	ping(s, SECRET, "job-rs", 42, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_DATA);
	CU_ASSERT_STRING_EQUAL(rep.err, "");
	held = files_size(&d0) + files_size(&d1);
	CU_ASSERT_EQUAL(rep.bytes, held);
	/* how full the data dir's file system is, as df says (give or
	 * take one: others write to it meanwhile) */
	snprintf(data, sizeof(data), "%s/data", root);
	CU_ASSERT_EQUAL_FATAL(statvfs(data, &v), 0);
	used = v.f_blocks - v.f_bfree;
	all = used + v.f_bavail;
	want = all ? (used * 100 + all - 1) / all : 0;
	CU_ASSERT(rep.used + 1 >= want && rep.used <= want + 1);
	CU_ASSERT(rep.used <= 100);

	/* a partition being written counts the blocks pushed; released, it
	 * counts no more; a push's reply has neither key */
	push(s, SECRET, 7, 0, 3, 10, false, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_DATA);
	CU_ASSERT_EQUAL(rep.bytes, 0);
	CU_ASSERT_EQUAL(rep.used, 0);
	ping(s, SECRET, "job-other", 1, &rep);
	CU_ASSERT_EQUAL(rep.bytes, held + 1 + 2 + 3);
	release(s, 7);
	ping(s, SECRET, "job-other", 1, &rep);
	CU_ASSERT_EQUAL(rep.bytes, held);

	/* a job that cannot name a directory: malformed */
	ping(s, SECRET, "..", 42, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_ERROR);
	CU_ASSERT_STRING_EQUAL(rep.err, "remote: malformed request");
	nng_close(s);
}

static void
test_stop_restart(void)
{
	struct rs_rep rep;
	struct got g;
	char at[600];
	nng_socket s = dial(url);

	/* stopping removes what was not committed, keeps what was */
	push(s, SECRET, 3, 0, 3, 70, false, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_DATA);
	CU_ASSERT_TRUE(files_of(3));
	nng_close(s);
	stop_service();
	rs_service_stop(); /* again: nothing */
	CU_ASSERT_FALSE(files_of(3));
	CU_ASSERT_TRUE(files_of(0));
	CU_ASSERT_TRUE(files_of(1));

	/* a secret too long to ever match is refused at start */
	{
		char longs[RS_SECRET_MAX + 2];
		struct rs_service_config c = { .url = at, .secret = longs };

		memset(longs, 'k', sizeof(longs) - 1);
		longs[sizeof(longs) - 1] = '\0';
		snprintf(at, sizeof(at), "ipc://%s/never.sock", root);
		CU_ASSERT_EQUAL(
		    rs_service_start(&host, &c, url, sizeof(url)), SL_EINVAL);
	}

	/* without a secret any is taken; what was committed before is
	 * served again */
	start("open.sock", NULL);
	s = dial(url);
	push(s, "whatever", 4, 0, 3, 80, false, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_DATA);
	commit(s, "", 4, 1, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_DATA);
	CU_ASSERT_EQUAL(fetch(url, 4, 0, NSUB - 1, &g), SL_EEOF);
	CU_ASSERT_EQUAL(g.n[0] + g.n[1] + g.n[2], 3);
	CU_ASSERT_EQUAL(fetch(url, 1, 0, NSUB - 1, &g), SL_EEOF);
	CU_ASSERT_EQUAL(g.n[0] + g.n[1] + g.n[2], 3);
	nng_close(s);
	stop_service();
	ld_net_fini(&host);
	unsetenv("SLUICE_LOCALDISK_DIR");
}

static void
test_expiry(void)
{
	struct ld_desc live = keyj("job-live", 5, 0);
	struct ld_desc dead = keyj("job-dead", 6, 0);
	struct ld_desc busy = keyj("job-busy", 7, 0);
	struct ld_desc old[3] = { key(0), key(1), key(4) };
	struct rs_rep rep;
	struct got g;
	char dir[700];
	nng_socket s;

	/* the data dir holds job-rs's producers 0, 1 and 4, committed
	 * before: taken over, and heard of now */
	start_with("expire.sock", SECRET, NULL, 1000, 100);
	s = dial(url);
	ping(s, SECRET, "job-live", 5, &rep);
	CU_ASSERT_EQUAL(rep.bytes,
	    files_size(&old[0]) + files_size(&old[1]) + files_size(&old[2]));
	push_d(s, SECRET, &live, 0, 3, 10, false, &rep);
	rs_call(s, RS_OP_COMMIT, SECRET, &live, 1, NULL, 0, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_DATA);
	push_d(s, SECRET, &dead, 0, 3, 20, false, &rep);
	rs_call(s, RS_OP_COMMIT, SECRET, &dead, 1, NULL, 0, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_DATA);
	/* read once: the server keeps its reader open, for the next */
	CU_ASSERT_EQUAL(fetch_d(url, &dead, 0, NSUB - 1, &g), SL_EEOF);
	CU_ASSERT_EQUAL(g.n[0] + g.n[1] + g.n[2], 3);

	/* 2.5 s: job-live pinged, job-busy pushed to (never committed),
	 * the others not named */
	for (uint64_t i = 0; i < 25; i++) {
		struct timespec ts = { 0, 100000000 };

		ping(s, SECRET, "job-live", 5, &rep);
		CU_ASSERT_EQUAL(rep.st, LD_ST_DATA);
		push_d(s, SECRET, &busy, i, 1, 30, false, &rep);
		CU_ASSERT_EQUAL(rep.next, i + 1);
		nanosleep(&ts, NULL);
	}
	/* gone: files, directories, and nothing to fetch (the reader the
	 * server kept open closed with them) */
	CU_ASSERT_FALSE(files_of_d(&dead));
	snprintf(dir, sizeof(dir), "%s/data/job-dead.0000000000000006", root);
	CU_ASSERT_NOT_EQUAL(access(dir, F_OK), 0);
	CU_ASSERT_EQUAL(fetch_d(url, &dead, 0, NSUB - 1, &g), SL_EUNREADABLE);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_FALSE(files_of_d(&old[i]));
	snprintf(dir, sizeof(dir), "%s/data/job-rs.000000000000002a", root);
	CU_ASSERT_NOT_EQUAL(access(dir, F_OK), 0);
	/* kept: the job pinged, and the one pushed to */
	CU_ASSERT_EQUAL(fetch_d(url, &live, 0, NSUB - 1, &g), SL_EEOF);
	CU_ASSERT_EQUAL(g.n[0] + g.n[1] + g.n[2], 3);
	push_d(s, SECRET, &busy, 25, 1, 30, false, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_DATA);
	rs_call(s, RS_OP_COMMIT, SECRET, &busy, 26, NULL, 0, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_DATA);
	ping(s, SECRET, "job-live", 5, &rep);
	CU_ASSERT_EQUAL(rep.bytes, files_size(&live) + files_size(&busy));

	/* a job dropped starts afresh when named again */
	push_d(s, SECRET, &dead, 1, 3, 20, false, &rep);
	CU_ASSERT_PTR_NOT_NULL(strstr(rep.err, "before batch 0"));
	push_d(s, SECRET, &dead, 0, 3, 20, false, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_DATA);
	nng_close(s);
	stop_service();
	unsetenv("SLUICE_LOCALDISK_DIR");
}

static char mnt[600]; /* a small tmpfs, while mounted */

static void
test_disk_full(void)
{
	struct ld_desc a = keyj("job-full", 9, 0), b = keyj("job-full", 9, 1);
	char filler[700], want[800];
	static char zeros[700 << 10];
	struct rs_rep rep;
	struct got g;
	uint32_t pct;
	nng_socket s;

	sl_tmp_dir(root, sizeof(root), "sl-rs-service");
	snprintf(mnt, sizeof(mnt), "%s/full", root);
	CU_ASSERT_EQUAL_FATAL(mkdir(mnt, 0755), 0);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=1m") != 0) {
		printf("skipped: cannot mount a tmpfs at %s: %s\n", mnt,
		    strerror(errno));
		mnt[0] = '\0';
		return;
	}

	/* above the watermark (50 %), once another filled the disk: a new
	 * partition refused, one begun goes on */
	start_with("full.sock", SECRET, mnt, 3600000, 50);
	s = dial(url);
	push_d(s, SECRET, &a, 0, 3, 10, false, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_DATA);
	snprintf(filler, sizeof(filler), "%s/filler", mnt);
	sl_write_file(filler, zeros, sizeof(zeros));
	CU_ASSERT_EQUAL(rs_disk_used(mnt, &pct), 0);
	CU_ASSERT(pct > 50 && pct < 100);
	push_d(s, SECRET, &b, 0, 3, 10, false, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_ERROR);
	snprintf(want, sizeof(want),
	    "remote: data dir %s is %u %% full (limit 50 %%)", mnt, pct);
	CU_ASSERT_STRING_EQUAL(rep.err, want);
	CU_ASSERT_FALSE(files_of_d(&b));
	push_d(s, SECRET, &a, 1, 3, 20, false, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_DATA);
	CU_ASSERT_EQUAL(rep.next, 2);
	rs_call(s, RS_OP_COMMIT, SECRET, &a, 2, NULL, 0, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_DATA);
	CU_ASSERT_EQUAL(fetch_d(url, &a, 0, NSUB - 1, &g), SL_EEOF);
	CU_ASSERT_EQUAL(g.n[0] + g.n[1] + g.n[2], 6);
	nng_close(s);
	stop_service();

	/* no watermark, and a partition larger than the disk: its writer
	 * told why, naming the data dir; nothing of it left */
	unlink(filler);
	start_with("full.sock", SECRET, mnt, 3600000, 100);
	s = dial(url);
	push_d(s, SECRET, &b, 0, 3, 30, true, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_DATA);
	rs_call(s, RS_OP_COMMIT, SECRET, &b, 1, NULL, 0, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_ERROR);
	snprintf(want, sizeof(want), "remote: data dir %s: ", mnt);
	CU_ASSERT_EQUAL(strncmp(rep.err, want, strlen(want)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(rep.err, "No space left on device"));
	CU_ASSERT_FALSE(files_of_d(&b));
	CU_ASSERT_TRUE(files_of_d(&a));
	ping(s, SECRET, "job-full", 9, &rep);
	CU_ASSERT_EQUAL(rep.bytes, files_size(&a));
	nng_close(s);
	stop_service();
	unsetenv("SLUICE_LOCALDISK_DIR");
	CU_ASSERT_EQUAL(umount(mnt), 0);
	mnt[0] = '\0';
}

/* ---- the program ---- */

static pid_t daemon_pid; /* a sluice-shuffled running, or 0 */

/* bin/ of the build tree, or NULL (run by hand: those cases are left
 * out). */
static const char *
bin_dir(char *buf, size_t cap)
{
	const char *b = getenv("SL_BINARY_DIR");

	if (b == NULL)
		return NULL;
	snprintf(buf, cap, "%s/bin", b);
	return buf;
}

/* Start argv with stdout and stderr into out; its pid. */
static pid_t
spawn(char *const argv[], const char *out)
{
	pid_t pid = fork();

	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0)
			_exit(126);
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static int
wait_exit(pid_t pid)
{
	int st;

	CU_ASSERT_EQUAL_FATAL(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Run argv to its end: its exit status; what it said into out. */
static int
run(char *const argv[], const char *out)
{
	return wait_exit(spawn(argv, out));
}

/* Whether file holds s. */
static bool
says(const char *file, const char *s)
{
	size_t n;
	char *t = sl_read_file(file, &n);
	bool yes = t != NULL && strstr(t, s) != NULL;

	free(t);
	return yes;
}

/* Start a daemon (argv), its output into out; the URL it is ready at (a
 * tcp://127.0.0.1 one) into at. */
static void
daemon_start(char *const argv[], const char *out, char *at, size_t cap)
{
	static const char ready[] = "shuffled: listening at ";
	char *text = NULL, *p, *end;
	size_t n;

	daemon_pid = spawn(argv, out);
	/* the file is made by the child: wait for it, then the line */
	for (int i = 0; i < 500; i++) {
		struct timespec ts = { 0, 10000000 };

		free(text);
		text = sl_read_file(out, &n);
		if (text != NULL && (p = strstr(text, ready)) != NULL &&
		    strchr(p, '\n') != NULL)
			break;
		nanosleep(&ts, NULL);
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	p = strstr(text, ready);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	p += sizeof(ready) - 1;
	end = strchr(p, '\n');
	CU_ASSERT_PTR_NOT_NULL_FATAL(end);
	*end = '\0';
	snprintf(at, cap, "%s", p);
	free(text);
	CU_ASSERT_EQUAL_FATAL(strncmp(at, "tcp://127.0.0.1:", 16), 0);
	CU_ASSERT_STRING_NOT_EQUAL(at, "tcp://127.0.0.1:0");
}

/* SIGTERM the daemon: it exits 0 (else what it said is shown). After a
 * pause, as stop_service. */
static void
daemon_stop(const char *out)
{
	struct timespec ts = { 0, 50000000 };
	char *text;
	size_t n;
	int st;

	nanosleep(&ts, NULL);
	CU_ASSERT_EQUAL(kill(daemon_pid, SIGTERM), 0);
	st = wait_exit(daemon_pid);
	daemon_pid = 0;
	if (st != 0 && (text = sl_read_file(out, &n)) != NULL) {
		fprintf(stderr, "the daemon exited %d:\n%s\n", st, text);
		free(text);
	}
	CU_ASSERT_EQUAL(st, 0);
}

static void
test_program(void)
{
	char bin[600], exe[700], sluice[700], out[600], secret[600], dir[600];
	char notdir[600], listen[64] = "tcp://127.0.0.1:0";
	struct rs_rep rep;
	nng_socket s;

	if (bin_dir(bin, sizeof(bin)) == NULL) {
		fprintf(stderr,
		    "(SL_BINARY_DIR unset: the program is not "
		    "tried)\n");
		return;
	}
	sl_tmp_dir(root, sizeof(root), "sl-rs-service");
	snprintf(exe, sizeof(exe), "%s/sluice-shuffled", bin);
	snprintf(sluice, sizeof(sluice), "%s/sluice", bin);
	snprintf(out, sizeof(out), "%s/out.txt", root);
	snprintf(secret, sizeof(secret), "%s/secret", root);
	snprintf(dir, sizeof(dir), "%s/prog/a/b", root);
	snprintf(notdir, sizeof(notdir), "%s/secret/x", root);
	sl_write_file(secret, SECRET "\nnot this line\n", 21);

	/* bad arguments: 2, saying what is wrong */
	{
		char *a0[] = { exe, NULL };
		char *a1[] = { exe, "--listen", listen, NULL };
		char *a2[] = { exe, "--bogus", NULL };
		char *a3[] = { exe, "--listen", listen, "--data-dir", dir,
			"--secret-file", "/nonexistent/secret", NULL };
		char *a4[] = { exe, "--listen", listen, "--data-dir", notdir,
			NULL };
		char *a5[] = { exe, "--listen", "bogus://x", "--data-dir", dir,
			NULL };

		CU_ASSERT_EQUAL(run(a0, out), 2);
		CU_ASSERT_TRUE(says(out, "--listen URL is required"));
		CU_ASSERT_EQUAL(run(a1, out), 2);
		CU_ASSERT_TRUE(says(out, "--data-dir DIR is required"));
		CU_ASSERT_EQUAL(run(a2, out), 2);
		CU_ASSERT_TRUE(says(out, "usage: sluice-shuffled"));
		CU_ASSERT_EQUAL(run(a3, out), 2);
		CU_ASSERT_TRUE(says(out, "/nonexistent/secret"));
		CU_ASSERT_EQUAL(run(a4, out), 2);
		CU_ASSERT_TRUE(says(out, "cannot make"));
		/* cannot listen: 1 */
		CU_ASSERT_EQUAL(run(a5, out), 1);
		CU_ASSERT_TRUE(says(out, "cannot listen on bogus://x"));
		CU_ASSERT_FALSE(says(out, "localdisk"));
	}

	/* the options of expiry, watermark and TLS */
	{
		char tls[] = "tls+tcp://127.0.0.1:0";
		char *b0[] = { exe, "--listen", listen, "--data-dir", dir,
			"--expire-after", "0", NULL };
		char *b1[] = { exe, "--listen", listen, "--data-dir", dir,
			"--max-disk-use", "101", NULL };
		char *b2[] = { exe, "--listen", listen, "--data-dir", dir,
			"--max-disk-use", "9x", NULL };
		char *b7[] = { exe, "--listen", listen, "--data-dir", dir,
			"--memory-limit", "0", NULL };
		char *b3[] = { exe, "--listen", listen, "--data-dir", dir,
			"--tls-cert", secret, NULL };
		char *b4[] = { exe, "--listen", tls, "--data-dir", dir,
			"--tls-cert", secret, NULL };
		char *b5[] = { exe, "--listen", tls, "--data-dir", dir,
			"--tls-cert", "/nonexistent/cert", "--tls-key", secret,
			NULL };
		/* readable, but no PEM: taken here, refused by the listener,
		 * which is handed their absolute paths */
		char *b6[] = { exe, "--listen", tls, "--data-dir", dir,
			"--tls-cert", "secret", "--tls-key", "./secret", NULL };
		char cwd[PATH_MAX], want[700];
		char *h[] = { exe, "--help", NULL };

		CU_ASSERT_EQUAL(run(b0, out), 2);
		CU_ASSERT_TRUE(says(out,
		    "--expire-after 0: not a whole number in 1..4294967295"));
		CU_ASSERT_EQUAL(run(b1, out), 2);
		CU_ASSERT_TRUE(says(out,
		    "--max-disk-use 101: not a whole "
		    "number in 1..100"));
		CU_ASSERT_EQUAL(run(b2, out), 2);
		CU_ASSERT_TRUE(says(out, "--max-disk-use 9x"));
		CU_ASSERT_EQUAL(run(b7, out), 2);
		CU_ASSERT_TRUE(says(
		    out, "--memory-limit 0: not a whole number in 1..1048576"));
		CU_ASSERT_EQUAL(run(b3, out), 2);
		CU_ASSERT_TRUE(says(out,
		    "--tls-cert and --tls-key are for a "
		    "tls+tcp:// --listen only"));
		CU_ASSERT_EQUAL(run(b4, out), 2);
		CU_ASSERT_TRUE(says(out,
		    "--listen tls+tcp://127.0.0.1:0 needs "
		    "--tls-cert and --tls-key"));
		CU_ASSERT_EQUAL(run(b5, out), 2);
		CU_ASSERT_TRUE(says(out,
		    "--tls-cert /nonexistent/cert: No "
		    "such file or directory"));
		b5[6] = root; /* a directory */
		CU_ASSERT_EQUAL(run(b5, out), 2);
		CU_ASSERT_TRUE(says(out, ": not a file"));
		CU_ASSERT_PTR_NOT_NULL_FATAL(getcwd(cwd, sizeof(cwd)));
		CU_ASSERT_EQUAL_FATAL(chdir(root), 0);
		CU_ASSERT_EQUAL(run(b6, out), 1);
		CU_ASSERT_EQUAL_FATAL(chdir(cwd), 0);
		CU_ASSERT_FALSE(says(out, "--tls"));
		snprintf(
		    want, sizeof(want), "SLUICE_SHUFFLE_TLS_CERT=%s", secret);
		CU_ASSERT_TRUE(says(out, want));
		snprintf(
		    want, sizeof(want), "SLUICE_SHUFFLE_TLS_KEY=%s", secret);
		CU_ASSERT_TRUE(says(out, want));
		CU_ASSERT_EQUAL(run(h, out), 0);
		CU_ASSERT_TRUE(says(out, "--expire-after SECONDS"));
		CU_ASSERT_TRUE(says(out, "--max-disk-use PCT"));
		CU_ASSERT_TRUE(says(out, "--memory-limit MIB"));
		CU_ASSERT_TRUE(says(out, "--tls-cert FILE --tls-key FILE"));
	}

	/* `sluice shuffled` runs it; `sluice --help` lists it */
	{
		char *h[] = { sluice, "shuffled", "--help", NULL };
		char *l[] = { sluice, "--help", NULL };

		CU_ASSERT_EQUAL(run(h, out), 0);
		CU_ASSERT_TRUE(says(out, "usage: sluice-shuffled"));
		CU_ASSERT_EQUAL(run(l, out), 0);
		CU_ASSERT_TRUE(says(out, "  shuffled --listen URL"));
	}

	/* a daemon: ready, used, stopped by SIGTERM */
	{
		char *a[] = { sluice, "shuffled", "--listen", listen,
			"--data-dir", dir, "--secret-file", secret,
			"--memory-limit", "64", NULL };
		char at[128];

		snprintf(out, sizeof(out), "%s/daemon.txt", root);
		daemon_start(a, out, at, sizeof(at));

		/* its data dir is where the files are */
		setenv("SLUICE_LOCALDISK_DIR", dir, 1);
		s = dial(at);
		push(s, "wrong", 5, 0, 2, 1, false, &rep);
		CU_ASSERT_STRING_EQUAL(rep.err, "remote: wrong secret");
		push(s, SECRET, 5, 0, 2, 1, false, &rep);
		CU_ASSERT_EQUAL(rep.st, LD_ST_DATA);
		commit(s, SECRET, 5, 1, &rep);
		CU_ASSERT_EQUAL(rep.st, LD_ST_DATA);
		CU_ASSERT_TRUE(files_of(5));
		nng_close(s);
		unsetenv("SLUICE_LOCALDISK_DIR");

		daemon_stop(out);
	}
}

static void
test_program_restart(void)
{
	char bin[600], exe[700], out[600], out2[600], secret[600], dir[600];
	char listen[] = "tcp://127.0.0.1:0", at[128];
	char *a[] = { exe, "--listen", listen, "--data-dir", dir,
		"--secret-file", secret, NULL };
	struct ld_desc c = key(5);
	struct rs_rep rep;
	struct got g;
	nng_socket s;

	if (bin_dir(bin, sizeof(bin)) == NULL)
		return;
	sl_tmp_dir(root, sizeof(root), "sl-rs-service");
	snprintf(exe, sizeof(exe), "%s/sluice-shuffled", bin);
	snprintf(out, sizeof(out), "%s/restart.txt", root);
	snprintf(out2, sizeof(out2), "%s/restart2.txt", root);
	snprintf(secret, sizeof(secret), "%s/secret", root);
	snprintf(dir, sizeof(dir), "%s/restart", root);
	sl_write_file(secret, SECRET "\n", 7);
	setenv("SLUICE_LOG", "info", 1);
	setenv("SLUICE_LOCALDISK_DIR", dir, 1);
	setenv("SLUICE_SHUFFLE_SECRET", SECRET, 1);

	/* producer 5 committed, 6 half pushed, then SIGKILL */
	daemon_start(a, out, at, sizeof(at));
	s = dial(at);
	push(s, SECRET, 5, 0, 3, 40, false, &rep);
	commit(s, SECRET, 5, 1, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_DATA);
	push(s, SECRET, 6, 0, 3, 50, false, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_DATA);
	nng_close(s);
	CU_ASSERT_EQUAL(kill(daemon_pid, SIGKILL), 0);
	CU_ASSERT_EQUAL(wait_exit(daemon_pid), 128 + SIGKILL);
	daemon_pid = 0;
	CU_ASSERT_TRUE(files_of(6)); /* its .tmp: nobody removed it */

	/* the next daemon on the dir: 5 served and held, 6's .tmp gone */
	snprintf(out, sizeof(out), "%s/restart-next.txt", root);
	daemon_start(a, out, at, sizeof(at));
	CU_ASSERT_TRUE(says(out,
	    "taken over 1 committed partitions of 1 "
	    "jobs"));
	CU_ASSERT_TRUE(says(out, "removed 1 unfinished files"));
	CU_ASSERT_FALSE(files_of(6));
	CU_ASSERT_EQUAL(fetch(at, 5, 0, NSUB - 1, &g), SL_EEOF);
	CU_ASSERT_EQUAL(g.n[0] + g.n[1] + g.n[2], 3);
	CU_ASSERT_EQUAL(g.first[0][0], 40);
	s = dial(at);
	ping(s, SECRET, "job-rs", 42, &rep);
	CU_ASSERT_EQUAL(rep.bytes, files_size(&c));
	/* 6's writer cannot go on; 5's commit sent again is taken */
	push(s, SECRET, 6, 1, 3, 50, false, &rep);
	CU_ASSERT_PTR_NOT_NULL(strstr(rep.err, "before batch 0"));
	commit(s, SECRET, 5, 1, &rep);
	CU_ASSERT_EQUAL(rep.st, LD_ST_DATA);
	nng_close(s);

	/* a second daemon on the same dir: refused, touching nothing */
	CU_ASSERT_EQUAL(run(a, out2), 1);
	CU_ASSERT_TRUE(says(out2, "is another daemon's"));
	CU_ASSERT_TRUE(files_of(5));
	daemon_stop(out);
	unsetenv("SLUICE_LOG");
	unsetenv("SLUICE_LOCALDISK_DIR");
	unsetenv("SLUICE_SHUFFLE_SECRET");
}

static void
cleanup(void)
{
	if (mnt[0] != '\0') /* a case that failed left it mounted */
		umount2(mnt, MNT_DETACH);
	if (daemon_pid > 0) { /* a case that failed left it running */
		kill(daemon_pid, SIGKILL);
		waitpid(daemon_pid, NULL, 0);
	}
	if (root[0] != '\0')
		sl_rm_rf(root);
}

static const struct sl_test tests[] = {
	{ "push: duplicates, gaps; commit; fetch every block once",
	    test_push_fetch },
	{ "a push's out: carried when set, bounded", test_frame_out },
	{ "a wrong secret: refused, nothing stored", test_secret },
	{ "malformed frames: an error reply, and serving on", test_malformed },
	{ "release: files and store entry gone", test_release },
	{ "ping: secret, bytes held, disk used", test_ping },
	{ "stop, and a service without a secret", test_stop_restart },
	{ "expiry: jobs not named dropped, others kept", test_expiry },
	{ "disk: watermark, and no space left", test_disk_full },
	{ "the program: arguments, exit codes, signals", test_program },
	{ "the program: SIGKILLed, its data dir taken over",
	    test_program_restart },
	{ "cleanup", cleanup },
	{ NULL, NULL },
};

SL_TEST_MAIN("rs-service", tests)
