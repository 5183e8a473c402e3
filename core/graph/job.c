/* The job graph's C API (api/sluice/graph.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "../plan/restart.h"
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
static const char *const compression_names[] = { "none", "lz4", "zstd" };

const char *
sl_compression_name(int c)
{
	return name_of(compression_names, NELEM(compression_names), c);
}
int
sl_compression_parse(const char *s)
{
	return parse_name(compression_names, NELEM(compression_names), s);
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

/*
 * Names: job names and vertex ids name files and appear in task names
 * (VERTEX#INDEX), so they keep to a safe set; shuffle plugin names follow
 * the plugin loader's rule (core/plugin/loader.c), so that a name the
 * loader would refuse is refused here, where the job says it.
 */
#define ID_MAX 128
#define ID_SET "A-Z a-z 0-9 _ . -"
#define PLUGIN_NAME_MAX 64
#define PLUGIN_NAME_SET "a-z 0-9 _ -"

static bool
id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

static bool
plugin_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
	    c == '-';
}

/* NULL when s is 1..max characters for which ok() holds; else what is
 * wrong, written into buf. */
static const char *
name_problem(const char *what, const char *s, size_t max, bool (*ok)(char),
    const char *set, char *buf, size_t len)
{
	size_t n = 0;
	bool bad = false;

	if (s == NULL) {
		snprintf(buf, len, "no %s", what);
		return buf;
	}
	for (const char *p = s; *p; p++, n++)
		bad = bad || !ok(*p);
	if (n == 0)
		snprintf(buf, len, "empty %s: use 1 to %zu characters of %s",
		    what, max, set);
	else if (n > max)
		snprintf(buf, len,
		    "%s '%.40s...' has %zu characters: use 1 to %zu "
		    "characters of %s",
		    what, s, n, max, set);
	else if (bad)
		snprintf(buf, len, "%s '%s': use 1 to %zu characters of %s",
		    what, s, max, set);
	else
		return NULL;
	return buf;
}

int
sli_check_plugin_name(const char *s)
{
	char buf[256];
	const char *why = name_problem("shuffle plugin name", s,
	    PLUGIN_NAME_MAX, plugin_char, PLUGIN_NAME_SET, buf, sizeof(buf));

	return why != NULL ? sli_err(SL_EINVAL, "%s", why) : 0;
}

int
sl_job_new(const char *name, sl_job **out)
{
	sl_job *job;
	char buf[256];
	const char *why = name_problem(
	    "job name", name, ID_MAX, id_char, ID_SET, buf, sizeof(buf));

	if (why != NULL)
		return sli_err(SL_EINVAL, "%s", why);
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
	free(job->vindex.slot);
	free(job->eindex.slot);
	for (uint32_t i = 0; i < job->nlibs; i++)
		free(job->libs[i]);
	free(job->libs);
	free(job->faults);
	free(job->name);
	free(job->default_shuffle);
	free(job->scheduler);
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

/*
 * The two indices. FNV-1a then a 64-bit finalizer (MurmurHash3's fmix64):
 * FNV alone leaves ids that differ only in their last characters ("v1",
 * "v2", ...) in neighbouring slots, and linear probing turns neighbours
 * into long runs.
 */
static uint64_t
mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return mix(h);
}

static uint64_t
hash_edge(uint32_t from, uint32_t to, int distribution, int partitioner,
    int type, const char *shuffle)
{
	uint64_t h = mix((uint64_t)from << 32 | to);

	h = mix(h ^
	    ((uint64_t)(uint8_t)distribution |
	        (uint64_t)(uint8_t)partitioner << 8 |
	        (uint64_t)(uint8_t)type << 16));
	return shuffle != NULL ? mix(h ^ hash_str(shuffle)) : h;
}

static uint64_t
vertex_hash(const sl_job *job, uint32_t i)
{
	return hash_str(job->v[i].id);
}

static uint64_t
edge_hash(const sl_job *job, uint32_t i)
{
	const struct sli_edge *e = &job->e[i];

	return hash_edge(e->from, e->to, e->distribution, e->partitioner,
	    e->type, e->shuffle);
}

static void
index_put(uint32_t *slot, uint32_t cap, uint64_t h, uint32_t i)
{
	uint32_t k = (uint32_t)h & (cap - 1);

	while (slot[k] != 0)
		k = (k + 1) & (cap - 1);
	slot[k] = i + 1;
}

