/*
 * sluice gen-records and sluice validate-sorted, the real binary: the
 * records are what the options say, the same seed gives the same file, and
 * validate-sorted accepts a sorted permutation and nothing else. And
 * sluice gen-words: its words, lines and seeds, and the skew it promises.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run_cmd.h"
#include "sl_test.h"
#include "sl_testutil.h"

static char root[256];

static const char *
tmp(const char *name)
{
	static char bufs[8][600];
	static int k;
	char *b = bufs[k++ % 8];

	sl_tmp_dir(root, sizeof(root), "sl-records");
	snprintf(b, 600, "%s/%s", root, name);
	return b;
}

static void
expect(struct run_result *r, int status, const char *needle)
{
	if (r->status != status ||
	    (needle != NULL && strstr(r->out, needle) == NULL &&
	        strstr(r->err, needle) == NULL)) {
		fprintf(stderr, "\nwanted %d and '%s'; got %d\n%s%s\n", status,
		    needle ? needle : "", r->status, r->out, r->err);
		CU_FAIL("wrong outcome");
	}
	run_result_free(r);
}

static int
cmp_count_desc(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

static int
cmp_key(const void *a, const void *b)
{
	return memcmp(a, b, 10);
}

/* Write recs[0..n) into DIR/part-NNNNN, `per` records a part. */
static void
write_parts(const char *dir, const unsigned char *recs, size_t n, size_t per)
{
	mkdir(dir, 0755);
	for (size_t i = 0, p = 0; i < n; i += per, p++) {
		char path[700];
		size_t k = n - i < per ? n - i : per;

		snprintf(path, sizeof(path), "%s/part-%05zu", dir, p);
		sl_write_file(path, recs + i * 100, k * 100);
	}
}

static void
test_gen(void)
{
	size_t a, b, c;
	char *x, *y, *z;
	struct run_result r;

	r = sl_run_sluice(
	    "gen-records", "--count", "2000", "--output", tmp("a.bin"), NULL);
	expect(&r, 0, "2000 records (200000 bytes)");
	r = sl_run_sluice(
	    "gen-records", "--count", "2000", "--output", tmp("b.bin"), NULL);
	expect(&r, 0, NULL);
	r = sl_run_sluice("gen-records", "--count", "2000", "--seed", "9",
	    "--output", tmp("c.bin"), NULL);
	expect(&r, 0, NULL);
	x = sl_read_file(tmp("a.bin"), &a);
	y = sl_read_file(tmp("b.bin"), &b);
	z = sl_read_file(tmp("c.bin"), &c);
	CU_ASSERT_TRUE_FATAL(x && y && z);
	CU_ASSERT_TRUE(a == 200000 && b == a && c == a);
	CU_ASSERT(memcmp(x, y, a) == 0); /* the same seed, the same file */
	CU_ASSERT(memcmp(x, z, a) != 0);
	free(x);
	free(y);
	free(z);

	r = sl_run_sluice("gen-records", "--count", "500", "--ascii",
	    "--output", tmp("a.txt"), NULL);
	expect(&r, 0, NULL);
	x = sl_read_file(tmp("a.txt"), &a);
	CU_ASSERT_EQUAL_FATAL(a, 50000);
	for (size_t i = 0; i < 500; i++) {
		const unsigned char *rec = (const unsigned char *)x + i * 100;

		CU_ASSERT_EQUAL(rec[99], '\n');
		for (int k = 0; k < 10; k++)
			CU_ASSERT(rec[k] >= '!' && rec[k] <= '~');
		CU_ASSERT(memchr(rec, '\n', 99) == NULL);
	}
	free(x);

	r = sl_run_sluice("gen-records", "--output", tmp("x"), NULL);
	expect(&r, 2, "--count N is required");
	r = sl_run_sluice(
	    "gen-records", "--count", "10k", "--output", tmp("x"), NULL);
	expect(&r, 2, "--count: a number");
	r = sl_run_sluice("gen-records", "--count", "1", "--output",
	    "/nonexistent/dir/f", NULL);
	expect(&r, 1, "No such file or directory");
}

