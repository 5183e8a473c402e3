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

/* A source's parallelism from the bytes it will read: one task per
 * bytes_per_task (rounded up), within [min, max]; a fixed parallelism
 * wins. */
uint32_t sli_adaptive_source(
    uint64_t bytes, const struct sli_adaptive_params *p);

#endif
