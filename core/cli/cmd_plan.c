/*
 * sluice plan: what the coordinator would decide, as JSON on stdout.
 * Planning depends on the job graph alone; operators need not exist.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "common/error.h"
#include "common/units.h"
#include "graph/exec.h"
#include "plan/adaptive.h"
#include "plan/failover.h"
#include "plan/regions.h"
#include "schedule_sim.h"

static const char plan_usage[] =
    "usage:\n"
    "  sluice plan regions JOB.json [-D NAME=VALUE]... [--parallelism V=N]...\n"
    "                       [--pretty]\n"
    "  sluice plan failover JOB.json --failed TASK... [--lost TASK]...\n"
    "                       [--parallelism V=N]... [--pretty]\n"
    "  sluice plan parallelism --min N --max N --bytes-per-task BYTES\n"
    "                       [--parallelism P] [--skew-factor F]\n"
    "                       --input B0,B1,... [--input ...]\n"
    "  sluice plan schedule JOB.json [--scheduler NAME] [--slots N]\n"
    "                       [--plugin-dir DIR]... [--parallelism V=N]...\n"
    "  sluice plan graph JOB.json [--format dot] [--parallelism V=N]...\n"
    "\n"
    "-D NAME=VALUE sets ${NAME} in the job file (every job command).\n"
    "TASK is VERTEX#INDEX, e.g. count#3. --parallelism V=N fixes the\n"
    "parallelism of vertex V (needed for \"auto\" vertices). BYTES take k, m,\n"
    "g, t suffixes (powers of 1024; 64m, 64M, 64MiB alike). --input @FILE\n"
    "reads the counts from a file; with --skew-factor each --input is one\n"
    "producer's, and ranges above F x BYTES are split among slices of the\n"
    "producers (\"splits\"). Output is one JSON object (graph: dot).\n";

/* What every job-based plan command shares: the job, its tasks, regions. */
struct plan_job {
	sl_job *job;
	uint32_t *par; /* per-vertex overrides, 0 = as in the job */
	struct sli_exec x;
	struct sli_regions r;
	bool have_x, have_r;
};

struct plan_opts {
	const char *job_path;
	char **par_specs; /* "V=N" */
	int npar;
	const char **defs; /* -D NAME=VALUE */
	int ndefs;
	bool pretty;
};

static void
plan_job_free(struct plan_job *pj)
{
	if (pj->have_r)
		sli_regions_free(&pj->r);
	if (pj->have_x)
		sli_exec_free(&pj->x);
	free(pj->par);
	sl_job_free(pj->job);
}

/* Load the job, apply --parallelism, expand, cut into regions. */
static int
plan_job_load(const struct plan_opts *o, struct plan_job *pj)
{
	int rv;

	memset(pj, 0, sizeof(*pj));
	if (o->job_path == NULL)
		return sli_cli_usage(
		    "plan: no job file given\n\n%s", plan_usage);
	if ((rv = sl_job_load_file_vars(
	         o->job_path, o->defs, (size_t)o->ndefs, &pj->job)) != 0)
		return sli_cli_fail("%s", sl_errdetail());
	pj->par = calloc(sl_job_vertex_count(pj->job) + 1, sizeof(*pj->par));
	if (pj->par == NULL)
		return sli_cli_fail("out of memory");
	for (int i = 0; i < o->npar; i++) {
		char id[160];
		const char *eq = strchr(o->par_specs[i], '=');
		int64_t v;
		uint32_t n;

		if (eq == NULL || eq == o->par_specs[i] ||
		    (size_t)(eq - o->par_specs[i]) >= sizeof(id) ||
		    !sli_parse_u32(eq + 1, 1, SL_MAX_PARALLELISM, &n))
			return sli_cli_usage("--parallelism '%s': expected "
			                     "VERTEX=N with N in 1..%d",
			    o->par_specs[i], SL_MAX_PARALLELISM);
		memcpy(id, o->par_specs[i], eq - o->par_specs[i]);
		id[eq - o->par_specs[i]] = '\0';
		if ((v = sli_job_find_vertex(pj->job, id)) < 0)
			return sli_cli_fail(
			    "--parallelism %s: the job has no vertex '%s'",
			    o->par_specs[i], id);
		pj->par[v] = n;
	}
	if ((rv = sli_exec_build(pj->job, pj->par, &pj->x)) != 0)
		return sli_cli_fail("%s: %s", o->job_path, sl_errdetail());
	pj->have_x = true;
	if ((rv = sli_regions_build(&pj->x, &pj->r)) != 0)
		return sli_cli_fail(
		    "%s: regions: %s", o->job_path, sl_errdetail());
	pj->have_r = true;
	return 0;
}

