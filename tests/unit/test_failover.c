/* The failover restart set (core/plan/failover.c): exact restart sets for
 * hand-made graphs, a randomized cross-check against a naive fixpoint over
 * explicit task pairs, and the 10 000 x 10 000 scale. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_test.h"
#include "plan_fixture.h"
#include "plan/failover.h"
#include "plan/regions.h"

/* What the shuffle side knows: lost[task * ne + edge] is nonzero for a
 * partition no longer held. Counts the questions asked. */
struct held_state {
	const uint8_t *lost;
	uint32_t ne;
	uint64_t calls;
};

static bool
held(void *arg, uint32_t task, uint32_t edge)
{
	struct held_state *h = arg;

	h->calls++;
	return h->lost == NULL || !h->lost[(size_t)task * h->ne + edge];
}

/* --- The naive reference. --- */

enum { MAXT = 64 };

/* DESIGN §4 as a fixpoint over all pairs, sweeping until nothing changes.
 * A pair counts for rule 2 only when its consumer task is deployed, for
 * rule 3 only when its producer task is (deployed NULL: all are). */
static void
naive_failover(const struct sli_exec *x, const struct sli_regions *r,
    const uint32_t *failed, uint32_t nfailed, const uint8_t *lost,
    const uint8_t *deployed, uint8_t *restart)
{
	struct pair *pairs;
	uint32_t np = expand_pairs(x, &pairs), ne = x->job->ne;
	int changed;

	for (uint32_t k = 0; k < nfailed; k++)
		restart[r->of_task[failed[k]]] = 1;
	do {
		changed = 0;
		for (uint32_t k = 0; k < np; k++) {
			uint32_t p = pairs[k].p, c = pairs[k].c;
			uint32_t rp = r->of_task[p], rc = r->of_task[c];
			int type = x->job->e[pairs[k].e].type;
			int gone = lost != NULL && lost[p * ne + pairs[k].e];
			int avail = (type == BLK || type == HFULL) && !gone;
			int p_ran = deployed == NULL || deployed[p];
			int c_ran = deployed == NULL || deployed[c];

			if (c_ran && restart[rc] && rp != rc && !avail &&
			    !restart[rp]) {
				restart[rp] = 1;
				changed = 1;
			}
			if (p_ran && restart[rp] && !restart[rc]) {
				restart[rc] = 1;
				changed = 1;
			}
		}
	} while (changed);
	free(pairs);
}

/* --- Hand-made cases. --- */

static int
parse_task(const struct sli_exec *x, const char *name, uint32_t *t)
{
	if (sli_task_parse(x, name, t) == 0)
		return 0;
	fprintf(stderr, "\nbad task '%s': %s\n", name, sl_errdetail());
	return -1;
}

/* "a#0 b#1" into task ids; returns the count or -1. */
static int
parse_tasks(const struct sli_exec *x, const char *list, uint32_t *out)
{
	char buf[512], *save = NULL;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", list);
	for (char *tok = strtok_r(buf, " ", &save); tok != NULL;
	     tok = strtok_r(NULL, " ", &save))
		if (parse_task(x, tok, &out[n++]) != 0)
			return -1;
	return n;
}

/* "a#0 b#1:2": every partition of a#0, and b#1's for edge 2, are lost. */
static int
parse_lost(const struct sli_exec *x, const char *list, uint8_t *lost)
{
	char buf[512], *save = NULL;
	uint32_t ne = x->job->ne;

	snprintf(buf, sizeof(buf), "%s", list);
	for (char *tok = strtok_r(buf, " ", &save); tok != NULL;
	     tok = strtok_r(NULL, " ", &save)) {
		char *colon = strchr(tok, ':');
		uint32_t t;

		if (colon != NULL)
			*colon = '\0';
		if (parse_task(x, tok, &t) != 0)
			return -1;
		for (uint32_t e = 0; e < ne; e++)
			if (colon == NULL || e == (uint32_t)atoi(colon + 1))
				lost[t * ne + e] = 1;
	}
	return 0;
}

static char *
render_tasks(const struct sli_exec *x, const uint32_t *tasks, uint32_t n)
{
	size_t cap = 64 + (size_t)n * 32, len = 0;
	char *s = malloc(cap);

	s[0] = '\0';
	for (uint32_t k = 0; k < n; k++) {
		char name[160];

		sli_task_name(x, tasks[k], name, sizeof(name));
		len += snprintf(
		    s + len, cap - len, "%s%s", k > 0 ? " " : "", name);
	}
	return s;
}

