/*
 * file_sink: one part file per task, visible only once the task succeeded.
 *
 * Task i, attempt a writes DIR/.part-IIIII.attempt-A.tmp; commit flushes,
 * fsyncs the file, renames it to DIR/part-IIIII and fsyncs DIR, so that
 * after a crash the directory holds either the whole part or none of it.
 * abort (and close, when neither came) unlinks the temporary file: an
 * attempt that failed leaves nothing, and another attempt of the same task
 * never shares its file; the attempt that commits removes the temporary
 * files of earlier ones killed with their worker. Readers of DIR skip
 * names that start with '.'.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builtin.h"

enum { FMT_TSV, FMT_LINES, FMT_RECORDS, FMT_RAW };

struct file_sink {
	const struct sl_host *host;
	char *dir;
	char *tmp_path;
	char *part_path;
	int format;
	int fd;
	bool has_fd;
	bool tmp_exists; /* created, neither renamed nor unlinked yet */
	char *buf;
	size_t len;
};

static const char *const known_keys[] = { "path", "format", NULL };
static const char *const formats[] = { "tsv", "lines", "records", "raw", NULL };

static int
sys_error(struct file_sink *s, const char *file, const char *what, int err)
{
	s->host->set_error(
	    "file_sink: %s: %s: %s", file, what, s->host->strerror(-err));
	return -err;
}

static bool
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* mkdir -p: every missing component of dir, made by whichever task gets
 * there first. */
static int
make_dirs(struct file_sink *s)
{
	char *p = s->dir;

	if (is_dir(s->dir))
		return 0;
	for (;;) {
		char *slash = strchr(p + 1, '/');

		if (slash != NULL)
			*slash = '\0';
		if (mkdir(s->dir, 0777) != 0) {
			int err = errno == EEXIST ? ENOTDIR : errno;
			if (!is_dir(s->dir)) {
				/* name the component that failed */
				int rv = sys_error(s, s->dir, "mkdir", err);
				if (slash != NULL)
					*slash = '/';
				return rv;
			}
		}
		if (slash == NULL)
			return 0;
		*slash = '/';
		p = slash;
	}
}

/* DIR/name, from host->alloc. */
static char *
join(const struct sl_host *host, const char *dir, const char *name)
{
	size_t d = strlen(dir);
	size_t n = strlen(name);
	char *p = host->alloc(d + n + 2);

	if (p != NULL) {
		memcpy(p, dir, d);
		p[d] = '/';
		memcpy(p + d + 1, name, n + 1);
	}
	return p;
}