/* --pretty: the top two levels one item a line, deeper ones compact, so a
 * region or an event reads as one line. */
static int
dump_pretty(const json_t *v, int depth)
{
	const char *key;
	json_t *item;
	size_t i,
	    n = json_is_object(v) ? json_object_size(v) : json_array_size(v);
	bool first = true;

	if (depth >= 2 || !(json_is_object(v) || json_is_array(v)) || n == 0)
		return json_dumpf(v, stdout, JSON_COMPACT | JSON_ENCODE_ANY);
	fputs(json_is_object(v) ? "{" : "[", stdout);
	if (json_is_object(v)) {
		json_object_foreach ((json_t *)v, key, item) {
			json_t *k = json_string(key);
			printf(
			    "%s\n%*s", first ? "" : ",", 2 * (depth + 1), "");
			if (k == NULL ||
			    json_dumpf(k, stdout, JSON_ENCODE_ANY) != 0 ||
			    fputs(": ", stdout) == EOF ||
			    dump_pretty(item, depth + 1) != 0) {
				json_decref(k);
				return -1;
			}
			json_decref(k);
			first = false;
		}
	} else {
		json_array_foreach (v, i, item) {
			printf(
			    "%s\n%*s", first ? "" : ",", 2 * (depth + 1), "");
			if (dump_pretty(item, depth + 1) != 0)
				return -1;
			first = false;
		}
	}
	printf("\n%*s%s", 2 * depth, "", json_is_object(v) ? "}" : "]");
	return 0;
}

static int
print_json(json_t *root, bool pretty)
{
	int rv;

	if (root == NULL)
		return sli_cli_fail("out of memory");
	rv = (pretty ? dump_pretty(root, 0)
	             : json_dumpf(root, stdout, JSON_COMPACT)) == 0 &&
	    fputc('\n', stdout) != EOF;
	json_decref(root);
	if (!rv)
		return sli_cli_fail("cannot write the output");
	return sli_cli_flush();
}

/*
 * Task lists are printed as they are walked rather than built as a JSON
 * tree: a plan of millions of tasks would otherwise cost gigabytes. Task
 * names are vertex ids (A-Z a-z 0-9 _ . -) and "#N", so they need no
 * escaping.
 */
static void
print_tasks(const struct sli_exec *x, const uint32_t *tasks, uint32_t n)
{
	char name[192];

	putchar('[');
	for (uint32_t i = 0; i < n; i++) {
		sli_task_name(x, tasks[i], name, sizeof(name));
		printf("%s\"%s\"", i ? "," : "", name);
	}
	putchar(']');
}

/* {"key": [[...], ...]}: one list per group, one group a line with --pretty. */
static int
print_groups(const char *key, const struct sli_exec *x, const uint32_t *tasks,
    const uint32_t *start, uint32_t ngroups, bool pretty)
{
	printf(pretty ? "{\n  \"%s\": [" : "{\"%s\":[", key);
	for (uint32_t g = 0; g < ngroups; g++) {
		printf("%s%s", g ? "," : "", pretty ? "\n    " : "");
		print_tasks(x, tasks + start[g], start[g + 1] - start[g]);
	}
	printf(pretty && ngroups ? "\n  ]\n}\n" : "]}\n");
	return sli_cli_flush();
}