/* Fail the tasks in `failed` with the partitions in `lost` gone and the
 * tasks in `undeployed` not deployed; the restarted tasks must be `want`.
 * The naive reference must agree on the regions. */
static void
expect_failover_at(int line, const struct tv *v, const struct te *e,
    const char *failed, const char *lost, const char *undeployed,
    const char *want)
{
	struct plan f;
	uint32_t fail_ids[MAXT], skip[MAXT], *tasks = NULL, ntasks = 0;
	uint8_t lost_map[MAXT * 32] = { 0 }, deployed[MAXT];
	uint8_t restart[MAXT] = { 0 }, naive[MAXT] = { 0 };
	struct held_state hs = { .lost = lost_map };
	struct sli_failover_view view = {
		.held = held, .arg = &hs, .deployed = deployed
	};
	int nfail, nskip;
	char *got;

	if (plan_build(&f, make_job(v, e)) != 0) {
		fprintf(stderr, "\nline %d: building failed: %s\n", line,
		    sl_errdetail());
		CU_FAIL("building the fixture failed");
		return;
	}
	hs.ne = f.job->ne;
	memset(deployed, 1, sizeof(deployed));
	nfail = parse_tasks(&f.x, failed, fail_ids);
	nskip = parse_tasks(&f.x, undeployed, skip);
	if (nfail < 0 || nskip < 0 || parse_lost(&f.x, lost, lost_map) != 0) {
		fprintf(stderr, "line %d: bad scenario\n", line);
		CU_FAIL("bad scenario");
		plan_free(&f);
		return;
	}
	for (int k = 0; k < nskip; k++)
		deployed[skip[k]] = 0;
	CU_ASSERT_FATAL(sli_failover_regions(&f.x, &f.r, fail_ids,
	                    (uint32_t)nfail, &view, restart) == 0);
	CU_ASSERT_FATAL(sli_failover_tasks(
	                    &f.x, &f.r, restart, &view, &tasks, &ntasks) == 0);
	got = render_tasks(&f.x, tasks, ntasks);
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "\nline %d:\n  want: %s\n  got:  %s\n", line,
		    want, got);
		CU_FAIL("restart set differs");
	}
	naive_failover(
	    &f.x, &f.r, fail_ids, (uint32_t)nfail, lost_map, deployed, naive);
	CU_ASSERT(memcmp(restart, naive, f.r.n) == 0);
	free(got);
	free(tasks);
	plan_free(&f);
}

#define expect_failover(v, e, failed, lost, undeployed, want) \
	expect_failover_at(__LINE__, v, e, failed, lost, undeployed, want)

static void
test_blocking_consumer(void)
{
	expect_failover(V({ "a", 2 }, { "b", 2 }), E({ "a", "b", PW, BLK }),
	    "b#1", "", "", "b#1");
	expect_failover(V({ "a", 2 }, { "b", 3 }), E({ "a", "b", A2A, BLK }),
	    "b#0", "", "", "b#0");
	expect_failover(V({ "a", 2 }, { "b", 3 }), E({ "a", "b", BC, HFULL }),
	    "b#2", "", "", "b#2");
}

static void
test_producer_failure(void)
{
	expect_failover(V({ "a", 2 }, { "b", 3 }), E({ "a", "b", A2A, BLK }),
	    "a#0", "", "", "a#0 b#0 b#1 b#2");
	expect_failover(V({ "a", 1 }, { "b", 1 }, { "c", 1 }, { "d", 1 }),
	    E({ "a", "b", PW, BLK }, { "b", "c", PW, BLK },
	        { "c", "d", PW, BLK }),
	    "b#0", "", "", "b#0 c#0 d#0");
	expect_failover(V({ "a", 2 }, { "b", 2 }, { "c", 2 }),
	    E({ "a", "b", PW, BLK }, { "b", "c", PW, HFULL }), "a#1", "", "",
	    "a#1 b#1 c#1");
	expect_failover(V({ "a", 6 }, { "b", 2 }), E({ "a", "b", PW, BLK }),
	    "a#4", "", "", "a#4 b#1");
	expect_failover(V({ "a", 2 }, { "b", 6 }), E({ "a", "b", PW, BLK }),
	    "a#1", "", "", "a#1 b#3 b#4 b#5");
	/* Downstream fans out again through an all-to-all edge. */
	expect_failover(V({ "a", 2 }, { "b", 2 }, { "c", 3 }),
	    E({ "a", "b", PW, BLK }, { "b", "c", A2A, BLK }), "a#0", "", "",
	    "a#0 b#0 c#0 c#1 c#2");
}

