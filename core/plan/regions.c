/*
 * Pipelined regions (DESIGN §3), in three passes, each linear in tasks plus
 * edges:
 *  1. union-find joins the tasks of every pipelined edge;
 *  2. an iterative Tarjan merges the regions that form a cycle through the
 *     other edges. An all-to-all or broadcast edge enters that graph as one
 *     hub node (producers -> hub -> consumers): the same reachability as its
 *     m x n task pairs, with m + n arcs;
 *  3. Kahn, smallest task id first among the ready regions, numbers them.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "regions.h"

#define UNSET UINT32_MAX

/* The region graph and what the passes learn about it. Nodes are the
 * pipelined regions 0..nr0-1, then one hub per non-pipelined group edge. */
struct plan {
	const struct sli_exec *x;
	uint32_t *region0; /* per task: its pipelined region */
	uint32_t nr0;
	uint32_t nnodes;
	size_t *off; /* nnodes + 1: arcs of u are adj[off[u]..off[u+1]) */
	uint32_t *adj;
	uint32_t *comp; /* per node: its strongly connected component */
	uint32_t ncomp;
	uint32_t *cstart;  /* ncomp + 1 offsets into members */
	uint32_t *members; /* nodes grouped by component */
	uint32_t *number;  /* per component: its region, UNSET for a lone hub */
	uint32_t nregions;
};

static void *
alloc_array(size_t n, size_t size)
{
	/* One more element, so that empty jobs never see malloc(0). */
	if (n >= SIZE_MAX / size)
		return NULL;
	return malloc((n + 1) * size);
}

static bool
is_group(const struct sli_edge *ed)
{
	return ed->distribution != SL_DIST_POINTWISE;
}

/* Union-find over tasks: path halving and union by rank. */
struct uf {
	uint32_t *parent;
	uint8_t *rank;
};

static uint32_t
uf_find(struct uf *u, uint32_t a)
{
	while (u->parent[a] != a) {
		u->parent[a] = u->parent[u->parent[a]];
		a = u->parent[a];
	}
	return a;
}

static void
uf_union(struct uf *u, uint32_t a, uint32_t b)
{
	a = uf_find(u, a);
	b = uf_find(u, b);
	if (a == b)
		return;
	if (u->rank[a] < u->rank[b]) {
		uint32_t t = a;
		a = b;
		b = t;
	}
	u->parent[b] = a;
	if (u->rank[a] == u->rank[b])
		u->rank[a]++;
}

/* Pass 1. Pipelined regions are numbered by their smallest task, so that
 * order among them is also order by smallest task id. */
static int
join_pipelined(struct plan *p)
{
	const struct sli_exec *x = p->x;
	const sl_job *job = x->job;
	struct uf u;

	u.parent = alloc_array(x->ntasks, sizeof(*u.parent));
	u.rank = calloc(x->ntasks + 1, sizeof(*u.rank));
	if (u.parent == NULL || u.rank == NULL) {
		free(u.parent);
		free(u.rank);
		return sli_err(SL_ENOMEM, "out of memory");
	}
	for (uint32_t t = 0; t < x->ntasks; t++)
		u.parent[t] = t;
	for (uint32_t e = 0; e < job->ne; e++) {
		const struct sli_edge *ed = &job->e[e];
		uint32_t m = x->par[ed->from], n = x->par[ed->to];
		uint32_t pb = x->base[ed->from], cb = x->base[ed->to];

		if (ed->type != SL_PARTITION_PIPELINED)
			continue;
		if (is_group(ed)) {
			/* Every producer meets every consumer: a star does. */
			for (uint32_t j = 1; j < m; j++)
				uf_union(&u, pb, pb + j);
			for (uint32_t i = 0; i < n; i++)
				uf_union(&u, pb, cb + i);
			continue;
		}
		for (uint32_t j = 0; j < m; j++) {
			uint32_t lo, hi;

			sli_pointwise_consumers(m, n, j, &lo, &hi);
			for (uint32_t i = lo; i < hi; i++)
				uf_union(&u, pb + j, cb + i);
		}
	}
	/* Roots into region0 first: parent then serves as root -> region. */
	for (uint32_t t = 0; t < x->ntasks; t++)
		p->region0[t] = uf_find(&u, t);
	for (uint32_t t = 0; t < x->ntasks; t++)
		u.parent[t] = UNSET;
	p->nr0 = 0;
	for (uint32_t t = 0; t < x->ntasks; t++) {
		uint32_t root = p->region0[t];

		if (u.parent[root] == UNSET)
			u.parent[root] = p->nr0++;
		p->region0[t] = u.parent[root];
	}
	free(u.parent);
	free(u.rank);
	return 0;
}