static int
plan_regions(const struct plan_opts *o)
{
	struct plan_job pj;
	int rv;

	if ((rv = plan_job_load(o, &pj)) == 0)
		rv = print_groups("regions", &pj.x, pj.r.tasks, pj.r.start,
		    pj.r.n, o->pretty);
	plan_job_free(&pj);
	return rv;
}

static bool
not_lost(void *arg, uint32_t task, uint32_t edge)
{
	const uint8_t *lost = arg;

	(void)edge;
	return !lost[task];
}

static int
plan_failover(const struct plan_opts *o, char **failed_names, int nfailed,
    char **lost_names, int nlost)
{
	struct plan_job pj;
	uint32_t *failed = NULL, *tasks = NULL, n = 0;
	uint8_t *lost = NULL, *restart = NULL;
	struct sli_failover_view view = { 0 };
	int rv;

	if (nfailed == 0)
		return sli_cli_usage("plan failover: give the failed task with "
		                     "--failed TASK\n\n%s",
		    plan_usage);
	if ((rv = plan_job_load(o, &pj)) != 0)
		goto out;
	failed = calloc(nfailed, sizeof(*failed));
	lost = calloc(pj.x.ntasks, 1);
	restart = calloc(pj.r.n, 1);
	if (failed == NULL || lost == NULL || restart == NULL) {
		rv = sli_cli_fail("out of memory");
		goto out;
	}
	for (int i = 0; i < nfailed; i++)
		if (sli_task_parse(&pj.x, failed_names[i], &failed[i]) != 0) {
			rv = sli_cli_fail("--failed: %s", sl_errdetail());
			goto out;
		}
	for (int i = 0; i < nlost; i++) {
		uint32_t t;
		if (sli_task_parse(&pj.x, lost_names[i], &t) != 0) {
			rv = sli_cli_fail("--lost: %s", sl_errdetail());
			goto out;
		}
		lost[t] = 1;
	}
	/* Every task is taken as deployed and every producer as finished:
	 * a partition is held unless --lost says otherwise. */
	view.held = not_lost;
	view.arg = lost;
	if (sli_failover_regions(
	        &pj.x, &pj.r, failed, (uint32_t)nfailed, &view, restart) != 0 ||
	    sli_failover_tasks(&pj.x, &pj.r, restart, &view, &tasks, &n) != 0) {
		rv = sli_cli_fail("failover: %s", sl_errdetail());
		goto out;
	}
	if (o->pretty)
		printf("{\n  \"restart\": ");
	else
		printf("{\"restart\":");
	print_tasks(&pj.x, tasks, n);
	printf(o->pretty ? "\n}\n" : "}\n");
	rv = sli_cli_flush();
out:
	free(tasks);
	free(restart);
	free(lost);
	free(failed);
	plan_job_free(&pj);
	return rv;
}

/* Read all of a file named by --input @FILE. */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t len = 0, cap = 4096, n;
	char *buf = malloc(cap), *p;

	if (f == NULL || buf == NULL) {
		if (f != NULL)
			fclose(f);
		free(buf);
		return NULL;
	}
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 2) {
			if ((p = realloc(buf, cap * 2)) == NULL)
				break;
			buf = p;
			cap *= 2;
		}
	}
	buf[len] = '\0';
	if (ferror(f) || cap - len < 2) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/*
 * "1,2k,3" (or @FILE holding such a list, commas or white space between
 * the counts, for lists longer than a command line takes) into a newly
 * allocated array. An empty field is an error, never skipped: it would
 * shift every subpartition after it.
 */
