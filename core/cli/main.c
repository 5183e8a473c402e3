/* sluice: the one binary. Dispatches to a subcommand. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/sluice.h>

#include "cli.h"

static const char usage[] =
    "usage: sluice <command> [args]\n"
    "\n"
    "commands:\n"
    "  plan regions JOB.json        the pipelined regions of a job\n"
    "  plan failover JOB.json ...   which tasks restart when a task fails\n"
    "  plan parallelism ...         the adaptive parallelism for byte counts\n"
    "  plan schedule JOB.json ...   the order a scheduler deploys regions in\n"
    "  plan graph JOB.json          the tasks and regions as a Graphviz graph\n"
    "  run JOB.json                 run a job on a local cluster: a "
    "coordinator\n"
    "                               and worker processes on this machine\n"
    "  run --in-process JOB.json    run a job, its tasks threads of this "
    "process\n"
    "  coordinator --listen URL     run a standalone coordinator\n"
    "  worker --coordinator URL     run a worker for it\n"
    "  submit --coordinator URL JOB.json   submit a job to it\n"
    "  status --coordinator URL     its jobs and their states\n"
    "  shuffled --listen URL --data-dir DIR   run a remote shuffle "
    "service\n"
    "  gen-records --count N --output FILE   100-byte records for TeraSort\n"
    "  gen-words --words N --output FILE     Zipf-distributed words of text\n"
    "  log dump DIR [JOB]...        a state directory's operation logs\n"
    "  validate-sorted DIR [--input FILE]    check a sorted output\n"
    "  plugins [--check FILE.so]    the plugins found, or check one file\n"
    "  version                      print the version\n"
    "\n"
    "`sluice <command> --help` says more.\n";

static int
vsay(int code, const char *fmt, va_list ap)
{
	fputs("sluice: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	return code;
}

int
sli_cli_fail(const char *fmt, ...)
{
	va_list ap;
	int rv;

	va_start(ap, fmt);
	rv = vsay(1, fmt, ap);
	va_end(ap);
	return rv;
}

int
sli_cli_usage(const char *fmt, ...)
{
	va_list ap;
	int rv;

	va_start(ap, fmt);
	rv = vsay(2, fmt, ap);
	va_end(ap);
	return rv;
}

int
sli_cli_flush(void)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		return sli_cli_fail(
		    "cannot write the output: %s", strerror(errno));
	return 0;
}

bool
sli_parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return false;
	*out = (uint32_t)v;
	return true;
}

int
main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (cmd == NULL || strcmp(cmd, "help") == 0 ||
	    strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		fputs(usage, cmd == NULL ? stderr : stdout);
		return cmd == NULL ? 2 : sli_cli_flush();
	}
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("sluice %s (plugin ABI %d.%d)\n", SLUICE_VERSION,
		    SL_ABI_MAJOR, SL_ABI_MINOR);
		return sli_cli_flush();
	}
	if (strcmp(cmd, "plan") == 0)
		return sli_cmd_plan(argc - 1, argv + 1);
	if (strcmp(cmd, "run") == 0)
		return sli_cmd_run(argc - 1, argv + 1);
	if (strcmp(cmd, "plugins") == 0)
		return sli_cmd_plugins(argc - 1, argv + 1);
	if (strcmp(cmd, "coordinator") == 0)
		return sli_cmd_coordinator(argc - 1, argv + 1);
	if (strcmp(cmd, "worker") == 0)
		return sli_cmd_worker(argc - 1, argv + 1);
	if (strcmp(cmd, "submit") == 0)
		return sli_cmd_submit(argc - 1, argv + 1);
	if (strcmp(cmd, "status") == 0)
		return sli_cmd_status(argc - 1, argv + 1);
	if (strcmp(cmd, "gen-records") == 0)
		return sli_cmd_gen_records(argc - 1, argv + 1);
	if (strcmp(cmd, "gen-words") == 0)
		return sli_cmd_gen_words(argc - 1, argv + 1);
	if (strcmp(cmd, "log") == 0)
		return sli_cmd_log(argc - 1, argv + 1);
	if (strcmp(cmd, "shuffled") == 0)
		return sli_cmd_shuffled(argc - 1, argv + 1);
	if (strcmp(cmd, "validate-sorted") == 0)
		return sli_cmd_validate_sorted(argc - 1, argv + 1);
	fprintf(stderr, "sluice: unknown command '%s'\n\n%s", cmd, usage);
	return 2;
}