/* The arcs of the region graph. Called twice: with adj NULL it counts arcs
 * per node into off[u + 1]; then it stores them at cursor[u]. */
static void
add_arc(struct plan *p, size_t *cursor, uint32_t u, uint32_t v)
{
	if (p->adj == NULL)
		p->off[u + 1]++;
	else
		p->adj[cursor[u]++] = v;
}

static void
emit_arcs(struct plan *p, size_t *cursor)
{
	const struct sli_exec *x = p->x;
	const sl_job *job = x->job;
	uint32_t hub = p->nr0;

	for (uint32_t e = 0; e < job->ne; e++) {
		const struct sli_edge *ed = &job->e[e];
		uint32_t m = x->par[ed->from], n = x->par[ed->to];
		const uint32_t *pr = p->region0 + x->base[ed->from];
		const uint32_t *cr = p->region0 + x->base[ed->to];

		if (ed->type == SL_PARTITION_PIPELINED)
			continue;
		if (is_group(ed)) {
			for (uint32_t j = 0; j < m; j++)
				add_arc(p, cursor, pr[j], hub);
			for (uint32_t i = 0; i < n; i++)
				add_arc(p, cursor, hub, cr[i]);
			hub++;
			continue;
		}
		for (uint32_t j = 0; j < m; j++) {
			uint32_t lo, hi;

			sli_pointwise_consumers(m, n, j, &lo, &hi);
			for (uint32_t i = lo; i < hi; i++)
				if (pr[j] != cr[i])
					add_arc(p, cursor, pr[j], cr[i]);
		}
	}
}

