#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run_cmd.h"

extern char **environ;

static char *
slurp(int fd)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	ssize_t n;

	lseek(fd, 0, SEEK_SET);
	while (buf != NULL && (n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len < 2) {
			char *p = realloc(buf, cap * 2);
			if (p == NULL) {
				free(buf);
				return NULL;
			}
			buf = p;
			cap *= 2;
		}
	}
	if (buf != NULL)
		buf[len] = '\0';
	return buf;
}

int
run_cmd(char *const argv[], struct run_result *res)
{
	char out_path[] = "/tmp/sluice-test-out-XXXXXX";
	char err_path[] = "/tmp/sluice-test-err-XXXXXX";
	int out_fd = mkstemp(out_path), err_fd = mkstemp(err_path), status;
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rv = -1;

	memset(res, 0, sizeof(*res));
	if (out_fd < 0 || err_fd < 0)
		goto out;
	unlink(out_path);
	unlink(err_path);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) == 0 &&
	    waitpid(pid, &status, 0) == pid) {
		res->status = WIFEXITED(status) ? WEXITSTATUS(status)
		                                : 128 + WTERMSIG(status);
		res->out = slurp(out_fd);
		res->err = slurp(err_fd);
		rv = res->out && res->err ? 0 : -1;
	}
	posix_spawn_file_actions_destroy(&fa);
out:
	if (out_fd >= 0)
		close(out_fd);
	if (err_fd >= 0)
		close(err_fd);
	return rv;
}

void
run_result_free(struct run_result *res)
{
	free(res->out);
	free(res->err);
	memset(res, 0, sizeof(*res));
}

const char *
sluice_path(void)
{
	static char path[4096];
	const char *b = getenv("SL_BINARY_DIR");

	snprintf(path, sizeof(path), "%s/bin/sluice", b ? b : "build");
	return path;
}

const char *
source_path(const char *rel)
{
	static char paths[8][4096];
	static int slot;
	const char *s = getenv("SL_SOURCE_DIR");
	char *p = paths[slot++ % 8];

	snprintf(p, 4096, "%s/%s", s ? s : ".", rel);
	return p;
}
