/* Running the real sluice binary from a test and capturing what it says. */
#ifndef SL_RUN_CMD_H
#define SL_RUN_CMD_H

#include <stddef.h>

struct run_result {
	int status; /* exit code, or 128 + signal */
	char *out;  /* all of stdout, NUL-terminated */
	char *err;  /* all of stderr */
};

/* Run argv (argv[0] a path) with stdout and stderr captured. Returns 0 when
 * it ran (whatever its exit code), -1 when it could not be started. */
int run_cmd(char *const argv[], struct run_result *res);
void run_result_free(struct run_result *res);

/* $SL_BINARY_DIR/bin/sluice, or "build/bin/sluice". */
const char *sluice_path(void);
/* $SL_SOURCE_DIR joined with rel, in a static buffer per call slot. */
const char *source_path(const char *rel);

#endif
