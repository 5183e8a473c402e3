/*
 * Restart strategies (DESIGN §4), after Flink's: none, fixed-delay,
 * exponential-delay and failure-rate, with Flink's meanings and nearly its
 * defaults (fixed-delay is the default strategy here, with 3 attempts, as
 * a job without checkpoints has nothing else to fall back on).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "../common/units.h"
#include "restart.h"

static const char *const strategy_names[] = { "default", "none", "fixed-delay",
	"exponential-delay", "failure-rate" };

#define NSTRATEGIES (sizeof(strategy_names) / sizeof(strategy_names[0]))

const char *
sli_restart_strategy_name(uint32_t strategy)
{
	return strategy < NSTRATEGIES ? strategy_names[strategy] : "?";
}

int
sli_restart_strategy_parse(const char *s)
{
	/* "default" is the C API's; a job file says nothing instead */
	for (size_t i = 1; s != NULL && i < NSTRATEGIES; i++)
		if (strcmp(s, strategy_names[i]) == 0)
			return (int)i;
	return -1;
}

/* A duration field: the default when unset, else at most a year. */
static int
duration(uint64_t v, uint64_t dflt, bool zero_ok, const char *name,
    uint64_t *out, const char **field)
{
	char a[32], b[32];

	if (v == SL_RESTART_UNSET) {
		*out = dflt;
		return 0;
	}
	*field = name;
	if (v == 0 && !zero_ok)
		return sli_err(SL_EINVAL, "must be above 0 ms");
	if (v > SL_RESTART_MAX_MS) {
		sli_format_duration_ms(v, a, sizeof(a));
		sli_format_duration_ms(SL_RESTART_MAX_MS, b, sizeof(b));
		return sli_err(SL_EINVAL, "%s is above the limit of %s", a, b);
	}
	*out = v;
	return 0;
}

int
sli_restart_resolve(const struct sl_restart_spec *in,
    struct sl_restart_spec *out, const char **field)
{
	struct sl_restart_spec r = { .strategy = in->strategy };
	const char *dummy;
	int rv = 0;

	if (field == NULL)
		field = &dummy;
	*field = NULL;
	switch (in->strategy) {
	case SL_RESTART_DEFAULT:
		r.strategy = SL_RESTART_FIXED_DELAY;
		r.attempts = SL_DEFAULT_RESTART_ATTEMPTS;
		r.delay_ms = SL_DEFAULT_RESTART_DELAY_MS;
		break;
	case SL_RESTART_NONE:
		break;
	case SL_RESTART_FIXED_DELAY:
		r.attempts =
		    in->attempts ? in->attempts : SL_DEFAULT_RESTART_ATTEMPTS;
		rv = duration(in->delay_ms, SL_DEFAULT_RESTART_DELAY_MS, true,
		    "delay", &r.delay_ms, field);
		break;
	case SL_RESTART_EXPONENTIAL_DELAY:
		r.attempts = in->attempts ? in->attempts : SL_RESTART_UNLIMITED;
		if ((rv = duration(in->initial_ms,
		         SL_DEFAULT_RESTART_INITIAL_MS, false, "initial",
		         &r.initial_ms, field)) != 0 ||
		    (rv = duration(in->max_ms, SL_DEFAULT_RESTART_MAX_MS, false,
		         "max", &r.max_ms, field)) != 0 ||
		    (rv = duration(in->reset_after_ms,
		         SL_DEFAULT_RESTART_RESET_AFTER_MS, false,
		         "reset_after", &r.reset_after_ms, field)) != 0)
			break;
		if (r.initial_ms > r.max_ms) {
			char a[32], b[32];

			sli_format_duration_ms(r.initial_ms, a, sizeof(a));
			sli_format_duration_ms(r.max_ms, b, sizeof(b));
			*field = "max";
			rv = sli_err(SL_EINVAL, "%s%s is below initial %s", b,
			    in->max_ms == SL_RESTART_UNSET ? " (the default)"
			                                   : "",
			    a);
			break;
		}
		r.multiplier = in->multiplier;
		if (r.multiplier == 0)
			r.multiplier = SL_DEFAULT_RESTART_MULTIPLIER;
		/* written so that NaN fails too */
		if (!(r.multiplier >= 1 && isfinite(r.multiplier))) {
			*field = "multiplier";
			rv = sli_err(SL_EINVAL,
			    "must be a number of at least 1, got %g",
			    in->multiplier);
			break;
		}
		r.jitter = in->jitter;
		if (r.jitter == SL_RESTART_JITTER_UNSET)
			r.jitter = SL_DEFAULT_RESTART_JITTER;
		if (!(r.jitter >= 0 && r.jitter <= 1)) {
			*field = "jitter";
			rv = sli_err(SL_EINVAL,
			    "must be between 0 and 1 (a share of the backoff), "
			    "got %g",
			    in->jitter);
		}
		break;
	case SL_RESTART_FAILURE_RATE:
		r.failures =
		    in->failures ? in->failures : SL_DEFAULT_RESTART_FAILURES;
		if (r.failures > SL_RESTART_MAX_FAILURES) {
			*field = "failures";
			rv = sli_err(SL_EINVAL, "%u is above the limit of %d",
			    r.failures, SL_RESTART_MAX_FAILURES);
			break;
		}
		if ((rv = duration(in->interval_ms,
		         SL_DEFAULT_RESTART_INTERVAL_MS, false, "interval",
		         &r.interval_ms, field)) != 0)
			break;
		rv = duration(in->delay_ms, SL_DEFAULT_RESTART_DELAY_MS, true,
		    "delay", &r.delay_ms, field);
		break;
	default:
		*field = "strategy";
		return sli_err(SL_EINVAL,
		    "unknown strategy %u (expected none, fixed-delay, "
		    "exponential-delay or failure-rate)",
		    in->strategy);
	}
	if (rv == 0)
		*out = r;
	return rv;
}