static int
fs_open(void *state, const struct sl_task_ctx *ctx)
{
	struct file_sink *s = state;
	struct bi_config cfg;
	char name[64];
	int rv;

	s->host = ctx->host;
	if ((rv = bi_config_open(&cfg, ctx, "file_sink", known_keys)) != 0)
		return rv;
	s->format = FMT_TSV;
	if ((rv = bi_config_string(&cfg, "path", true, &s->dir)) == 0)
		rv = bi_config_choice(
		    &cfg, "format", false, formats, &s->format);
	bi_config_close(&cfg);
	if (rv != 0)
		return rv;

	snprintf(name, sizeof(name), ".part-%05u.attempt-%u.tmp", ctx->index,
	    ctx->attempt);
	s->tmp_path = join(s->host, s->dir, name);
	snprintf(name, sizeof(name), "part-%05u", ctx->index);
	s->part_path = join(s->host, s->dir, name);
	s->buf = s->host->alloc(BI_IO_CHUNK);
	if (s->tmp_path == NULL || s->part_path == NULL || s->buf == NULL) {
		s->host->set_error("file_sink: out of memory");
		return SL_ENOMEM;
	}
	if ((rv = make_dirs(s)) != 0)
		return rv;
	s->fd =
	    open(s->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (s->fd < 0)
		return sys_error(s, s->tmp_path, "open", errno);
	s->has_fd = true;
	s->tmp_exists = true;
	return 0;
}

static int
write_all(struct file_sink *s, const void *data, size_t n)
{
	const char *p = data;

	while (n > 0) {
		ssize_t w = write(s->fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return sys_error(s, s->tmp_path, "write", errno);
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
flush(struct file_sink *s)
{
	int rv = write_all(s, s->buf, s->len);

	s->len = 0;
	return rv;
}

static int
put(struct file_sink *s, const void *data, size_t n)
{
	int rv;

	if (n > BI_IO_CHUNK - s->len && (rv = flush(s)) != 0)
		return rv;
	if (n >= BI_IO_CHUNK)
		return write_all(s, data, n);
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	return 0;
}

/* "\t" DECIMAL "\n" into out (room for 22 bytes); returns the length. */
static size_t
tsv_tail(char *out, uint64_t v)
{
	char digits[20];
	size_t n = 0;
	size_t len = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	out[len++] = '\t';
	while (n > 0)
		out[len++] = digits[--n];
	out[len++] = '\n';
	return len;
}

static int
fs_process(void *state, const struct sl_task_ctx *ctx, uint32_t in,
    const struct sl_record *rec)
{
	struct file_sink *s = state;
	char head[22];
	int rv;

	(void)ctx;
	(void)in;
	switch (s->format) {
	case FMT_TSV:
		if (rec->value_len != 8) {
			s->host->set_error("file_sink: format \"tsv\": a "
			                   "value of %u bytes, not a u64 LE "
			                   "(8 bytes)",
			    rec->value_len);
			return SL_EINVAL;
		}
		if ((rv = put(s, rec->key, rec->key_len)) != 0)
			return rv;
		return put(s, head, tsv_tail(head, bi_load_le64(rec->value)));
	case FMT_LINES:
		if ((rv = put(s, rec->value, rec->value_len)) != 0)
			return rv;
		return put(s, "\n", 1);
	case FMT_RAW:
		if ((rv = put(s, rec->key, rec->key_len)) != 0)
			return rv;
		return put(s, rec->value, rec->value_len);
	default: {
		uint64_t len = 4 + (uint64_t)rec->key_len + rec->value_len;

		if (len > UINT32_MAX) {
			s->host->set_error("file_sink: format \"records\": a "
			                   "record of %llu bytes does not fit "
			                   "a u32 length",
			    (unsigned long long)len);
			return SL_ERANGE;
		}
		bi_store_le32(head, (uint32_t)len);
		bi_store_le32(head + 4, rec->key_len);
		if ((rv = put(s, head, 8)) != 0 ||
		    (rv = put(s, rec->key, rec->key_len)) != 0)
			return rv;
		return put(s, rec->value, rec->value_len);
	}
	}
}

static int
fs_finish(void *state, const struct sl_task_ctx *ctx)
{
	(void)ctx;
	return flush(state);
}

static int
sync_dir(struct file_sink *s)
{
	int fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rv = 0;

	if (fd < 0)
		return sys_error(s, s->dir, "open", errno);
	if (fsync(fd) != 0)
		rv = sys_error(s, s->dir, "fsync", errno);
	(void)close(fd);
	return rv;
}

static int
fs_commit(void *state, const struct sl_task_ctx *ctx)
{
	struct file_sink *s = state;
	int rv;

	if ((rv = flush(s)) != 0)
		return rv;
	if (fsync(s->fd) != 0)
		return sys_error(s, s->tmp_path, "fsync", errno);
	s->has_fd = false;
	/* close reports write-back errors on some file systems (NFS). */
	if (close(s->fd) != 0)
		return sys_error(s, s->tmp_path, "close", errno);
	if (rename(s->tmp_path, s->part_path) != 0)
		return sys_error(s, s->part_path, "rename", errno);
	s->tmp_exists = false;
	/* an earlier attempt killed with its worker could not unlink its
	 * temporary file: the attempt that made the part does */
	for (uint32_t a = 0; a < ctx->attempt; a++) {
		char name[64], *path;

		snprintf(name, sizeof(name), ".part-%05u.attempt-%u.tmp",
		    ctx->index, a);
		if ((path = join(s->host, s->dir, name)) != NULL) {
			(void)unlink(path);
			s->host->free(path);
		}
	}
	return sync_dir(s);
}

static void
fs_abort(void *state, const struct sl_task_ctx *ctx)
{
	struct file_sink *s = state;

	(void)ctx;
	if (s->has_fd) {
		(void)close(s->fd);
		s->has_fd = false;
	}
	if (s->tmp_exists) {
		(void)unlink(s->tmp_path);
		s->tmp_exists = false;
	}
}

static void
fs_close(void *state)
{
	struct file_sink *s = state;

	if (s->host == NULL)
		return;
	fs_abort(s, NULL); /* a task that neither committed nor aborted */
	s->host->free(s->buf);
	s->host->free(s->tmp_path);
	s->host->free(s->part_path);
	s->host->free(s->dir);
}

const struct sl_operator_ops bi_file_sink_ops = {
	.struct_size = sizeof(struct sl_operator_ops),
	.name = "file_sink",
	.state_size = sizeof(struct file_sink),
	.caps = SL_OPERATOR_SINK,
	.open = fs_open,
	.process = fs_process,
	.finish = fs_finish,
	.commit = fs_commit,
	.abort = fs_abort,
	.close = fs_close,
};
