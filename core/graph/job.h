/*
 * The job graph as the core holds it. Vertices are kept in the order they
 * were added; every edge goes from an earlier-added vertex's topological
 * position to a later one (see topo), which sl_job_add_edge guarantees by
 * refusing cycles.
 */
#ifndef SLI_JOB_H
#define SLI_JOB_H

#include <stdint.h>

#include <sluice/graph.h>

struct sli_vertex {
	char *id;
	char *op;
	int32_t parallelism; /* 1.. or SL_PARALLELISM_AUTO */
	char *config_json;   /* may be NULL */
	uint32_t *in;        /* indices of incoming edges */
	uint32_t nin;
	uint32_t *out; /* indices of outgoing edges */
	uint32_t nout;
};

struct sli_edge {
	uint32_t from; /* vertex index */
	uint32_t to;   /* vertex index */
	int distribution;
	int partitioner;
	int type;
	char *shuffle; /* NULL: the job's default */
};

struct sl_job {
	char *name;
	char *default_shuffle;
	struct sli_vertex *v;
	uint32_t nv;
	uint32_t capv;
	struct sli_edge *e;
	uint32_t ne;
	uint32_t cape;
};

/* Index of the vertex with this id, or -1. */
int64_t sli_job_find_vertex(const sl_job *job, const char *id);

/* Vertex indices in a topological order (sources first, ties by the order
 * they were added). *out from malloc, owned by the caller. */
int sli_job_topo_order(const sl_job *job, uint32_t **out);

/* The shuffle plugin of edge e. */
const char *sli_edge_shuffle(const sl_job *job, const struct sli_edge *e);

#endif