/* Room for n entries, the first `have` of which are in the index now. At
 * most half full, so that a probe is short; a new table is built whole, so
 * a failure leaves the old one. */
static int
index_reserve(const sl_job *job, struct sli_index *ix, uint32_t n,
    uint32_t have, uint64_t (*hash)(const sl_job *, uint32_t))
{
	uint32_t cap = ix->cap ? ix->cap : 16;
	uint32_t *slot;

	while ((uint64_t)n * 2 > cap)
		cap *= 2;
	if (cap == ix->cap)
		return 0;
	if ((slot = calloc(cap, sizeof(*slot))) == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < have; i++)
		index_put(slot, cap, hash(job, i), i);
	free(ix->slot);
	ix->slot = slot;
	ix->cap = cap;
	return 0;
}

int64_t
sli_job_find_vertex(const sl_job *job, const char *id)
{
	uint32_t k, m = job->vindex.cap - 1;

	if (id == NULL || job->vindex.cap == 0)
		return -1;
	for (k = (uint32_t)hash_str(id) & m; job->vindex.slot[k] != 0;
	     k = (k + 1) & m) {
		uint32_t i = job->vindex.slot[k] - 1;
		if (strcmp(job->v[i].id, id) == 0)
			return i;
	}
	return -1;
}

int64_t
sli_job_find_edge(const sl_job *job, uint32_t from, uint32_t to,
    int distribution, int partitioner, int type, const char *shuffle)
{
	uint32_t k, m = job->eindex.cap - 1;

	if (job->eindex.cap == 0)
		return -1;
	for (k = (uint32_t)hash_edge(
	             from, to, distribution, partitioner, type, shuffle) &
	         m;
	     job->eindex.slot[k] != 0; k = (k + 1) & m) {
		uint32_t i = job->eindex.slot[k] - 1;
		const struct sli_edge *e = &job->e[i];

		if (e->from == from && e->to == to &&
		    e->distribution == distribution &&
		    e->partitioner == partitioner && e->type == type &&
		    (e->shuffle == NULL ? shuffle == NULL
		                        : shuffle != NULL &&
		                strcmp(e->shuffle, shuffle) == 0))
			return i;
	}
	return -1;
}

