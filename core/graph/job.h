/*
 * The job graph as the core holds it. Vertices and edges are kept in the
 * order they were added. sl_job_add_edge refuses self-edges and repeats
 * but not longer cycles: finding those costs a pass over the whole graph,
 * so it is done once, by Kahn's algorithm, in sl_job_validate and
 * sli_job_topo_order (the loader calls the first, sli_exec_build the
 * second). Every part of building a job is linear in its size.
 */
#ifndef SLI_JOB_H
#define SLI_JOB_H

#include <stdbool.h>
#include <stdint.h>

#include <sluice/graph.h>

struct sli_vertex {
	char *id;
	char *op;
	int32_t parallelism;              /* 1.. or SL_PARALLELISM_AUTO */
	char *config_json;                /* may be NULL */
	struct sl_adaptive_spec adaptive; /* 0s inherit the job's */
	uint32_t *in;                     /* indices of incoming edges */
	uint32_t nin;
	uint32_t capin;
	uint32_t *out; /* indices of outgoing edges */
	uint32_t nout;
	uint32_t capout;
};

struct sli_edge {
	uint32_t from; /* vertex index */
	uint32_t to;   /* vertex index */
	int distribution;
	int partitioner;
	int type;
	char *shuffle;   /* NULL: the job's default */
	int compression; /* enum sl_compression */
};

/* A fault to inject (sl_job_add_fault): attempt `attempt` of task
 * VERTEX#INDEX does `action` once it has handled after_records records. */
struct sli_fault {
	uint32_t vertex;        /* index in job->v */
	uint32_t index;         /* the task's index within its vertex */
	uint32_t attempt;       /* 0: the first run */
	uint64_t after_records; /* 0: at once */
	uint32_t action;        /* enum sl_fault_action */
};

/* Open addressing with linear probing: each slot holds an index + 1, 0 is
 * empty. cap is 0 or a power of two, at least twice the entries. */
struct sli_index {
	uint32_t *slot;
	uint32_t cap;
};

struct sl_job {
	char *name;
	char *default_shuffle;
	char *scheduler; /* the strategy's plugin name; NULL: the default */
	struct sl_adaptive_spec adaptive; /* 0s are the defaults */
	/* Operator libraries the job brings: absolute paths that the
	 * coordinator and every worker load ("libraries" in a job file). */
	char **libs;
	uint32_t nlibs;
	/* As given, checked; SL_RESTART_DEFAULT until set. Read it with
	 * sli_job_restart. */
	struct sl_restart_spec restart;
	struct sli_fault *faults; /* in the order they were added */
	uint32_t nfaults;
	struct sli_vertex *v;
	uint32_t nv;
	uint32_t capv;
	struct sli_edge *e;
	uint32_t ne;
	uint32_t cape;
	struct sli_index vindex; /* vertex id -> index */
	struct sli_index eindex; /* edge contents -> index, to refuse repeats */
};

/* The adaptive settings in force for vertex v: its own, else the job's,
 * else the defaults. */
void sli_job_adaptive(
    const sl_job *job, uint32_t v, struct sl_adaptive_spec *out);

/* The job's restart strategy, resolved (sli_restart_resolve in
 * plan/restart.h): never SL_RESTART_DEFAULT, every field of the strategy
 * filled in. */
void sli_job_restart(const sl_job *job, struct sl_restart_spec *out);

/* The fault for this attempt of task (vertex, index), or NULL. At most
 * SL_MAX_FAULTS faults, so a scan. */
const struct sli_fault *sli_job_fault(
    const sl_job *job, uint32_t vertex, uint32_t index, uint32_t attempt);

/* "fail", "crash_worker" ("?" for anything else), and back (-1). */
const char *sli_fault_action_name(uint32_t action);
int sli_fault_action_parse(const char *s);

/* Index of the vertex with this id, or -1. O(1) expected. */
int64_t sli_job_find_vertex(const sl_job *job, const char *id);

/* Index of an edge equal to this one (partitioner as stored: HASH for an
 * all_to_all edge given NONE; shuffle as given, NULL only equal to NULL),
 * or -1. */
int64_t sli_job_find_edge(const sl_job *job, uint32_t from, uint32_t to,
    int distribution, int partitioner, int type, const char *shuffle);

/* Vertex indices in a topological order (sources first, ties by the order
 * they were added). *out from malloc, owned by the caller. A cycle fails
 * with SL_ECYCLE and a detail naming it, as sl_job_validate. */
int sli_job_topo_order(const sl_job *job, uint32_t **out);

/* 0 if s is a valid shuffle plugin name (the plugin loader's rule: 1 to 64
 * characters of a-z 0-9 _ -), else SL_EINVAL with a detail. */
int sli_check_plugin_name(const char *s);

#endif
