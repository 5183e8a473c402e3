/*
 * text_source: the lines of one text file, split among the source's tasks.
 *
 * Task i of p gets the byte range [floor(i*size/p), floor((i+1)*size/p))
 * and owns every line that starts in it: position s starts a line when s
 * is 0 or byte s-1 is '\n' (and s < size). So a task whose range begins
 * mid-line skips to the first '\n' at or after start-1, and reads past
 * its end to finish its last line. Every line of the file goes to exactly
 * one task, whatever p, without the tasks talking to each other.
 *
 * The size is taken when the task opens the file; bytes appended later
 * are not read, so every task splits the same size.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builtin.h"

/* Lines are record values, whose length is a u32. */
#define MAX_LINE ((uint64_t)UINT32_MAX)

struct text_source {
	const struct sl_host *host;
	char *path;
	int fd;
	bool has_fd;
	uint64_t size;  /* of the file, at open */
	uint64_t start; /* this task's range */
	uint64_t end;
	/* The buffer holds file bytes [base, base + hi); those before lo
	 * are consumed. */
	char *buf;
	size_t cap;
	size_t lo;
	size_t hi;
	uint64_t base;
	bool eof;
};

static const char *const known_keys[] = { "path", NULL };

static int
sys_error(struct text_source *s, const char *what, int err)
{
	s->host->set_error(
	    "text_source: %s: %s: %s", s->path, what, s->host->strerror(-err));
	return -err;
}

static int
ts_open(void *state, const struct sl_task_ctx *ctx)
{
	struct text_source *s = state;
	struct bi_config cfg;
	struct stat st;
	int rv;

	s->host = ctx->host;
	if ((rv = bi_config_open(&cfg, ctx, "text_source", known_keys)) != 0)
		return rv;
	rv = bi_config_string(&cfg, "path", true, &s->path);
	bi_config_close(&cfg);
	if (rv != 0)
		return rv;

	if ((s->fd = open(s->path, O_RDONLY | O_CLOEXEC)) < 0)
		return sys_error(s, "open", errno);
	s->has_fd = true;
	if (fstat(s->fd, &st) != 0)
		return sys_error(s, "stat", errno);
	if (!S_ISREG(st.st_mode)) {
		s->host->set_error(
		    "text_source: %s: not a regular file", s->path);
		return SL_EINVAL;
	}
	s->size = (uint64_t)st.st_size;
	s->start = bi_share(s->size, ctx->index, ctx->parallelism);
	s->end = bi_share(s->size, ctx->index + 1, ctx->parallelism);
	if (s->start < s->end)
		(void)posix_fadvise(
		    s->fd, (off_t)s->start, 0, POSIX_FADV_SEQUENTIAL);

	/* No more than the file needs: a job over many small files runs
	 * many tasks. */
	s->cap = s->size < BI_IO_CHUNK ? (size_t)s->size + 1 : BI_IO_CHUNK;
	if ((s->buf = s->host->alloc(s->cap)) == NULL) {
		s->host->set_error("text_source: out of memory");
		return SL_ENOMEM;
	}
	return 0;
}

/*
 * Read the next chunk after the buffered bytes, keeping the unconsumed
 * ones (moved to the front; the buffer doubles when they fill it: a line
 * longer than the buffer). Sets eof at the size taken at open.
 */
static int
refill(struct text_source *s, const struct sl_task_ctx *ctx)
{
	uint64_t off;
	size_t want;
	ssize_t n;

	if (ctx->cancelled(ctx))
		return SL_ECLOSED;
	if (s->lo > 0) {
		memmove(s->buf, s->buf + s->lo, s->hi - s->lo);
		s->base += s->lo;
		s->hi -= s->lo;
		s->lo = 0;
	}
	if (s->hi == s->cap) {
		char *nb;

		if ((uint64_t)s->cap > MAX_LINE) {
			s->host->set_error("text_source: %s: the line at byte "
			                   "%llu is longer than %llu bytes",
			    s->path, (unsigned long long)s->base,
			    (unsigned long long)MAX_LINE);
			return SL_ERANGE;
		}
		if ((nb = s->host->realloc(s->buf, s->cap * 2)) == NULL) {
			s->host->set_error("text_source: %s: out of memory "
			                   "for a line of over %zu bytes",
			    s->path, s->cap);
			return SL_ENOMEM;
		}
		s->buf = nb;
		s->cap *= 2;
	}
	off = s->base + s->hi;
	want = s->cap - s->hi;
	if ((uint64_t)want > s->size - off)
		want = (size_t)(s->size - off);
	if (want == 0) {
		s->eof = true;
		return 0;
	}
	do
		n = pread(s->fd, s->buf + s->hi, want, (off_t)off);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return sys_error(s, "read", errno);
	if (n == 0)
		s->eof = true; /* the file shrank */
	s->hi += (size_t)n;
	return 0;
}

