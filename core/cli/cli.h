/* The sluice command line: one binary, one function per subcommand. */
#ifndef SLI_CLI_H
#define SLI_CLI_H

#include <stdbool.h>
#include <stdint.h>

/* Each returns the process exit code: 0 ok, 1 failure, 2 usage error. */
int sli_cmd_plan(int argc, char **argv);
int sli_cmd_plugins(int argc, char **argv);
int sli_cmd_run(int argc, char **argv);
int sli_cmd_coordinator(int argc, char **argv);
int sli_cmd_worker(int argc, char **argv);
int sli_cmd_submit(int argc, char **argv);
int sli_cmd_status(int argc, char **argv);
int sli_cmd_gen_records(int argc, char **argv);
int sli_cmd_validate_sorted(int argc, char **argv);
int sli_cmd_gen_words(int argc, char **argv);
int sli_cmd_log(int argc, char **argv);
int sli_cmd_shuffled(int argc, char **argv);

/* "sluice: <msg>" on stderr; returns 1 (or 2 for usage) so callers can
 * `return cli_fail(...)`. */
int sli_cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int sli_cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Flush stdout: 0, or 1 after saying why it could not be written (a full
 * disk, a closed pipe). Every command ends its output with it. */
int sli_cli_flush(void);

/* Parse an unsigned integer in [lo, hi]. (Byte counts: common/units.h.) */
bool sli_parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out);

#endif
