/* The adaptive batch parallelism decision (core/plan/adaptive.c, DESIGN §5). */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>

#include <sluice/errors.h>
#include <sluice/graph.h>

#include "plan/adaptive.h"
#include "sl_test.h"
#include "sl_testutil.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define BIG (UINT64_MAX / 2)

static struct sli_adaptive_params
params(uint64_t limit, uint32_t min, uint32_t max, uint32_t fixed)
{
	struct sli_adaptive_params p = {
		.bytes_per_task = limit,
		.min_parallelism = min,
		.max_parallelism = max,
		.fixed_parallelism = fixed,
	};
	return p;
}

/* Decide and compare with the expected range starts (np of them). */
static void
expect(const uint64_t *bytes, uint32_t n, struct sli_adaptive_params p,
    const uint32_t *want, uint32_t np)
{
	struct sli_adaptive_decision d;

	CU_ASSERT_EQUAL_FATAL(sli_adaptive_decide(bytes, n, &p, &d), 0);
	CU_ASSERT_EQUAL(d.parallelism, np);
	if (d.parallelism == np) {
		for (uint32_t k = 0; k < np; k++) {
			if (d.start[k] != want[k])
				fprintf(stderr,
				    "\n  range %u starts at %u, want %u", k,
				    d.start[k], want[k]);
			CU_ASSERT_EQUAL(d.start[k], want[k]);
		}
	}
	sli_adaptive_decision_free(&d);
}

#define EXPECT(bytes, p, ...)                                        \
	do {                                                         \
		static const uint32_t want_[] = { __VA_ARGS__ };     \
		expect(bytes, NELEM(bytes), p, want_, NELEM(want_)); \
	} while (0)

static void
test_design_example(void)
{
	/* {"parallelism": 5, "ranges": [[0,1],[2,3],[4,6],[7,8],[9,9]]} */
	static const uint64_t b[] = { 50, 50, 60, 40, 30, 30, 40, 70, 30, 100 };

	EXPECT(b, params(100, 1, 10, 0), 0, 2, 4, 7, 9);
	/* One byte less and every range that was exactly full splits. */
	EXPECT(b, params(99, 1, 10, 0), 0, 1, 2, 3, 5, 7, 8, 9);
	CU_ASSERT_EQUAL(sli_adaptive_pack(b, NELEM(b), 100, NULL), 5);
}

static void
test_all_equal(void)
{
	static const uint64_t b[] = { 4, 4, 4, 4, 4, 4 };

	EXPECT(b, params(8, 1, 6, 0), 0, 2, 4);
	EXPECT(b, params(8, 3, 3, 0), 0, 2, 4);
	/* Counts by limit: 6 (L < 8), 3 (8..11), 2 (12..23), 1: never 4,
	 * so split evenly: floor(k * 6 / 4) = 0, 1, 3, 4. */
	EXPECT(b, params(8, 4, 6, 0), 0, 1, 3, 4);
	/* Too many: at most 2 from 6 gives exactly 2 (limit 12). */
	EXPECT(b, params(4, 1, 2, 0), 0, 3);
}

static void
test_all_zero(void)
{
	static const uint64_t b[] = { 0, 0, 0, 0, 0 };

	EXPECT(b, params(10, 1, 5, 0), 0);
	CU_ASSERT_EQUAL(sli_adaptive_pack(b, NELEM(b), 0, NULL), 1);
	/* No limit makes more than one range; min 3 forces the even split:
	 * floor(k * 5 / 3) = 0, 1, 3. */
	EXPECT(b, params(10, 3, 5, 0), 0, 1, 3);
	EXPECT(b, params(10, 1, 5, 2), 0, 2);
}

static void
test_huge_alone(void)
{
	static const uint64_t mid[] = { 1, 1, 1000, 0, 1, 1 };
	static const uint64_t first[] = { 1000, 0, 0, 5 };
	static const uint64_t after_zeros[] = { 0, 0, 1000 };
	static const uint64_t two[] = { 1000, 2000 };

	/* The empty subpartition after the huge one joins its range. */
	EXPECT(mid, params(10, 1, 6, 0), 0, 2, 4);
	EXPECT(first, params(10, 1, 4, 0), 0, 3);
	/* Empty ones before it form a range of their own (literal rule). */
	EXPECT(after_zeros, params(10, 1, 3, 0), 0, 2);
	EXPECT(two, params(10, 1, 2, 0), 0, 1);
}