static void
test_hybrid_selective(void)
{
	/* b cannot re-read a's partition: a restarts, and then c, which
	 * consumes a's new attempt. */
	expect_failover(V({ "a", 1 }, { "b", 1 }, { "c", 1 }),
	    E({ "a", "b", PW, HSEL }, { "a", "c", PW, BLK }), "b#0", "", "",
	    "a#0 b#0 c#0");
	expect_failover(V({ "a", 1 }, { "b", 1 }, { "c", 1 }),
	    E({ "a", "b", PW, HFULL }, { "a", "c", PW, BLK }), "b#0", "", "",
	    "b#0");
	/* Rule 2 twice up a chain. */
	expect_failover(V({ "a", 1 }, { "b", 1 }, { "c", 1 }),
	    E({ "a", "b", PW, HSEL }, { "b", "c", PW, HSEL }), "c#0", "", "",
	    "a#0 b#0 c#0");
	/* Rule 2, then rule 3 down another branch. */
	expect_failover(V({ "a", 1 }, { "b", 1 }, { "d", 1 }, { "e", 1 }),
	    E({ "a", "b", PW, HSEL }, { "a", "d", PW, BLK },
	        { "d", "e", PW, BLK }),
	    "b#0", "", "", "a#0 b#0 d#0 e#0");
	expect_failover(V({ "a", 2 }, { "b", 2 }), E({ "a", "b", PW, HSEL }),
	    "b#1", "", "", "a#1 b#1");
	expect_failover(V({ "a", 2 }, { "b", 2 }), E({ "a", "b", A2A, HSEL }),
	    "b#0", "", "", "a#0 a#1 b#0 b#1");
	expect_failover(V({ "a", 1 }, { "b", 3 }), E({ "a", "b", BC, HSEL }),
	    "b#1", "", "", "a#0 b#0 b#1 b#2");
}

static void
test_lost_partitions(void)
{
	const struct tv *v = V({ "a", 1 }, { "b", 1 }, { "c", 1 });
	const struct te *e = E({ "a", "b", PW, BLK }, { "a", "c", PW, BLK });

	expect_failover(v, e, "b#0", "a#0:0", "", "a#0 b#0 c#0");
	expect_failover(v, e, "b#0", "a#0:1", "", "b#0");
	expect_failover(v, e, "b#0", "a#0", "", "a#0 b#0 c#0");
	/* Only the partition b#1 reads matters. */
	expect_failover(V({ "a", 6 }, { "b", 2 }), E({ "a", "b", PW, BLK }),
	    "b#1", "a#4", "", "a#4 b#1");
	expect_failover(V({ "a", 6 }, { "b", 2 }), E({ "a", "b", PW, BLK }),
	    "b#1", "a#1", "", "b#1");
	expect_failover(V({ "a", 3 }, { "b", 2 }), E({ "a", "b", A2A, BLK }),
	    "b#0", "a#2", "", "a#2 b#0 b#1");
	/* Re-readable types still need the partition to be held. */
	expect_failover(V({ "a", 1 }, { "b", 1 }), E({ "a", "b", PW, HFULL }),
	    "b#0", "a#0", "", "a#0 b#0");
	/* The lost partition upstream matters once its consumer restarts. */
	v = V({ "a", 1 }, { "b", 1 }, { "c", 1 });
	e = E({ "a", "b", PW, BLK }, { "b", "c", PW, BLK });
	expect_failover(v, e, "c#0", "b#0", "", "b#0 c#0");
	expect_failover(v, e, "c#0", "a#0 b#0", "", "a#0 b#0 c#0");
	expect_failover(v, e, "c#0", "a#0", "", "c#0");
}

static void
test_not_deployed(void)
{
	const struct tv *v = V({ "a", 1 }, { "b", 2 }, { "c", 1 });
	const struct te *e = E({ "a", "b", A2A, BLK }, { "b", "c", A2A, BLK });

	expect_failover(v, e, "a#0", "", "", "a#0 b#0 b#1 c#0");
	expect_failover(v, e, "a#0", "", "c#0", "a#0 b#0 b#1");
	expect_failover(v, e, "a#0", "", "b#1 c#0", "a#0 b#0");
	/* A pipelined region half deployed restarts its deployed half. */
	expect_failover(V({ "a", 1 }, { "b", 2 }), E({ "a", "b", A2A, PIPE }),
	    "a#0", "", "b#1", "a#0 b#0");
}

