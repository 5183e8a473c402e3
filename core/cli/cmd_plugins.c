/* sluice plugins: what plugins this binary finds, or check one file. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "plugin/loader.h"

static const char plugins_usage[] =
    "usage:\n"
    "  sluice plugins [--plugin-dir DIR]...   list the plugins found\n"
    "  sluice plugins --check FILE.so         check one plugin file\n"
    "\n"
    "Plugins are searched in the bundled directory, then SLUICE_PLUGIN_PATH\n"
    "(colon-separated), then each --plugin-dir. A refused file is reported\n"
    "with the reason and skipped.\n";

static int
check(const char *path)
{
	struct sli_plugin *p;

	if (sli_plugin_open(path, &p) != 0)
		return sli_cli_fail("%s", sl_errdetail());
	printf("ok: %s: %s plugin '%s' version %s, ABI %u.%u\n", path,
	    sli_plugin_kind_name(p->desc.kind), p->name, p->version,
	    p->desc.abi_major, p->desc.abi_minor);
	sli_plugin_unref(p);
	return sli_cli_flush();
}

int
sli_cmd_plugins(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "plugin-dir", required_argument, NULL, 'd' },
		{ "check", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sli_plugin_set set = { 0 };
	const char **dirs = calloc(argc + 1, sizeof(*dirs));
	const char *check_path = NULL;
	int ndirs = 0, c, rv;

	if (dirs == NULL)
		return sli_cli_fail("out of memory");
	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dirs[ndirs++] = optarg;
			break;
		case 'c':
			check_path = optarg;
			break;
		case 'h':
			fputs(plugins_usage, stdout);
			free(dirs);
			return sli_cli_flush();
		default:
			free(dirs);
			return 2;
		}
	}
	if (optind < argc) {
		free(dirs);
		return sli_cli_usage("plugins: unexpected '%s'\n\n%s",
		    argv[optind], plugins_usage);
	}
	if (check_path != NULL) {
		free(dirs);
		if (ndirs > 0)
			return sli_cli_usage("plugins: --check takes one file; "
			                     "--plugin-dir does not apply");
		return check(check_path);
	}
	if (sli_plugin_set_load_default(&set, dirs, ndirs) < 0) {
		rv = sli_cli_fail("%s", sl_errdetail());
		goto out;
	}
	printf("%-16s %-10s %-10s %s\n", "NAME", "KIND", "VERSION", "PATH");
	for (size_t i = 0; i < set.n; i++) {
		const struct sli_plugin *p = set.v[i];
		printf("%-16s %-10s %-10s %s\n", p->name,
		    sli_plugin_kind_name(p->desc.kind), p->version, p->path);
	}
	if (set.n == 0)
		fprintf(stderr, "sluice: no plugins found\n");
	rv = sli_cli_flush();
out:
	sli_plugin_set_clear(&set);
	free(dirs);
	return rv;
}
