/*
 * The adaptive batch parallelism decision (DESIGN §5).
 *
 * Why a binary search is sound: the greedy count is non-increasing in the
 * limit. A range that starts at s under limit L ends at the last i before
 * the first non-empty subpartition j > s with sum(s..j) > L. That end moves
 * no earlier when L grows, nor when s moves later (sum(s..j) only shrinks).
 * So, by induction on k, the k-th range under a larger limit ends no
 * earlier than the k-th range under a smaller one, and there are no more
 * ranges. At limit = sum of all bytes the count is 1, so the smallest
 * limit giving at most t ranges lies in [0, sum]. The tests check both.
 */
#include <inttypes.h>
#include <stdlib.h>

#include <sluice/graph.h>

#include "../common/error.h"
#include "adaptive.h"

/*
 * Producers report the byte counts; a sum that wrapped would make a huge
 * range look small, so sums stick at UINT64_MAX instead.
 */
static uint64_t
sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

uint32_t
sli_adaptive_pack(
    const uint64_t *bytes, uint32_t n, uint64_t limit, uint32_t *starts)
{
	uint32_t count = 0;
	uint64_t cur = 0;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t next = sat_add(cur, bytes[i]);

		/*
		 * An empty subpartition never opens a range. This only
		 * matters after one above the limit (the only way cur exceeds
		 * it): adding nothing to that range takes it nowhere new, and
		 * a task of its own for zero bytes would be pure overhead.
		 */
		if (count == 0 || (bytes[i] > 0 && next > limit)) {
			if (starts != NULL)
				starts[count] = i;
			count++;
			cur = bytes[i];
		} else {
			cur = next;
		}
	}
	return count;
}

static int
check_params(
    const uint64_t *bytes, uint32_t n, const struct sli_adaptive_params *p)
{
	if (p == NULL)
		return sli_err(
		    SL_EINVAL, "adaptive parallelism: no parameters");
	if (n == 0)
		return sli_err(SL_EINVAL,
		    "adaptive parallelism: no subpartitions to divide "
		    "(max_parallelism of the producers is 0)");
	if (bytes == NULL)
		return sli_err(SL_EINVAL,
		    "adaptive parallelism: %" PRIu32
		    " subpartitions but no byte counts",
		    n);
	if (p->bytes_per_task == 0)
		return sli_err(SL_EINVAL,
		    "adaptive parallelism: bytes_per_task must be above 0");
	if (p->min_parallelism < 1 || p->min_parallelism > p->max_parallelism)
		return sli_err(SL_EINVAL,
		    "adaptive parallelism: bounds [%" PRIu32 ", %" PRIu32
		    "] do not satisfy 1 <= min <= max",
		    p->min_parallelism, p->max_parallelism);
	return 0;
}

int
sli_adaptive_decide(const uint64_t *bytes, uint32_t n,
    const struct sli_adaptive_params *p, struct sli_adaptive_decision *out)
{
	uint32_t *start, *shrunk;
	uint32_t got, t;
	uint64_t sum = 0, lo, hi;
	int rv;

	if (out == NULL)
		return sli_err(
		    SL_EINVAL, "adaptive parallelism: no decision to fill");
	/* Freeing a decision whose computation failed is then harmless. */
	out->parallelism = 0;
	out->start = NULL;
	if ((rv = check_params(bytes, n, p)) != 0)
		return rv;
	/* Greedy packing at any limit makes at most n ranges. */
	if ((start = malloc((size_t)n * sizeof(*start))) == NULL)
		return sli_err(SL_ENOMEM, "out of memory");

	got = sli_adaptive_pack(bytes, n, p->bytes_per_task, start);
	if (p->fixed_parallelism != 0) {
		/* A fixed parallelism overrides the bounds; only the ranges
		 * are ours to choose. */
		if (got == p->fixed_parallelism)
			goto out_done;
		t = p->fixed_parallelism;
	} else {
		if (got >= p->min_parallelism && got <= p->max_parallelism)
			goto out_done;
		t = got < p->min_parallelism ? p->min_parallelism
		                             : p->max_parallelism;
	}
	/*
	 * Never more tasks than subpartitions: a range holds at least one,
	 * and an extra task would read nothing. This overrides min and a
	 * fixed parallelism alike, and keeps every even-split range
	 * non-empty. (got <= n always, so the branches above need no cap.)
	 */
	if (t > n)
		t = n;

	for (uint32_t i = 0; i < n; i++)
		sum = sat_add(sum, bytes[i]);
	/* The smallest limit giving at most t ranges; see the top comment. */
	lo = 0;
	hi = sum;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (sli_adaptive_pack(bytes, n, mid, NULL) <= t)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (sli_adaptive_pack(bytes, n, lo, start) != t) {
		/*
		 * The count skips t (equal sizes, say: 4 x 1 byte gives 4
		 * ranges at limit 1 and 2 at limit 2, never 3): no limit
		 * yields t ranges, so divide the subpartitions evenly by
		 * count. 64-bit product: k * n overflows 32 bits.
		 */
		for (uint32_t k = 0; k < t; k++)
			start[k] = (uint32_t)((uint64_t)k * n / t);
	}
	got = t;

out_done:
	/* Give back the unused tail; keeping the larger block is fine. */
	if (got < n && (shrunk = realloc(start, got * sizeof(*start))) != NULL)
		start = shrunk;
	out->parallelism = got;
	out->start = start;
	return 0;
}