/* Capacity for n entries in a growing array of u32, doubling. */
static int
reserve_u32(uint32_t **a, uint32_t *cap, uint32_t n)
{
	uint32_t ncap = *cap ? *cap : 4;
	uint32_t *p;

	if (n <= *cap)
		return 0;
	while (ncap < n)
		ncap *= 2;
	if ((p = realloc(*a, ncap * sizeof(**a))) == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	*a = p;
	*cap = ncap;
	return 0;
}

int
sl_job_add_vertex(sl_job *job, const char *id, const char *op,
    int32_t parallelism, const char *config_json)
{
	struct sli_vertex *v;
	char buf[256];
	const char *why = name_problem(
	    "vertex id", id, ID_MAX, id_char, ID_SET, buf, sizeof(buf));
	int rv;

	if (why != NULL)
		return sli_err(SL_EINVAL, "%s", why);
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
		return sli_err(SL_ERANGE,
		    "vertex '%s' would be vertex %u; a job holds at most %d "
		    "(SL_MAX_VERTICES)",
		    id, job->nv + 1, SL_MAX_VERTICES);
	if (job->nv == job->capv) {
		uint32_t cap = job->capv ? job->capv * 2 : 8;
		void *p = realloc(job->v, cap * sizeof(*job->v));
		if (p == NULL)
			return sli_err(SL_ENOMEM, "out of memory");
		job->v = p;
		job->capv = cap;
	}
	if ((rv = index_reserve(
	         job, &job->vindex, job->nv + 1, job->nv, vertex_hash)) != 0)
		return rv;
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
	index_put(job->vindex.slot, job->vindex.cap, vertex_hash(job, job->nv),
	    job->nv);
	job->nv++;
	return 0;
}

int
sl_job_add_edge(sl_job *job, const struct sl_edge_spec *s)
{
	int64_t from, to, dup;
	int rv;
	struct sli_edge *e;
	int partitioner = s->partitioner;
	char buf[256];
	const char *why;

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
	if (s->compression < 0 || s->compression > SL_COMPRESSION_ZSTD)
		return sli_err(
		    SL_EINVAL, "unknown compression %d", s->compression);
	if (s->shuffle != NULL &&
	    (why = name_problem("shuffle plugin name", s->shuffle,
	         PLUGIN_NAME_MAX, plugin_char, PLUGIN_NAME_SET, buf,
	         sizeof(buf))) != NULL)
		return sli_err(
		    SL_EINVAL, "edge %s -> %s: %s", s->from, s->to, why);
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
	/* The same edge twice carries nothing new and doubles the work of
	 * every plan over it. */
	if ((dup = sli_job_find_edge(job, (uint32_t)from, (uint32_t)to,
	         s->distribution, partitioner, s->type, s->shuffle)) >= 0)
		return sli_err(SL_EEXISTS,
		    "edge %s -> %s (%s, %s) repeats edge %lld: the same "
		    "vertices, distribution, partitioner, type and shuffle",
		    s->from, s->to, sl_distribution_name(s->distribution),
		    sl_partition_type_name(s->type), (long long)dup);
	if (job->ne >= SL_MAX_EDGES)
		return sli_err(SL_ERANGE,
		    "edge %s -> %s would be edge %u; a job holds at most %d "
		    "(SL_MAX_EDGES)",
		    s->from, s->to, job->ne + 1, SL_MAX_EDGES);

	/* Make room everywhere first, so that nothing below can fail half
	 * way through. */
	if (job->ne == job->cape) {
		uint32_t cap = job->cape ? job->cape * 2 : 8;
		void *p = realloc(job->e, cap * sizeof(*job->e));
		if (p == NULL)
			return sli_err(SL_ENOMEM, "out of memory");
		job->e = p;
		job->cape = cap;
	}
	if ((rv = index_reserve(
	         job, &job->eindex, job->ne + 1, job->ne, edge_hash)) != 0 ||
	    (rv = reserve_u32(&job->v[from].out, &job->v[from].capout,
	         job->v[from].nout + 1)) != 0 ||
	    (rv = reserve_u32(
	         &job->v[to].in, &job->v[to].capin, job->v[to].nin + 1)) != 0)
		return rv;
	e = &job->e[job->ne];
	memset(e, 0, sizeof(*e));
	if (s->shuffle != NULL && (e->shuffle = strdup(s->shuffle)) == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	e->from = (uint32_t)from;
	e->to = (uint32_t)to;
	e->distribution = s->distribution;
	e->partitioner = partitioner;
	e->compression = s->compression;
	e->type = s->type;
	job->v[from].out[job->v[from].nout++] = job->ne;
	job->v[to].in[job->v[to].nin++] = job->ne;
	index_put(job->eindex.slot, job->eindex.cap, edge_hash(job, job->ne),
	    job->ne);
	job->ne++;
	return 0;
}

int
sl_job_add_library(sl_job *job, const char *path)
{
	char **v;

	if (path == NULL || path[0] != '/')
		return sli_err(SL_EINVAL,
		    "'%s' is not an absolute path (the coordinator and every "
		    "worker load it, each from its own file system)",
		    path != NULL ? path : "(null)");
	if (job->nlibs >= 256)
		return sli_err(SL_ERANGE, "more than 256 libraries");
	if ((v = realloc(job->libs, (job->nlibs + 1) * sizeof(*v))) == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	job->libs = v;
	if ((v[job->nlibs] = strdup(path)) == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	job->nlibs++;
	return 0;
}

int
sl_job_set_scheduler(sl_job *job, const char *plugin)
{
	char *p;
	int rv;

	if ((rv = sli_check_plugin_name(plugin)) != 0)
		return rv;
	if ((p = strdup(plugin)) == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	free(job->scheduler);
	job->scheduler = p;
	return 0;
}

int
sl_job_set_adaptive(
    sl_job *job, const char *vertex, const struct sl_adaptive_spec *a)
{
	int64_t v = 0;

	if (job == NULL || a == NULL)
		return sli_err(SL_EINVAL, "no job or no settings");
	if (vertex != NULL && (v = sli_job_find_vertex(job, vertex)) < 0)
		return sli_err(SL_ENOTFOUND, "no vertex '%s'", vertex);
	if (a->min_parallelism > SL_MAX_PARALLELISM ||
	    a->max_parallelism > SL_MAX_PARALLELISM)
		return sli_err(SL_ERANGE,
		    "a parallelism bound above the limit of %d",
		    SL_MAX_PARALLELISM);
	if (a->min_parallelism != 0 && a->max_parallelism != 0 &&
	    a->min_parallelism > a->max_parallelism)
		return sli_err(SL_EINVAL,
		    "min_parallelism %u is above max_parallelism %u",
		    a->min_parallelism, a->max_parallelism);
	if (vertex != NULL)
		job->v[v].adaptive = *a;
	else
		job->adaptive = *a;
	return 0;
}

void
sli_job_adaptive(const sl_job *job, uint32_t v, struct sl_adaptive_spec *out)
{
	const struct sl_adaptive_spec *own = &job->v[v].adaptive,
	                              *all = &job->adaptive;

	out->min_parallelism = own->min_parallelism ? own->min_parallelism
	    : all->min_parallelism                  ? all->min_parallelism
	                           : SL_DEFAULT_MIN_PARALLELISM;
	out->max_parallelism = own->max_parallelism ? own->max_parallelism
	    : all->max_parallelism                  ? all->max_parallelism
	                           : SL_DEFAULT_MAX_PARALLELISM;
	out->bytes_per_task = own->bytes_per_task ? own->bytes_per_task
	    : all->bytes_per_task                 ? all->bytes_per_task
	                                          : SL_DEFAULT_BYTES_PER_TASK;
	out->skew_factor = own->skew_factor ? own->skew_factor
	    : all->skew_factor              ? all->skew_factor
	                                    : SL_DEFAULT_SKEW_FACTOR;
}

int
sl_job_set_restart(sl_job *job, const struct sl_restart_spec *r)
{
	struct sl_restart_spec filled;
	const char *field;
	int rv;

	if (job == NULL || r == NULL)
		return sli_err(SL_EINVAL, "no job or no restart strategy");
	if ((rv = sli_restart_resolve(r, &filled, &field)) != 0) {
		char detail[512];

		snprintf(detail, sizeof(detail), "%s", sl_errdetail());
		return sli_err(rv, "restart: %s: %s", field, detail);
	}
	job->restart = *r;
	return 0;
}

void
sli_job_restart(const sl_job *job, struct sl_restart_spec *out)
{
	/* checked when it was set, so this cannot fail */
	if (sli_restart_resolve(&job->restart, out, NULL) != 0)
		sli_restart_resolve(
		    &(struct sl_restart_spec) {
		        .strategy = SL_RESTART_DEFAULT },
		    out, NULL);
}

static const char *const fault_actions[] = { "fail", "crash_worker" };

const char *
sli_fault_action_name(uint32_t action)
{
	return name_of(fault_actions, NELEM(fault_actions), (int)action);
}

int
sli_fault_action_parse(const char *s)
{
	return parse_name(fault_actions, NELEM(fault_actions), s);
}

const struct sli_fault *
sli_job_fault(
    const sl_job *job, uint32_t vertex, uint32_t index, uint32_t attempt)
{
	for (uint32_t i = 0; i < job->nfaults; i++) {
		const struct sli_fault *f = &job->faults[i];

		if (f->vertex == vertex && f->index == index &&
		    f->attempt == attempt)
			return f;
	}
	return NULL;
}

int
sl_job_add_fault(sl_job *job, const char *task, uint32_t attempt,
    uint64_t after_records, const char *action)
{
	char id[ID_MAX + 1];
	const char *hash = task != NULL ? strrchr(task, '#') : NULL;
	const char *p;
	struct sli_fault f = { .attempt = attempt,
		.after_records = after_records };
	struct sli_fault *nf;
	int64_t v;
	int act;

	if (job == NULL)
		return sli_err(SL_EINVAL, "no job");
	if (hash == NULL || hash == task || hash[1] == '\0')
		return sli_err(SL_EINVAL,
		    "task '%.160s': expected VERTEX#INDEX, such as 'count#1'",
		    task != NULL ? task : "(null)");
	for (p = hash + 1; *p >= '0' && *p <= '9'; p++)
		if (f.index <= SL_MAX_PARALLELISM)
			f.index = f.index * 10 + (uint32_t)(*p - '0');
	if (*p != '\0')
		return sli_err(SL_EINVAL,
		    "task '%.160s': the index after '#' must be a task "
		    "number, 0 or more",
		    task);
	/* ids are [A-Za-z0-9_.-], so the last '#' ends the vertex's */
	if ((size_t)(hash - task) > ID_MAX)
		return sli_err(
		    SL_ENOTFOUND, "task '%.160s': unknown vertex", task);
	memcpy(id, task, (size_t)(hash - task));
	id[hash - task] = '\0';
	if ((v = sli_job_find_vertex(job, id)) < 0)
		return sli_err(SL_ENOTFOUND,
		    "task '%.160s': unknown vertex '%s'", task, id);
	f.vertex = (uint32_t)v;
	/* an "auto" vertex's task count is decided later; its tasks can
	 * never number SL_MAX_PARALLELISM or more */
	if (f.index >= (job->v[v].parallelism == SL_PARALLELISM_AUTO
	                       ? (uint32_t)SL_MAX_PARALLELISM
	                       : (uint32_t)job->v[v].parallelism))
		return job->v[v].parallelism == SL_PARALLELISM_AUTO
		    ? sli_err(SL_ERANGE,
		          "task '%.160s': a task index is below %d", task,
		          SL_MAX_PARALLELISM)
		    : sli_err(SL_ERANGE,
		          "task '%.160s': vertex '%s' has parallelism %d, so "
		          "its tasks are %s#0 to %s#%d",
		          task, id, job->v[v].parallelism, id, id,
		          job->v[v].parallelism - 1);
	if ((act = sli_fault_action_parse(action)) < 0)
		return sli_err(SL_EINVAL,
		    "unknown action '%.64s' (expected fail or crash_worker)",
		    action != NULL ? action : "(null)");
	f.action = (uint32_t)act;
	if (sli_job_fault(job, f.vertex, f.index, attempt) != NULL)
		return sli_err(SL_EEXISTS,
		    "task %s#%u, attempt %u, has a fault already", id, f.index,
		    attempt);
	if (job->nfaults >= SL_MAX_FAULTS)
		return sli_err(SL_ERANGE, "more than %d faults", SL_MAX_FAULTS);
	if ((nf = realloc(job->faults, (job->nfaults + 1) * sizeof(*nf))) ==
	    NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	job->faults = nf;
	nf[job->nfaults++] = f;
	return 0;
}

int
sl_job_set_default_shuffle(sl_job *job, const char *plugin)
{
	char *p;
	int rv;

	if ((rv = sli_check_plugin_name(plugin)) != 0)
		return rv;
	if ((p = strdup(plugin)) == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	free(job->default_shuffle);
	job->default_shuffle = p;
	return 0;
}

/* A binary min-heap of vertex indices: Kahn's algorithm takes the smallest
 * ready index each time, which keeps the order of addition wherever the
 * edges allow it. */
static void
heap_push(uint32_t *h, uint32_t *n, uint32_t v)
{
	uint32_t i = (*n)++;

	while (i > 0 && h[(i - 1) / 2] > v) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = v;
}

static uint32_t
heap_pop(uint32_t *h, uint32_t *n)
{
	uint32_t top = h[0], last = h[--*n], i = 0;

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= *n)
			break;
		if (c + 1 < *n && h[c + 1] < h[c])
			c++;
		if (last <= h[c])
			break;
		h[i] = h[c];
		i = c;
	}
	if (*n > 0)
		h[i] = last;
	return top;
}

/* Room for the ids of a cycle in a message; a longer cycle is shown by its
 * start, "...", and its length. */
#define CYCLE_TEXT_MAX 400

/*
 * Kahn's algorithm stopped with indeg[v] > 0 for the vertices it could not
 * order. Each of those has an edge from another of them (its in-degree
 * counts only edges from vertices not yet ordered), so walking back along
 * such edges from any of them must come round to a vertex already seen:
 * the vertices from there on form a cycle. O(V + E).
 */
static int
cycle_error(const sl_job *job, const uint32_t *indeg)
{
	uint32_t *step = malloc((job->nv + 1) * sizeof(*step));
	uint32_t *walk = malloc((job->nv + 1) * sizeof(*walk));
	uint32_t n = 0, u = 0, len, lo, *cyc;
	char text[CYCLE_TEXT_MAX + 256];
	size_t tl = 0;

	if (step == NULL || walk == NULL) {
		free(step);
		free(walk);
		return sli_err(SL_ECYCLE, "edges form a cycle");
	}
	for (uint32_t i = 0; i < job->nv; i++)
		step[i] = UINT32_MAX;
	while (u < job->nv && indeg[u] == 0)
		u++;
	while (u < job->nv && step[u] == UINT32_MAX) {
		const struct sli_vertex *v = &job->v[u];
		uint32_t p = UINT32_MAX;

		step[u] = n;
		walk[n++] = u;
		for (uint32_t k = 0; k < v->nin && p == UINT32_MAX; k++)
			if (indeg[job->e[v->in[k]].from] > 0)
				p = job->e[v->in[k]].from;
		u = p;
	}
	if (u >= job->nv) { /* cannot happen, by the argument above */
		free(step);
		free(walk);
		return sli_err(SL_ECYCLE, "edges form a cycle");
	}
	/* Each step went against an edge, so walk[step[u]..n) read backwards
	 * is the cycle: walk[n-1] -> ... -> walk[step[u]] -> walk[n-1].
	 * Reverse it, and start it at its earliest-added vertex so that the
	 * message does not depend on where the walk came in. */
	cyc = walk + step[u];
	len = n - step[u];
	for (uint32_t k = 0; k < len / 2; k++) {
		uint32_t t = cyc[k];
		cyc[k] = cyc[len - 1 - k];
		cyc[len - 1 - k] = t;
	}
	lo = 0;
	for (uint32_t k = 1; k < len; k++)
		if (cyc[k] < cyc[lo])
			lo = k;
	for (uint32_t k = 0; k <= len; k++) {
		const char *id = job->v[cyc[(lo + k) % len]].id;

		if (k < len && tl + strlen(id) > CYCLE_TEXT_MAX) {
			tl += snprintf(text + tl, sizeof(text) - tl,
			    " -> ... -> %s (%u vertices)", job->v[cyc[lo]].id,
			    len);
			break;
		}
		tl += snprintf(
		    text + tl, sizeof(text) - tl, "%s%s", k ? " -> " : "", id);
	}
	free(step);
	free(walk);
	return sli_err(SL_ECYCLE, "edges form a cycle: %s", text);
}

int
sli_job_topo_order(const sl_job *job, uint32_t **out)
{
	uint32_t *indeg = calloc(job->nv + 1, sizeof(*indeg));
	uint32_t *heap = malloc((job->nv + 1) * sizeof(*heap));
	uint32_t *order = malloc((job->nv + 1) * sizeof(*order));
	uint32_t n = 0, nheap = 0;
	int rv = 0;

	if (indeg == NULL || heap == NULL || order == NULL) {
		rv = sli_err(SL_ENOMEM, "out of memory");
		goto out_free;
	}
	for (uint32_t i = 0; i < job->ne; i++)
		indeg[job->e[i].to]++;
	for (uint32_t i = 0; i < job->nv; i++)
		if (indeg[i] == 0)
			heap_push(heap, &nheap, i);
	while (nheap > 0) {
		uint32_t u = heap_pop(heap, &nheap);

		order[n++] = u;
		for (uint32_t k = 0; k < job->v[u].nout; k++) {
			uint32_t w = job->e[job->v[u].out[k]].to;
			if (--indeg[w] == 0)
				heap_push(heap, &nheap, w);
		}
	}
	if (n < job->nv) {
		rv = cycle_error(job, indeg);
		goto out_free;
	}
	*out = order;
	order = NULL;

out_free:
	free(indeg);
	free(heap);
	free(order);
	return rv;
}

int
sl_job_validate(const sl_job *job)
{
	uint32_t *order;
	int rv;

	if (job == NULL)
		return sli_err(SL_EINVAL, "no job");
	/* bounds given at two levels may cross: min from the job, max from
	 * the vertex */
	for (uint32_t v = 0; v < job->nv; v++) {
		struct sl_adaptive_spec a;

		sli_job_adaptive(job, v, &a);
		if (a.min_parallelism > a.max_parallelism)
			return sli_err(SL_EINVAL,
			    "vertex '%s': min_parallelism %u is above "
			    "max_parallelism %u",
			    job->v[v].id, a.min_parallelism, a.max_parallelism);
	}
	if ((rv = sli_job_topo_order(job, &order)) == 0)
		free(order);
	return rv;
}
