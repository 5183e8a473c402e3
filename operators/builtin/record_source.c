/*
 * record_source: fixed-size records from a file (TeraSort's 100-byte
 * records of `sluice gen-records`). Each record is key_bytes of key, then
 * the rest of its record_bytes as the value. Task i of p reads records
 * [floor(i*n/p), floor((i+1)*n/p)) of the file's n, so the tasks split it
 * evenly, on record boundaries, and together read every record once.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builtin.h"

#define MAX_RECORD (1u << 20)
#define MAX_SAMPLE 1000000u

struct record_source {
	const struct sl_host *host;
	char *path;
	uint32_t rec, key;
	uint64_t sample; /* keys to sample for range partitioning; 0: none */
	int fd;
	unsigned char *buf; /* BI_IO_CHUNK rounded down to whole records */
};

static const char *const known_keys[] = { "path", "record_bytes", "key_bytes",
	"sample", NULL };

static int
rs_open(void *state, const struct sl_task_ctx *ctx)
{
	struct record_source *s = state;
	struct bi_config cfg;
	uint64_t rec = 100, key = 10;
	int rv;

	s->host = ctx->host;
	s->fd = -1;
	if ((rv = bi_config_open(&cfg, ctx, "record_source", known_keys)) != 0)
		return rv;
	if ((rv = bi_config_string(&cfg, "path", true, &s->path)) != 0 ||
	    (rv = bi_config_u64(
	         &cfg, "record_bytes", false, 1, MAX_RECORD, &rec)) != 0 ||
	    (rv = bi_config_u64(&cfg, "key_bytes", false, 0, rec, &key)) != 0 ||
	    (rv = bi_config_u64(
	         &cfg, "sample", false, 0, MAX_SAMPLE, &s->sample)) != 0) {
		bi_config_close(&cfg);
		return rv;
	}
	bi_config_close(&cfg);
	s->rec = (uint32_t)rec;
	s->key = (uint32_t)key;
	if ((s->fd = open(s->path, O_RDONLY | O_CLOEXEC)) < 0) {
		int err = errno;

		ctx->host->set_error(
		    "record_source: %s: open: %s", s->path, strerror(err));
		return -err;
	}
	if ((s->buf = ctx->host->alloc(BI_IO_CHUNK + s->rec)) == NULL)
		return SL_ENOMEM;
	return 0;
}

/*
 * The same sample in every task: `sample` records evenly spaced over the
 * whole file (not only this task's share), whose keys tell a range
 * partitioning where to split (ctx->range_sample, on every output).
 */
static int
give_sample(struct record_source *s, const struct sl_task_ctx *ctx, uint64_t n)
{
	uint64_t k = s->sample < n ? s->sample : n;
	struct sl_record *v;
	unsigned char *keys;
	int rv = 0;

	if (k == 0)
		return 0;
	if (ctx->struct_size < offsetof(struct sl_task_ctx, range_sample) +
	        sizeof(ctx->range_sample)) {
		ctx->host->set_error("record_source: 'sample' needs a host "
		                     "of ABI 1.1 or later");
		return SL_ENOTSUP;
	}
	v = ctx->host->alloc(sizeof(*v) * k);
	keys = ctx->host->alloc((size_t)(k * s->key) + 1);
	if (v == NULL || keys == NULL) {
		ctx->host->free(v);
		ctx->host->free(keys);
		return SL_ENOMEM;
	}
	for (uint64_t j = 0; j < k && rv == 0; j++) {
		uint64_t r = bi_share(n, (uint32_t)j, (uint32_t)k);
		unsigned char *p = keys + j * s->key;

		if (pread(s->fd, p, s->key, (off_t)(r * s->rec)) !=
		    (ssize_t)s->key) {
			ctx->host->set_error("record_source: %s: sample: %s",
			    s->path, strerror(errno));
			rv = SL_EINVAL;
		}
		v[j] = (struct sl_record) { .key = p, .key_len = s->key };
	}
	for (uint32_t out = 0; rv == 0 && out < ctx->num_outputs; out++)
		rv = ctx->range_sample(ctx, out, v, (uint32_t)k);
	ctx->host->free(v);
	ctx->host->free(keys);
	return rv;
}

static int
rs_run(void *state, const struct sl_task_ctx *ctx)
{
	struct record_source *s = state;
	size_t per = BI_IO_CHUNK / s->rec ? BI_IO_CHUNK / s->rec : 1;
	struct stat st;
	uint64_t n, lo, hi;
	int rv;

	if (fstat(s->fd, &st) != 0) {
		ctx->host->set_error(
		    "record_source: %s: %s", s->path, strerror(errno));
		return SL_EINVAL;
	}
	if (!S_ISREG(st.st_mode)) {
		ctx->host->set_error(
		    "record_source: %s: not a regular file", s->path);
		return SL_EINVAL;
	}
	if ((uint64_t)st.st_size % s->rec != 0) {
		ctx->host->set_error("record_source: %s: %llu bytes is not a "
		                     "whole number of %u-byte records",
		    s->path, (unsigned long long)st.st_size, s->rec);
		return SL_EINVAL;
	}
	n = (uint64_t)st.st_size / s->rec;
	if ((rv = give_sample(s, ctx, n)) != 0)
		return rv;
	lo = bi_share(n, ctx->index, ctx->parallelism);
	hi = bi_share(n, ctx->index + 1, ctx->parallelism);
	for (uint64_t r = lo; r < hi;) {
		size_t k = hi - r < per ? (size_t)(hi - r) : per;
		size_t want = k * s->rec, got = 0;

		while (got < want) {
			ssize_t m = pread(s->fd, s->buf + got, want - got,
			    (off_t)(r * s->rec + got));

			if (m < 0 && errno == EINTR)
				continue;
			if (m <= 0) {
				ctx->host->set_error("record_source: %s: read: "
				                     "%s",
				    s->path,
				    m < 0 ? strerror(errno) : "file shrank");
				return SL_EINVAL;
			}
			got += (size_t)m;
		}
		for (size_t i = 0; i < k; i++) {
			const unsigned char *p = s->buf + i * s->rec;
			struct sl_record out = { .key = p,
				.key_len = s->key,
				.value = p + s->key,
				.value_len = s->rec - s->key };

			if ((rv = bi_emit(ctx, &out)) != 0)
				return rv;
		}
		r += k;
		if (ctx->cancelled(ctx))
			return SL_ECLOSED;
	}
	return 0;
}

static void
rs_close(void *state)
{
	struct record_source *s = state;

	if (s->fd >= 0)
		close(s->fd);
	if (s->host != NULL) {
		s->host->free(s->path);
		s->host->free(s->buf);
	}
}

static int
rs_input_bytes(
    const struct sl_host *host, const char *config_json, uint64_t *bytes)
{
	return bi_path_size(
	    host, config_json, "record_source", known_keys, bytes);
}

const struct sl_operator_ops bi_record_source_ops = {
	.struct_size = sizeof(struct sl_operator_ops),
	.name = "record_source",
	.state_size = sizeof(struct record_source),
	.caps = SL_OPERATOR_SOURCE,
	.open = rs_open,
	.run = rs_run,
	.close = rs_close,
	.input_bytes = rs_input_bytes,
};