/*
 * Ranges for {10,1,1,1,1,1,1,1,1,10} by limit, worked by hand (starts):
 *   L 0..1: 10 (each alone)   L 2: 6 [0 1 3 5 7 9]   L 3: 5 [0 1 4 7 9]
 *   L 4..7: 4 [0 1 5 9] at 4   L 8..13: 3 [0 1 9] at 8
 *   L 14..27: 2 ([0 9] from 18)   L 28 (the sum): 1
 * The count never takes the values 7, 8 or 9.
 */
static const uint64_t skip[] = { 10, 1, 1, 1, 1, 1, 1, 1, 1, 10 };

static void
test_below_min(void)
{
	/* Greedy at 20 gives 2; the smallest limit with <= 4 is 4: 4. */
	EXPECT(skip, params(20, 4, 10, 0), 0, 1, 5, 9);
	EXPECT(skip, params(20, 5, 10, 0), 0, 1, 4, 7, 9);
}

static void
test_above_max(void)
{
	/* Greedy at 2 gives 6; the smallest limit with <= 3 is 8, exactly 3. */
	EXPECT(skip, params(2, 1, 3, 0), 0, 1, 9);
	EXPECT(skip, params(1, 1, 4, 0), 0, 1, 5, 9);
}

static void
test_even_split(void)
{
	/* Greedy 2 < min 8; the smallest limit with <= 8 is 2, giving 6, so
	 * split evenly: floor(k * 10 / 8) = 0 1 2 3 5 6 7 8. */
	EXPECT(skip, params(20, 8, 10, 0), 0, 1, 2, 3, 5, 6, 7, 8);
	/* Greedy 10 > max 7: limit 2 gives 6 < 7; floor(k * 10 / 7). */
	EXPECT(skip, params(1, 1, 7, 0), 0, 1, 2, 4, 5, 7, 8);
}

static void
test_fixed(void)
{
	/* Equal to the greedy count: its ranges, even outside [min, max]. */
	EXPECT(skip, params(20, 1, 10, 2), 0, 9);
	EXPECT(skip, params(20, 5, 10, 2), 0, 9);
	/* Unequal: search (limit 8 gives exactly 3) or split evenly (7). */
	EXPECT(skip, params(20, 1, 10, 3), 0, 1, 9);
	EXPECT(skip, params(20, 1, 2, 3), 0, 1, 9);
	EXPECT(skip, params(20, 1, 10, 7), 0, 1, 2, 4, 5, 7, 8);
	EXPECT(skip, params(20, 1, 10, 1), 0);
}

static void
test_capped_at_n(void)
{
	static const uint64_t b[] = { 5, 5, 5 };
	static const uint64_t z[] = { 0, 0, 0 };

	EXPECT(b, params(100, 8, 16, 0), 0, 1, 2);
	EXPECT(b, params(100, 1, 16, 50), 0, 1, 2);
	EXPECT(z, params(100, 8, 16, 0), 0, 1, 2);
}

static void
test_min_equals_max(void)
{
	EXPECT(skip, params(1, 3, 3, 0), 0, 1, 9);
	EXPECT(skip, params(100, 3, 3, 0), 0, 1, 9);
	EXPECT(skip, params(8, 3, 3, 0), 0, 1, 9);
}

static void
test_single(void)
{
	static const uint64_t one[] = { 7 };
	static const uint64_t huge[] = { UINT64_MAX };

	EXPECT(one, params(1, 1, 1, 0), 0);
	EXPECT(one, params(100, 4, 8, 0), 0);
	EXPECT(one, params(100, 1, 8, 3), 0);
	EXPECT(huge, params(1, 2, 2, 0), 0);
}

