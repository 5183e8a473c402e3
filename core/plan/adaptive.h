/*
 * The adaptive batch parallelism decision (DESIGN §5): how many consumer
 * tasks, and which contiguous range of subpartitions each reads, from the
 * bytes the producers wrote per subpartition.
 */
#ifndef SLI_ADAPTIVE_H
#define SLI_ADAPTIVE_H

#include <stdint.h>

struct sli_adaptive_params {
	uint64_t bytes_per_task;  /* L, > 0 */
	uint32_t min_parallelism; /* >= 1 */
	uint32_t max_parallelism; /* >= min */
	uint32_t
	    fixed_parallelism; /* 0: decide; else only ranges are decided */
};

struct sli_adaptive_decision {
	uint32_t parallelism;
	/* parallelism entries: range k is [start[k], start[k+1] - 1], the
	 * last one ends at n - 1. malloc, owned by the decision. */
	uint32_t *start;
};

/*
 * Greedy packing: walk i = 0..n-1 and start a new range when adding
 * bytes[i] would take the current range above limit (a single bytes[i] >
 * limit forms a range alone). Returns the number of ranges; fills
 * starts[] when it is not NULL (capacity n).
 */
uint32_t sli_adaptive_pack(
    const uint64_t *bytes, uint32_t n, uint64_t limit, uint32_t *starts);

/*
 * Decide for n subpartitions with the given byte counts (inputs already
 * summed per subpartition). The parallelism never exceeds n. Returns 0,
 * or SL_EINVAL (with detail) for n == 0 or bad params. On success free
 * with sli_adaptive_decision_free.
 */
int sli_adaptive_decide(const uint64_t *bytes, uint32_t n,
    const struct sli_adaptive_params *p, struct sli_adaptive_decision *out);
void sli_adaptive_decision_free(struct sli_adaptive_decision *d);

/*
 * Skew (DESIGN §5, docs/job-file.md): a range of d holding more than
 * factor x bytes_per_task is read by several tasks, each from a
 * contiguous slice of the m producers, and their partial results merged
 * by the range's own task. A range gets ceil(bytes / bytes_per_task)
 * slices, no more than its producers with bytes in it, and the extra tasks
 * of all splits stay within room (the largest ranges are served first; a
 * range left fewer than 2 is not split). The slices' bounds are the
 * decision above over the producers' bytes in the range, with the slice
 * count as a fixed parallelism and an even share as the limit: about
 * equal slices.
 */
struct sli_adaptive_split {
	uint32_t range;   /* the decision's range */
	uint32_t nslices; /* >= 2 */
	/* nslices entries: slice q reads producers [first[q], first[q + 1]),
	 * the last one up to m. malloc, owned by the split. */
	uint32_t *first;
};

/* bytes: m rows (producers) of n (subpartitions). factor 0 or
 * SL_SKEW_NEVER never splits. *out: malloc'd, *nout entries, free with
 * sli_adaptive_splits_free; NULL and 0 when nothing is split. */
int sli_adaptive_skew(const uint64_t *bytes, uint32_t m, uint32_t n,
    const struct sli_adaptive_decision *d, const struct sli_adaptive_params *p,
    uint32_t factor, uint32_t room, struct sli_adaptive_split **out,
    uint32_t *nout);
void sli_adaptive_splits_free(struct sli_adaptive_split *s, uint32_t n);

/* A source's parallelism from the bytes it will read: one task per
 * bytes_per_task (rounded up), within [min, max]; a fixed parallelism
 * wins. */
uint32_t sli_adaptive_source(
    uint64_t bytes, const struct sli_adaptive_params *p);

#endif
