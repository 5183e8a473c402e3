/*
 * sluice gen-words: text with a Zipf-distributed vocabulary, for WordCount
 * on skewed keys (adaptive parallelism's hot ranges). Word number r of the
 * vocabulary, in the order of frequency, is r + 101 written in bijective
 * base 100 with a consonant-vowel syllable per digit (two syllables or
 * more), then, for about half of the words, a consonant: "babak", "kemis".
 * Two letters a syllable make every spelling unique (the length's parity
 * says whether there is a final consonant), and the words are lowercase
 * letters only, so the tokenize operator reads back exactly these words.
 *
 * Sampling inverts the CDF: a 63-bit uniform u, a guide table on u's top
 * bits (about a bucket a word) that narrows the ranks to those of its
 * bucket, then a binary search there, 64 words at a time (zipf_ranks).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gen_file.h"

#define CHUNK (1 << 20)
#define MAX_WORD 32 /* letters of a word, and a separator, with room */
#define MIN_GUIDE_BITS 12
#define MAX_GUIDE_BITS 22 /* 16 MiB */
#define BATCH 64
#define MAX_VOCABULARY 100000000u

static const char usage[] =
    "usage: sluice gen-words --words N --output FILE [--zipf S]\n"
    "                        [--vocabulary V] [--seed X] [--per-line K]\n"
    "\n"
    "Writes N words of text, K a line (default 10) separated by spaces,\n"
    "every line ending in a newline, drawn from a vocabulary of V distinct\n"
    "words (default 100000, at most 100000000; 8 bytes of memory each)\n"
    "with Zipf's law of exponent S (default 1.0; 0 draws them uniformly):\n"
    "the word of rank r comes with probability proportional to 1/r^S. The\n"
    "words are lowercase letters; the same options and seed give the same\n"
    "file.\n";

static const char consonants[] = "bcdfghjklmnpqrstvwxz";
static const char vowels[] = "aeiou";

/* xoshiro256**: fast, and good in every bit, which the guide table's top
 * bits need. */