static void
test_saturation(void)
{
	static const uint64_t b[] = { UINT64_MAX, UINT64_MAX, 5 };
	static const uint64_t c[] = { BIG, BIG, BIG, BIG };

	/* The sum sticks at UINT64_MAX, which is not above that limit. */
	CU_ASSERT_EQUAL(sli_adaptive_pack(b, 3, UINT64_MAX, NULL), 1);
	CU_ASSERT_EQUAL(sli_adaptive_pack(b, 3, UINT64_MAX - 1, NULL), 3);
	EXPECT(b, params(UINT64_MAX - 1, 1, 3, 0), 0, 1, 2);
	/* 3 > max 2; at UINT64_MAX one range, below it three: split. */
	EXPECT(b, params(UINT64_MAX - 1, 2, 2, 0), 0, 1);
	EXPECT(c, params(1, 2, 2, 0), 0, 2);
	EXPECT(c, params(UINT64_MAX, 3, 3, 0), 0, 1, 2);
}

static void
expect_einval(const uint64_t *bytes, uint32_t n,
    const struct sli_adaptive_params *p, const char *detail)
{
	struct sli_adaptive_decision d = { 7, (uint32_t *)&d };

	CU_ASSERT_EQUAL(sli_adaptive_decide(bytes, n, p, &d), SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), detail));
	/* Left empty, so freeing it anyway is harmless (the junk pointer
	 * above must not reach free if it was not cleared). */
	CU_ASSERT_EQUAL(d.parallelism, 0);
	CU_ASSERT_PTR_NULL(d.start);
	if (d.start == NULL)
		sli_adaptive_decision_free(&d);
}

static void
test_invalid(void)
{
	static const uint64_t b[] = { 1, 2, 3 };
	struct sli_adaptive_params p;

	p = params(0, 1, 4, 0);
	expect_einval(b, 3, &p, "bytes_per_task");
	p = params(10, 0, 4, 0);
	expect_einval(b, 3, &p, "1 <= min <= max");
	p = params(10, 5, 4, 0);
	expect_einval(b, 3, &p, "[5, 4]");
	p = params(10, 1, 4, 0);
	expect_einval(b, 0, &p, "no subpartitions");
	expect_einval(NULL, 3, &p, "no byte counts");
	expect_einval(b, 3, NULL, "no parameters");
	CU_ASSERT_EQUAL(sli_adaptive_decide(b, 3, &p, NULL), SL_EINVAL);
	sli_adaptive_decision_free(NULL);
}

/* ---- properties over random inputs ---- */

#define SEED 0x5eed2024adaf7e11ull
#define ROUNDS 20000
#define MAXN 40

static uint64_t rng;

static uint64_t
sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

struct input {
	uint64_t b[MAXN];
	uint32_t n;
	struct sli_adaptive_params p;
	bool huge;
};

static void
gen(struct input *in)
{
	uint32_t r = sl_rng_below(&rng, 100);

	in->huge = sl_rng_below(&rng, 20) == 0;
	in->n = 1 + sl_rng_below(&rng, MAXN);
	for (uint32_t i = 0; i < in->n; i++) {
		in->b[i] =
		    sl_rng_below(&rng, 8) == 0 ? 0 : sl_rng_below(&rng, 101);
		if (in->huge && sl_rng_below(&rng, 6) == 0) {
			static const uint64_t h[] = { 1000000, UINT32_MAX, BIG,
				UINT64_MAX - 3, UINT64_MAX };
			in->b[i] = h[sl_rng_below(&rng, NELEM(h))];
		}
	}
	in->p.bytes_per_task = r < 5 ? 1
	    : r < 8                  ? UINT64_MAX - sl_rng_below(&rng, 3)
	                             : 1 + sl_rng_below(&rng, 400);
	/* Small bounds half the time, so the greedy count often fits. */
	in->p.min_parallelism =
	    1 + sl_rng_below(&rng, sl_rng_below(&rng, 2) ? 6 : 45);
	in->p.max_parallelism = in->p.min_parallelism + sl_rng_below(&rng, 46);
	in->p.fixed_parallelism =
	    sl_rng_below(&rng, 10) < 3 ? 1 + sl_rng_below(&rng, 50) : 0;
}

static void
dump(const char *what, uint32_t round, const struct input *in)
{
	fprintf(stderr,
	    "\n  seed %#" PRIx64 " round %u: %s\n  L=%" PRIu64
	    " min=%u max=%u fixed=%u n=%u bytes:",
	    (uint64_t)SEED, round, what, in->p.bytes_per_task,
	    in->p.min_parallelism, in->p.max_parallelism,
	    in->p.fixed_parallelism, in->n);
	for (uint32_t i = 0; i < in->n; i++)
		fprintf(stderr, " %" PRIu64, in->b[i]);
	fprintf(stderr, "\n");
}