static int
parse_byte_list(const char *arg, uint64_t **out, uint32_t *n)
{
	bool from_file = arg[0] == '@', skip_empty = false;
	const char *seps = ",";
	char *text = from_file ? slurp(arg + 1) : strdup(arg), *rest, *tok;
	uint64_t *v = NULL;
	uint32_t k = 0, cap = 0;
	int rv = 0;

	if (text == NULL)
		return from_file
		    ? sli_cli_fail("--input %s: %s", arg, strerror(errno))
		    : sli_cli_fail("out of memory");
	if (from_file && strchr(text, ',') != NULL) {
		/* Commas separate; white space (line ends) means nothing. */
		char *w = text;
		for (char *r = text; *r; r++)
			if (strchr(" \t\r\n", *r) == NULL)
				*w++ = *r;
		*w = '\0';
	} else if (from_file) {
		/* White space separates; a run of it is one separator. */
		seps = " \t\r\n";
		skip_empty = true;
	}
	rest = text;
	while (rv == 0 && (tok = strsep(&rest, seps)) != NULL) {
		if (*tok == '\0' && skip_empty)
			continue;
		if (k == cap) {
			uint64_t *p;
			cap = cap ? cap * 2 : 64;
			if (cap > 2u * SL_MAX_PARALLELISM ||
			    (p = realloc(v, cap * sizeof(*v))) == NULL) {
				rv =
				    sli_cli_fail("--input: more than %d values",
				        SL_MAX_PARALLELISM);
				break;
			}
			v = p;
		}
		if (*tok == '\0')
			rv = sli_cli_usage("--input: empty byte count at "
			                   "subpartition %u",
			    k);
		else if (!sli_parse_bytes(tok, &v[k++]))
			rv = sli_cli_usage(
			    "--input: '%s' is not a byte count", tok);
	}
	free(text);
	if (rv == 0 && k == 0)
		rv = sli_cli_usage("--input: no byte counts in '%s'", arg);
	if (rv != 0) {
		free(v);
		return rv;
	}
	*out = v;
	*n = k;
	return 0;
}

/* [{"range": k, "producers": [[first, last], ...]}, ...] */
static json_t *
splits_json(const struct sli_adaptive_split *s, uint32_t n, uint32_t m)
{
	json_t *a = json_array();

	for (uint32_t i = 0; a != NULL && i < n; i++) {
		json_t *sl = json_array();

		for (uint32_t q = 0; sl != NULL && q < s[i].nslices; q++) {
			uint32_t end =
			    q + 1 < s[i].nslices ? s[i].first[q + 1] : m;

			json_array_append_new(sl,
			    json_pack("[ii]", (json_int_t)s[i].first[q],
			        (json_int_t)end - 1));
		}
		json_array_append_new(a,
		    json_pack("{s:i,s:o*}", "range", (json_int_t)s[i].range,
		        "producers", sl));
	}
	return a;
}

