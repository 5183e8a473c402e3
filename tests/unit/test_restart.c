/* Restart strategies (core/plan/restart.c, DESIGN §4) and the durations
 * they are written in (core/common/units.c). */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sluice/errors.h>
#include <sluice/graph.h>

#include "common/units.h"
#include "graph/job.h"
#include "plan/restart.h"
#include "sl_test.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static struct sl_restart_spec
spec(uint32_t strategy)
{
	struct sl_restart_spec r = SL_RESTART_SPEC_INIT;

	r.strategy = strategy;
	return r;
}

/* One failure at t: the decision, the delay and the words for it. */
static void
expect_at(unsigned line, struct sli_restart *r, uint64_t t, bool want,
    uint64_t want_delay, const char *want_why)
{
	uint64_t delay = 12345;
	char why[160];
	bool got = sli_restart_on_failure(r, t, &delay, why, sizeof(why));
	bool ok = got == want && delay == want_delay &&
	    (want_why == NULL || strcmp(why, want_why) == 0);

	if (!ok)
		fprintf(stderr,
		    "\n  line %u, t=%llu: got %s %llu \"%s\", wanted %s %llu "
		    "\"%s\"\n",
		    line, (unsigned long long)t, got ? "restart" : "give up",
		    (unsigned long long)delay, why,
		    want ? "restart" : "give up",
		    (unsigned long long)want_delay, want_why ? want_why : "*");
	CU_assertImplementation(
	    ok, line, "restart decision", __FILE__, "", CU_FALSE);
}

#define AT(r, t, want, delay, why) expect_at(__LINE__, r, t, want, delay, why)

static void
test_defaults(void)
{
	struct sl_restart_spec in = { 0 }, out;
	sl_job *job;

	/* a zeroed spec is the default strategy: nothing else is read */
	CU_ASSERT_EQUAL_FATAL(sli_restart_resolve(&in, &out, NULL), 0);
	CU_ASSERT_EQUAL(out.strategy, SL_RESTART_FIXED_DELAY);
	CU_ASSERT_EQUAL(out.attempts, 3);
	CU_ASSERT_EQUAL(out.delay_ms, 1000);

	in = spec(SL_RESTART_EXPONENTIAL_DELAY);
	CU_ASSERT_EQUAL_FATAL(sli_restart_resolve(&in, &out, NULL), 0);
	CU_ASSERT_EQUAL(out.initial_ms, 1000);
	CU_ASSERT_EQUAL(out.max_ms, 60000);
	CU_ASSERT_EQUAL(out.multiplier, 1.5);
	CU_ASSERT_EQUAL(out.jitter, 0.1);
	CU_ASSERT_EQUAL(out.reset_after_ms, 3600000);
	CU_ASSERT_EQUAL(out.attempts, SL_RESTART_UNLIMITED);

	in = spec(SL_RESTART_FAILURE_RATE);
	CU_ASSERT_EQUAL_FATAL(sli_restart_resolve(&in, &out, NULL), 0);
	CU_ASSERT_EQUAL(out.failures, 1);
	CU_ASSERT_EQUAL(out.interval_ms, 60000);
	CU_ASSERT_EQUAL(out.delay_ms, 1000);

	in = spec(SL_RESTART_FIXED_DELAY);
	CU_ASSERT_EQUAL_FATAL(sli_restart_resolve(&in, &out, NULL), 0);
	CU_ASSERT_EQUAL(out.attempts, 3);
	CU_ASSERT_EQUAL(out.delay_ms, 1000);

	/* 0 is a value where it can be one */
	in.delay_ms = 0;
	CU_ASSERT_EQUAL_FATAL(sli_restart_resolve(&in, &out, NULL), 0);
	CU_ASSERT_EQUAL(out.delay_ms, 0);
	in = spec(SL_RESTART_EXPONENTIAL_DELAY);
	in.jitter = 0;
	CU_ASSERT_EQUAL_FATAL(sli_restart_resolve(&in, &out, NULL), 0);
	CU_ASSERT_EQUAL(out.jitter, 0);

	/* a resolved spec resolves to itself, whatever the strategy */
	for (uint32_t s = SL_RESTART_DEFAULT; s <= SL_RESTART_FAILURE_RATE;
	     s++) {
		struct sl_restart_spec again;

		in = spec(s);
		CU_ASSERT_EQUAL_FATAL(sli_restart_resolve(&in, &out, NULL), 0);
		CU_ASSERT_NOT_EQUAL(out.strategy, SL_RESTART_DEFAULT);
		CU_ASSERT_EQUAL_FATAL(
		    sli_restart_resolve(&out, &again, NULL), 0);
		CU_ASSERT_EQUAL(memcmp(&out, &again, sizeof(out)), 0);
	}

	/* a job without one has the default */
	CU_ASSERT_EQUAL_FATAL(sl_job_new("j", &job), 0);
	sli_job_restart(job, &out);
	CU_ASSERT_EQUAL(out.strategy, SL_RESTART_FIXED_DELAY);
	CU_ASSERT_EQUAL(out.attempts, SL_DEFAULT_RESTART_ATTEMPTS);
	CU_ASSERT_EQUAL(out.delay_ms, SL_DEFAULT_RESTART_DELAY_MS);
	in = spec(SL_RESTART_FAILURE_RATE);
	in.failures = 4;
	CU_ASSERT_EQUAL_FATAL(sl_job_set_restart(job, &in), 0);
	sli_job_restart(job, &out);
	CU_ASSERT_EQUAL(out.strategy, SL_RESTART_FAILURE_RATE);
	CU_ASSERT_EQUAL(out.failures, 4);
	CU_ASSERT_EQUAL(out.interval_ms, 60000);
	sl_job_free(job);
}