/*
 * The greedy rule stated as conditions on the result, independent of how
 * pack walks: inside a range every non-empty subpartition keeps the sum
 * from its start within the limit; each later range starts with a
 * non-empty subpartition that would have taken the previous one above it.
 */
static bool
greedy_ok(const uint64_t *b, uint32_t n, uint64_t limit, const uint32_t *st,
    uint32_t count)
{
	if (count < 1 || st[0] != 0)
		return false;
	for (uint32_t k = 0; k < count; k++) {
		uint32_t end = k + 1 < count ? st[k + 1] : n;
		uint64_t s = b[st[k]];

		if (end <= st[k])
			return false;
		for (uint32_t i = st[k] + 1; i < end; i++) {
			s = sat(s, b[i]);
			if (b[i] > 0 && s > limit)
				return false;
		}
		if (end < n && (b[end] == 0 || sat(s, b[end]) <= limit))
			return false;
	}
	return true;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Greedy counts for every limit 0..sum+1, when the sum is small. */
static uint32_t counts[MAXN * 100 + 2];

static uint32_t
count_at(const struct input *in, uint64_t l)
{
	return in->huge ? sli_adaptive_pack(in->b, in->n, l, NULL) : counts[l];
}

/*
 * The count only changes where a comparison "sum(a..i) > L" does, that is
 * at L = a sum of consecutive byte counts; so the smallest limit with at
 * most t ranges is 0 or one of those sums. Exhaustive over them, for any
 * size of sum. For huge sums, where no sweep is possible, it also checks
 * that the count is a non-increasing step function changing only at those
 * points, which the above relies on (for small sums the sweep shows it).
 */
static bool
smallest_by_candidates(const struct input *in, uint32_t t, uint64_t *best)
{
	static uint64_t cand[1 + MAXN * (MAXN + 1) / 2];
	uint32_t nc = 0, uniq = 1, prev = UINT32_MAX;
	bool found = false;

	cand[nc++] = 0;
	for (uint32_t a = 0; a < in->n; a++) {
		uint64_t s = 0;

		for (uint32_t i = a; i < in->n; i++)
			cand[nc++] = s = sat(s, in->b[i]);
	}
	qsort(cand, nc, sizeof(cand[0]), cmp_u64);
	for (uint32_t c = 1; c < nc; c++) {
		if (cand[c] == cand[uniq - 1])
			continue;
		cand[uniq++] = cand[c];
	}
	nc = uniq;
	for (uint32_t c = 0; c < nc; c++) {
		uint64_t l = cand[c];
		uint32_t here = count_at(in, l);

		if (here > prev)
			return false;
		if (in->huge && l > 0 &&
		    sli_adaptive_pack(in->b, in->n, l - 1, NULL) < here)
			return false;
		/* Flat up to the next point. */
		if (in->huge && c + 1 < nc && cand[c + 1] - 1 > l &&
		    sli_adaptive_pack(in->b, in->n, cand[c + 1] - 1, NULL) !=
		        here)
			return false;
		prev = here;
		if (here <= t && !found) {
			*best = l;
			found = true;
		}
	}
	/* The largest point is the whole sum: one range. */
	return found && prev == 1;
}

/* Every limit from 0 to sum + 1, once each. */
static bool
sweep(const struct input *in, uint64_t sum)
{
	for (uint64_t l = 0; l <= sum + 1; l++) {
		counts[l] = sli_adaptive_pack(in->b, in->n, l, NULL);
		if (l > 0 && counts[l] > counts[l - 1])
			return false;
	}
	return counts[sum] == 1 && counts[0] <= in->n;
}

/* What DESIGN §5 asks for, the slow way. */
static bool
check_one(uint32_t round, const struct input *in, uint32_t *branch)
{
	struct sli_adaptive_decision d;
	uint32_t st[MAXN], want[MAXN];
	uint32_t p, t, np;
	uint64_t sum = 0, best = 0, lin;
	bool greedy, ok;

	for (uint32_t i = 0; i < in->n; i++)
		sum = sat(sum, in->b[i]);
	/* Monotone in the limit for every input, whatever its branch. */
	if (!in->huge && !sweep(in, sum)) {
		dump("count not monotone in the limit", round, in);
		return false;
	}
	p = sli_adaptive_pack(in->b, in->n, in->p.bytes_per_task, st);
	if (p < 1 || p > in->n ||
	    !greedy_ok(in->b, in->n, in->p.bytes_per_task, st, p)) {
		dump("greedy packing breaks its rule", round, in);
		return false;
	}

	if (in->p.fixed_parallelism != 0) {
		greedy = p == in->p.fixed_parallelism;
		t = in->p.fixed_parallelism;
	} else {
		greedy =
		    p >= in->p.min_parallelism && p <= in->p.max_parallelism;
		t = p < in->p.min_parallelism   ? in->p.min_parallelism
		    : p > in->p.max_parallelism ? in->p.max_parallelism
		                                : p;
	}
	if (t > in->n)
		t = in->n;
	/* Run even when unused: it checks monotonicity for huge sums. */
	if (!smallest_by_candidates(in, t, &best)) {
		dump("count not monotone in the limit", round, in);
		return false;
	}

	if (greedy) {
		memcpy(want, st, p * sizeof(*st));
		np = p;
		*branch = 0;
	} else {
		if (!in->huge) {
			for (lin = 0; counts[lin] > t; lin++)
				;
			if (lin != best) {
				dump("linear scan and candidates disagree",
				    round, in);
				return false;
			}
		}
		np = sli_adaptive_pack(in->b, in->n, best, want);
		*branch = 1;
		if (np != t) {
			for (uint32_t k = 0; k < t; k++)
				want[k] = (uint32_t)((uint64_t)k * in->n / t);
			np = t;
			*branch = 2;
		}
	}

	if (sli_adaptive_decide(in->b, in->n, &in->p, &d) != 0) {
		dump(sl_errdetail(), round, in);
		return false;
	}
	ok = d.parallelism == np &&
	    memcmp(d.start, want, np * sizeof(*want)) == 0;
	/* And the plain promises, whatever the branch. */
	ok = ok && d.parallelism >= 1 && d.start[0] == 0 &&
	    d.start[d.parallelism - 1] < in->n;
	for (uint32_t k = 1; ok && k < d.parallelism; k++)
		ok = d.start[k] > d.start[k - 1];
	if (ok && in->p.fixed_parallelism != 0)
		ok = d.parallelism ==
		    (in->p.fixed_parallelism < in->n ? in->p.fixed_parallelism
		                                     : in->n);
	else if (ok)
		ok = (d.parallelism >= in->p.min_parallelism ||
		         d.parallelism == in->n) &&
		    d.parallelism <= in->p.max_parallelism;
	if (!ok) {
		dump("decision differs from the reference", round, in);
		fprintf(stderr, "  got %u:", d.parallelism);
		for (uint32_t k = 0; k < d.parallelism; k++)
			fprintf(stderr, " %u", d.start[k]);
		fprintf(stderr, "\n  want %u:", np);
		for (uint32_t k = 0; k < np; k++)
			fprintf(stderr, " %u", want[k]);
		fprintf(stderr, "\n");
	}
	sli_adaptive_decision_free(&d);
	return ok;
}

static void
test_properties(void)
{
	static const char *const names[] = { "greedy", "smallest limit",
		"even" };
	uint32_t seen[3] = { 0 }, branch = 0, huge = 0;
	struct input in;

	rng = SEED;
	fprintf(
	    stderr, "\n  seed %#" PRIx64 ", %u inputs", (uint64_t)SEED, ROUNDS);
	for (uint32_t r = 0; r < ROUNDS; r++) {
		gen(&in);
		if (!check_one(r, &in, &branch)) {
			CU_FAIL("property broken; input above");
			return;
		}
		seen[branch]++;
		huge += in.huge;
	}
	fprintf(stderr, " (%u with huge sums):", huge);
	for (uint32_t k = 0; k < 3; k++)
		fprintf(stderr, " %s %u", names[k], seen[k]);
	fprintf(stderr, "\n");
	/* A property test that never reaches a branch proves nothing there. */
	for (uint32_t k = 0; k < 3; k++)
		CU_ASSERT(seen[k] >= ROUNDS / 10);
}

/* A source: one task per bytes_per_task, rounded up, within the bounds;
 * a fixed parallelism wins. */
static void
test_source(void)
{
	struct sli_adaptive_params p = { .bytes_per_task = 100,
		.min_parallelism = 1,
		.max_parallelism = 8 };

	CU_ASSERT_EQUAL(sli_adaptive_source(0, &p), 1);
	CU_ASSERT_EQUAL(sli_adaptive_source(1, &p), 1);
	CU_ASSERT_EQUAL(sli_adaptive_source(100, &p), 1);
	CU_ASSERT_EQUAL(sli_adaptive_source(101, &p), 2);
	CU_ASSERT_EQUAL(sli_adaptive_source(799, &p), 8);
	CU_ASSERT_EQUAL(sli_adaptive_source(801, &p), 8); /* max */
	CU_ASSERT_EQUAL(sli_adaptive_source(UINT64_MAX, &p), 8);
	p.min_parallelism = 3;
	CU_ASSERT_EQUAL(sli_adaptive_source(150, &p), 3); /* min */
	p.bytes_per_task = 1;
	CU_ASSERT_EQUAL(sli_adaptive_source(UINT64_MAX, &p), 8);
	p.fixed_parallelism = 5;
	CU_ASSERT_EQUAL(sli_adaptive_source(10, &p), 5);
}

/* Skew: 4 producers x 4 subpartitions, subpartition 2 hot. */
static const uint64_t skewed[4 * 4] = {
	10, 10, 100, 10, /* producer 0 */
	10, 10, 300, 10, /* 1 */
	10, 10, 0, 10,   /* 2: none of the hot one */
	10, 10, 200, 10, /* 3 */
};

static void
decide_skewed(struct sli_adaptive_decision *d)
{
	struct sli_adaptive_params p = params(100, 1, 4, 0);
	uint64_t sum[4] = { 0 };

	for (uint32_t q = 0; q < 4; q++)
		for (uint32_t i = 0; i < 4; i++)
			sum[i] += skewed[q * 4 + i];
	/* 40 | 40 | 600 | 40: ranges [0,1] [2] [3] */
	CU_ASSERT_EQUAL_FATAL(sli_adaptive_decide(sum, 4, &p, d), 0);
	CU_ASSERT_EQUAL_FATAL(d->parallelism, 3);
	CU_ASSERT_EQUAL(d->start[1], 2);
}

/* The hot range gets ceil(600 / 100) = 6 slices, cut to the 3 producers
 * that have bytes in it; the slices balance the producers' bytes. */
static void
test_skew_split(void)
{
	struct sli_adaptive_params p = params(100, 1, 4, 0);
	struct sli_adaptive_decision d;
	struct sli_adaptive_split *s;
	uint32_t n;

	decide_skewed(&d);
	CU_ASSERT_EQUAL_FATAL(
	    sli_adaptive_skew(skewed, 4, 4, &d, &p, 2, 10, &s, &n), 0);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_EQUAL(s[0].range, 1);
	CU_ASSERT_EQUAL_FATAL(s[0].nslices, 3);
	/* 100 | 300 + 0 | 200: an empty producer never opens a slice */
	CU_ASSERT_EQUAL(s[0].first[0], 0);
	CU_ASSERT_EQUAL(s[0].first[1], 1);
	CU_ASSERT_EQUAL(s[0].first[2], 3);
	sli_adaptive_splits_free(s, n);
	sli_adaptive_decision_free(&d);
}

/* Not split: at or below the factor, factor 0 or "never", no room. */
static void
test_skew_none(void)
{
	struct sli_adaptive_params p = params(100, 1, 4, 0);
	struct sli_adaptive_decision d;
	struct sli_adaptive_split *s = (void *)&d;
	uint32_t n = 7;

	decide_skewed(&d);
	CU_ASSERT_EQUAL(
	    sli_adaptive_skew(skewed, 4, 4, &d, &p, 6, 10, &s, &n), 0);
	CU_ASSERT_PTR_NULL(s); /* 600 is not above 6 x 100 */
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(
	    sli_adaptive_skew(skewed, 4, 4, &d, &p, 0, 10, &s, &n), 0);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(
	    sli_adaptive_skew(skewed, 4, 4, &d, &p, SL_SKEW_NEVER, 10, &s, &n),
	    0);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(
	    sli_adaptive_skew(skewed, 4, 4, &d, &p, 2, 1, &s, &n), 0);
	CU_ASSERT_EQUAL(n, 0); /* one spare task cannot split anything */
	/* two spare tasks: two slices */
	CU_ASSERT_EQUAL_FATAL(
	    sli_adaptive_skew(skewed, 4, 4, &d, &p, 2, 2, &s, &n), 0);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_EQUAL(s[0].nslices, 2);
	sli_adaptive_splits_free(s, n);
	sli_adaptive_decision_free(&d);
}

/* Two hot ranges, room for one split of 3 and nothing for the other: the
 * larger is served first; the slices cover the producers exactly. */
static void
test_skew_largest_first(void)
{
	static const uint64_t b[3 * 2] = { 200, 400, 200, 400, 200, 400 };
	struct sli_adaptive_params p = params(100, 1, 2, 0);
	uint64_t sum[2] = { 600, 1200 };
	struct sli_adaptive_decision d;
	struct sli_adaptive_split *s;
	uint32_t n;

	CU_ASSERT_EQUAL_FATAL(sli_adaptive_decide(sum, 2, &p, &d), 0);
	CU_ASSERT_EQUAL_FATAL(d.parallelism, 2);
	CU_ASSERT_EQUAL_FATAL(
	    sli_adaptive_skew(b, 3, 2, &d, &p, 1, 4, &s, &n), 0);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_EQUAL(s[0].range, 1);
	CU_ASSERT_EQUAL(s[0].nslices, 3);
	CU_ASSERT_EQUAL(s[0].first[0], 0);
	CU_ASSERT_EQUAL(s[0].first[1], 1);
	CU_ASSERT_EQUAL(s[0].first[2], 2);
	sli_adaptive_splits_free(s, n);
	/* room for both: 3 and 3 */
	CU_ASSERT_EQUAL_FATAL(
	    sli_adaptive_skew(b, 3, 2, &d, &p, 1, 6, &s, &n), 0);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_EQUAL(s[0].range, 1);
	CU_ASSERT_EQUAL(s[1].range, 0);
	CU_ASSERT_EQUAL(s[1].nslices, 3);
	sli_adaptive_splits_free(s, n);
	sli_adaptive_decision_free(&d);
}

/* Slices are even shares, not packed at bytes_per_task: 9 producers of 10
 * bytes in 3 slices are 3 | 3 | 3, where packing at 40 would give 4 | 4 | 1.
 */
static void
test_skew_even_slices(void)
{
	uint64_t b[9];
	struct sli_adaptive_params p = params(40, 1, 4, 0);
	struct sli_adaptive_decision d = { 0 };
	uint32_t start0 = 0;
	struct sli_adaptive_split *s;
	uint32_t n;

	for (uint32_t q = 0; q < 9; q++)
		b[q] = 10;
	d.parallelism = 1;
	d.start = &start0;
	/* 90 bytes, 3 slices wanted (ceil(90 / 40)), room for 3 */
	CU_ASSERT_EQUAL_FATAL(
	    sli_adaptive_skew(b, 9, 1, &d, &p, 2, 3, &s, &n), 0);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_EQUAL_FATAL(s[0].nslices, 3);
	CU_ASSERT_EQUAL(s[0].first[1], 3);
	CU_ASSERT_EQUAL(s[0].first[2], 6);
	sli_adaptive_splits_free(s, n);
}

static const struct sl_test tests[] = {
	{ "design example", test_design_example },
	{ "all equal", test_all_equal },
	{ "all zero", test_all_zero },
	{ "huge subpartition alone", test_huge_alone },
	{ "below min: smallest limit", test_below_min },
	{ "above max: smallest limit", test_above_max },
	{ "even split fallback", test_even_split },
	{ "fixed parallelism", test_fixed },
	{ "capped at n", test_capped_at_n },
	{ "min equals max", test_min_equals_max },
	{ "single subpartition", test_single },
	{ "saturating sums", test_saturation },
	{ "a source from its input size", test_source },
	{ "invalid parameters", test_invalid },
	{ "properties", test_properties },
	{ "skew: a hot range split by producers", test_skew_split },
	{ "skew: when nothing is split", test_skew_none },
	{ "skew: the largest range first", test_skew_largest_first },
	{ "skew: even slices", test_skew_even_slices },
	{ NULL, NULL },
};

SL_TEST_MAIN("adaptive", tests)
