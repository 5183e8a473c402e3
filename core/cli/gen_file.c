/*
 * The generators' output file (gen_file.h). Every failure says
 * "CMD: PATH: reason", PATH the temporary file except for the rename, and
 * leaves no temporary file behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "gen_file.h"

#define PROGRESS_MIN 10000000 /* units of output before it is worth a line */

/* Remove the temporary file, then say err (an errno) about path. */
static int
fail(struct sli_gen_file *f, const char *path, int err)
{
	sli_gen_file_abort(f);
	return sli_cli_fail("%s: %s: %s", f->cmd, path, strerror(err));
}

int
sli_gen_file_open(struct sli_gen_file *f, const char *cmd, const char *path)
{
	f->cmd = cmd;
	f->path = path;
	f->tty = isatty(STDERR_FILENO);
	f->progress = false;
	f->last = 0;
	snprintf(f->tmp, sizeof(f->tmp), "%s.tmp", path);
	f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (f->fd < 0)
		return sli_cli_fail("%s: %s: %s", cmd, f->tmp, strerror(errno));
	return 0;
}

int
sli_gen_file_write(struct sli_gen_file *f, const void *buf, size_t n)
{
	const char *p = buf;

	for (size_t off = 0; off < n;) {
		ssize_t w = write(f->fd, p + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		/* a write of nothing would loop forever: a full disk */
		if (w <= 0)
			return fail(f, f->tmp, w < 0 ? errno : ENOSPC);
		off += (size_t)w;
	}
	return 0;
}

void
sli_gen_file_progress(
    struct sli_gen_file *f, uint64_t done, uint64_t total, const char *unit)
{
	struct timespec ts;
	double t;

	if (total < PROGRESS_MIN)
		return;
	f->progress = true;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	if (t - f->last < (f->tty ? 0.25 : 2.0))
		return;
	fprintf(stderr, "%s%" PRIu64 " of %" PRIu64 " %s%s", f->tty ? "\r" : "",
	    done, total, unit, f->tty ? "\033[K" : "\n");
	f->last = t;
}

int
sli_gen_file_commit(struct sli_gen_file *f)
{
	int fd = f->fd;

	if (f->tty && f->progress)
		fputs("\r\033[K", stderr);
	if (fsync(fd) != 0)
		return fail(f, f->tmp, errno);
	f->fd = -1;
	if (close(fd) != 0)
		return fail(f, f->tmp, errno);
	if (rename(f->tmp, f->path) != 0)
		return fail(f, f->path, errno);
	return 0;
}

void
sli_gen_file_abort(struct sli_gen_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	unlink(f->tmp);
}

bool
sli_gen_parse_count(const char *s, uint64_t *out)
{
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0';
}

uint64_t
sli_gen_splitmix(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}