/* Each bad value: SL_EINVAL, the field, the detail; *out unchanged. */
static void
expect_bad(unsigned line, const struct sl_restart_spec *in,
    const char *want_field, const char *want_detail)
{
	struct sl_restart_spec out, before;
	const char *field = NULL;
	int rv;

	memset(&out, 0x5a, sizeof(out));
	before = out;
	rv = sli_restart_resolve(in, &out, &field);
	if (rv != SL_EINVAL || field == NULL ||
	    strcmp(field, want_field) != 0 ||
	    strstr(sl_errdetail(), want_detail) == NULL)
		fprintf(stderr, "\n  line %u: got %s, %s: \"%s\"\n", line,
		    sl_errname(rv), field ? field : "(null)", sl_errdetail());
	CU_assertImplementation(rv == SL_EINVAL && field != NULL &&
	        strcmp(field, want_field) == 0 &&
	        strstr(sl_errdetail(), want_detail) != NULL &&
	        memcmp(&out, &before, sizeof(out)) == 0,
	    line, "bad restart spec", __FILE__, "", CU_FALSE);
}

#define BAD(in, field, detail) expect_bad(__LINE__, &(in), field, detail)

static void
test_invalid(void)
{
	struct sl_restart_spec r = spec(9);
	sl_job *job;

	BAD(r, "strategy", "unknown strategy 9");
	r = spec(SL_RESTART_EXPONENTIAL_DELAY);
	r.initial_ms = 0;
	BAD(r, "initial", "must be above 0 ms");
	r = spec(SL_RESTART_EXPONENTIAL_DELAY);
	r.initial_ms = 1000;
	r.max_ms = 500;
	BAD(r, "max", "500 ms is below initial 1 s");
	r = spec(SL_RESTART_EXPONENTIAL_DELAY);
	r.initial_ms = 120000;
	BAD(r, "max", "60 s (the default) is below initial 2 min");
	r = spec(SL_RESTART_EXPONENTIAL_DELAY);
	r.multiplier = 0.5;
	BAD(r, "multiplier", "must be a number of at least 1, got 0.5");
	r.multiplier = NAN;
	BAD(r, "multiplier", "at least 1");
	r.multiplier = INFINITY;
	BAD(r, "multiplier", "at least 1");
	r = spec(SL_RESTART_EXPONENTIAL_DELAY);
	r.jitter = 1.5;
	BAD(r, "jitter", "must be between 0 and 1");
	r.jitter = -0.5;
	BAD(r, "jitter", "got -0.5");
	r.jitter = NAN;
	BAD(r, "jitter", "between 0 and 1");
	r = spec(SL_RESTART_EXPONENTIAL_DELAY);
	r.reset_after_ms = 0;
	BAD(r, "reset_after", "above 0");
	r = spec(SL_RESTART_FAILURE_RATE);
	r.failures = SL_RESTART_MAX_FAILURES + 1;
	BAD(r, "failures", "10001 is above the limit of 10000");
	r = spec(SL_RESTART_FAILURE_RATE);
	r.interval_ms = 0;
	BAD(r, "interval", "above 0");
	r = spec(SL_RESTART_FIXED_DELAY);
	r.delay_ms = SL_RESTART_MAX_MS + 1;
	BAD(r, "delay", "is above the limit of 8760 h");
	r.delay_ms = SL_RESTART_MAX_MS;
	CU_ASSERT_EQUAL(sli_restart_resolve(&r, &r, NULL), 0);

	/* the fields of other strategies are not read */
	r = spec(SL_RESTART_FIXED_DELAY);
	r.initial_ms = 0;
	r.jitter = 7;
	r.failures = UINT32_MAX;
	CU_ASSERT_EQUAL(sli_restart_resolve(&r, &r, NULL), 0);

	/* the C API names the field and leaves the job as it was */
	CU_ASSERT_EQUAL_FATAL(sl_job_new("j", &job), 0);
	r = spec(SL_RESTART_EXPONENTIAL_DELAY);
	r.jitter = 2;
	CU_ASSERT_EQUAL(sl_job_set_restart(job, &r), SL_EINVAL);
	CU_ASSERT_STRING_EQUAL(sl_errdetail(),
	    "restart: jitter: must be between 0 and 1 (a share of the "
	    "backoff), got 2");
	CU_ASSERT_EQUAL(sl_job_set_restart(job, NULL), SL_EINVAL);
	sli_job_restart(job, &r);
	CU_ASSERT_EQUAL(r.strategy, SL_RESTART_FIXED_DELAY);
	sl_job_free(job);

	/* init refuses what resolve refuses */
	{
		struct sli_restart st;

		r = spec(SL_RESTART_FAILURE_RATE);
		r.interval_ms = 0;
		CU_ASSERT_EQUAL(sli_restart_init(&st, &r, 1), SL_EINVAL);
	}
}