/* Rule 2 applies only from deployed tasks: c, not yet deployed (it waits
 * for b), never read x's hybrid_selective partition, so finished x stays
 * although c's region restarts with b. Once c has read it, x restarts. */
static void
test_not_deployed_reads_nothing(void)
{
	const struct tv *v = V({ "x", 1 }, { "b", 1 }, { "c", 1 });
	const struct te *e = E({ "x", "c", PW, HSEL }, { "b", "c", PW, BLK });

	expect_failover(v, e, "b#0", "", "c#0", "b#0");
	expect_failover(v, e, "b#0", "", "", "x#0 b#0 c#0");
	/* Lost, too: c never read it. */
	expect_failover(v, e, "b#0", "x#0", "c#0", "b#0");
	/* Only the consumer tasks that ran: c#1 read x#1's partition, c#0
	 * read nothing. */
	expect_failover(V({ "x", 2 }, { "b", 1 }, { "c", 2 }),
	    E({ "x", "c", PW, HSEL }, { "b", "c", A2A, BLK }), "b#0", "", "c#0",
	    "x#1 b#0 c#1");
	/* An all-to-all input: one deployed consumer is enough. */
	expect_failover(V({ "x", 2 }, { "b", 1 }, { "c", 2 }),
	    E({ "x", "c", A2A, HSEL }, { "b", "c", A2A, BLK }), "b#0", "",
	    "c#0", "x#0 x#1 b#0 c#1");
	expect_failover(V({ "x", 2 }, { "b", 1 }, { "c", 2 }),
	    E({ "x", "c", A2A, HSEL }, { "b", "c", A2A, BLK }), "b#0", "",
	    "c#0 c#1", "b#0");
}

/* Rule 3 applies only from deployed tasks: a region none of whose tasks
 * ran wrote nothing, so its consumers need not restart because of it. */
static void
test_not_deployed_wrote_nothing(void)
{
	const struct tv *v = V({ "a", 1 }, { "u", 1 }, { "c", 1 }, { "x", 1 });
	const struct te *e = E({ "a", "u", PW, BLK }, { "u", "c", PW, BLK },
	    { "x", "c", PW, HSEL });
	struct plan f;
	uint32_t failed;
	uint8_t deployed[4], restart[4] = { 0 };
	struct sli_failover_view view = { .deployed = deployed };

	/* u and c wait for a. Before, u passed the restart on to c, and c
	 * (not deployed either) pulled in finished x. */
	expect_failover(v, e, "a#0", "", "u#0 c#0", "a#0");
	/* A view the scheduler would not produce (c deployed, u not) shows
	 * rule 3 alone: nothing passes through u. */
	expect_failover(v, e, "a#0", "", "u#0", "a#0");
	expect_failover(v, e, "a#0", "", "", "a#0 u#0 x#0 c#0");

	/* u's region itself is marked, c's is not. */
	CU_ASSERT_FATAL(plan_build(&f, make_job(v, e)) == 0);
	CU_ASSERT_FATAL(f.r.n == 4);
	memset(deployed, 1, sizeof(deployed));
	CU_ASSERT_FATAL(sli_task_parse(&f.x, "u#0", &failed) == 0);
	deployed[failed] = 0;
	CU_ASSERT_FATAL(sli_task_parse(&f.x, "c#0", &failed) == 0);
	deployed[failed] = 0;
	CU_ASSERT_FATAL(sli_task_parse(&f.x, "a#0", &failed) == 0);
	CU_ASSERT(
	    sli_failover_regions(&f.x, &f.r, &failed, 1, &view, restart) == 0);
	for (uint32_t t = 0; t < f.x.ntasks; t++) {
		char name[32];
		int want;

		sli_task_name(&f.x, t, name, sizeof(name));
		want = strcmp(name, "a#0") == 0 || strcmp(name, "u#0") == 0;
		CU_ASSERT(restart[f.r.of_task[t]] == want);
	}
	plan_free(&f);
}

static void
test_multiple_failed(void)
{
	const struct tv *v = V({ "a", 3 }, { "b", 3 });
	const struct te *e = E({ "a", "b", PW, BLK });

	expect_failover(v, e, "b#0 b#2", "", "", "b#0 b#2");
	expect_failover(v, e, "a#0 b#2", "", "", "a#0 b#0 b#2");
	expect_failover(v, e, "b#1 b#1", "", "", "b#1");
	expect_failover(v, e, "a#2 a#0", "", "", "a#0 a#2 b#0 b#2");
	expect_failover(v, e, "", "", "", "");
}