static void
test_validate(void)
{
	size_t len;
	unsigned char *recs;
	struct run_result r;
	char cmd[2048];

	r = sl_run_sluice(
	    "gen-records", "--count", "3000", "--output", tmp("in.bin"), NULL);
	expect(&r, 0, NULL);
	recs = (unsigned char *)sl_read_file(tmp("in.bin"), &len);
	CU_ASSERT_EQUAL_FATAL(len, 300000);

	/* unsorted, as generated */
	write_parts(tmp("unsorted"), recs, 3000, 3000);
	r = sl_run_sluice("validate-sorted", tmp("unsorted"), NULL);
	expect(&r, 1, "NOT SORTED: part-00000 record 1");

	/* sorted here, in 7 parts: sorted, and a permutation */
	qsort(recs, 3000, 100, cmp_key);
	write_parts(tmp("sorted"), recs, 3000, 450);
	r = sl_run_sluice(
	    "validate-sorted", tmp("sorted"), "--input", tmp("in.bin"), NULL);
	expect(&r, 0, "a permutation of");

	/* a record lost, or a value changed: sorted, not a permutation */
	write_parts(tmp("lost"), recs, 2999, 450);
	r = sl_run_sluice(
	    "validate-sorted", tmp("lost"), "--input", tmp("in.bin"), NULL);
	expect(&r, 1, "NOT A PERMUTATION");
	recs[1234 * 100 + 50] ^= 1;
	write_parts(tmp("changed"), recs, 3000, 450);
	r = sl_run_sluice(
	    "validate-sorted", tmp("changed"), "--input", tmp("in.bin"), NULL);
	expect(&r, 1, "NOT A PERMUTATION");
	recs[1234 * 100 + 50] ^= 1;

	/* parts in the wrong order by name */
	write_parts(tmp("swapped"), recs + 1500 * 100, 1500, 1500);
	{
		char p[700];

		snprintf(p, sizeof(p), "%s/part-00001", tmp("swapped"));
		sl_write_file(p, recs, 1500 * 100);
	}
	r = sl_run_sluice("validate-sorted", tmp("swapped"), NULL);
	expect(&r, 1, "NOT SORTED: part-00001 record 0");

	/* not whole records; no parts */
	mkdir(tmp("cut"), 0755);
	{
		char p[700];

		snprintf(p, sizeof(p), "%s/part-00000", tmp("cut"));
		sl_write_file(p, recs, 250);
	}
	r = sl_run_sluice("validate-sorted", tmp("cut"), NULL);
	expect(&r, 1, "250 bytes is not a whole number of 100-byte records");
	mkdir(tmp("empty"), 0755);
	r = sl_run_sluice("validate-sorted", tmp("empty"), NULL);
	expect(&r, 1, "no part-* files");
	free(recs);

	/* --ascii records sorted by LC_ALL=C sort, line by line */
	r = sl_run_sluice("gen-records", "--count", "5000", "--ascii",
	    "--output", tmp("in.txt"), NULL);
	expect(&r, 0, NULL);
	mkdir(tmp("gnu"), 0755);
	snprintf(cmd, sizeof(cmd), "LC_ALL=C sort '%s' > '%s/part-00000'",
	    tmp("in.txt"), tmp("gnu"));
	CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
	r = sl_run_sluice(
	    "validate-sorted", tmp("gnu"), "--input", tmp("in.txt"), NULL);
	expect(&r, 0, "5000 records in 1 parts, sorted by key");
}

/* What a gen-words file holds: checks its form (lowercase words, single
 * spaces, per words a line, a newline at the end) and fills the counts of
 * its distinct words, largest first; returns how many words. */
static size_t
words_of(const char *path, size_t per, size_t **counts, size_t *ndistinct)
{
	size_t len, nwords = 0, nd, in_line = 0;
	char *text = sl_read_file(path, &len), **lines;
	bool bad = false;

	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	for (size_t i = 0; i < len && !bad; i++) {
		char c = text[i];

		if (c >= 'a' && c <= 'z')
			continue;
		/* a separator ends a word: never two in a row */
		bad = (c != ' ' && c != '\n') || i == 0 || text[i - 1] == ' ' ||
		    text[i - 1] == '\n';
		in_line++;
		if (c == '\n') {
			/* full lines, but for the last */
			bad = bad || (in_line != per && i + 1 != len);
			in_line = 0;
		}
	}
	CU_ASSERT_FALSE(bad);
	CU_ASSERT_TRUE(len == 0 || text[len - 1] == '\n');
	nd = sl_ref_wordcount(text, len, &lines, &nwords);
	*counts = malloc((nd + 1) * sizeof(**counts));
	CU_ASSERT_PTR_NOT_NULL_FATAL(*counts);
	for (size_t i = 0; i < nd; i++) {
		(*counts)[i] = strtoul(strrchr(lines[i], '\t') + 1, NULL, 10);
		free(lines[i]);
	}
	free(lines);
	free(text);
	qsort(*counts, nd, sizeof(**counts), cmp_count_desc);
	*ndistinct = nd;
	return nwords;
}

