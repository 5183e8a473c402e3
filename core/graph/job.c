/* The job graph's C API (api/sluice/graph.h). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "job.h"

static const char *const dist_names[] = { "pointwise", "all_to_all",
	"broadcast" };
static const char *const type_names[] = { "pipelined", "blocking",
	"hybrid_full", "hybrid_selective" };
static const char *const partitioner_names[] = { "none", "hash", "range",
	"round_robin" };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *
name_of(const char *const *names, size_t n, int v)
{
	return v >= 0 && (size_t)v < n ? names[v] : "?";
}

static int
parse_name(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; s != NULL && i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
sl_distribution_name(int d)
{
	return name_of(dist_names, NELEM(dist_names), d);
}
const char *
sl_partition_type_name(int t)
{
	return name_of(type_names, NELEM(type_names), t);
}
const char *
sl_partitioner_name(int p)
{
	return name_of(partitioner_names, NELEM(partitioner_names), p);
}
int
sl_distribution_parse(const char *s)
{
	return parse_name(dist_names, NELEM(dist_names), s);
}
int
sl_partition_type_parse(const char *s)
{
	return parse_name(type_names, NELEM(type_names), s);
}
int
sl_partitioner_parse(const char *s)
{
	return parse_name(partitioner_names, NELEM(partitioner_names), s);
}

int
sl_job_new(const char *name, sl_job **out)
{
	sl_job *job;

	if (name == NULL || *name == '\0')
		return sli_err(SL_EINVAL, "a job needs a name");
	if ((job = calloc(1, sizeof(*job))) == NULL ||
	    (job->name = strdup(name)) == NULL ||
	    (job->default_shuffle = strdup("memory")) == NULL) {
		sl_job_free(job);
		return sli_err(SL_ENOMEM, "out of memory");
	}
	*out = job;
	return 0;
}

void
sl_job_free(sl_job *job)
{
	if (job == NULL)
		return;
	for (uint32_t i = 0; i < job->nv; i++) {
		free(job->v[i].id);
		free(job->v[i].op);
		free(job->v[i].config_json);
		free(job->v[i].in);
		free(job->v[i].out);
	}
	for (uint32_t i = 0; i < job->ne; i++)
		free(job->e[i].shuffle);
	free(job->v);
	free(job->e);
	free(job->name);
	free(job->default_shuffle);
	free(job);
}

const char *
sl_job_name(const sl_job *job)
{
	return job->name;
}
uint32_t
sl_job_vertex_count(const sl_job *job)
{
	return job->nv;
}
uint32_t
sl_job_edge_count(const sl_job *job)
{
	return job->ne;
}

int64_t
sli_job_find_vertex(const sl_job *job, const char *id)
{
	/* Linear: jobs have few vertices, and parsing is not a hot path. */
	for (uint32_t i = 0; i < job->nv; i++)
		if (strcmp(job->v[i].id, id) == 0)
			return i;
	return -1;
}

const char *
sli_edge_shuffle(const sl_job *job, const struct sli_edge *e)
{
	return e->shuffle != NULL ? e->shuffle : job->default_shuffle;
}

static bool
valid_id(const char *id)
{
	size_t n = 0;

	for (const char *p = id; *p; p++, n++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		        c == '.'))
			return false;
	}
	return n >= 1 && n <= 128;
}