static int
emit_line(struct text_source *s, const struct sl_task_ctx *ctx,
    const char *line, size_t len)
{
	struct sl_record rec = {
		.key = "",
		.key_len = 0,
		.value = line,
		.value_len = (uint32_t)len,
	};

	if ((uint64_t)len > MAX_LINE) {
		s->host->set_error("text_source: %s: the line at byte %llu is "
		                   "longer than %llu bytes",
		    s->path, (unsigned long long)(s->base + s->lo),
		    (unsigned long long)MAX_LINE);
		return SL_ERANGE;
	}
	return bi_emit(ctx, &rec);
}

/* Consume up to the first '\n' at or after start-1: the bytes before the
 * first line this task owns. */
static int
skip_partial_line(struct text_source *s, const struct sl_task_ctx *ctx)
{
	for (;;) {
		const char *nl = memchr(s->buf + s->lo, '\n', s->hi - s->lo);
		int rv;

		if (nl != NULL) {
			s->lo = (size_t)(nl - s->buf) + 1;
			return 0;
		}
		s->lo = s->hi;
		if (s->eof)
			return 0;
		if ((rv = refill(s, ctx)) != 0)
			return rv;
	}
}

static int
ts_run(void *state, const struct sl_task_ctx *ctx)
{
	struct text_source *s = state;
	/* Bytes of the current line before scan hold no '\n': a long line
	 * is not searched again after each refill. */
	size_t scan;
	int rv;

	if (s->start >= s->end)
		return 0;
	s->base = s->start > 0 ? s->start - 1 : 0;
	s->lo = s->hi = 0;
	s->eof = false;
	if (s->start > 0 && (rv = skip_partial_line(s, ctx)) != 0)
		return rv;
	scan = s->lo;
	/* Every line that starts before end is ours. */
	while (s->base + s->lo < s->end) {
		const char *nl = memchr(s->buf + scan, '\n', s->hi - scan);

		if (nl != NULL) {
			size_t len = (size_t)(nl - (s->buf + s->lo));
			if ((rv = emit_line(s, ctx, s->buf + s->lo, len)) != 0)
				return rv;
			s->lo += len + 1;
			scan = s->lo;
			continue;
		}
		if (s->eof) {
			/* A last line without '\n' (none if lo == hi: a
			 * line cannot start at the end of the file). */
			if (s->lo < s->hi)
				return emit_line(
				    s, ctx, s->buf + s->lo, s->hi - s->lo);
			return 0;
		}
		scan = s->hi - s->lo; /* refill moves the line to the front */
		if ((rv = refill(s, ctx)) != 0)
			return rv;
	}
	return 0;
}

static void
ts_close(void *state)
{
	struct text_source *s = state;

	if (s->host == NULL)
		return;
	if (s->has_fd)
		(void)close(s->fd);
	s->host->free(s->buf);
	s->host->free(s->path);
}

static int
ts_input_bytes(
    const struct sl_host *host, const char *config_json, uint64_t *bytes)
{
	return bi_path_size(
	    host, config_json, "text_source", known_keys, bytes);
}

const struct sl_operator_ops bi_text_source_ops = {
	.struct_size = sizeof(struct sl_operator_ops),
	.name = "text_source",
	.state_size = sizeof(struct text_source),
	.caps = SL_OPERATOR_SOURCE,
	.open = ts_open,
	.run = ts_run,
	.close = ts_close,
	.input_bytes = ts_input_bytes,
};