static void
test_pipelined_region(void)
{
	const struct tv *v = V({ "a", 2 }, { "b", 2 }, { "c", 2 });

	expect_failover(v, E({ "a", "b", PW, PIPE }, { "b", "c", PW, BLK }),
	    "b#1", "", "", "a#1 b#1 c#1");
	expect_failover(v, E({ "a", "b", PW, PIPE }, { "b", "c", PW, BLK }),
	    "c#0", "", "", "c#0");
	expect_failover(v, E({ "a", "b", PW, PIPE }, { "b", "c", PW, BLK }),
	    "a#0", "", "", "a#0 b#0 c#0");
	expect_failover(v, E({ "a", "b", A2A, PIPE }, { "b", "c", PW, BLK }),
	    "a#0", "", "", "a#0 a#1 b#0 b#1 c#0 c#1");
	/* The region's blocking input is held: its producer stays. */
	expect_failover(v, E({ "a", "b", PW, BLK }, { "b", "c", PW, PIPE }),
	    "c#1", "", "", "b#1 c#1");
	expect_failover(v, E({ "a", "b", PW, BLK }, { "b", "c", PW, PIPE }),
	    "c#1", "a#1", "", "a#1 b#1 c#1");
}

static void
test_merged_cycle(void)
{
	const struct tv *v = V({ "a", 1 }, { "b", 1 }, { "c", 1 });
	const struct te *e = E({ "a", "b", PW, PIPE }, { "a", "c", PW, BLK },
	    { "c", "b", PW, BLK });

	expect_failover(v, e, "c#0", "", "", "a#0 c#0 b#0");
	expect_failover(v, e, "b#0", "", "", "a#0 c#0 b#0");
}

/* One failed task: its restart set, as regions and as tasks. */
static int
fail(const struct plan *f, const uint32_t *failed,
    const struct sli_failover_view *view, uint8_t *restart, uint32_t **tasks,
    uint32_t *n)
{
	int rv;

	if ((rv = sli_failover_regions(
	         &f->x, &f->r, failed, 1, view, restart)) != 0)
		return rv;
	return sli_failover_tasks(&f->x, &f->r, restart, view, tasks, n);
}

static void
test_bad_arguments(void)
{
	struct plan f;
	uint32_t bad = 2, *tasks = NULL, n = 0;
	uint8_t restart[2] = { 0 };

	CU_ASSERT_FATAL(plan_build(&f,
	                    make_job(V({ "a", 1 }, { "b", 1 }),
	                        E({ "a", "b", PW, BLK }))) == 0);
	CU_ASSERT(sli_failover_regions(&f.x, &f.r, &bad, 1, NULL, restart) ==
	    SL_EINVAL);
	CU_ASSERT(restart[0] == 0 && restart[1] == 0);
	CU_ASSERT(sli_failover_regions(&f.x, &f.r, NULL, 1, NULL, restart) ==
	    SL_EINVAL);
	/* No view: every partition held, every task deployed. */
	bad = 1;
	CU_ASSERT(fail(&f, &bad, NULL, restart, &tasks, &n) == 0);
	CU_ASSERT(n == 1 && tasks[0] == 1);
	free(tasks);
	plan_free(&f);
}

/* --- Random graphs against the naive reference. --- */

/* One random scenario on f: failed tasks, lost partitions, deployment, and
 * sometimes no view or no held() at all. Returns 1 when both agree. */
