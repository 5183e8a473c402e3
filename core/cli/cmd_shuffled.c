/*
 * sluice shuffled ARGS...: a remote shuffle service's daemon. It is a
 * program of its own (shuffle-plugins/remote/service: it links none of
 * the core), installed beside this binary; this runs it with the same
 * arguments, in this process's place.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define DAEMON "sluice-shuffled"

int
sli_cmd_shuffled(int argc, char **argv)
{
	char exe[PATH_MAX], path[PATH_MAX + sizeof(DAEMON)], *slash;
	char **args;
	ssize_t n;

	/* argv[0] may be a name found on PATH: /proc knows the file */
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) < 0)
		return sli_cli_fail("shuffled: cannot find this program "
		                    "(/proc/self/exe): %s",
		    strerror(errno));
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) == NULL)
		return sli_cli_fail(
		    "shuffled: /proc/self/exe: not a path: %s", exe);
	*slash = '\0';
	snprintf(path, sizeof(path), "%s/" DAEMON, exe);
	if (access(path, X_OK) != 0)
		return sli_cli_fail("shuffled: %s: %s (the daemon is installed "
		                    "beside sluice)",
		    path, strerror(errno));
	/* argv[0] was "shuffled"; the rest, and argv's NULL, as they are */
	if ((args = calloc((size_t)argc + 1, sizeof(*args))) == NULL)
		return sli_cli_fail("out of memory");
	args[0] = path;
	for (int i = 1; i < argc; i++)
		args[i] = argv[i];
	execv(path, args);
	free(args);
	return sli_cli_fail(
	    "shuffled: cannot run %s: %s", path, strerror(errno));
}
