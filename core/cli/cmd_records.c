/*
 * TeraSort's records (issue 4): sluice gen-records writes them, sluice
 * validate-sorted checks a sorted output. A record is 100 bytes: a 10-byte
 * key, then 90 bytes of value. Keys compare as unsigned bytes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "cli.h"
#include "gen_file.h"

#define REC 100
#define KEY 10
#define CHUNK (REC * 10486) /* about 1 MiB of whole records */

static const char gen_usage[] =
    "usage: sluice gen-records --count N --output FILE [--ascii] [--seed S]\n"
    "\n"
    "Writes N records of 100 bytes, a 10-byte key then 90 bytes of value,\n"
    "from a generator of our own: the same N and seed give the same file.\n"
    "Keys are random bytes, or with --ascii printable characters '!'..'~';\n"
    "with --ascii every record is a line (its last byte a newline), so\n"
    "line tools (LC_ALL=C sort) sort the same file by key.\n";

static const char validate_usage[] =
    "usage: sluice validate-sorted DIR [--input FILE]\n"
    "\n"
    "Reads DIR/part-* in name order as 100-byte records and checks that\n"
    "their keys never go down. Prints the count and a checksum that does not\n"
    "depend on the order; with --input, checks that the output is a\n"
    "permutation of FILE (same count and checksum). Exit 0 when it holds.\n";

/* Record r of a file made with seed: depends on (seed, r) only. */
static void
make_record(unsigned char *p, uint64_t seed, uint64_t r, bool ascii)
{
	uint64_t s = seed ^ (r * UINT64_C(0xd6e8feb86659fd93));
	char num[32];

	for (int i = 0; i < KEY; i += 8) {
		uint64_t v = sli_gen_splitmix(&s);

		for (int k = 0; k < 8 && i + k < KEY; k++, v >>= 8)
			p[i + k] = ascii
			    ? (unsigned char)('!' + (v & 0xff) % 94)
			    : (unsigned char)v;
	}
	/* the value: the record's number, then a filler that moves with it */
	snprintf(num, sizeof(num), "%020" PRIu64, r);
	memcpy(p + KEY, num, 20);
	for (int i = KEY + 20; i < REC; i++)
		p[i] = (unsigned char)('A' + (r + (uint64_t)i) % 26);
	if (ascii)
		p[REC - 1] = '\n';
}

int
sli_cmd_gen_records(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "ascii", no_argument, NULL, 'a' },
		{ "seed", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t count = 0, seed = 0;
	const char *out = NULL;
	bool ascii = false, have_count = false;
	unsigned char *buf;
	struct sli_gen_file f;
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (!sli_gen_parse_count(optarg, &count) ||
			    count > (UINT64_MAX / REC))
				return sli_cli_usage("gen-records: --count: a "
				                     "number, not '%s'",
				    optarg);
			have_count = true;
			break;
		case 'o':
			out = optarg;
			break;
		case 'a':
			ascii = true;
			break;
		case 's':
			if (!sli_gen_parse_count(optarg, &seed))
				return sli_cli_usage(
				    "gen-records: --seed: '%s'", optarg);
			break;
		case 'h':
			fputs(gen_usage, stdout);
			return sli_cli_flush();
		default:
			return 2;
		}
	}
	if (!have_count || out == NULL || optind < argc)
		return sli_cli_usage("gen-records: %s\n\n%s",
		    !have_count       ? "--count N is required"
		        : out == NULL ? "--output FILE is required"
		                      : "unexpected arguments",
		    gen_usage);
	if (sli_gen_file_open(&f, "gen-records", out) != 0)
		return 1;
	if ((buf = malloc(CHUNK)) == NULL) {
		sli_gen_file_abort(&f);
		return sli_cli_fail("out of memory");
	}
	for (uint64_t r = 0; r < count;) {
		size_t n = 0;

		for (; n + REC <= CHUNK && r < count; n += REC, r++)
			make_record(buf + n, seed, r, ascii);
		if (sli_gen_file_write(&f, buf, n) != 0) {
			free(buf);
			return 1;
		}
		sli_gen_file_progress(&f, r, count, "records");
	}
	free(buf);
	if (sli_gen_file_commit(&f) != 0)
		return 1;
	printf("%" PRIu64 " records (%" PRIu64 " bytes) in %s\n", count,
	    count * REC, out);
	return sli_cli_flush();
}