void
sli_restart_describe(const struct sl_restart_spec *spec, char *buf, size_t cap)
{
	struct sl_restart_spec r;
	char a[32], b[32], c[32], n[48] = "";

	if (sli_restart_resolve(spec, &r, NULL) != 0) {
		snprintf(buf, cap, "%s (invalid)",
		    sli_restart_strategy_name(spec->strategy));
		return;
	}
	switch (r.strategy) {
	case SL_RESTART_NONE:
		snprintf(buf, cap, "none (no restarts)");
		break;
	case SL_RESTART_FIXED_DELAY:
		sli_format_duration_ms(r.delay_ms, a, sizeof(a));
		if (r.attempts == SL_RESTART_UNLIMITED)
			snprintf(n, sizeof(n), "unlimited attempts");
		else
			snprintf(n, sizeof(n), "%u attempt%s", r.attempts,
			    r.attempts == 1 ? "" : "s");
		snprintf(buf, cap, "fixed-delay (%s, %s delay)", n, a);
		break;
	case SL_RESTART_EXPONENTIAL_DELAY:
		sli_format_duration_ms(r.initial_ms, a, sizeof(a));
		sli_format_duration_ms(r.max_ms, b, sizeof(b));
		sli_format_duration_ms(r.reset_after_ms, c, sizeof(c));
		if (r.attempts != SL_RESTART_UNLIMITED)
			snprintf(n, sizeof(n), ", %u attempt%s", r.attempts,
			    r.attempts == 1 ? "" : "s");
		snprintf(buf, cap,
		    "exponential-delay (backoff %s to %s, x%g, jitter %g, "
		    "reset after %s%s)",
		    a, b, r.multiplier, r.jitter, c, n);
		break;
	default: /* SL_RESTART_FAILURE_RATE */
		sli_format_duration_ms(r.interval_ms, a, sizeof(a));
		sli_format_duration_ms(r.delay_ms, b, sizeof(b));
		snprintf(buf, cap,
		    "failure-rate (%u failure%s per %s, %s delay)", r.failures,
		    r.failures == 1 ? "" : "s", a, b);
		break;
	}
}

int
sli_restart_init(
    struct sli_restart *r, const struct sl_restart_spec *spec, uint64_t seed)
{
	struct sl_restart_spec s;
	int rv;