static void
test_none(void)
{
	struct sl_restart_spec s = spec(SL_RESTART_NONE);
	struct sli_restart r;

	CU_ASSERT_EQUAL_FATAL(sli_restart_init(&r, &s, 1), 0);
	AT(&r, 5, false, 0, "none: no restarts");
	AT(&r, 99999999, false, 0, "none: gave up before");
	CU_ASSERT_EQUAL(r.failures, 2);
	CU_ASSERT_EQUAL(r.restarts, 0);
	sli_restart_fini(&r);
}

static void
test_fixed_delay(void)
{
	struct sl_restart_spec s = { 0 }; /* the default */
	struct sli_restart r;

	CU_ASSERT_EQUAL_FATAL(sli_restart_init(&r, &s, 1), 0);
	AT(&r, 0, true, 1000, "fixed-delay: restart 1 of 3 in 1 s");
	AT(&r, 10, true, 1000, "fixed-delay: restart 2 of 3 in 1 s");
	/* however long apart: fixed-delay counts every failure */
	AT(&r, 10000000, true, 1000, "fixed-delay: restart 3 of 3 in 1 s");
	AT(&r, 20000000, false, 0, "fixed-delay: 3 of 3 restarts used");
	AT(&r, 30000000, false, 0, "fixed-delay: gave up before");
	CU_ASSERT_EQUAL(r.restarts, 3);
	CU_ASSERT_EQUAL(r.failures, 5);
	sli_restart_fini(&r);

	s = spec(SL_RESTART_FIXED_DELAY);
	s.attempts = 1;
	s.delay_ms = 0;
	CU_ASSERT_EQUAL_FATAL(sli_restart_init(&r, &s, 1), 0);
	AT(&r, 0, true, 0, "fixed-delay: restart 1 of 1 in 0 ms");
	AT(&r, 0, false, 0, "fixed-delay: 1 of 1 restart used");
	sli_restart_fini(&r);

	s.attempts = SL_RESTART_UNLIMITED;
	s.delay_ms = 250;
	CU_ASSERT_EQUAL_FATAL(sli_restart_init(&r, &s, 1), 0);
	for (uint64_t t = 0; t < 1000; t++) {
		uint64_t d;

		CU_ASSERT_TRUE(sli_restart_on_failure(&r, t, &d, NULL, 0));
		CU_ASSERT_EQUAL(d, 250);
	}
	AT(&r, 1000, true, 250, "fixed-delay: restart 1001 in 250 ms");
	sli_restart_fini(&r);
}

