/*
 * One partition's data and index files: ld_file.h describes the layout.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* XXH3_state_t on the stack: the streaming state's layout */
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>
#if defined(__x86_64__) && defined(__has_include)
#if __has_include(<xxh_x86dispatch.h>)
/* The same hashes, computed with AVX2 or AVX-512 where the CPU has them
 * (libxxhash chooses at run time; its plain functions use SSE2 only):
 * the blocks' checksums are a quarter of a reader's CPU. */
#include <xxh_x86dispatch.h>
#endif
#endif

#include <lz4.h>
#include <zstd.h>

#include "ld_file.h"

#define BLOCK_MAGIC 0x42444c53u /* "SLDB" */
#define INDEX_MAGIC 0x49444c53u /* "SLDI" */
#define INDEX_VERSION 1u
#define INDEX_HEADER 16

struct pending {
	void *data;
	uint32_t len;
	uint32_t kind;
	struct ld_lend *lend; /* NULL: data is the writer's, to free */
	uint64_t sum;         /* the block's checksum (block_sum) */
};

struct subq {
	struct pending *v;
	uint32_t n, cap;
	uint64_t bytes; /* written to the file, payloads */
};

struct ld_writer {
	const struct sl_host *host;
	char *data_path, *index_path, *data_tmp, *index_tmp;
	int fd;
	uint32_t nsub;
	size_t spill_bytes;
	size_t held; /* bytes waiting in the queues */
	struct subq *q;
	uint64_t off;     /* the data file's length, with the batch */
	uint64_t written; /* what reached the file */
	/* runs x nsub extents, (offset, length) */
	uint64_t *ext;
	uint32_t nruns, capruns;
	bool finished;
	bool failed;    /* a write failed: the partition is lost */
	uint32_t codec; /* enum sl_compression */
	bool write_behind;
	ZSTD_CCtx *zctx; /* kept: making one costs more than a block */
};