struct rng {
	uint64_t s[4];
};

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t
rng_next(struct rng *g)
{
	uint64_t *s = g->s, r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

/* The sampler: cdf[r] = 2^63 P(rank <= r), cdf[V-1] = 2^63; guide[g] the
 * rank of the smallest u of bucket g, of 2^bits buckets. */
struct zipf {
	uint64_t *cdf;
	uint32_t *guide;
	uint32_t v;
	int bits;
};

/* 0, or -ENOMEM. */
static int
zipf_init(struct zipf *z, uint32_t v, double s)
{
	double sum = 0, total;
	uint32_t r = 0;

	/* about a bucket a word: the search rarely takes more than a step */
	for (z->bits = MIN_GUIDE_BITS;
	     z->bits < MAX_GUIDE_BITS && (UINT32_C(1) << z->bits) < v;
	     z->bits++)
		;
	z->v = v;
	z->cdf = malloc((size_t)v * sizeof(*z->cdf));
	z->guide = malloc((((size_t)1 << z->bits) + 1) * sizeof(*z->guide));
	if (z->cdf == NULL || z->guide == NULL) {
		free(z->cdf);
		free(z->guide);
		return -ENOMEM;
	}
	/* the running sums as doubles in cdf's own memory, then each scaled
	 * in place: one pass of pow, and no second array of V */
	for (uint32_t i = 0; i < v; i++) {
		sum += s == 0 ? 1.0 : pow((double)i + 1, -s);
		memcpy(&z->cdf[i], &sum, sizeof(sum));
	}
	total = sum;
	for (uint32_t i = 0; i < v; i++) {
		double c;

		memcpy(&c, &z->cdf[i], sizeof(c));
		c = ldexp(c / total, 63);
		z->cdf[i] = c >= ldexp(1, 63) ? UINT64_C(1) << 63 : (uint64_t)c;
	}
	z->cdf[v - 1] = UINT64_C(1) << 63;
	for (uint32_t g = 0; g < (UINT32_C(1) << z->bits); g++) {
		uint64_t t = (uint64_t)g << (63 - z->bits);

		while (z->cdf[r] <= t)
			r++;
		z->guide[g] = r;
	}
	z->guide[UINT32_C(1) << z->bits] = v - 1;
	return 0;
}

static void
zipf_fini(struct zipf *z)
{
	free(z->cdf);
	free(z->guide);
}

/*
 * BATCH ranks into r: for each, the smallest rank whose cdf is above a
 * 63-bit uniform u, which lies in [guide[g], guide[g + 1]] for u's bucket
 * g. The tables are megabytes, so a rank costs a cache miss or two; one
 * after the other, each waits for its own, so the batch goes a step at a
 * time, every load prefetched a round ahead, and the misses overlap. The
 * steps are branch-free (which way a binary search goes is a coin toss).
 */
static void
zipf_ranks(const struct zipf *z, struct rng *g, uint32_t *r)
{
	uint64_t u[BATCH];
	uint32_t len[BATCH], left = 0;
	int shift = 63 - z->bits;

	for (int i = 0; i < BATCH; i++) {
		u[i] = rng_next(g) >> 1;
		__builtin_prefetch(&z->guide[u[i] >> shift]);
	}
	for (int i = 0; i < BATCH; i++) {
		uint32_t b = (uint32_t)(u[i] >> shift);

		r[i] = z->guide[b];
		len[i] = z->guide[b + 1] - r[i] + 1;
		if (len[i] > 1) {
			__builtin_prefetch(&z->cdf[r[i] + len[i] / 2 - 1]);
			left++;
		}
	}
	while (left > 0) {
		left = 0;
		for (int i = 0; i < BATCH; i++) {
			uint32_t half = len[i] / 2;

			if (half == 0)
				continue;
			r[i] +=
			    half & -(uint32_t)(z->cdf[r[i] + half - 1] <= u[i]);
			len[i] -= half;
			if (len[i] > 1) {
				__builtin_prefetch(
				    &z->cdf[r[i] + len[i] / 2 - 1]);
				left++;
			}
		}
	}
}

/* The word of rank r at p: its length. */
static size_t
spell(char *p, uint32_t r)
{
	uint64_t n = (uint64_t)r + 101, h = r;
	size_t len = 0;

	while (n > 0) {
		unsigned d;

		n--;
		d = (unsigned)(n % 100);
		n /= 100;
		p[len++] = consonants[d / 5];
		p[len++] = vowels[d % 5];
	}
	h = sli_gen_splitmix(&h);
	if (h & 1)
		p[len++] = consonants[(h >> 1) % 20];
	return len;
}

/* An exponent: a finite decimal in [0, 100]. */
static bool
parse_exponent(const char *s, double *out)
{
	char *end;

	if (s == NULL || !((*s >= '0' && *s <= '9') || *s == '.'))
		return false;
	errno = 0;
	*out = strtod(s, &end);
	return errno == 0 && *end == '\0' && isfinite(*out) && *out >= 0 &&
	    *out <= 100;
}

int
sli_cmd_gen_words(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "words", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "zipf", required_argument, NULL, 'z' },
		{ "vocabulary", required_argument, NULL, 'v' },
		{ "seed", required_argument, NULL, 's' },
		{ "per-line", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t words = 0, seed = 0, bytes = 0, sm;
	uint32_t vocabulary = 100000, per_line = 10, col = 0, rank[BATCH];
	double s = 1.0;
	const char *out = NULL;
	bool have_words = false;
	char *buf;
	struct sli_gen_file f;
	struct zipf z;
	struct rng g;
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (!sli_gen_parse_count(optarg, &words))
				return sli_cli_usage("gen-words: --words: a "
				                     "number, not '%s'",
				    optarg);
			have_words = true;
			break;
		case 'o':
			out = optarg;
			break;
		case 'z':
			if (!parse_exponent(optarg, &s))
				return sli_cli_usage(
				    "gen-words: --zipf: an exponent from 0 "
				    "to 100, not '%s'",
				    optarg);
			break;
		case 'v':
			if (!sli_parse_u32(
			        optarg, 1, MAX_VOCABULARY, &vocabulary))
				return sli_cli_usage(
				    "gen-words: --vocabulary: a number from 1 "
				    "to %u, not '%s'",
				    MAX_VOCABULARY, optarg);
			break;
		case 's':
			if (!sli_gen_parse_count(optarg, &seed))
				return sli_cli_usage(
				    "gen-words: --seed: '%s'", optarg);
			break;
		case 'k':
			if (!sli_parse_u32(optarg, 1, 1000000, &per_line))
				return sli_cli_usage(
				    "gen-words: --per-line: a number from 1 "
				    "to 1000000, not '%s'",
				    optarg);
			break;
		case 'h':
			fputs(usage, stdout);
			return sli_cli_flush();
		default:
			return 2;
		}
	}
	if (!have_words || out == NULL || optind < argc)
		return sli_cli_usage("gen-words: %s\n\n%s",
		    !have_words       ? "--words N is required"
		        : out == NULL ? "--output FILE is required"
		                      : "unexpected arguments",
		    usage);
	if (zipf_init(&z, vocabulary, s) != 0)
		return sli_cli_fail("gen-words: out of memory for a "
		                    "vocabulary of %u words",
		    vocabulary);
	if ((buf = malloc(CHUNK)) == NULL) {
		zipf_fini(&z);
		return sli_cli_fail("out of memory");
	}
	sm = seed;
	for (int i = 0; i < 4; i++)
		g.s[i] = sli_gen_splitmix(&sm);
	if (sli_gen_file_open(&f, "gen-words", out) != 0) {
		free(buf);
		zipf_fini(&z);
		return 1;
	}
	for (uint64_t w = 0; w < words;) {
		size_t n = 0;

		for (; n + MAX_WORD <= CHUNK && w < words; w++) {
			if (w % BATCH == 0)
				zipf_ranks(&z, &g, rank);
			n += spell(buf + n, rank[w % BATCH]);
			if (++col == per_line || w + 1 == words) {
				buf[n++] = '\n';
				col = 0;
			} else
				buf[n++] = ' ';
		}
		if (sli_gen_file_write(&f, buf, n) != 0) {
			free(buf);
			zipf_fini(&z);
			return 1;
		}
		bytes += n;
		sli_gen_file_progress(&f, w, words, "words");
	}
	free(buf);
	zipf_fini(&z);
	if (sli_gen_file_commit(&f) != 0)
		return 1;
	printf("%" PRIu64 " words (%" PRIu64 " bytes) of a %" PRIu32
	       "-word vocabulary, Zipf exponent %g, in %s\n",
	    words, bytes, vocabulary, s, out);
	return sli_cli_flush();
}