static int
build_graph(struct plan *p)
{
	const sl_job *job = p->x->job;
	uint64_t nodes = p->nr0;
	size_t *cursor;

	for (uint32_t e = 0; e < job->ne; e++) {
		const struct sli_edge *ed = &job->e[e];

		if (ed->type != SL_PARTITION_PIPELINED && is_group(ed))
			nodes++;
	}
	if (nodes >= UNSET)
		return sli_err(SL_ERANGE, "too many regions and edges to plan");
	p->nnodes = (uint32_t)nodes;
	if ((p->off = calloc(nodes + 2, sizeof(*p->off))) == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	emit_arcs(p, NULL);
	for (uint32_t u = 0; u < p->nnodes; u++)
		p->off[u + 1] += p->off[u];
	p->adj = alloc_array(p->off[p->nnodes], sizeof(*p->adj));
	cursor = alloc_array(p->nnodes, sizeof(*cursor));
	if (p->adj == NULL || cursor == NULL) {
		free(cursor);
		return sli_err(SL_ENOMEM, "out of memory");
	}
	memcpy(cursor, p->off, p->nnodes * sizeof(*cursor));
	emit_arcs(p, cursor);
	free(cursor);
	return 0;
}

/* Pass 2: Tarjan without recursion (graphs have tens of thousands of
 * nodes). A visited node not yet in a component is on the stack, so comp
 * doubles as the on-stack flag. Members of a component leave the stack
 * together, which lays them out contiguously in members. */
static int
tarjan(struct plan *p)
{
	uint32_t n = p->nnodes;
	uint32_t *idx = alloc_array(n, sizeof(*idx));
	uint32_t *low = alloc_array(n, sizeof(*low));
	uint32_t *stk = alloc_array(n, sizeof(*stk));
	uint32_t *calls = alloc_array(n, sizeof(*calls));
	size_t *it = alloc_array(n, sizeof(*it));
	uint32_t counter = 0, sp = 0, ncalls = 0, nm = 0;
	int rv = 0;

	p->comp = alloc_array(n, sizeof(*p->comp));
	p->cstart = alloc_array(n + 1, sizeof(*p->cstart));
	p->members = alloc_array(n, sizeof(*p->members));
	if (idx == NULL || low == NULL || stk == NULL || calls == NULL ||
	    it == NULL || p->comp == NULL || p->cstart == NULL ||
	    p->members == NULL) {
		rv = sli_err(SL_ENOMEM, "out of memory");
		goto out_free_work;
	}
	for (uint32_t v = 0; v < n; v++)
		idx[v] = p->comp[v] = UNSET;
	p->ncomp = 0;
	for (uint32_t s = 0; s < n; s++) {
		if (idx[s] != UNSET)
			continue;
		idx[s] = low[s] = counter++;
		stk[sp++] = s;
		it[s] = p->off[s];
		calls[ncalls++] = s;
		while (ncalls > 0) {
			uint32_t v = calls[ncalls - 1], w;

			if (it[v] < p->off[v + 1]) {
				w = p->adj[it[v]++];
				if (idx[w] == UNSET) {
					idx[w] = low[w] = counter++;
					stk[sp++] = w;
					it[w] = p->off[w];
					calls[ncalls++] = w;
				} else if (p->comp[w] == UNSET) {
					if (idx[w] < low[v])
						low[v] = idx[w];
				}
				continue;
			}
			ncalls--;
			if (ncalls > 0 && low[v] < low[calls[ncalls - 1]])
				low[calls[ncalls - 1]] = low[v];
			if (low[v] != idx[v])
				continue;
			p->cstart[p->ncomp] = nm;
			do {
				w = stk[--sp];
				p->comp[w] = p->ncomp;
				p->members[nm++] = w;
			} while (w != v);
			p->ncomp++;
		}
	}
	p->cstart[p->ncomp] = nm;

out_free_work:
	free(idx);
	free(low);
	free(stk);
	free(calls);
	free(it);
	return rv;
}

/* A binary min-heap of components keyed by their smallest pipelined
 * region (and so by smallest task id). */
struct heap {
	uint32_t *a;
	uint32_t n;
	const uint32_t *key;
};

static void
heap_push(struct heap *h, uint32_t c)
{
	uint32_t i = h->n++;

	while (i > 0 && h->key[h->a[(i - 1) / 2]] > h->key[c]) {
		h->a[i] = h->a[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->a[i] = c;
}

static uint32_t
heap_pop(struct heap *h)
{
	uint32_t top = h->a[0], last = h->a[--h->n], i = 0;

	for (;;) {
		uint32_t k = 2 * i + 1;

		if (k >= h->n)
			break;
		if (k + 1 < h->n && h->key[h->a[k + 1]] < h->key[h->a[k]])
			k++;
		if (h->key[h->a[k]] >= h->key[last])
			break;
		h->a[i] = h->a[k];
		i = k;
	}
	if (h->n > 0)
		h->a[i] = last;
	return top;
}

/* Pass 3: Kahn over the components. A component of hubs alone gets no
 * number and is passed through as soon as it is ready: it releases its
 * consumers exactly when its producers are all done, as the m x n arcs it
 * stands for would. */
static int
number_regions(struct plan *p)
{
	uint32_t nc = p->ncomp;
	uint32_t *key = alloc_array(nc, sizeof(*key));
	size_t *indeg = calloc(nc + 1, sizeof(*indeg));
	uint32_t *hubs = alloc_array(nc, sizeof(*hubs));
	struct heap h = { .a = alloc_array(nc, sizeof(*h.a)), .key = key };
	uint32_t nhubs = 0;
	int rv = 0;

	p->number = alloc_array(nc, sizeof(*p->number));
	if (key == NULL || indeg == NULL || hubs == NULL || h.a == NULL ||
	    p->number == NULL) {
		rv = sli_err(SL_ENOMEM, "out of memory");
		goto out_free_work;
	}
	for (uint32_t c = 0; c < nc; c++) {
		key[c] = UNSET;
		for (uint32_t k = p->cstart[c]; k < p->cstart[c + 1]; k++)
			if (p->members[k] < p->nr0 && p->members[k] < key[c])
				key[c] = p->members[k];
	}
	for (uint32_t u = 0; u < p->nnodes; u++)
		for (size_t a = p->off[u]; a < p->off[u + 1]; a++)
			if (p->comp[p->adj[a]] != p->comp[u])
				indeg[p->comp[p->adj[a]]]++;
	for (uint32_t c = 0; c < nc; c++) {
		if (indeg[c] != 0)
			continue;
		if (key[c] == UNSET)
			hubs[nhubs++] = c;
		else
			heap_push(&h, c);
	}
	p->nregions = 0;
	while (nhubs > 0 || h.n > 0) {
		uint32_t c;

		if (nhubs > 0) {
			c = hubs[--nhubs];
			p->number[c] = UNSET;
		} else {
			c = heap_pop(&h);
			p->number[c] = p->nregions++;
		}
		for (uint32_t k = p->cstart[c]; k < p->cstart[c + 1]; k++) {
			uint32_t u = p->members[k];

			for (size_t a = p->off[u]; a < p->off[u + 1]; a++) {
				uint32_t d = p->comp[p->adj[a]];

				if (d == c || --indeg[d] != 0)
					continue;
				if (key[d] == UNSET)
					hubs[nhubs++] = d;
				else
					heap_push(&h, d);
			}
		}
	}

out_free_work:
	free(key);
	free(indeg);
	free(hubs);
	free(h.a);
	return rv;
}

static int
fill_regions(const struct plan *p, struct sli_regions *r)
{
	const struct sli_exec *x = p->x;

	r->n = p->nregions;
	r->of_task = alloc_array(x->ntasks, sizeof(*r->of_task));
	r->tasks = alloc_array(x->ntasks, sizeof(*r->tasks));
	r->start = calloc((size_t)r->n + 2, sizeof(*r->start));
	if (r->of_task == NULL || r->tasks == NULL || r->start == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	/* Counting sort by region; walking tasks in order keeps each region's
	 * tasks ascending. */
	for (uint32_t t = 0; t < x->ntasks; t++) {
		r->of_task[t] = p->number[p->comp[p->region0[t]]];
		r->start[r->of_task[t] + 1]++;
	}
	for (uint32_t k = 0; k < r->n; k++)
		r->start[k + 1] += r->start[k];
	for (uint32_t t = 0; t < x->ntasks; t++)
		r->tasks[r->start[r->of_task[t]]++] = t;
	/* The fill advanced each start to the next region's: shift back. */
	memmove(r->start + 1, r->start, r->n * sizeof(*r->start));
	r->start[0] = 0;
	return 0;
}

int
sli_regions_build(const struct sli_exec *x, struct sli_regions *r)
{
	struct plan p;
	int rv;

	if (x == NULL || r == NULL)
		return sli_err(
		    SL_EINVAL, "sli_regions_build: missing argument");
	memset(r, 0, sizeof(*r));
	memset(&p, 0, sizeof(p));
	p.x = x;
	if ((p.region0 = alloc_array(x->ntasks, sizeof(*p.region0))) == NULL) {
		rv = sli_err(SL_ENOMEM, "out of memory");
		goto out_free_plan;
	}
	if ((rv = join_pipelined(&p)) != 0 || (rv = build_graph(&p)) != 0 ||
	    (rv = tarjan(&p)) != 0 || (rv = number_regions(&p)) != 0)
		goto out_free_plan;
	if ((rv = fill_regions(&p, r)) != 0)
		sli_regions_free(r);

out_free_plan:
	free(p.region0);
	free(p.off);
	free(p.adj);
	free(p.comp);
	free(p.cstart);
	free(p.members);
	free(p.number);
	return rv;
}

void
sli_regions_free(struct sli_regions *r)
{
	free(r->of_task);
	free(r->tasks);
	free(r->start);
	memset(r, 0, sizeof(*r));
}