static int
random_scenario(
    const struct plan *f, uint64_t *restarted, uint64_t *by_deployment)
{
	const struct sli_exec *x = &f->x;
	uint32_t ne = f->job->ne, nfail = 1 + rnd(3), failed[3];
	uint32_t *tasks = NULL, n = 0, want[MAXT], nwant = 0;
	uint8_t lost[MAXT * 32] = { 0 }, deployed[MAXT];
	uint8_t restart[MAXT] = { 0 }, naive[MAXT] = { 0 };
	uint8_t naive_all[MAXT] = { 0 };
	struct held_state hs = { .lost = lost, .ne = ne };
	struct sli_failover_view view = { .held = held, .arg = &hs };
	const struct sli_failover_view *vp = &view;
	uint32_t lost_per6 = rnd(4); /* 0/6 .. 3/6 of partitions lost */
	int same;

	for (uint32_t k = 0; k < nfail; k++)
		failed[k] = rnd(x->ntasks);
	for (uint32_t t = 0; t < x->ntasks; t++)
		for (uint32_t e = 0; e < ne; e++)
			lost[t * ne + e] = rnd(6) < lost_per6;
	for (uint32_t t = 0; t < x->ntasks; t++)
		deployed[t] = rnd(5) != 0;
	switch (rnd(6)) {
	case 0: /* no view: all held, all deployed */
		vp = NULL;
		memset(lost, 0, sizeof(lost));
		memset(deployed, 1, sizeof(deployed));
		break;
	case 1: /* no held(): all held */
		view.held = NULL;
		memset(lost, 0, sizeof(lost));
		view.deployed = deployed;
		break;
	case 2: /* no deployment list: all deployed */
		memset(deployed, 1, sizeof(deployed));
		break;
	default:
		view.deployed = deployed;
		break;
	}
	if (sli_failover_regions(x, &f->r, failed, nfail, vp, restart) != 0 ||
	    sli_failover_tasks(x, &f->r, restart, vp, &tasks, &n) != 0)
		return 0;
	naive_failover(x, &f->r, failed, nfail, lost, deployed, naive);
	/* Whether tasks not deployed changed the regions. */
	naive_failover(x, &f->r, failed, nfail, lost, NULL, naive_all);
	*by_deployment += memcmp(naive, naive_all, f->r.n) != 0;
	for (uint32_t t = 0; t < x->ntasks; t++)
		if (naive[f->r.of_task[t]] && deployed[t])
			want[nwant++] = t;
	same = memcmp(restart, naive, f->r.n) == 0 && n == nwant &&
	    memcmp(tasks, want, n * sizeof(*tasks)) == 0;
	*restarted += n;
	free(tasks);
	return same;
}

static void
test_random_against_naive(void)
{
	uint64_t seed = test_seed(), restarted = 0, scenarios = 0;
	uint64_t by_deployment = 0;
	uint32_t bad = 0;

	printf("\n    seed %llu (set SL_TEST_SEED to repeat) ",
	    (unsigned long long)seed);
	rng_state = seed;
	for (int round = 0; round < 300; round++) {
		struct plan f;

		if (plan_build(&f, random_job()) != 0) {
			CU_FAIL("random job failed to build");
			continue;
		}
		for (int k = 0; k < 5; k++) {
			int same =
			    random_scenario(&f, &restarted, &by_deployment);

			scenarios++;
			if (!same && bad++ < 3)
				fprintf(stderr,
				    "\nround %d, scenario %d differs\n", round,
				    k);
			CU_ASSERT(same);
		}
		plan_free(&f);
	}
	printf("\n    %llu scenarios, %llu where tasks not deployed kept "
	       "regions out ",
	    (unsigned long long)scenarios, (unsigned long long)by_deployment);
	/* The scenarios must restart something beyond the failed tasks, and
	 * often enough depend on which tasks are deployed. */
	CU_ASSERT(restarted > 2 * scenarios);
	CU_ASSERT(by_deployment > scenarios / 50);
}

/* --- Scale: the memos keep a 10 000 x 10 000 edge linear. --- */