int
sl_job_add_vertex(sl_job *job, const char *id, const char *op,
    int32_t parallelism, const char *config_json)
{
	struct sli_vertex *v;

	if (id == NULL || !valid_id(id))
		return sli_err(SL_EINVAL,
		    "vertex id '%s': use 1 to 128 characters of A-Z a-z 0-9 _ "
		    ". -",
		    id ? id : "(null)");
	if (op == NULL || *op == '\0')
		return sli_err(SL_EINVAL, "vertex '%s': no operator", id);
	if (parallelism != SL_PARALLELISM_AUTO &&
	    (parallelism < 1 || parallelism > SL_MAX_PARALLELISM))
		return sli_err(SL_ERANGE,
		    "vertex '%s': parallelism %d is not between 1 and %d (or "
		    "\"auto\")",
		    id, parallelism, SL_MAX_PARALLELISM);
	if (sli_job_find_vertex(job, id) >= 0)
		return sli_err(SL_EEXISTS, "vertex '%s' is defined twice", id);
	if (job->nv >= SL_MAX_VERTICES)
		return sli_err(
		    SL_ERANGE, "more than %d vertices", SL_MAX_VERTICES);
	if (job->nv == job->capv) {
		uint32_t cap = job->capv ? job->capv * 2 : 8;
		void *p = realloc(job->v, cap * sizeof(*job->v));
		if (p == NULL)
			return sli_err(SL_ENOMEM, "out of memory");
		job->v = p;
		job->capv = cap;
	}
	v = &job->v[job->nv];
	memset(v, 0, sizeof(*v));
	v->parallelism = parallelism;
	if ((v->id = strdup(id)) == NULL || (v->op = strdup(op)) == NULL ||
	    (config_json != NULL &&
	        (v->config_json = strdup(config_json)) == NULL)) {
		free(v->id);
		free(v->op);
		return sli_err(SL_ENOMEM, "out of memory");
	}
	job->nv++;
	return 0;
}

/* Is `to` reachable from `from` along edges? Depth-first, iterative. */
static int
reachable(const sl_job *job, uint32_t from, uint32_t to, bool *found)
{
	uint32_t *stack;
	uint8_t *seen;
	uint32_t sp = 0;

	*found = false;
	stack = malloc((job->ne + 1) * sizeof(*stack));
	seen = calloc(job->nv, 1);
	if (stack == NULL || seen == NULL) {
		free(stack);
		free(seen);
		return sli_err(SL_ENOMEM, "out of memory");
	}
	stack[sp++] = from;
	seen[from] = 1;
	while (sp > 0 && !*found) {
		uint32_t u = stack[--sp];
		if (u == to) {
			*found = true;
			break;
		}
		for (uint32_t k = 0; k < job->v[u].nout; k++) {
			uint32_t w = job->e[job->v[u].out[k]].to;
			if (!seen[w]) {
				seen[w] = 1;
				stack[sp++] = w;
			}
		}
	}
	free(stack);
	free(seen);
	return 0;
}