static struct sl_restart_spec
exp_spec(uint64_t initial, uint64_t max, double mult, double jitter,
    uint64_t reset, uint32_t attempts)
{
	struct sl_restart_spec s = spec(SL_RESTART_EXPONENTIAL_DELAY);

	s.initial_ms = initial;
	s.max_ms = max;
	s.multiplier = mult;
	s.jitter = jitter;
	s.reset_after_ms = reset;
	s.attempts = attempts;
	return s;
}

static void
test_exponential(void)
{
	struct sl_restart_spec s = exp_spec(100, 1000, 2, 0, 10000, 0);
	struct sli_restart r;
	uint64_t t = 0;

	CU_ASSERT_EQUAL_FATAL(sli_restart_init(&r, &s, 1), 0);
	AT(&r, t, true, 100,
	    "exponential-delay: restart 1 in 100 ms (backoff 100 ms)");
	AT(&r, t += 100, true, 200, NULL);
	AT(&r, t += 100, true, 400, NULL);
	AT(&r, t += 100, true, 800, NULL);
	AT(&r, t += 100, true, 1000,
	    "exponential-delay: restart 5 in 1 s (backoff 1 s)");
	AT(&r, t += 100, true, 1000, NULL);
	/* exactly reset_after later is not more than it: no reset */
	AT(&r, t += 10000, true, 1000, NULL);
	/* one more millisecond is */
	AT(&r, t += 10001, true, 100,
	    "exponential-delay: restart 1 in 100 ms (backoff 100 ms; reset, "
	    "the last failure was 10.001 s before)");
	AT(&r, t += 1, true, 200, NULL);
	AT(&r, t += 1, true, 400, NULL);
	AT(&r, t += 1, true, 800, NULL);
	/* never gives up without attempts */
	for (int k = 0; k < 1000; k++)
		AT(&r, t += 1, true, 1000, NULL);
	CU_ASSERT_EQUAL(r.restarts, 1011);
	CU_ASSERT_EQUAL(r.failures, 1011);
	sli_restart_fini(&r);

	/* multiplier 1 is a fixed delay that never gives up */
	s = exp_spec(300, 300, 1, 0, 10000, 0);
	CU_ASSERT_EQUAL_FATAL(sli_restart_init(&r, &s, 1), 0);
	for (t = 0; t < 50; t++)
		AT(&r, t, true, 300, NULL);
	sli_restart_fini(&r);
}

