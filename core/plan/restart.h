/*
 * Restart strategies (DESIGN §4): whether the job restarts after a task
 * fails, and after how long. Which tasks restart is failover.h's; this
 * only decides "again, in d ms" or "give up". Pure: the caller says when
 * each failure happened (a monotonic clock in ms), so that a test can run
 * any sequence of failures without waiting, and jitter comes from a seed.
 */
#ifndef SLI_RESTART_H
#define SLI_RESTART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/graph.h>

/*
 * Check in and fill in the defaults (graph.h): *out's strategy is never
 * SL_RESTART_DEFAULT, every field of its strategy is set (exponential-delay
 * without attempts gets SL_RESTART_UNLIMITED), and the fields of the other
 * strategies are 0. A resolved spec resolves to itself. SL_EINVAL for a
 * bad value, with *field the job file's name of it ("delay", "jitter";
 * the C field without "_ms") and a detail without it ("must be between 0
 * and 1, got 1.5"); *out is then unchanged. field may be NULL.
 */
int sli_restart_resolve(const struct sl_restart_spec *in,
    struct sl_restart_spec *out, const char **field);

/* The job file's name of a strategy ("fixed-delay"), "default" for
 * SL_RESTART_DEFAULT, "?" for anything else; and back, -1 when unknown. */
const char *sli_restart_strategy_name(uint32_t strategy);
int sli_restart_strategy_parse(const char *s);

/* One line for messages and reports, e.g. "fixed-delay (3 attempts, 1 s
 * delay)"; spec need not be resolved (an invalid one prints its name). */
void sli_restart_describe(
    const struct sl_restart_spec *spec, char *buf, size_t cap);

/* The state of one job's strategy. Read the counters freely; change
 * nothing but through the functions below. */
struct sli_restart {
	struct sl_restart_spec spec; /* resolved */
	uint32_t failures;           /* failures seen, the last included */
	uint32_t restarts;           /* restarts granted */
	/* exponential-delay: failures since the backoff was last reset */
	uint32_t streak;
	uint64_t last_ms;  /* when the previous failure came */
	double backoff_ms; /* exponential-delay: the backoff before jitter */
	/* failure-rate: the times of the last spec.failures failures, a
	 * ring of ntimes entries from head (the oldest) */
	uint64_t *times;
	uint32_t ntimes;
	uint32_t head;
	uint64_t rng; /* jitter: splitmix64 state */
	bool gave_up; /* sticky: every later failure gives up too */
};

/*
 * Start a strategy: spec is resolved here (so a raw one does too: SL_EINVAL
 * as sli_restart_resolve), seed makes the jitter repeatable. SL_ENOMEM.
 * On failure there is nothing to undo; on success call sli_restart_fini.
 */
int sli_restart_init(
    struct sli_restart *r, const struct sl_restart_spec *spec, uint64_t seed);

/*
 * A failure at now_ms (monotonic; a time before the previous one counts as
 * the previous one). true: restart after *delay_ms; false: the strategy
 * gives up (*delay_ms 0), now and for every later failure. why (cap bytes,
 * may be NULL with cap 0) gets the decision in a few words for messages:
 * "fixed-delay: restart 1 of 3 in 1 s", "fixed-delay: 3 of 3 restarts
 * used", "failure-rate: 2 failures within 60 s, 1 allowed", "none: no
 * restarts".
 *
 * - none: gives up at once.
 * - fixed-delay: restarts `attempts` times in all, each after delay_ms.
 * - exponential-delay: the first failure waits initial_ms; each next one
 *   multiplier times the last backoff, at most max_ms; a failure more than
 *   reset_after_ms after the previous one starts again from initial_ms.
 *   The delay is the backoff plus a uniform draw from +-jitter x backoff,
 *   kept within [0, max_ms]. Gives up when more than `attempts` failures
 *   come without a reset between them (default: never).
 * - failure-rate: gives up when more than `failures` failures, this one
 *   included, came within the last interval_ms (a failure exactly
 *   interval_ms ago is out); else restarts after delay_ms.
 */
bool sli_restart_on_failure(struct sli_restart *r, uint64_t now_ms,
    uint64_t *delay_ms, char *why, size_t cap);

/* Frees what init allocated; safe on a zeroed struct and twice. */
void sli_restart_fini(struct sli_restart *r);

#endif