/* What a set of records adds up to, whatever their order. */
struct tally {
	uint64_t count;
	uint64_t sum; /* of XXH3-64 of each record, mod 2^64 */
};

/* Read path as records into t; with prev (KEY bytes, *have), also check the
 * keys never go down. 0, 1 when not sorted (said), or 1 after an error. */
static int
scan(const char *path, struct tally *t, unsigned char *prev, bool *have,
    const char *name)
{
	unsigned char *buf = malloc(CHUNK);
	uint64_t at = 0;
	ssize_t n;
	int fd, rv = 0;

	if (buf == NULL)
		return sli_cli_fail("out of memory");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		free(buf);
		return sli_cli_fail("%s: %s", path, strerror(errno));
	}
	for (;;) {
		size_t got = 0;

		/* whole records only: fill the chunk or reach the end */
		while (got < CHUNK &&
		    (n = read(fd, buf + got, CHUNK - got)) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				rv = sli_cli_fail(
				    "%s: %s", path, strerror(errno));
				goto out;
			}
			got += (size_t)n;
		}
		if (got % REC != 0) {
			rv = sli_cli_fail("%s: %" PRIu64 " bytes is not a "
			                  "whole number of %d-byte records",
			    path, at * REC + got, REC);
			goto out;
		}
		for (size_t off = 0; off < got; off += REC, at++) {
			const unsigned char *r = buf + off;

			t->count++;
			t->sum += XXH3_64bits(r, REC);
			if (prev == NULL)
				continue;
			if (*have && memcmp(prev, r, KEY) > 0) {
				printf("NOT SORTED: %s record %" PRIu64
				       " (byte %" PRIu64 ") has a key below "
				       "the record before it\n",
				    name, at, at * REC);
				rv = 1;
				goto out;
			}
			memcpy(prev, r, KEY);
			*have = true;
		}
		if (got < CHUNK)
			break;
	}
out:
	close(fd);
	free(buf);
	return rv;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
sli_cmd_validate_sorted(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir, *input = NULL;
	struct tally out = { 0 }, in = { 0 };
	unsigned char prev[KEY];
	bool have = false;
	char **names = NULL, path[8192];
	size_t n = 0, cap = 0;
	struct dirent *e;
	DIR *d;
	int opt, rv = 0;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			input = optarg;
			break;
		case 'h':
			fputs(validate_usage, stdout);
			return sli_cli_flush();
		default:
			return 2;
		}
	}
	if (optind + 1 != argc)
		return sli_cli_usage(
		    "validate-sorted: give one directory\n\n%s",
		    validate_usage);
	dir = argv[optind];
	if ((d = opendir(dir)) == NULL)
		return sli_cli_fail("%s: %s", dir, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "part-", 5) != 0)
			continue;
		if (n == cap) {
			char **v = realloc(
			    names, (cap = cap ? cap * 2 : 64) * sizeof(*names));

			if (v == NULL) {
				rv = sli_cli_fail("out of memory");
				goto out;
			}
			names = v;
		}
		if ((names[n] = strdup(e->d_name)) == NULL) {
			rv = sli_cli_fail("out of memory");
			goto out;
		}
		n++;
	}
	if (n == 0) {
		rv = sli_cli_fail("%s: no part-* files", dir);
		goto out;
	}
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n && rv == 0; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		rv = scan(path, &out, prev, &have, names[i]);
	}
	if (rv != 0)
		goto out;
	printf("%" PRIu64 " records in %zu parts, sorted by key, checksum "
	       "%016" PRIx64 "\n",
	    out.count, n, out.sum);
	if (input != NULL) {
		if ((rv = scan(input, &in, NULL, NULL, input)) != 0)
			goto out;
		if (in.count != out.count || in.sum != out.sum) {
			printf("NOT A PERMUTATION of %s: %" PRIu64
			       " records, checksum %016" PRIx64 "\n",
			    input, in.count, in.sum);
			rv = 1;
			goto out;
		}
		printf(
		    "a permutation of %s (same count and checksum)\n", input);
	}
	rv = sli_cli_flush();
out:
	closedir(d);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rv;
}