	if ((rv = sli_restart_resolve(spec, &s, NULL)) != 0)
		return rv;
	memset(r, 0, sizeof(*r));
	r->spec = s;
	r->rng = seed;
	if (s.strategy == SL_RESTART_FAILURE_RATE &&
	    (r->times = calloc(s.failures, sizeof(*r->times))) == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	return 0;
}

void
sli_restart_fini(struct sli_restart *r)
{
	free(r->times);
	r->times = NULL;
	r->ntimes = 0;
}

/* splitmix64: one multiply-xorshift step per draw, fine for jitter. */
static uint64_t
next_random(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static bool
give_up(struct sli_restart *r, uint64_t *delay_ms)
{
	r->gave_up = true;
	*delay_ms = 0;
	return false;
}

/* Nearest whole ms of a non-negative d (no libm in the core). */
static uint64_t
round_ms(double d)
{
	return (uint64_t)(d + 0.5);
}

/* The next backoff, and the delay it gives with jitter. */
static uint64_t
exponential(struct sli_restart *r, uint64_t now_ms, bool *reset)
{
	const struct sl_restart_spec *s = &r->spec;
	double max = (double)s->max_ms, d;

	*reset = r->failures > 1 && now_ms - r->last_ms > s->reset_after_ms;
	if (r->failures == 1 || *reset) {
		r->backoff_ms = (double)s->initial_ms;
		r->streak = 1;
	} else {
		/* kept as a double: rounding each step would stall 1 ms
		 * times 1.2 at 1 ms for ever */
		d = r->backoff_ms * s->multiplier;
		r->backoff_ms = d < max ? d : max;
		if (r->streak < UINT32_MAX)
			r->streak++;
	}
	d = r->backoff_ms;
	if (s->jitter > 0) {
		/* uniform in [-1, 1) */
		double u = (double)(next_random(&r->rng) >> 11) * 0x1p-53;

		d += (2 * u - 1) * s->jitter * r->backoff_ms;
	}
	return d <= 0 ? 0 : d >= max ? s->max_ms : round_ms(d);
}

bool
sli_restart_on_failure(struct sli_restart *r, uint64_t now_ms,
    uint64_t *delay_ms, char *why, size_t cap)
{
	const struct sl_restart_spec *s = &r->spec;
	char a[32], b[32], c[32], sink[1];
	const char *name = sli_restart_strategy_name(s->strategy);
	uint32_t n = 0;
	bool reset;

	if (why == NULL || cap == 0) {
		why = sink;
		cap = sizeof(sink);
	}
	if (r->failures > 0 && now_ms < r->last_ms)
		now_ms = r->last_ms;
	if (r->failures < UINT32_MAX)
		r->failures++;
	if (r->gave_up) {
		snprintf(why, cap, "%s: gave up before", name);
		return give_up(r, delay_ms);
	}
	switch (s->strategy) {
	case SL_RESTART_FIXED_DELAY:
		if (s->attempts != SL_RESTART_UNLIMITED &&
		    r->restarts >= s->attempts) {
			snprintf(why, cap, "%s: %u of %u restart%s used", name,
			    r->restarts, s->attempts,
			    s->attempts == 1 ? "" : "s");
			return give_up(r, delay_ms);
		}
		*delay_ms = s->delay_ms;
		sli_format_duration_ms(*delay_ms, a, sizeof(a));
		if (s->attempts == SL_RESTART_UNLIMITED)
			snprintf(why, cap, "%s: restart %u in %s", name,
			    r->restarts + 1, a);
		else
			snprintf(why, cap, "%s: restart %u of %u in %s", name,
			    r->restarts + 1, s->attempts, a);
		break;
	case SL_RESTART_EXPONENTIAL_DELAY:
		*delay_ms = exponential(r, now_ms, &reset);
		if (s->attempts != SL_RESTART_UNLIMITED &&
		    r->streak > s->attempts) {
			sli_format_duration_ms(s->reset_after_ms, a, sizeof(a));
			snprintf(why, cap,
			    "%s: %u of %u restart%s used with no pause of "
			    "over %s between failures",
			    name, s->attempts, s->attempts,
			    s->attempts == 1 ? "" : "s", a);
			r->last_ms = now_ms;
			return give_up(r, delay_ms);
		}
		sli_format_duration_ms(*delay_ms, a, sizeof(a));
		sli_format_duration_ms(round_ms(r->backoff_ms), b, sizeof(b));
		if (reset)
			sli_format_duration_ms(
			    now_ms - r->last_ms, c, sizeof(c));
		snprintf(why, cap, "%s: restart %u in %s (backoff %s%s%s%s)",
		    name, r->streak, a, b,
		    reset ? "; reset, the last failure was " : "",
		    reset ? c : "", reset ? " before" : "");
		break;
	case SL_RESTART_FAILURE_RATE:
		/* the ring holds the last `failures` failures, so it holds
		 * every one that can count */
		for (uint32_t k = 0; k < r->ntimes; k++)
			if (now_ms - r->times[(r->head + k) % s->failures] <
			    s->interval_ms)
				n++;
		n++; /* this one */
		sli_format_duration_ms(s->interval_ms, a, sizeof(a));
		if (n > s->failures) {
			snprintf(why, cap,
			    "%s: %u failures within %s, %u allowed", name, n, a,
			    s->failures);
			r->last_ms = now_ms;
			return give_up(r, delay_ms);
		}
		if (r->ntimes < s->failures) {
			r->times[(r->head + r->ntimes) % s->failures] = now_ms;
			r->ntimes++;
		} else {
			r->times[r->head] = now_ms;
			r->head = (r->head + 1) % s->failures;
		}
		*delay_ms = s->delay_ms;
		sli_format_duration_ms(*delay_ms, b, sizeof(b));
		snprintf(why, cap,
		    "%s: %u failure%s within %s, %u allowed; restart in %s",
		    name, n, n == 1 ? "" : "s", a, s->failures, b);
		break;
	default: /* SL_RESTART_NONE */
		snprintf(why, cap, "%s: no restarts", name);
		return give_up(r, delay_ms);
	}
	r->last_ms = now_ms;
	if (r->restarts < UINT32_MAX)
		r->restarts++;
	return true;
}
