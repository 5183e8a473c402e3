/* The operation log's file: framing, group commit, reading (oplog.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "common/error.h"
#include "oplog.h"

static void
put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint32_t
get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* Over the length's bytes and the payload: a garbled length fails too. */
static uint32_t
checksum(const unsigned char *lenbytes, const void *payload, size_t len)
{
	XXH3_state_t st;

	XXH3_64bits_reset(&st);
	XXH3_64bits_update(&st, lenbytes, 4);
	XXH3_64bits_update(&st, payload, len);
	return (uint32_t)XXH3_64bits_digest(&st);
}

static int
read_all(const char *path, unsigned char **out, size_t *lenp)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	unsigned char *b;
	size_t n = 0;

	if (fd < 0)
		return sli_err(SL_EIO, "%s: %s", path, strerror(errno));
	if (fstat(fd, &sb) != 0) {
		int err = errno;

		close(fd);
		return sli_err(SL_EIO, "%s: %s", path, strerror(err));
	}
	if ((b = malloc((size_t)sb.st_size + 1)) == NULL) {
		close(fd);
		return sli_err(SL_ENOMEM, "out of memory");
	}
	while (n < (size_t)sb.st_size) {
		ssize_t r = read(fd, b + n, (size_t)sb.st_size - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break; /* shrank under us: read what is there */
		n += (size_t)r;
	}
	close(fd);
	*out = b;
	*lenp = n;
	return 0;
}

int
sli_oplog_read_file(const char *path,
    int (*fn)(void *arg, const void *payload, size_t len, uint64_t offset),
    void *arg, struct sli_oplog_read *out)
{
	struct sli_oplog_read rd = { .end = SLI_OPLOG_CLEAN };
	unsigned char *b = NULL;
	size_t n = 0, at = 0;
	int rv;

	if ((rv = read_all(path, &b, &n)) != 0)
		return rv;
	rd.size = n;
	while (at < n) {
		uint32_t len, sum;

		if (n - at < SLI_OPLOG_HEADER) {
			rd.end = SLI_OPLOG_TORN;
			break;
		}
		len = get_u32(b + at);
		sum = get_u32(b + at + 4);
		if (len == 0 || len > SLI_OPLOG_MAX_RECORD) {
			rd.end = SLI_OPLOG_CORRUPT;
			break;
		}
		if (n - at - SLI_OPLOG_HEADER < len) {
			rd.end = SLI_OPLOG_TORN;
			break;
		}
		if (checksum(b + at, b + at + SLI_OPLOG_HEADER, len) != sum) {
			rd.end = SLI_OPLOG_CORRUPT;
			break;
		}
		if (fn != NULL &&
		    (rv = fn(arg, b + at + SLI_OPLOG_HEADER, len, at)) != 0)
			break;
		at += SLI_OPLOG_HEADER + len;
		rd.records++;
		rd.good = at;
	}
	free(b);
	if (out != NULL)
		*out = rd;
	return rv;
}

int
sli_oplog_open(const char *path, struct sli_oplog *log)
{
	struct sli_oplog_read rd = { .end = SLI_OPLOG_CLEAN };
	int fd, rv;

	memset(log, 0, sizeof(*log));
	log->fd = -1;
	if (access(path, F_OK) == 0 &&
	    (rv = sli_oplog_read_file(path, NULL, NULL, &rd)) != 0)
		return rv;
	if (rd.end == SLI_OPLOG_CORRUPT)
		return sli_err(SL_EPARSE,
		    "%s: record %llu (at byte %llu) is corrupt; appending "
		    "after it would hide what follows",
		    path, (unsigned long long)rd.records + 1,
		    (unsigned long long)rd.good);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return sli_err(SL_EIO, "%s: %s", path, strerror(errno));
	/* a torn tail: a crash while writing it; it never counted */
	if (rd.end == SLI_OPLOG_TORN &&
	    (ftruncate(fd, (off_t)rd.good) != 0 || fsync(fd) != 0)) {
		int err = errno;

		close(fd);
		return sli_err(
		    SL_EIO, "%s: cutting a torn tail: %s", path, strerror(err));
	}
	if ((log->path = strdup(path)) == NULL) {
		close(fd);
		return sli_err(SL_ENOMEM, "out of memory");
	}
	log->fd = fd;
	log->size = rd.good;
	return 0;
}

int
sli_oplog_append(struct sli_oplog *log, const void *payload, size_t len)
{
	size_t need = SLI_OPLOG_HEADER + len;

	if (len == 0 || len > SLI_OPLOG_MAX_RECORD)
		return sli_err(SL_ERANGE, "%s: a record of %zu bytes (1 .. %u)",
		    log->path, len, SLI_OPLOG_MAX_RECORD);
	if (log->len + need > log->cap) {
		size_t cap = log->cap ? log->cap : 4096;
		unsigned char *b;

		while (cap < log->len + need)
			cap *= 2;
		if ((b = realloc(log->buf, cap)) == NULL)
			return sli_err(SL_ENOMEM, "out of memory");
		log->buf = b;
		log->cap = cap;
	}
	put_u32(log->buf + log->len, (uint32_t)len);
	memcpy(log->buf + log->len + SLI_OPLOG_HEADER, payload, len);
	put_u32(log->buf + log->len + 4,
	    checksum(log->buf + log->len, payload, len));
	log->len += need;
	log->records++;
	return 0;
}

/*
 * For tests of recovery: SLUICE_FAULT_LOG_SYNC=N makes this process's Nth
 * sync write only part of its records, make that durable, and SIGKILL the
 * process, as a crash in the middle of a log write would. Never set in
 * production; read once.
 */
static void
fault_check(struct sli_oplog *log)
{
	static atomic_long left = -1;
	long n = atomic_load(&left);

	if (n == -1) {
		const char *s = getenv("SLUICE_FAULT_LOG_SYNC");

		n = s != NULL && atol(s) > 0 ? atol(s) : 0;
		atomic_store(&left, n);
	}
	if (n == 0 || atomic_fetch_sub(&left, 1) != 1)
		return;
	/* half of what is buffered: the record there cut in its middle */
	(void)!pwrite(log->fd, log->buf, log->len / 2 + 1, (off_t)log->size);
	(void)fdatasync(log->fd);
	raise(SIGKILL);
}

int
sli_oplog_sync(struct sli_oplog *log)
{
	size_t off = 0;

	if (log->len == 0)
		return 0;
	fault_check(log);
	while (off < log->len) {
		ssize_t w = pwrite(log->fd, log->buf + off, log->len - off,
		    (off_t)(log->size + off));

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int err = w < 0 ? errno : ENOSPC;

			/* no half record stays behind a good one */
			(void)ftruncate(log->fd, (off_t)log->size);
			return sli_err(
			    SL_EIO, "%s: write: %s", log->path, strerror(err));
		}
		off += (size_t)w;
	}
	if (fdatasync(log->fd) != 0) {
		int err = errno;

		(void)ftruncate(log->fd, (off_t)log->size);
		return sli_err(
		    SL_EIO, "%s: fdatasync: %s", log->path, strerror(err));
	}
	log->size += log->len;
	log->len = 0;
	log->syncs++;
	return 0;
}

int
sli_oplog_close(struct sli_oplog *log)
{
	int rv = 0;

	if (log->fd >= 0) {
		rv = sli_oplog_sync(log);
		close(log->fd);
	}
	free(log->buf);
	free(log->path);
	memset(log, 0, sizeof(*log));
	log->fd = -1;
	return rv;
}