static void
test_scale_all_to_all(void)
{
	struct plan f;
	struct held_state hs = { 0 };
	struct sli_failover_view view = { .held = held, .arg = &hs };
	uint32_t failed, *tasks = NULL, n = 0;
	uint8_t *restart;
	double t0, t1;
	int ok = 1;

	CU_ASSERT_FATAL(plan_build(&f,
	                    make_job(V({ "a", 10000 }, { "b", 10000 }),
	                        E({ "a", "b", A2A, BLK }))) == 0);
	hs.ne = f.job->ne;
	restart = calloc(f.r.n, 1);
	CU_ASSERT_FATAL(restart != NULL);
	CU_ASSERT_FATAL(sli_task_parse(&f.x, "a#0", &failed) == 0);
	t0 = now();
	CU_ASSERT(fail(&f, &failed, &view, restart, &tasks, &n) == 0);
	t1 = now();
	printf("\n    10000 x 10000 blocking, a#0 fails: %.1f ms, %llu held() "
	       "calls ",
	    (t1 - t0) * 1e3, (unsigned long long)hs.calls);
	CU_ASSERT(t1 - t0 < 1.0);
	CU_ASSERT(n == 10001);
	if (n == 10001) {
		ok = tasks[0] == 0;
		for (uint32_t k = 1; k < n; k++)
			ok &= tasks[k] == 10000 + k - 1;
	}
	CU_ASSERT(ok);
	/* Every b region asks about the a side once between them, and never
	 * about a#0, which restarts anyway. */
	CU_ASSERT(hs.calls == 9999);
	free(tasks);

	/* A consumer fails: only the consumer. */
	memset(restart, 0, f.r.n);
	hs.calls = 0;
	CU_ASSERT_FATAL(sli_task_parse(&f.x, "b#77", &failed) == 0);
	CU_ASSERT(fail(&f, &failed, &view, restart, &tasks, &n) == 0);
	CU_ASSERT(n == 1 && tasks[0] == failed);
	CU_ASSERT(hs.calls == 10000);
	free(tasks);
	free(restart);
	plan_free(&f);

	/* hybrid_selective: one consumer pulls in every producer, and they
	 * every consumer; held() is never asked. */
	CU_ASSERT_FATAL(plan_build(&f,
	                    make_job(V({ "a", 10000 }, { "b", 10000 }),
	                        E({ "a", "b", A2A, HSEL }))) == 0);
	restart = calloc(f.r.n, 1);
	CU_ASSERT_FATAL(restart != NULL);
	hs.calls = 0;
	CU_ASSERT_FATAL(sli_task_parse(&f.x, "b#5", &failed) == 0);
	t0 = now();
	CU_ASSERT(fail(&f, &failed, &view, restart, &tasks, &n) == 0);
	t1 = now();
	printf("\n    10000 x 10000 hybrid_selective, b#5 fails: %.1f ms ",
	    (t1 - t0) * 1e3);
	CU_ASSERT(t1 - t0 < 1.0);
	CU_ASSERT(n == 20000);
	CU_ASSERT(hs.calls == 0);
	free(tasks);
	free(restart);
	plan_free(&f);
}

/* Tasks not deployed must neither settle an edge's memo (the producers
 * would go unchecked for the deployed consumers after them) nor cost
 * anything. The b tasks are walked in order, the undeployed half first. */
static void
test_scale_not_deployed(void)
{
	enum { N = 10000 };
	struct plan f;
	uint8_t *lost, *deployed, *restart;
	struct held_state hs = { 0 };
	struct sli_failover_view view = { .held = held, .arg = &hs };
	uint32_t failed, lost_task, *tasks = NULL, n = 0;
	double t0, t1;
	int ok;

	CU_ASSERT_FATAL(plan_build(&f,
	                    make_job(V({ "a", N }, { "b", N }),
	                        E({ "a", "b", A2A, BLK }))) == 0);
	lost = calloc(f.x.ntasks, 1);
	deployed = malloc(f.x.ntasks);
	restart = calloc(f.r.n, 1);
	CU_ASSERT_FATAL(lost != NULL && deployed != NULL && restart != NULL);
	hs.lost = lost;
	hs.ne = f.job->ne;
	view.deployed = deployed;
	CU_ASSERT_FATAL(sli_task_parse(&f.x, "a#7", &lost_task) == 0);
	lost[lost_task] = 1;
	memset(deployed, 1, f.x.ntasks);
	memset(deployed + N, 0, N / 2); /* b#0 .. b#4999 */
	CU_ASSERT_FATAL(sli_task_parse(&f.x, "a#0", &failed) == 0);
	t0 = now();
	CU_ASSERT(fail(&f, &failed, &view, restart, &tasks, &n) == 0);
	t1 = now();
	printf("\n    10000 x 10000 blocking, half of b deployed, a#0 fails: "
	       "%.1f ms, %llu held() calls ",
	    (t1 - t0) * 1e3, (unsigned long long)hs.calls);
	CU_ASSERT(t1 - t0 < 1.0);
	/* b#5000 asked about every a but a#0, once for all b. */
	CU_ASSERT(hs.calls == N - 1);
	CU_ASSERT(n == 2 + N / 2);
	ok = n == 2 + N / 2 && tasks[0] == 0 && tasks[1] == lost_task;
	for (uint32_t k = 2; k < n && ok; k++)
		ok = tasks[k] == N + N / 2 + k - 2;
	CU_ASSERT(ok);
	free(tasks);

	/* No b deployed: nobody asks, a#7 stays. */
	memset(deployed + N, 0, N);
	memset(restart, 0, f.r.n);
	hs.calls = 0;
	CU_ASSERT(fail(&f, &failed, &view, restart, &tasks, &n) == 0);
	CU_ASSERT(hs.calls == 0);
	CU_ASSERT(n == 1 && tasks[0] == failed);
	free(tasks);
	free(restart);
	free(deployed);
	free(lost);
	plan_free(&f);

	/* hybrid_selective, only the failed b#5 deployed on its side: it
	 * pulls in every a, and they mark every b region once. */
	CU_ASSERT_FATAL(plan_build(&f,
	                    make_job(V({ "a", N }, { "b", N }),
	                        E({ "a", "b", A2A, HSEL }))) == 0);
	deployed = calloc(f.x.ntasks, 1);
	restart = calloc(f.r.n, 1);
	CU_ASSERT_FATAL(deployed != NULL && restart != NULL);
	memset(deployed, 1, N);
	CU_ASSERT_FATAL(sli_task_parse(&f.x, "b#5", &failed) == 0);
	deployed[failed] = 1;
	view.deployed = deployed;
	hs.lost = NULL;
	hs.calls = 0;
	t0 = now();
	CU_ASSERT(fail(&f, &failed, &view, restart, &tasks, &n) == 0);
	t1 = now();
	printf("\n    10000 x 10000 hybrid_selective, b#5 alone deployed: "
	       "%.1f ms ",
	    (t1 - t0) * 1e3);
	CU_ASSERT(t1 - t0 < 1.0);
	CU_ASSERT(n == N + 1 && tasks[N] == failed);
	ok = 1;
	for (uint32_t g = 0; g < f.r.n; g++)
		ok &= restart[g] == 1;
	CU_ASSERT(ok);
	CU_ASSERT(hs.calls == 0);
	free(tasks);
	free(restart);
	free(deployed);
	plan_free(&f);
}