/* A small multiplier on a small backoff still grows: the backoff is not
 * rounded between steps. */
static void
test_exponential_small_steps(void)
{
	struct sl_restart_spec s = exp_spec(1, 1000, 1.2, 0, 3600000, 0);
	struct sli_restart r;
	uint64_t d, last = 0;
	double want = 1;

	CU_ASSERT_EQUAL_FATAL(sli_restart_init(&r, &s, 1), 0);
	for (uint64_t t = 0; t < 60; t++) {
		CU_ASSERT_TRUE(sli_restart_on_failure(&r, t, &d, NULL, 0));
		CU_ASSERT_EQUAL(d, (uint64_t)(want + 0.5));
		CU_ASSERT(d >= last);
		last = d;
		want = want * 1.2 < 1000 ? want * 1.2 : 1000;
	}
	CU_ASSERT_EQUAL(last, 1000);
	sli_restart_fini(&r);
}

static void
test_exponential_attempts(void)
{
	struct sl_restart_spec s = exp_spec(100, 1000, 2, 0, 10000, 2);
	struct sli_restart r;

	CU_ASSERT_EQUAL_FATAL(sli_restart_init(&r, &s, 1), 0);
	AT(&r, 0, true, 100, NULL);
	AT(&r, 1, true, 200, NULL);
	/* a reset starts the count again */
	AT(&r, 20000, true, 100, NULL);
	AT(&r, 20001, true, 200, NULL);
	AT(&r, 20002, false, 0,
	    "exponential-delay: 2 of 2 restarts used with no pause of over "
	    "10 s between failures");
	AT(&r, 90000, false, 0, "exponential-delay: gave up before");
	sli_restart_fini(&r);
}

static void
test_jitter(void)
{
	struct sl_restart_spec s = exp_spec(1000, 10000, 1, 0.5, 3600000, 0);
	struct sli_restart a, b, c;
	uint64_t da, db, dc, lo = UINT64_MAX, hi = 0, sum = 0;
	bool differ = false;
	const int n = 2000;

	CU_ASSERT_EQUAL_FATAL(sli_restart_init(&a, &s, 42), 0);
	CU_ASSERT_EQUAL_FATAL(sli_restart_init(&b, &s, 42), 0);
	CU_ASSERT_EQUAL_FATAL(sli_restart_init(&c, &s, 43), 0);
	for (int k = 0; k < n; k++) {
		CU_ASSERT_TRUE(sli_restart_on_failure(&a, k, &da, NULL, 0));
		CU_ASSERT_TRUE(sli_restart_on_failure(&b, k, &db, NULL, 0));
		CU_ASSERT_TRUE(sli_restart_on_failure(&c, k, &dc, NULL, 0));
		/* the same seed, the same delays */
		CU_ASSERT_EQUAL(da, db);
		differ = differ || da != dc;
		lo = da < lo ? da : lo;
		hi = da > hi ? da : hi;
		sum += da;
	}
	CU_ASSERT_TRUE(differ);
	/* within +-50% of 1 s, and spread over it */
	CU_ASSERT(lo >= 500 && lo < 550);
	CU_ASSERT(hi <= 1500 && hi > 1450);
	CU_ASSERT(sum / n > 980 && sum / n < 1020);
	sli_restart_fini(&a);
	sli_restart_fini(&b);
	sli_restart_fini(&c);

	/* at max, jitter never goes above it */
	s = exp_spec(1000, 1000, 2, 1, 3600000, 0);
	CU_ASSERT_EQUAL_FATAL(sli_restart_init(&a, &s, 7), 0);
	lo = UINT64_MAX;
	for (int k = 0; k < n; k++) {
		CU_ASSERT_TRUE(sli_restart_on_failure(&a, k, &da, NULL, 0));
		CU_ASSERT(da <= 1000);
		lo = da < lo ? da : lo;
	}
	CU_ASSERT(lo < 50);
	sli_restart_fini(&a);

	/* the default jitter: 10% of the default backoff */
	s = spec(SL_RESTART_EXPONENTIAL_DELAY);
	CU_ASSERT_EQUAL_FATAL(sli_restart_init(&a, &s, 7), 0);
	CU_ASSERT_TRUE(sli_restart_on_failure(&a, 0, &da, NULL, 0));
	CU_ASSERT(da >= 900 && da <= 1100);
	sli_restart_fini(&a);
}

