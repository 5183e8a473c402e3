/*
 * Small helpers several test programs share: files, a scratch directory,
 * a reproducible random sequence and, for the integration tests (include
 * "run_cmd.h" before this header), running the sluice binary.
 */
#ifndef SL_TESTUTIL_H
#define SL_TESTUTIL_H

#include <dirent.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_test.h"

/* ---- files --------------------------------------------------------------
 */

/* root (a buffer of n bytes, "" at first) made on the first call as
 * $TMPDIR/<prefix>-XXXXXX (or /tmp/...); returns root. */
static inline const char *
sl_tmp_dir(char *root, size_t n, const char *prefix)
{
	if (root[0] == '\0') {
		const char *base = getenv("TMPDIR");

		snprintf(root, n, "%s/%s-XXXXXX", base != NULL ? base : "/tmp",
		    prefix);
		CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(root));
	}
	return root;
}

static inline void
sl_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(fwrite(data, 1, len, f), len);
	CU_ASSERT_EQUAL(fclose(f), 0);
}

/* The whole file, NUL-terminated; NULL when it cannot be read. */
static inline char *
sl_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, r;

	*len = 0;
	if (f == NULL)
		return NULL;
	do {
		if (cap - n < 65536) {
			cap = cap * 2 + 65536;
			buf = realloc(buf, cap + 1);
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static inline int
sl_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Remove path and everything under it, quietly. */
static inline void
sl_rm_rf(const char *path)
{
	(void)nftw(path, sl_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- random -------------------------------------------------------------
 */

/* splitmix64: the same sequence on every libc, so a seed reproduces. */
static inline uint64_t
sl_rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint32_t
sl_rng_below(uint64_t *state, uint32_t k)
{
	return (uint32_t)(sl_rng_next(state) % k);
}

/* ---- the sluice binary (integration tests) ------------------------------
 */

/* Names in dir (hidden ones too), sorted, joined by ' '; "" when the
 * directory is empty or missing. */
static inline void
sl_list_dir(const char *dir, char *out, size_t n)
{
	struct dirent **names;
	int k = scandir(dir, &names, NULL, alphasort);

	out[0] = '\0';
	for (int i = 0; i < k; i++) {
		const char *s = names[i]->d_name;

		if (strcmp(s, ".") != 0 && strcmp(s, "..") != 0) {
			size_t l = strlen(out);
			int w =
			    snprintf(out + l, n - l, "%s%s", l ? " " : "", s);

			if (w < 0 || (size_t)w >= n - l)
				out[l] = '\0'; /* no room: leave the name out */
		}
		free(names[i]);
	}
	if (k >= 0)
		free(names);
}

/* strcmp for qsort over an array of strings. */
static inline int
sl_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The WordCount reference: split text on everything but ASCII letters and
 * digits, lowercase, count by sorting. Fills *out with malloc'd
 * "word\tcount" lines in sorted order and returns how many; *nwords (may be
 * NULL) gets the number of words.
 */
static inline size_t
sl_ref_wordcount(const char *text, size_t len, char ***out, size_t *nwords)
{
	char **words = malloc(sizeof(*words) * (len / 2 + 1));
	char **lines = malloc(sizeof(*lines) * (len / 2 + 1));
	size_t nw = 0, nl = 0;

	for (size_t i = 0; i < len;) {
		size_t j = i;

		while (j < len &&
		    ((text[j] >= '0' && text[j] <= '9') ||
		        (text[j] >= 'a' && text[j] <= 'z') ||
		        (text[j] >= 'A' && text[j] <= 'Z')))
			j++;
		if (j == i) {
			i++;
			continue;
		}
		words[nw] = malloc(j - i + 1);
		for (size_t k = i; k < j; k++) {
			char c = text[k];
			words[nw][k - i] =
			    (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
		}
		words[nw++][j - i] = '\0';
		i = j;
	}
	qsort(words, nw, sizeof(*words), sl_cmp_str);
	for (size_t i = 0; i < nw;) {
		size_t j = i;
		char buf[300];

		while (j < nw && strcmp(words[i], words[j]) == 0)
			j++;
		snprintf(buf, sizeof(buf), "%s\t%zu", words[i], j - i);
		lines[nl++] = strdup(buf);
		i = j;
	}
	for (size_t i = 0; i < nw; i++)
		free(words[i]);
	free(words);
	*out = lines;
	if (nwords != NULL)
		*nwords = nw;
	return nl;
}

/* Lines of lowercase and capitalised ASCII words, each line ending in
 * '\n', from a fixed seed: *nlines lines, *nwords words. */
static inline char *
sl_gen_text(size_t want, size_t *len, size_t *nlines, size_t *nwords)
{
	static const char *vocab[] = { "the", "The", "sluice", "gate", "r2d2",
		"42", "x", "Zebra", "flow", "FLOW", "water", "river", "Dam",
		"lock", "weir", "mill", "pond", "stream", "current", "eddy" };
	char *text = malloc(want + 64);
	uint64_t s = 7;
	size_t n = 0;

	*nlines = *nwords = 0;
	while (n < want) {
		const char *w;

		s = s * 6364136223846793005u + 1442695040888963407u;
		w = vocab[(s >> 33) % (sizeof(vocab) / sizeof(vocab[0]))];
		memcpy(text + n, w, strlen(w));
		n += strlen(w);
		(*nwords)++;
		if ((s >> 20) % 9 == 0) {
			text[n++] = '\n';
			(*nlines)++;
		} else {
			/* a numbered word now and then: many distinct keys */
			if ((s >> 24) % 5 == 0) {
				n += (size_t)sprintf(
				    text + n, " w%u", (unsigned)(s >> 53));
				(*nwords)++;
			}
			text[n++] = ' ';
		}
	}
	if (n == 0 || text[n - 1] != '\n') {
		text[n++] = '\n';
		(*nlines)++;
	}
	*len = n;
	return text;
}

/* The entries of dir other than . and .., counted. */
static inline int
sl_count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

#ifdef SL_RUN_CMD_H
#define SL_MAXARGS 24

/* Run `sluice args...` (NULL-terminated). */
static inline struct run_result
sl_run_sluice(const char *first, ...)
{
	char *argv[SL_MAXARGS];
	struct run_result res;
	va_list ap;
	int n = 0;

	argv[n++] = (char *)sluice_path();
	argv[n++] = (char *)first;
	va_start(ap, first);
	while (n < SL_MAXARGS - 1 && (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	if (run_cmd(argv, &res) != 0) {
		CU_FAIL_FATAL("cannot run sluice");
	}
	return res;
}
#endif

#endif