static int
plan_parallelism(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "min", required_argument, NULL, 'a' },
		{ "max", required_argument, NULL, 'b' },
		{ "bytes-per-task", required_argument, NULL, 'c' },
		{ "parallelism", required_argument, NULL, 'p' },
		{ "input", required_argument, NULL, 'i' },
		{ "skew-factor", required_argument, NULL, 's' },
		{ "pretty", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sli_adaptive_params p = { 0 };
	struct sli_adaptive_decision d = { 0 };
	struct sli_adaptive_split *split = NULL;
	uint64_t *sum = NULL, *rows = NULL;
	uint32_t n = 0, nrows = 0, nsplit = 0, skew = 0;
	bool have_min = false, have_max = false, have_l = false, pretty = false;
	int c, rv = 0;
	json_t *ranges;

	char seen[128] = { 0 };
	int idx;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, &idx)) != -1) {
		uint64_t *in = NULL;
		uint32_t k = 0;

		/* A value given twice is a mistake to point out, not to
		 * settle by taking the last. */
		if (c > 0 && c < 128 && c != 'i' && c != '?' && seen[c]++) {
			rv = sli_cli_usage("plan parallelism: --%s given twice",
			    opts[idx].name);
			goto out;
		}
		switch (c) {
		case 'a':
			if (!sli_parse_u32(optarg, 1, SL_MAX_PARALLELISM,
			        &p.min_parallelism))
				rv = sli_cli_usage("--min: expected 1..%d",
				    SL_MAX_PARALLELISM);
			have_min = true;
			break;
		case 'b':
			if (!sli_parse_u32(optarg, 1, SL_MAX_PARALLELISM,
			        &p.max_parallelism))
				rv = sli_cli_usage("--max: expected 1..%d",
				    SL_MAX_PARALLELISM);
			have_max = true;
			break;
		case 'c':
			if (!sli_parse_bytes(optarg, &p.bytes_per_task) ||
			    p.bytes_per_task == 0)
				rv = sli_cli_usage("--bytes-per-task: expected "
				                   "a positive byte count");
			have_l = true;
			break;
		case 'p':
			if (!sli_parse_u32(optarg, 1, SL_MAX_PARALLELISM,
			        &p.fixed_parallelism))
				rv = sli_cli_usage(
				    "--parallelism: expected 1..%d",
				    SL_MAX_PARALLELISM);
			break;
		case 's':
			if (!sli_parse_u32(optarg, 0, 999999, &skew))
				rv = sli_cli_usage("--skew-factor: expected "
				                   "0..999999");
			if (skew == 0)
				skew = SL_SKEW_NEVER;
			break;
		case 'i':
			if ((rv = parse_byte_list(optarg, &in, &k)) != 0)
				break;
			if (sum != NULL && k != n) {
				free(in);
				rv = sli_cli_usage(
				    "--input: every input needs the same "
				    "number of subpartitions (%u, not %u)",
				    n, k);
				break;
			}
			/* every row, for splitting by producers */
			{
				uint64_t *more = realloc(rows,
				    ((size_t)nrows + 1) * k * sizeof(*rows));

				if (more == NULL) {
					free(in);
					rv = sli_cli_fail("out of memory");
					break;
				}
				rows = more;
				memcpy(rows + (size_t)nrows++ * k, in,
				    k * sizeof(*in));
			}
			if (sum == NULL) {
				sum = in;
				n = k;
				break;
			}
			for (uint32_t i = 0; i < n; i++)
				sum[i] = in[i] > UINT64_MAX - sum[i]
				    ? UINT64_MAX
				    : sum[i] + in[i];
			free(in);
			break;
		case 'P':
			pretty = true;
			break;
		case 'h':
			fputs(plan_usage, stdout);
			free(sum);
			return sli_cli_flush();
		default:
			rv = 2;
		}
		if (rv != 0)
			goto out;
	}
	if (optind < argc) {
		rv = sli_cli_usage(
		    "plan parallelism: unexpected '%s'", argv[optind]);
		goto out;
	}
	if (!have_min || !have_max || !have_l || sum == NULL) {
		rv = sli_cli_usage("plan parallelism needs --min, --max, "
		                   "--bytes-per-task and --input\n\n%s",
		    plan_usage);
		goto out;
	}
	if (sli_adaptive_decide(sum, n, &p, &d) != 0) {
		rv = sli_cli_fail("plan parallelism: %s", sl_errdetail());
		goto out;
	}
	ranges = json_array();
	for (uint32_t k = 0; ranges != NULL && k < d.parallelism; k++) {
		uint32_t last =
		    k + 1 < d.parallelism ? d.start[k + 1] - 1 : n - 1;
		json_array_append_new(ranges,
		    json_pack(
		        "[ii]", (json_int_t)d.start[k], (json_int_t)last));
	}
	if (skew != 0 &&
	    sli_adaptive_skew(rows, nrows, n, &d, &p, skew, n - d.parallelism,
	        &split, &nsplit) != 0) {
		json_decref(ranges);
		sli_adaptive_decision_free(&d);
		rv = sli_cli_fail("plan parallelism: %s", sl_errdetail());
		goto out;
	}
	rv = print_json(
	    json_pack("{s:i,s:o,s:o*}", "parallelism",
	        (json_int_t)d.parallelism, "ranges", ranges, "splits",
	        skew != 0 ? splits_json(split, nsplit, nrows) : NULL),
	    pretty);
	sli_adaptive_splits_free(split, nsplit);
	sli_adaptive_decision_free(&d);