/* Regions the caller marked already are walked like failed ones, so a
 * second failure can be added to a restart set in progress. */
static void
test_premarked_regions(void)
{
	struct plan f;
	uint32_t failed, *tasks = NULL, n = 0;
	uint8_t restart[4] = { 0 };
	char *got;

	CU_ASSERT_FATAL(
	    plan_build(&f,
	        make_job(V({ "a", 1 }, { "b", 1 }, { "c", 1 }, { "d", 1 }),
	            E({ "a", "b", PW, BLK }, { "c", "d", PW, HSEL }))) == 0);
	CU_ASSERT_FATAL(f.r.n == 4);
	CU_ASSERT_FATAL(sli_task_parse(&f.x, "a#0", &failed) == 0);
	restart[f.r.of_task[failed]] = 1;
	CU_ASSERT(
	    sli_failover_regions(&f.x, &f.r, NULL, 0, NULL, restart) == 0);
	CU_ASSERT_FATAL(sli_task_parse(&f.x, "d#0", &failed) == 0);
	CU_ASSERT(
	    sli_failover_regions(&f.x, &f.r, &failed, 1, NULL, restart) == 0);
	CU_ASSERT(
	    sli_failover_tasks(&f.x, &f.r, restart, NULL, &tasks, &n) == 0);
	got = render_tasks(&f.x, tasks, n);
	CU_ASSERT_STRING_EQUAL(got, "a#0 b#0 c#0 d#0");
	free(got);
	free(tasks);
	plan_free(&f);
}

static const struct sl_test tests[] = {
	{ "blocking consumer restarts alone", test_blocking_consumer },
	{ "producer failure restarts consumers", test_producer_failure },
	{ "hybrid_selective input restarts producer", test_hybrid_selective },
	{ "lost partitions restart producers", test_lost_partitions },
	{ "tasks not deployed are excluded", test_not_deployed },
	{ "tasks not deployed apply no rule 2",
	    test_not_deployed_reads_nothing },
	{ "tasks not deployed apply no rule 3",
	    test_not_deployed_wrote_nothing },
	{ "several failed tasks", test_multiple_failed },
	{ "pipelined region restarts whole", test_pipelined_region },
	{ "merged cycle region", test_merged_cycle },
	{ "regions marked by the caller", test_premarked_regions },
	{ "bad arguments", test_bad_arguments },
	{ "random graphs against the naive reference",
	    test_random_against_naive },
	{ "scale: 10000 x 10000 all_to_all", test_scale_all_to_all },
	{ "scale: 10000 x 10000, tasks not deployed", test_scale_not_deployed },
	{ NULL, NULL },
};

SL_TEST_MAIN("failover", tests)