static int
append_u32(uint32_t **a, uint32_t *n, uint32_t v)
{
	uint32_t *p = realloc(*a, (*n + 1) * sizeof(**a));

	if (p == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	p[(*n)++] = v;
	*a = p;
	return 0;
}

int
sl_job_add_edge(sl_job *job, const struct sl_edge_spec *s)
{
	int64_t from, to;
	bool cycle;
	int rv;
	struct sli_edge *e;
	int partitioner = s->partitioner;

	if (s->from == NULL || (from = sli_job_find_vertex(job, s->from)) < 0)
		return sli_err(SL_ENOTFOUND, "unknown vertex '%s' in 'from'",
		    s->from ? s->from : "(null)");
	if (s->to == NULL || (to = sli_job_find_vertex(job, s->to)) < 0)
		return sli_err(SL_ENOTFOUND, "unknown vertex '%s' in 'to'",
		    s->to ? s->to : "(null)");
	if (s->distribution < 0 || s->distribution > SL_DIST_BROADCAST)
		return sli_err(
		    SL_EINVAL, "unknown distribution %d", s->distribution);
	if (s->type < 0 || s->type > SL_PARTITION_HYBRID_SELECTIVE)
		return sli_err(SL_EINVAL, "unknown partition type %d", s->type);
	if (s->shuffle != NULL && *s->shuffle == '\0')
		return sli_err(SL_EINVAL,
		    "edge %s -> %s: empty shuffle plugin name", s->from, s->to);
	if (partitioner < 0 || partitioner > SL_PARTITIONER_ROUND_ROBIN)
		return sli_err(
		    SL_EINVAL, "unknown partitioner %d", partitioner);
	if (s->distribution == SL_DIST_ALL_TO_ALL) {
		if (partitioner == SL_PARTITIONER_NONE)
			partitioner = SL_PARTITIONER_HASH;
	} else if (partitioner != SL_PARTITIONER_NONE) {
		return sli_err(SL_EINVAL,
		    "edge %s -> %s: a partitioner applies only to all_to_all",
		    s->from, s->to);
	}
	if (from == to)
		return sli_err(SL_ECYCLE,
		    "edge %s -> %s: an edge from a vertex to itself", s->from,
		    s->to);
	if ((rv = reachable(job, (uint32_t)to, (uint32_t)from, &cycle)) != 0)
		return rv;
	if (cycle)
		return sli_err(SL_ECYCLE,
		    "edge %s -> %s closes a cycle: '%s' already reaches '%s'",
		    s->from, s->to, s->to, s->from);

	if (job->ne == job->cape) {
		uint32_t cap = job->cape ? job->cape * 2 : 8;
		void *p = realloc(job->e, cap * sizeof(*job->e));
		if (p == NULL)
			return sli_err(SL_ENOMEM, "out of memory");
		job->e = p;
		job->cape = cap;
	}
	e = &job->e[job->ne];
	memset(e, 0, sizeof(*e));
	e->from = (uint32_t)from;
	e->to = (uint32_t)to;
	e->distribution = s->distribution;
	e->partitioner = partitioner;
	e->type = s->type;
	if (s->shuffle != NULL && (e->shuffle = strdup(s->shuffle)) == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	if ((rv = append_u32(&job->v[from].out, &job->v[from].nout, job->ne)) !=
	    0)
		goto out_free_shuffle;
	if ((rv = append_u32(&job->v[to].in, &job->v[to].nin, job->ne)) != 0) {
		job->v[from].nout--;
		goto out_free_shuffle;
	}
	job->ne++;
	return 0;

out_free_shuffle:
	free(e->shuffle);
	e->shuffle = NULL;
	return rv;
}

int
sl_job_set_default_shuffle(sl_job *job, const char *plugin)
{
	char *p;

	if (plugin == NULL || *plugin == '\0')
		return sli_err(SL_EINVAL, "empty shuffle plugin name");
	if ((p = strdup(plugin)) == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	free(job->default_shuffle);
	job->default_shuffle = p;
	return 0;
}

int
sli_job_topo_order(const sl_job *job, uint32_t **out)
{
	/* Kahn's algorithm; taking the smallest ready index each time keeps
	 * the order stable (the order vertices were added, where possible). */
	uint32_t *indeg = calloc(job->nv + 1, sizeof(*indeg));
	uint32_t *order = malloc((job->nv + 1) * sizeof(*order));
	uint32_t n = 0;

	if (indeg == NULL || order == NULL) {
		free(indeg);
		free(order);
		return sli_err(SL_ENOMEM, "out of memory");
	}
	for (uint32_t i = 0; i < job->ne; i++)
		indeg[job->e[i].to]++;
	/* O(V^2) selection is fine: vertex counts are small next to tasks. */
	uint8_t *done = calloc(job->nv + 1, 1);
	if (done == NULL) {
		free(indeg);
		free(order);
		return sli_err(SL_ENOMEM, "out of memory");
	}
	while (n < job->nv) {
		uint32_t u = UINT32_MAX;
		for (uint32_t i = 0; i < job->nv; i++)
			if (!done[i] && indeg[i] == 0) {
				u = i;
				break;
			}
		if (u == UINT32_MAX)
			break; /* cannot happen: add_edge refuses cycles */
		done[u] = 1;
		order[n++] = u;
		for (uint32_t k = 0; k < job->v[u].nout; k++)
			indeg[job->e[job->v[u].out[k]].to]--;
	}
	free(indeg);
	free(done);
	if (n < job->nv) {
		free(order);
		return sli_err(SL_ECYCLE, "cycle in the job graph");
	}
	*out = order;
	return 0;
}