static void
test_failure_rate(void)
{
	struct sl_restart_spec s = spec(SL_RESTART_FAILURE_RATE);
	struct sli_restart r;

	/* the defaults: 1 failure per 60 s, restart after 1 s */
	CU_ASSERT_EQUAL_FATAL(sli_restart_init(&r, &s, 1), 0);
	AT(&r, 0, true, 1000,
	    "failure-rate: 1 failure within 60 s, 1 allowed; restart in 1 s");
	/* exactly an interval later, the first is out of it */
	AT(&r, 60000, true, 1000, NULL);
	AT(&r, 119999, false, 0,
	    "failure-rate: 2 failures within 60 s, 1 allowed");
	AT(&r, 999999, false, 0, "failure-rate: gave up before");
	sli_restart_fini(&r);

	/* the window slides: 2 per second */
	s.failures = 2;
	s.interval_ms = 1000;
	s.delay_ms = 50;
	CU_ASSERT_EQUAL_FATAL(sli_restart_init(&r, &s, 1), 0);
	AT(&r, 0, true, 50, NULL);
	AT(&r, 500, true, 50,
	    "failure-rate: 2 failures within 1 s, 2 allowed; restart in 50 "
	    "ms");
	AT(&r, 1600, true, 50, NULL); /* 0 and 500 are out */
	AT(&r, 2000, true, 50, NULL); /* 500 is out */
	AT(&r, 2100, false, 0,
	    "failure-rate: 3 failures within 1 s, 2 allowed");
	sli_restart_fini(&r);

	/* a clock that steps back counts as the previous failure's time */
	s.failures = 1;
	CU_ASSERT_EQUAL_FATAL(sli_restart_init(&r, &s, 1), 0);
	AT(&r, 5000, true, 50, NULL);
	AT(&r, 10, false, 0, "failure-rate: 2 failures within 1 s, 1 allowed");
	sli_restart_fini(&r);
}

/* Against a naive reference that keeps every failure's time. */
static void
test_failure_rate_reference(void)
{
	uint64_t seed = 0x1234;

	for (int round = 0; round < 300; round++) {
		struct sl_restart_spec s = spec(SL_RESTART_FAILURE_RATE);
		struct sli_restart r;
		uint64_t all[400], t = 0, d;
		uint32_t n = 0;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		s.failures = 1 + (uint32_t)(seed >> 33) % 6;
		s.interval_ms = 1 + (seed >> 40) % 500;
		s.delay_ms = 0;
		CU_ASSERT_EQUAL_FATAL(sli_restart_init(&r, &s, 1), 0);
		for (int k = 0; k < 400; k++) {
			uint32_t within = 1;
			bool want, got;

			seed = seed * 6364136223846793005ULL +
			    1442695040888963407ULL;
			t +=
			    (seed >> 33) % (2 * s.interval_ms / s.failures + 2);
			for (uint32_t i = 0; i < n; i++)
				within += t - all[i] < s.interval_ms;
			want = within <= s.failures;
			got = sli_restart_on_failure(&r, t, &d, NULL, 0);
			CU_ASSERT_EQUAL(got, want);
			if (!want || got != want)
				break;
			all[n++] = t;
		}
		sli_restart_fini(&r);
	}
}