static void
put_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void
put_le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t
get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
get_le64(const unsigned char *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static char *
cat(const struct sl_host *host, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = host->alloc(la + lb + 1);

	if (s != NULL) {
		memcpy(s, a, la);
		memcpy(s + la, b, lb + 1);
	}
	return s;
}

static int
io_fail(struct ld_writer *w, const char *what, const char *path, int err)
{
	w->failed = true;
	w->host->set_error("localdisk: %s %s: %s", what, path, strerror(err));
	return SL_EIO;
}

int
ld_writer_open(const struct sl_host *host, const char *data_path,
    const char *index_path, uint32_t nsub, size_t spill_bytes,
    struct ld_writer **out)
{
	struct ld_writer *w;

	if (nsub == 0)
		return SL_EINVAL;
	if ((w = host->alloc(sizeof(*w))) == NULL)
		return SL_ENOMEM;
	memset(w, 0, sizeof(*w));
	w->host = host;
	w->fd = -1;
	w->nsub = nsub;
	w->spill_bytes = spill_bytes ? spill_bytes : 1;
	w->data_path = cat(host, data_path, "");
	w->index_path = cat(host, index_path, "");
	w->data_tmp = cat(host, data_path, ".tmp");
	w->index_tmp = cat(host, index_path, ".tmp");
	w->q = host->alloc(sizeof(*w->q) * nsub);
	if (w->data_path == NULL || w->index_path == NULL ||
	    w->data_tmp == NULL || w->index_tmp == NULL || w->q == NULL) {
		ld_writer_free(w);
		return SL_ENOMEM;
	}
	memset(w->q, 0, sizeof(*w->q) * nsub);
	w->fd =
	    open(w->data_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		int rv = io_fail(w, "create", w->data_tmp, errno);

		ld_writer_free(w);
		return rv;
	}
	*out = w;
	return 0;
}

/* The first 16 bytes of p's block header in subpartition sub. */
static void
block_head(unsigned char *h, uint32_t sub, const struct pending *p)
{
	put_le32(h, BLOCK_MAGIC);
	put_le32(h + 4, sub);
	put_le32(h + 8, p->len);
	put_le32(h + 12, p->kind);
}

/* p's checksum: of its header's first 16 bytes and its payload. Taken
 * when p is queued, while its bytes are likely still in the cache (a run
 * is written up to LD_SPILL_BYTES later: hashing then read them from
 * memory a second time, beside the write's own copy). */
static uint64_t
block_sum(uint32_t sub, const struct pending *p)
{
	unsigned char h[16];
	XXH3_state_t st;

	block_head(h, sub, p);
	XXH3_64bits_reset(&st);
	XXH3_64bits_update(&st, h, 16);
	XXH3_64bits_update(&st, p->data, p->len);
	return XXH3_64bits_digest(&st);
}

/* Blocks written with one pwritev: headers and payloads, in file order. */
#define BATCH 32

struct batch {
	unsigned char h[BATCH][LD_BLOCK_HEADER];
	struct iovec iov[2 * BATCH];
	void *data[BATCH];
	struct ld_lend *lend[BATCH];
	uint32_t n;
	size_t bytes;
};

/* A payload the writer is done with: freed, or given back to its lender. */
static void
let_go(struct ld_writer *w, void *data, struct ld_lend *lend)
{
	if (lend != NULL)
		lend->done(lend);
	else
		w->host->free(data);
}

/* Free the payloads the batch took, writing nothing (after a failure). */
static void
drop_batch(struct ld_writer *w, struct batch *b)
{
	for (uint32_t i = 0; i < b->n; i++)
		let_go(w, b->data[i], b->lend[i]);
	b->n = 0;
	b->bytes = 0;
}

/* Write the batch at w->written; free the payloads it took. */
static int
flush_batch(struct ld_writer *w, struct batch *b)
{
	ssize_t n;

	if (b->n == 0)
		return 0;
	n = pwritev(w->fd, b->iov, (int)(2 * b->n), (off_t)w->written);
	for (uint32_t i = 0; i < b->n; i++) {
		let_go(w, b->data[i], b->lend[i]);
		b->data[i] = NULL;
	}
	b->n = 0;
	if (n < 0)
		return io_fail(w, "write", w->data_tmp, errno);
	/* a regular file writes short only when the disk is full */
	if ((size_t)n != b->bytes)
		return io_fail(w, "write", w->data_tmp, ENOSPC);
	w->written += b->bytes;
	b->bytes = 0;
	return 0;
}

/* Write every queued buffer as one run, sorted by subpartition, in
 * batches of BATCH blocks per system call. */
static int
spill(struct ld_writer *w)
{
	uint64_t run_start = w->written;
	struct batch *b;
	uint64_t *ext;
	int rv = 0;

	if (w->held == 0 && w->nruns > 0)
		return 0;
	if (w->nruns == w->capruns) {
		uint32_t cap = w->capruns ? w->capruns * 2 : 4;

		ext = w->host->realloc(
		    w->ext, (size_t)cap * w->nsub * 2 * sizeof(*ext));
		if (ext == NULL)
			return SL_ENOMEM;
		w->ext = ext;
		w->capruns = cap;
	}
	if ((b = w->host->alloc(sizeof(*b))) == NULL)
		return SL_ENOMEM;
	b->n = 0;
	b->bytes = 0;
	ext = &w->ext[(size_t)w->nruns * w->nsub * 2];
	for (uint32_t s = 0; s < w->nsub; s++) {
		struct subq *q = &w->q[s];

		ext[2 * s] = w->off;
		for (uint32_t i = 0; i < q->n; i++) {
			struct pending *p = &q->v[i];
			unsigned char *h = b->h[b->n];

			block_head(h, s, p);
			put_le64(h + 16, p->sum);
			b->iov[2 * b->n] =
			    (struct iovec) { h, LD_BLOCK_HEADER };
			b->iov[2 * b->n + 1] =
			    (struct iovec) { p->data, p->len };
			b->lend[b->n] = p->lend;
			b->data[b->n++] = p->data;
			b->bytes += LD_BLOCK_HEADER + (size_t)p->len;
			p->data = NULL;
			w->off += LD_BLOCK_HEADER + (uint64_t)p->len;
			q->bytes += p->len;
			if (b->n == BATCH && rv == 0)
				rv = flush_batch(w, b);
			else if (b->n == BATCH)
				drop_batch(w, b); /* the first error stands */
		}
		ext[2 * s + 1] = w->off - ext[2 * s];
		q->n = 0;
	}
	if (rv == 0)
		rv = flush_batch(w, b);
	else
		drop_batch(w, b);
	w->host->free(b);
	w->held = 0;
	w->nruns++;
	/* the run to the disk now, not all at finish; a failure here is
	 * finish's fsync's to say */
	if (rv == 0 && w->write_behind && w->written > run_start)
		(void)sync_file_range(w->fd, (off_t)run_start,
		    (off_t)(w->written - run_start), SYNC_FILE_RANGE_WRITE);
	return rv;
}

void
ld_writer_write_behind(struct ld_writer *w)
{
	w->write_behind = true;
}

int
ld_writer_compress(struct ld_writer *w, uint32_t codec)
{
	if (codec > SL_COMPRESSION_ZSTD)
		return SL_EINVAL;
	if (codec == SL_COMPRESSION_ZSTD && w->zctx == NULL &&
	    (w->zctx = ZSTD_createCCtx()) == NULL)
		return SL_ENOMEM;
	w->codec = codec;
	return 0;
}

/* Blocks smaller than this are stored as they are. */
#define MIN_COMPRESS 64

/* The codec's bytes of src (len bytes), after the raw length (u32 LE): a
 * new buffer of the writer's into *out and its length, or 0 when that is
 * no smaller (or out of memory). */
static size_t
squeeze(struct ld_writer *w, const void *src, size_t len, unsigned char **out)
{
	size_t bound, n = 0;
	unsigned char *dst;
	void *shrunk;

	bound = w->codec == SL_COMPRESSION_LZ4
	    ? (size_t)LZ4_compressBound((int)len)
	    : ZSTD_compressBound(len);
	if (bound == 0 || (dst = w->host->alloc(4 + bound)) == NULL)
		return 0;
	if (w->codec == SL_COMPRESSION_LZ4) {
		int k = LZ4_compress_default(
		    src, (char *)dst + 4, (int)len, (int)bound);

		n = k > 0 ? (size_t)k : 0;
	} else {
		size_t k =
		    ZSTD_compressCCtx(w->zctx, dst + 4, bound, src, len, 1);

		n = ZSTD_isError(k) ? 0 : k;
	}
	if (n == 0 || 4 + n >= len) {
		w->host->free(dst);
		return 0;
	}
	put_le32(dst, (uint32_t)len);
	if ((shrunk = w->host->realloc(dst, 4 + n)) != NULL)
		dst = shrunk;
	*out = dst;
	return 4 + n;
}

/*
 * Compress p in place when that makes it smaller: the payload becomes the
 * raw length and the codec's bytes (the writer's own: a lent payload is
 * given back), and the codec goes into the kind's second byte. Otherwise
 * (or out of memory) p stays as it is.
 */
static void
compress(struct ld_writer *w, struct pending *p)
{
	unsigned char *dst;
	size_t n;

	if (w->codec == SL_COMPRESSION_NONE || p->len < MIN_COMPRESS ||
	    (n = squeeze(w, p->data, p->len, &dst)) == 0)
		return;
	let_go(w, p->data, p->lend);
	p->lend = NULL;
	p->data = dst;
	p->len = (uint32_t)n;
	p->kind |= w->codec << 8;
}

/* Queue p for subpartition sub, *taken then; a run it fills is written.
 * Not taken, p stays the caller's. */
static int
add(struct ld_writer *w, uint32_t sub, struct pending *p, size_t len,
    bool *taken)
{
	struct subq *q;

	if (sub >= w->nsub) {
		w->host->set_error(
		    "localdisk: subpartition %u of %u", sub, w->nsub);
		return SL_ERANGE;
	}
	if (w->failed || w->finished) {
		w->host->set_error("localdisk: write after %s",
		    w->failed ? "a failed write" : "finish");
		return SL_ESTATE;
	}
	if (len > LD_MAX_BLOCK) {
		w->host->set_error("localdisk: a buffer of %zu bytes", len);
		return SL_ERANGE;
	}
	q = &w->q[sub];
	if (q->n == q->cap) {
		uint32_t cap = q->cap ? q->cap * 2 : 8;
		struct pending *v = w->host->realloc(q->v, cap * sizeof(*q->v));

		if (v == NULL)
			return SL_ENOMEM;
		q->v = v;
		q->cap = cap;
	}
	p->len = (uint32_t)len;
	/* the writer's from here on: compressed or not, it is queued */
	compress(w, p);
	p->sum = block_sum(sub, p);
	q->v[q->n++] = *p;
	*taken = true;
	w->held += p->len + sizeof(struct pending);
	if (w->held >= w->spill_bytes)
		return spill(w);
	return 0;
}

int
ld_writer_add(struct ld_writer *w, uint32_t sub, struct sl_buffer *buf)
{
	struct pending p = { buf->data, 0, buf->kind, NULL, 0 };
	bool taken = false;
	int rv = add(w, sub, &p, buf->len, &taken);

	if (taken) /* even when the run it filled failed */
		buf->data = NULL;
	return rv;
}

int
ld_writer_add_lent(struct ld_writer *w, uint32_t sub, const void *data,
    size_t len, uint32_t kind, struct ld_lend *lend)
{
	struct pending p = { (void *)data, 0, kind, lend, 0 };
	bool taken = false;
	int rv = add(w, sub, &p, len, &taken);

	if (!taken)
		lend->done(lend);
	return rv;
}

uint64_t
ld_writer_bytes(const struct ld_writer *w, uint32_t sub)
{
	return sub < w->nsub ? w->q[sub].bytes : 0;
}

static int
write_index(struct ld_writer *w)
{
	size_t n = INDEX_HEADER + (size_t)w->nruns * w->nsub * 16 + 8;
	unsigned char *b = w->host->alloc(n);
	ssize_t got;
	int fd, rv = 0;

	if (b == NULL)
		return SL_ENOMEM;
	put_le32(b, INDEX_MAGIC);
	put_le32(b + 4, INDEX_VERSION);
	put_le32(b + 8, w->nsub);
	put_le32(b + 12, w->nruns);
	for (size_t i = 0; i < (size_t)w->nruns * w->nsub * 2; i++)
		put_le64(b + INDEX_HEADER + 8 * i, w->ext[i]);
	put_le64(b + n - 8, XXH3_64bits(b, n - 8));
	fd = open(w->index_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rv = io_fail(w, "create", w->index_tmp, errno);
	} else {
		got = write(fd, b, n);
		if (got < 0 || (size_t)got != n)
			rv = io_fail(
			    w, "write", w->index_tmp, got < 0 ? errno : ENOSPC);
		else if (fsync(fd) != 0)
			rv = io_fail(w, "fsync", w->index_tmp, errno);
		close(fd);
	}
	w->host->free(b);
	return rv;
}

/* fsync the directory of path, so that a rename into it is durable. */
static int
sync_dir(struct ld_writer *w, const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd, rv = 0;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s",
		    (int)(slash == path ? 1 : slash - path), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return io_fail(w, "open", dir, errno);
	if (fsync(fd) != 0)
		rv = io_fail(w, "fsync", dir, errno);
	close(fd);
	return rv;
}

int
ld_writer_finish(struct ld_writer *w)
{
	int rv;

	if (w->failed || w->finished) {
		w->host->set_error("localdisk: finish after %s",
		    w->failed ? "a failed write" : "finish");
		return SL_ESTATE;
	}
	if ((rv = spill(w)) != 0)
		return rv;
	if (fsync(w->fd) != 0)
		return io_fail(w, "fsync", w->data_tmp, errno);
	if ((rv = write_index(w)) != 0)
		return rv;
	/* Data first: an index under its final name means a whole
	 * partition. */
	if (rename(w->data_tmp, w->data_path) != 0)
		return io_fail(w, "rename", w->data_tmp, errno);
	if (rename(w->index_tmp, w->index_path) != 0) {
		rv = io_fail(w, "rename", w->index_tmp, errno);
		unlink(w->data_path);
		return rv;
	}
	if ((rv = sync_dir(w, w->index_path)) != 0)
		return rv;
	w->finished = true;
	return 0;
}

void
ld_writer_free(struct ld_writer *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	if (!w->finished) {
		if (w->data_tmp != NULL)
			unlink(w->data_tmp);
		if (w->index_tmp != NULL)
			unlink(w->index_tmp);
	}
	for (uint32_t s = 0; w->q != NULL && s < w->nsub; s++) {
		for (uint32_t i = 0; i < w->q[s].n; i++)
			let_go(w, w->q[s].v[i].data, w->q[s].v[i].lend);
		w->host->free(w->q[s].v);
	}
	w->host->free(w->q);
	w->host->free(w->ext);
	ZSTD_freeCCtx(w->zctx);
	w->host->free(w->data_path);
	w->host->free(w->index_path);
	w->host->free(w->data_tmp);
	w->host->free(w->index_tmp);
	w->host->free(w);
}

/* ---- reading ---- */

struct ld_reader {
	const struct sl_host *host;
	char *data_path;
	int fd;
	uint32_t lo, hi;
	uint32_t nruns;
	uint64_t *span; /* per run: offset and length of lo..hi's extents */
	uint32_t run;   /* current */
	uint64_t pos, end;
};

static int
unreadable(struct ld_reader *r, const char *fmt, unsigned long long at)
{
	r->host->set_error(fmt, r->data_path, at);
	return SL_EUNREADABLE;
}

int
ld_reader_open(const struct sl_host *host, const char *data_path,
    const char *index_path, uint32_t lo, uint32_t hi, struct ld_reader **out)
{
	struct ld_reader *r;
	unsigned char *b = NULL;
	struct stat st;
	uint32_t nsub;
	ssize_t got;
	size_t n;
	int fd, rv = SL_EUNREADABLE;

	if ((r = host->alloc(sizeof(*r))) == NULL)
		return SL_ENOMEM;
	memset(r, 0, sizeof(*r));
	r->host = host;
	r->fd = -1;
	r->lo = lo;
	r->hi = hi;
	if ((r->data_path = cat(host, data_path, "")) == NULL) {
		ld_reader_free(r);
		return SL_ENOMEM;
	}
	if ((fd = open(index_path, O_RDONLY | O_CLOEXEC)) < 0) {
		host->set_error(
		    "localdisk: %s: %s", index_path, strerror(errno));
		ld_reader_free(r);
		return SL_EUNREADABLE;
	}
	if (fstat(fd, &st) != 0 || st.st_size < INDEX_HEADER + 8 ||
	    st.st_size > (off_t)1 << 34 ||
	    (b = host->alloc((size_t)st.st_size)) == NULL) {
		host->set_error("localdisk: %s: not an index", index_path);
		goto out;
	}
	n = (size_t)st.st_size;
	got = pread(fd, b, n, 0);
	if (got < 0 || (size_t)got != n || get_le32(b) != INDEX_MAGIC ||
	    get_le32(b + 4) != INDEX_VERSION ||
	    get_le64(b + n - 8) != XXH3_64bits(b, n - 8)) {
		host->set_error("localdisk: %s: damaged index", index_path);
		goto out;
	}
	nsub = get_le32(b + 8);
	r->nruns = get_le32(b + 12);
	if (n != INDEX_HEADER + (size_t)r->nruns * nsub * 16 + 8 || nsub == 0 ||
	    hi >= nsub || lo > hi) {
		host->set_error("localdisk: %s: %u subpartitions, cannot read "
		                "%u..%u",
		    index_path, nsub, lo, hi);
		goto out;
	}
	if ((r->fd = open(data_path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    fstat(r->fd, &st) != 0) {
		host->set_error(
		    "localdisk: %s: %s", data_path, strerror(errno));
		goto out;
	}
	if ((r->span = host->alloc(sizeof(*r->span) * 2 * (r->nruns + 1))) ==
	    NULL) {
		rv = SL_ENOMEM;
		goto out;
	}
	for (uint32_t k = 0; k < r->nruns; k++) {
		const unsigned char *e =
		    b + INDEX_HEADER + (size_t)k * nsub * 16;
		uint64_t off = get_le64(e + 16 * lo), end = off;

		/* lo..hi are adjacent in a run: one extent */
		for (uint32_t s = lo; s <= hi; s++) {
			uint64_t o = get_le64(e + 16 * s);
			uint64_t l = get_le64(e + 16 * s + 8);

			if (o != end || l > (uint64_t)st.st_size - o) {
				host->set_error("localdisk: %s: index does not "
				                "fit the data file (run %u, "
				                "subpartition %u)",
				    index_path, k, s);
				goto out;
			}
			end = o + l;
		}
		r->span[2 * k] = off;
		r->span[2 * k + 1] = end - off;
	}
	rv = 0;
out:
	close(fd);
	host->free(b);
	if (rv != 0) {
		ld_reader_free(r);
		return rv;
	}
	r->run = 0;
	r->pos = r->nruns ? r->span[0] : 0;
	r->end = r->nruns ? r->span[0] + r->span[1] : 0;
	*out = r;
	return 0;
}

/* Why the block header h is bad for a reader of lo..hi with room bytes
 * left in its extent; NULL when it is good. */
static const char *
header_bad(const unsigned char *h, uint32_t lo, uint32_t hi, uint64_t room)
{
	uint32_t sub = get_le32(h + 4), len = get_le32(h + 8);

	uint32_t kind = get_le32(h + 12);

	if (get_le32(h) != BLOCK_MAGIC || sub < lo || sub > hi ||
	    len > LD_MAX_BLOCK || len > room - LD_BLOCK_HEADER ||
	    (kind & 0xff) > SL_BUFFER_EVENT ||
	    kind >> 8 > SL_COMPRESSION_ZSTD || (kind >> 8 != 0 && len < 4))
		return "damaged block header";
	return NULL;
}

int
ld_block_inflate(const struct sl_host *host, struct sl_buffer *b, bool owned,
    const char **why)
{
	uint32_t codec = b->kind >> 8, raw;
	const unsigned char *src = b->data;
	void *dst;
	bool ok;

	if (codec == SL_COMPRESSION_NONE)
		return 0;
	raw = get_le32(src);
	if (raw > LD_MAX_BLOCK) {
		*why = "compressed block of a bad size";
		return SL_EUNREADABLE;
	}
	if ((dst = host->alloc(raw ? raw : 1)) == NULL) {
		*why = "out of memory";
		return SL_ENOMEM;
	}
	if (codec == SL_COMPRESSION_LZ4)
		ok = LZ4_decompress_safe((const char *)src + 4, dst,
		         (int)(b->len - 4), (int)raw) == (int)raw;
	else
		ok = ZSTD_decompress(dst, raw, src + 4, b->len - 4) == raw;
	if (!ok) {
		host->free(dst);
		*why = "block does not decompress";
		return SL_EUNREADABLE;
	}
	if (owned)
		host->free(b->data);
	b->data = dst;
	b->len = raw;
	b->kind &= 0xff;
	return 0;
}

static bool
sum_ok(const unsigned char *h, const void *payload, uint32_t len)
{
	XXH3_state_t st;

	XXH3_64bits_reset(&st);
	XXH3_64bits_update(&st, h, 16);
	XXH3_64bits_update(&st, payload, len);
	return XXH3_64bits_digest(&st) == get_le64(h + 16);
}

int
ld_block_parse(const unsigned char *p, size_t avail, uint32_t lo, uint32_t hi,
    struct sl_buffer *out, size_t *size, const char **why)
{
	uint32_t len;

	if (avail < LD_BLOCK_HEADER) {
		*why = "block cut short";
		return SL_EUNREADABLE;
	}
	if ((*why = header_bad(p, lo, hi, avail)) != NULL)
		return SL_EUNREADABLE;
	len = get_le32(p + 8);
	if (!sum_ok(p, p + LD_BLOCK_HEADER, len)) {
		*why = "block fails its checksum";
		return SL_EUNREADABLE;
	}
	out->data = (void *)(p + LD_BLOCK_HEADER);
	out->len = len;
	out->kind = get_le32(p + 12);
	out->subpartition = get_le32(p + 4);
	*size = LD_BLOCK_HEADER + (size_t)len;
	return 0;
}

/* Move past extents read to their end; false at the end of the last. */
static bool
settle(struct ld_reader *r)
{
	while (r->pos == r->end) {
		if (r->run + 1 >= r->nruns)
			return false;
		r->run++;
		r->pos = r->span[2 * r->run];
		r->end = r->pos + r->span[2 * r->run + 1];
	}
	return true;
}

int
ld_reader_next(struct ld_reader *r, struct sl_buffer *out)
{
	unsigned char h[LD_BLOCK_HEADER];
	const char *why;
	uint32_t len;
	ssize_t got;
	void *data;
	int rv;

	if (!settle(r))
		return SL_EEOF;
	if (r->end - r->pos < LD_BLOCK_HEADER ||
	    pread(r->fd, h, sizeof(h), (off_t)r->pos) != (ssize_t)sizeof(h))
		return unreadable(r,
		    "localdisk: %s: block at %llu is cut short",
		    (unsigned long long)r->pos);
	if (header_bad(h, r->lo, r->hi, r->end - r->pos) != NULL)
		return unreadable(r,
		    "localdisk: %s: damaged block header at %llu",
		    (unsigned long long)r->pos);
	len = get_le32(h + 8);
	if ((data = r->host->alloc(len ? len : 1)) == NULL)
		return SL_ENOMEM;
	got = pread(r->fd, data, len, (off_t)(r->pos + LD_BLOCK_HEADER));
	if (got != (ssize_t)len || !sum_ok(h, data, len)) {
		r->host->free(data);
		return unreadable(r,
		    "localdisk: %s: block at %llu fails its checksum",
		    (unsigned long long)r->pos);
	}
	out->data = data;
	out->len = len;
	out->kind = get_le32(h + 12);
	out->subpartition = get_le32(h + 4);
	if ((rv = ld_block_inflate(r->host, out, true, &why)) != 0) {
		r->host->free(out->data);
		out->data = NULL;
		if (rv == SL_ENOMEM)
			return rv;
		r->host->set_error("localdisk: %s: %s at %llu", r->data_path,
		    why, (unsigned long long)r->pos);
		return SL_EUNREADABLE;
	}
	r->pos += LD_BLOCK_HEADER + (uint64_t)len;
	return 0;
}

int
ld_reader_seek(struct ld_reader *r, uint32_t run, uint64_t pos)
{
	if (r->nruns == 0 ? run != 0 || pos != 0
	                  : run >= r->nruns || pos > r->span[2 * run + 1]) {
		r->host->set_error("localdisk: %s: no position %llu in run %u",
		    r->data_path, (unsigned long long)pos, run);
		return SL_ERANGE;
	}
	r->run = run;
	r->pos = r->nruns ? r->span[2 * run] + pos : 0;
	r->end = r->nruns ? r->span[2 * run] + r->span[2 * run + 1] : 0;
	return 0;
}

bool
ld_reader_tell(struct ld_reader *r, uint32_t *run, uint64_t *pos)
{
	bool more = settle(r);

	*run = r->run;
	*pos = r->nruns ? r->pos - r->span[2 * r->run] : 0;
	return more;
}

int
ld_reader_raw(struct ld_reader *r, unsigned char *dst, size_t cap, size_t *got,
    size_t *need)
{
	*got = *need = 0;
	while (settle(r)) {
		uint64_t room = r->end - r->pos;
		size_t want = cap - *got < room ? cap - *got : (size_t)room;
		size_t off = 0;

		if (room < LD_BLOCK_HEADER)
			return unreadable(r,
			    "localdisk: %s: block at %llu is cut short",
			    (unsigned long long)r->pos);
		if (want < LD_BLOCK_HEADER)
			break; /* dst is full */
		if (pread(r->fd, dst + *got, want, (off_t)r->pos) !=
		    (ssize_t)want)
			return unreadable(r,
			    "localdisk: %s: extent at %llu is cut short",
			    (unsigned long long)r->pos);
		/* whole blocks only; the checksums are the reader's */
		while (want - off >= LD_BLOCK_HEADER) {
			const unsigned char *h = dst + *got + off;
			size_t len = get_le32(h + 8);

			if (header_bad(h, r->lo, r->hi, room - off) != NULL)
				return unreadable(r,
				    "localdisk: %s: damaged block header at "
				    "%llu",
				    (unsigned long long)(r->pos + off));
			if (LD_BLOCK_HEADER + len > want - off)
				break;
			off += LD_BLOCK_HEADER + len;
		}
		if (off == 0) {
			/* the next block alone is larger than what is left */
			if (*got == 0)
				*need =
				    LD_BLOCK_HEADER + (size_t)get_le32(dst + 8);
			break;
		}
		*got += off;
		r->pos += off;
		if (off < want)
			break;
	}
	return *got > 0 || *need > 0 ? 0 : SL_EEOF;
}

void
ld_reader_free(struct ld_reader *r)
{
	if (r == NULL)
		return;
	if (r->fd >= 0)
		close(r->fd);
	r->host->free(r->span);
	r->host->free(r->data_path);
	r->host->free(r);
}
