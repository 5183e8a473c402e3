/*
 * sluice log dump DIR [JOB]...: the operation logs of a coordinator's state
 * directory (DESIGN §7, core/oplog) as JSON lines, one record a line, each
 * with its job and its byte offset, for debugging and research.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "common/error.h"
#include "oplog/oplog.h"
#include "oplog/oplog_events.h"

static const char usage[] =
    "usage: sluice log dump DIR [JOB]...\n"
    "\n"
    "Prints the operation log of every job in the state directory DIR (or\n"
    "of the jobs named) as JSON lines: {\"job\", \"offset\", \"t\", \"ms\",\n"
    "...}, one record a line, in order. A log that ends in a torn record\n"
    "(a crash while writing) or a corrupt one is said so on stderr, after\n"
    "its good records; the exit status is then 1.\n";

struct dump {
	const char *job;
	bool bad; /* a record that is not msgpack */
};

static int
print_record(void *arg, const void *payload, size_t len, uint64_t offset)
{
	struct dump *d = arg;
	json_t *r = sli_oplog_record_json(payload, len), *line;
	char *s;

	if (r == NULL || !json_is_object(r)) {
		json_decref(r);
		d->bad = true;
		return 0;
	}
	/* the job and the offset first, then the record as it is */
	line =
	    json_pack("{s:s,s:I}", "job", d->job, "offset", (json_int_t)offset);
	if (line != NULL && json_object_update(line, r) == 0 &&
	    (s = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER)) !=
	        NULL) {
		puts(s);
		free(s);
	}
	json_decref(line);
	json_decref(r);
	return 0;
}

/* One log; 0, or 1 when it was not whole and right. */
static int
dump_one(const char *dir, const char *job)
{
	char path[4096];
	struct dump d = { .job = job };
	struct sli_oplog_read rd;

	snprintf(path, sizeof(path), "%s/%s.log", dir, job);
	if (sli_oplog_read_file(path, print_record, &d, &rd) != 0)
		return sli_cli_fail("log dump: %s", sl_errdetail());
	if (rd.end == SLI_OPLOG_TORN)
		return sli_cli_fail("log dump: %s: ends in a torn record at "
		                    "byte %llu (of %llu): a crash while it was "
		                    "written; the %llu records before are good",
		    path, (unsigned long long)rd.good,
		    (unsigned long long)rd.size,
		    (unsigned long long)rd.records);
	if (rd.end == SLI_OPLOG_CORRUPT)
		return sli_cli_fail("log dump: %s: record %llu at byte %llu is "
		                    "corrupt; the %llu records before are good",
		    path, (unsigned long long)rd.records + 1,
		    (unsigned long long)rd.good,
		    (unsigned long long)rd.records);
	if (d.bad)
		return sli_cli_fail(
		    "log dump: %s: a record is not msgpack", path);
	return 0;
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
sli_cmd_log(int argc, char **argv)
{
	const char *dir;
	int rv = 0;

	if ((argc >= 2 && strcmp(argv[1], "--help") == 0) ||
	    (argc >= 3 && strcmp(argv[2], "--help") == 0)) {
		fputs(usage, stdout);
		return sli_cli_flush();
	}
	if (argc < 3 || strcmp(argv[1], "dump") != 0)
		return sli_cli_usage("log: %s\n\n%s",
		    argc < 2 ? "what? (dump)" : "expected dump DIR", usage);
	dir = argv[2];
	if (argc > 3) {
		for (int i = 3; i < argc; i++)
			rv |= dump_one(dir, argv[i]);
	} else {
		DIR *d = opendir(dir);
		struct dirent *e;
		char **names = NULL;
		size_t n = 0;

		if (d == NULL)
			return sli_cli_fail("log dump: %s: %m", dir);
		while ((e = readdir(d)) != NULL) {
			size_t len = strlen(e->d_name);
			char **more;

			if (len <= 4 ||
			    strcmp(e->d_name + len - 4, ".log") != 0)
				continue;
			if ((more = realloc(names, (n + 1) * sizeof(*names))) ==
			        NULL ||
			    (more[n] = strndup(e->d_name, len - 4)) == NULL) {
				names = more != NULL ? more : names;
				rv = sli_cli_fail("out of memory");
				break;
			}
			names = more;
			n++;
		}
		closedir(d);
		qsort(names, n, sizeof(*names), cmp);
		for (size_t i = 0; i < n; i++) {
			if (rv == 0 || rv == 1)
				rv |= dump_one(dir, names[i]);
			free(names[i]);
		}
		free(names);
	}
	if (rv == 0)
		rv = sli_cli_flush();
	return rv;
}