void
sli_adaptive_decision_free(struct sli_adaptive_decision *d)
{
	if (d == NULL)
		return;
	free(d->start);
	d->start = NULL;
	d->parallelism = 0;
}

uint32_t
sli_adaptive_source(uint64_t bytes, const struct sli_adaptive_params *p)
{
	uint64_t t;

	if (p->fixed_parallelism != 0)
		return p->fixed_parallelism;
	t = bytes / p->bytes_per_task + (bytes % p->bytes_per_task != 0);
	if (t < p->min_parallelism)
		t = p->min_parallelism;
	if (t > p->max_parallelism)
		t = p->max_parallelism;
	return (uint32_t)t;
}

/* The bytes of range k of d, per producer (row[m]) and in all. */
static uint64_t
range_bytes(const uint64_t *bytes, uint32_t m, uint32_t n,
    const struct sli_adaptive_decision *d, uint32_t k, uint64_t *row)
{
	uint32_t lo = d->start[k],
	         hi = k + 1 < d->parallelism ? d->start[k + 1] : n;
	uint64_t all = 0;

	for (uint32_t q = 0; q < m; q++) {
		row[q] = 0;
		for (uint32_t i = lo; i < hi; i++)
			row[q] = sat_add(row[q], bytes[(size_t)q * n + i]);
		all = sat_add(all, row[q]);
	}
	return all;
}

void
sli_adaptive_splits_free(struct sli_adaptive_split *s, uint32_t n)
{
	for (uint32_t i = 0; s != NULL && i < n; i++)
		free(s[i].first);
	free(s);
}

int
sli_adaptive_skew(const uint64_t *bytes, uint32_t m, uint32_t n,
    const struct sli_adaptive_decision *d, const struct sli_adaptive_params *p,
    uint32_t factor, uint32_t room, struct sli_adaptive_split **out,
    uint32_t *nout)
{
	uint64_t *total = NULL, *row = NULL, limit;
	uint32_t *order = NULL, nsplit = 0;
	struct sli_adaptive_split *split = NULL;
	int rv = 0;

	*out = NULL;
	*nout = 0;
	if (factor == 0 || factor == SL_SKEW_NEVER || m == 0 ||
	    d->parallelism == 0 || room < 2)
		return 0;
	limit = p->bytes_per_task > UINT64_MAX / factor
	    ? UINT64_MAX
	    : p->bytes_per_task * factor;
	total = calloc(d->parallelism, sizeof(*total));
	order = calloc(d->parallelism, sizeof(*order));
	row = calloc(m, sizeof(*row));
	split = calloc(d->parallelism, sizeof(*split));
	if (total == NULL || order == NULL || row == NULL || split == NULL) {
		rv = sli_err(SL_ENOMEM, "out of memory");
		goto out;
	}
	/* the ranges above the limit, largest first (insertion: few) */
	for (uint32_t k = 0; k < d->parallelism; k++) {
		uint32_t at;

		if ((total[k] = range_bytes(bytes, m, n, d, k, row)) <= limit)
			continue;
		for (at = nsplit; at > 0 && total[order[at - 1]] < total[k];
		     at--)
			order[at] = order[at - 1];
		order[at] = k;
		nsplit++;
	}
	*nout = 0;
	for (uint32_t i = 0; i < nsplit && room >= 2; i++) {
		uint32_t k = order[i], busy = 0;
		uint64_t want = total[k] / p->bytes_per_task +
		    (total[k] % p->bytes_per_task != 0);
		struct sli_adaptive_params sp = {
			.bytes_per_task = p->bytes_per_task,
			.min_parallelism = 1,
			.max_parallelism = m,
		};
		struct sli_adaptive_decision slices;

		range_bytes(bytes, m, n, d, k, row);
		for (uint32_t q = 0; q < m; q++)
			busy += row[q] > 0;
		if (want > busy)
			want = busy;
		if (want > room)
			want = room;
		if (want < 2)
			continue;
		/* equal slices: start from an even share, and the search
		 * finds the smallest largest slice when that is not it */
		sp.fixed_parallelism = (uint32_t)want;
		sp.bytes_per_task = total[k] / want + (total[k] % want != 0);
		if ((rv = sli_adaptive_decide(row, m, &sp, &slices)) != 0)
			goto out;
		split[*nout] = (struct sli_adaptive_split) {
			.range = k,
			.nslices = slices.parallelism,
			.first = slices.start,
		};
		room -= slices.parallelism;
		(*nout)++;
	}
	if (*nout == 0) {
		free(split);
		split = NULL;
	}
	*out = split;
	split = NULL;
out:
	if (rv != 0) {
		sli_adaptive_splits_free(split, *nout);
		split = NULL;
		*nout = 0;
	}
	free(split);
	free(total);
	free(order);
	free(row);
	return rv;
}