out:
	free(sum);
	free(rows);
	return rv;
}

/* Graphviz: one cluster per region; edges styled by partition type. */
static int
plan_graph(const struct plan_opts *o, const char *format)
{
	static const char *const style[] = { "solid", "dashed", "bold",
		"dotted" };
	const uint64_t max_edges = 20000;
	struct plan_job pj;
	uint64_t nedges = 0;
	char a[192], b[192];
	int rv;

	if (format != NULL && strcmp(format, "dot") != 0)
		return sli_cli_usage(
		    "plan graph: unknown format '%s' (only dot)", format);
	if ((rv = plan_job_load(o, &pj)) != 0)
		goto out;
	for (uint32_t e = 0; e < pj.job->ne; e++) {
		const struct sli_edge *ed = &pj.job->e[e];
		uint32_t m = pj.x.par[ed->from], n = pj.x.par[ed->to];
		nedges += ed->distribution == SL_DIST_POINTWISE
		    ? (m > n ? m : n)
		    : (uint64_t)m * n;
	}
	if (nedges > max_edges) {
		rv = sli_cli_fail(
		    "plan graph: %llu task edges are too many to draw; "
		    "lower parallelisms with --parallelism V=N",
		    (unsigned long long)nedges);
		goto out;
	}
	printf("digraph \"%s\" {\n\trankdir=LR;\n\tnode [shape=box, "
	       "style=rounded];\n",
	    sl_job_name(pj.job));
	printf(
	    "\t// edges: solid pipelined, dashed blocking, bold hybrid_full, "
	    "dotted hybrid_selective\n");
	for (uint32_t r = 0; r < pj.r.n; r++) {
		printf("\tsubgraph cluster_r%u {\n\t\tlabel=\"region %u\";\n",
		    r, r);
		for (uint32_t k = pj.r.start[r]; k < pj.r.start[r + 1]; k++) {
			sli_task_name(&pj.x, pj.r.tasks[k], a, sizeof(a));
			printf("\t\t\"%s\";\n", a);
		}
		printf("\t}\n");
	}
	for (uint32_t e = 0; e < pj.job->ne; e++) {
		const struct sli_edge *ed = &pj.job->e[e];
		for (uint32_t j = 0; j < pj.x.par[ed->from]; j++) {
			uint32_t lo, hi;
			sli_edge_consumers(&pj.x, e, j, &lo, &hi);
			sli_task_name(
			    &pj.x, pj.x.base[ed->from] + j, a, sizeof(a));
			for (uint32_t i = lo; i < hi; i++) {
				sli_task_name(
				    &pj.x, pj.x.base[ed->to] + i, b, sizeof(b));
				printf("\t\"%s\" -> \"%s\" [style=%s];\n", a, b,
				    style[ed->type]);
			}
		}
	}
	printf("}\n");
	rv = fflush(stdout) == 0 ? 0 : sli_cli_fail("cannot write the output");
out:
	plan_job_free(&pj);
	return rv;
}

static int
plan_schedule(const struct plan_opts *o, const char *scheduler, uint32_t slots,
    char **plugin_dirs, int ndirs)
{
	struct plan_job pj;
	json_t *out = NULL;
	int rv;

	if ((rv = plan_job_load(o, &pj)) != 0)
		goto out;
	if (sli_schedule_simulate(&pj.x, &pj.r, scheduler, slots,
	        (const char *const *)plugin_dirs, (size_t)ndirs, &out) != 0) {
		rv = sli_cli_fail("plan schedule: %s", sl_errdetail());
		goto out;
	}
	rv = print_json(out, o->pretty);
out:
	plan_job_free(&pj);
	return rv;
}