static void
test_describe(void)
{
	static const struct {
		uint32_t strategy;
		const char *want;
	} defaults[] = {
		{ SL_RESTART_DEFAULT, "fixed-delay (3 attempts, 1 s delay)" },
		{ SL_RESTART_NONE, "none (no restarts)" },
		{ SL_RESTART_FIXED_DELAY,
		    "fixed-delay (3 attempts, 1 s delay)" },
		{ SL_RESTART_EXPONENTIAL_DELAY,
		    "exponential-delay (backoff 1 s to 60 s, x1.5, jitter 0.1, "
		    "reset after 1 h)" },
		{ SL_RESTART_FAILURE_RATE,
		    "failure-rate (1 failure per 60 s, 1 s delay)" },
	};
	struct sl_restart_spec s;
	char buf[160];

	for (size_t i = 0; i < NELEM(defaults); i++) {
		s = spec(defaults[i].strategy);
		sli_restart_describe(&s, buf, sizeof(buf));
		CU_ASSERT_STRING_EQUAL(buf, defaults[i].want);
	}
	s = exp_spec(100, 10000, 2, 0, 1800000, 5);
	sli_restart_describe(&s, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf,
	    "exponential-delay (backoff 100 ms to 10 s, x2, jitter 0, reset "
	    "after 30 min, 5 attempts)");
	s = spec(SL_RESTART_FAILURE_RATE);
	s.failures = 3;
	s.interval_ms = 300000;
	s.delay_ms = 1500;
	sli_restart_describe(&s, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(
	    buf, "failure-rate (3 failures per 5 min, 1.5 s delay)");
	s = spec(SL_RESTART_FIXED_DELAY);
	s.attempts = SL_RESTART_UNLIMITED;
	sli_restart_describe(&s, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(
	    buf, "fixed-delay (unlimited attempts, 1 s delay)");
	s = exp_spec(0, 0, 0, 0, 0, 0);
	sli_restart_describe(&s, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "exponential-delay (invalid)");
	/* truncated, never overrun */
	s = spec(SL_RESTART_EXPONENTIAL_DELAY);
	sli_restart_describe(&s, buf, 12);
	CU_ASSERT_STRING_EQUAL(buf, "exponential");

	CU_ASSERT_STRING_EQUAL(
	    sli_restart_strategy_name(SL_RESTART_FAILURE_RATE), "failure-rate");
	CU_ASSERT_STRING_EQUAL(sli_restart_strategy_name(77), "?");
	CU_ASSERT_EQUAL(sli_restart_strategy_parse("exponential-delay"),
	    SL_RESTART_EXPONENTIAL_DELAY);
	CU_ASSERT_EQUAL(sli_restart_strategy_parse("default"), -1);
	CU_ASSERT_EQUAL(sli_restart_strategy_parse("fixeddelay"), -1);
}

static void
test_why_capacity(void)
{
	struct sl_restart_spec s = { 0 };
	struct sli_restart r;
	char why[8];
	uint64_t d;

	CU_ASSERT_EQUAL_FATAL(sli_restart_init(&r, &s, 1), 0);
	CU_ASSERT_TRUE(sli_restart_on_failure(&r, 0, &d, why, sizeof(why)));
	CU_ASSERT_STRING_EQUAL(why, "fixed-d");
	CU_ASSERT_TRUE(sli_restart_on_failure(&r, 0, &d, NULL, 0));
	sli_restart_fini(&r);
	sli_restart_fini(&r); /* twice is fine */
	memset(&r, 0, sizeof(r));
	sli_restart_fini(&r); /* and on a zeroed one */
}

static void
test_parse_duration(void)
{
	static const struct {
		const char *s;
		uint64_t ms;
	} good[] = {
		{ "0", 0 },
		{ "250", 250 },
		{ "250ms", 250 },
		{ "1s", 1000 },
		{ "1.5s", 1500 },
		{ "1.5 s", 1500 },
		{ "0.001s", 1 },
		{ "2m", 120000 },
		{ "2 min", 120000 },
		{ "0.5m", 30000 },
		{ "1h", 3600000 },
		{ "1.25h", 4500000 },
		{ "0s", 0 },
		{ "007s", 7000 },
		{ "18446744073709551615", UINT64_MAX },
		{ "5124095576030h", UINT64_C(18446744073708000000) },
	};
	static const char *const bad[] = { "", "s", "-1", "+1", " 1s", "1s ",
		"1  s", "1S", "1sec", "1d", "1.5", "1.", ".5s", "1.s", "0.5ms",
		"1.0001s", "1e3", "1_000", "18446744073709551616",
		"5124095576031h", "1.0000000001h", "0x10", "1 ", "1ms2" };
	uint64_t v;

	for (size_t i = 0; i < NELEM(good); i++) {
		v = 777;
		if (!sli_parse_duration_ms(good[i].s, &v) || v != good[i].ms)
			fprintf(stderr, "\n  \"%s\": got %llu\n", good[i].s,
			    (unsigned long long)v);
		CU_ASSERT_TRUE(sli_parse_duration_ms(good[i].s, &v));
		CU_ASSERT_EQUAL(v, good[i].ms);
	}
	for (size_t i = 0; i < NELEM(bad); i++) {
		v = 777;
		if (sli_parse_duration_ms(bad[i], &v))
			fprintf(stderr, "\n  \"%s\": accepted as %llu\n",
			    bad[i], (unsigned long long)v);
		CU_ASSERT_FALSE(sli_parse_duration_ms(bad[i], &v));
		CU_ASSERT_EQUAL(v, 777);
	}
	CU_ASSERT_FALSE(sli_parse_duration_ms(NULL, &v));
}

static void
test_format_duration(void)
{
	static const struct {
		uint64_t ms;
		const char *s;
	} cases[] = {
		{ 0, "0 ms" },
		{ 999, "999 ms" },
		{ 1000, "1 s" },
		{ 1500, "1.5 s" },
		{ 1050, "1.05 s" },
		{ 1001, "1.001 s" },
		{ 60000, "60 s" },
		{ 90000, "90 s" },
		{ 120000, "2 min" },
		{ 5400000, "90 min" },
		{ 3600000, "1 h" },
		{ SL_RESTART_MAX_MS, "8760 h" },
	};
	char buf[32];
	uint64_t v, seed = 99;

	for (size_t i = 0; i < NELEM(cases); i++) {
		sli_format_duration_ms(cases[i].ms, buf, sizeof(buf));
		CU_ASSERT_STRING_EQUAL(buf, cases[i].s);
	}
	/* what is printed reads back */
	for (int k = 0; k < 20000; k++) {
		uint64_t ms;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		ms = (seed >> 20) % (k % 2 ? 10000 : SL_RESTART_MAX_MS);
		if (k % 3 == 0)
			ms -= ms % 60000;
		sli_format_duration_ms(ms, buf, sizeof(buf));
		CU_ASSERT_TRUE(sli_parse_duration_ms(buf, &v));
		CU_ASSERT_EQUAL(v, ms);
	}
}

static const struct sl_test tests[] = {
	{ "defaults", test_defaults },
	{ "invalid settings name the field", test_invalid },
	{ "none gives up at once", test_none },
	{ "fixed-delay: attempts in all", test_fixed_delay },
	{ "exponential-delay: backoff, cap, reset", test_exponential },
	{ "exponential-delay: small steps grow", test_exponential_small_steps },
	{ "exponential-delay: attempts between resets",
	    test_exponential_attempts },
	{ "exponential-delay: jitter bounds and seeds", test_jitter },
	{ "failure-rate: the window slides", test_failure_rate },
	{ "failure-rate: against a reference", test_failure_rate_reference },
	{ "describe and names", test_describe },
	{ "why fits its buffer", test_why_capacity },
	{ "durations: parse", test_parse_duration },
	{ "durations: format, and read back", test_format_duration },
	{ NULL, NULL },
};

SL_TEST_MAIN("restart", tests)