static void
test_gen_words(void)
{
	size_t a, b, c, n, nd, *cnt;
	char *x, *y, *z;
	struct run_result r;

	/* the same seed, the same bytes; another seed, others */
	r = sl_run_sluice("gen-words", "--words", "20000", "--seed", "5",
	    "--output", tmp("w1.txt"), NULL);
	expect(&r, 0, "20000 words (");
	r = sl_run_sluice("gen-words", "--words", "20000", "--seed", "5",
	    "--output", tmp("w2.txt"), NULL);
	expect(&r, 0, NULL);
	r = sl_run_sluice("gen-words", "--words", "20000", "--seed", "6",
	    "--output", tmp("w3.txt"), NULL);
	expect(&r, 0, NULL);
	x = sl_read_file(tmp("w1.txt"), &a);
	y = sl_read_file(tmp("w2.txt"), &b);
	z = sl_read_file(tmp("w3.txt"), &c);
	CU_ASSERT_TRUE_FATAL(x && y && z);
	CU_ASSERT_TRUE(a > 20000 * 2 && a == b);
	CU_ASSERT(memcmp(x, y, a) == 0);
	CU_ASSERT(a != c || memcmp(x, z, a) != 0);
	free(x);
	free(y);
	free(z);
	n = words_of(tmp("w1.txt"), 10, &cnt, &nd);
	CU_ASSERT_EQUAL(n, 20000);
	CU_ASSERT(nd > 1 && nd <= 100000);
	free(cnt);

	/* exact counts, lines of K, a short last line, a vocabulary of V */
	r = sl_run_sluice("gen-words", "--words", "1003", "--per-line", "7",
	    "--vocabulary", "50", "--output", tmp("w4.txt"), NULL);
	expect(&r, 0, "1003 words (");
	n = words_of(tmp("w4.txt"), 7, &cnt, &nd);
	CU_ASSERT_EQUAL(n, 1003);
	CU_ASSERT(nd > 10 && nd <= 50);
	free(cnt);
	r = sl_run_sluice(
	    "gen-words", "--words", "0", "--output", tmp("w5.txt"), NULL);
	expect(&r, 0, "0 words (0 bytes)");

	/* Zipf 1.2 over 10000 words: the top word is p(1) = 1 / H(10000,
	 * 1.2) = 21 % of them, the second 2^-1.2 of that, and the median word
	 * seen a handful of times at most */
	r = sl_run_sluice("gen-words", "--words", "200000", "--zipf", "1.2",
	    "--vocabulary", "10000", "--output", tmp("zipf.txt"), NULL);
	expect(&r, 0, NULL);
	n = words_of(tmp("zipf.txt"), 10, &cnt, &nd);
	CU_ASSERT_EQUAL_FATAL(n, 200000);
	CU_ASSERT(cnt[0] > n / 20);
	CU_ASSERT(cnt[0] > 100 * cnt[nd / 2]);
	CU_ASSERT(cnt[0] * 10 > cnt[1] * 18 && cnt[0] * 10 < cnt[1] * 28);
	free(cnt);
	/* and 0 draws them uniformly: 20 of each on average */
	r = sl_run_sluice("gen-words", "--words", "200000", "--zipf", "0",
	    "--vocabulary", "10000", "--output", tmp("flat.txt"), NULL);
	expect(&r, 0, NULL);
	n = words_of(tmp("flat.txt"), 10, &cnt, &nd);
	CU_ASSERT_EQUAL(n, 200000);
	CU_ASSERT(nd > 9990);
	CU_ASSERT(cnt[0] < 60 && cnt[nd / 2] >= 10);
	free(cnt);

	r = sl_run_sluice("gen-words", "--output", tmp("x"), NULL);
	expect(&r, 2, "--words N is required");
	r = sl_run_sluice("gen-words", "--words", "10", NULL);
	expect(&r, 2, "--output FILE is required");
	r = sl_run_sluice(
	    "gen-words", "--words", "1e6", "--output", tmp("x"), NULL);
	expect(&r, 2, "--words: a number, not '1e6'");
	r = sl_run_sluice("gen-words", "--words", "10", "--zipf", "-1",
	    "--output", tmp("x"), NULL);
	expect(&r, 2, "--zipf: an exponent from 0 to 100, not '-1'");
	r = sl_run_sluice("gen-words", "--words", "10", "--zipf", "nan",
	    "--output", tmp("x"), NULL);
	expect(&r, 2, "--zipf: an exponent");
	r = sl_run_sluice("gen-words", "--words", "10", "--vocabulary", "0",
	    "--output", tmp("x"), NULL);
	expect(&r, 2, "--vocabulary: a number from 1 to 100000000, not '0'");
	r = sl_run_sluice("gen-words", "--words", "10", "--per-line", "0",
	    "--output", tmp("x"), NULL);
	expect(&r, 2, "--per-line: a number from 1 to 1000000, not '0'");
	r = sl_run_sluice("gen-words", "--words", "10", "--output",
	    "/nonexistent/dir/f", NULL);
	expect(&r, 1, "No such file or directory");
	CU_ASSERT_EQUAL(access(tmp("x"), F_OK), -1);
}

static void
cleanup(void)
{
	if (root[0] != '\0')
		sl_rm_rf(root);
}

static const struct sl_test tests[] = {
	{ "gen-records: sizes, seeds, --ascii, errors", test_gen },
	{ "validate-sorted: order, permutation, damage", test_validate },
	{ "gen-words: words, lines, seeds, skew, errors", test_gen_words },
	{ "cleanup", cleanup },
	{ NULL, NULL },
};

SL_TEST_MAIN("cli-records", tests)