int
sli_cmd_plan(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "parallelism", required_argument, NULL, 'p' },
		{ "failed", required_argument, NULL, 'f' },
		{ "lost", required_argument, NULL, 'l' },
		{ "format", required_argument, NULL, 'F' },
		{ "scheduler", required_argument, NULL, 's' },
		{ "slots", required_argument, NULL, 'S' },
		{ "plugin-dir", required_argument, NULL, 'd' },
		{ "pretty", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *what = argc > 1 ? argv[1] : NULL;
	struct plan_opts o = { 0 };
	char **failed, **lost, **dirs;
	int nfailed = 0, nlost = 0, ndirs = 0, c, rv;
	const char *format = NULL, *scheduler = "region", *applies;
	uint32_t slots = 4;
	int idx;

	if (what == NULL || strcmp(what, "--help") == 0 ||
	    strcmp(what, "-h") == 0) {
		fputs(plan_usage, what ? stdout : stderr);
		return what ? sli_cli_flush() : 2;
	}
	if (strcmp(what, "parallelism") == 0)
		return plan_parallelism(argc - 1, argv + 1);
	/* The options each question takes (their getopt codes); any other
	 * is refused rather than silently ignored. */
	if (strcmp(what, "regions") == 0)
		applies = "pPhD";
	else if (strcmp(what, "failover") == 0)
		applies = "pflPhD";
	else if (strcmp(what, "graph") == 0)
		applies = "pFhD";
	else if (strcmp(what, "schedule") == 0)
		applies = "psSdPhD";
	else
		return sli_cli_usage(
		    "plan: unknown question '%s'\n\n%s", what, plan_usage);

	/* Option arrays can hold at most argc entries each. */
	o.par_specs = calloc(argc, sizeof(char *));
	o.defs = calloc(argc, sizeof(char *));
	failed = calloc(argc, sizeof(char *));
	lost = calloc(argc, sizeof(char *));
	dirs = calloc(argc, sizeof(char *));
	if (o.par_specs == NULL || o.defs == NULL || failed == NULL ||
	    lost == NULL || dirs == NULL) {
		rv = sli_cli_fail("out of memory");
		goto out;
	}
	optind = 0;
	argc--, argv++;
	while ((c = getopt_long(argc, argv, "D:", opts, &idx)) != -1) {
		if (c != '?' && strchr(applies, c) == NULL) {
			rv = sli_cli_usage("plan %s: --%s does not apply", what,
			    opts[idx].name);
			goto out;
		}
		switch (c) {
		case 'D':
			o.defs[o.ndefs++] = optarg;
			break;
		case 'p':
			o.par_specs[o.npar++] = optarg;
			break;
		case 'f':
			failed[nfailed++] = optarg;
			break;
		case 'l':
			lost[nlost++] = optarg;
			break;
		case 'F':
			format = optarg;
			break;
		case 's':
			scheduler = optarg;
			break;
		case 'd':
			dirs[ndirs++] = optarg;
			break;
		case 'P':
			o.pretty = true;
			break;
		case 'S':
			if (!sli_parse_u32(optarg, 1, 1000000, &slots)) {
				rv = sli_cli_usage(
				    "--slots: expected a positive number");
				goto out;
			}
			break;
		case 'h':
			fputs(plan_usage, stdout);
			rv = sli_cli_flush();
			goto out;
		default:
			rv = 2;
			goto out;
		}
	}
	if (optind + 1 < argc) {
		rv = sli_cli_usage(
		    "plan %s: unexpected '%s'", what, argv[optind + 1]);
		goto out;
	}
	o.job_path = optind < argc ? argv[optind] : NULL;
	if (strcmp(what, "regions") == 0)
		rv = plan_regions(&o);
	else if (strcmp(what, "failover") == 0)
		rv = plan_failover(&o, failed, nfailed, lost, nlost);
	else if (strcmp(what, "graph") == 0)
		rv = plan_graph(&o, format);
	else
		rv = plan_schedule(&o, scheduler, slots, dirs, ndirs);
out:
	free(o.par_specs);
	free(o.defs);
	free(failed);
	free(lost);
	free(dirs);
	return rv;
}
