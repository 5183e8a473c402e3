/* Expanding a job graph into tasks, with edges kept at group level. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "exec.h"

int
sli_exec_build(
    const sl_job *job, const uint32_t *par_override, struct sli_exec *x)
{
	uint64_t total = 0;
	int rv;

	memset(x, 0, sizeof(*x));
	x->job = job;
	if ((rv = sli_job_topo_order(job, &x->topo)) != 0)
		return rv;
	x->par = calloc(job->nv + 1, sizeof(*x->par));
	x->base = calloc(job->nv + 1, sizeof(*x->base));
	if (x->par == NULL || x->base == NULL) {
		rv = sli_err(SL_ENOMEM, "out of memory");
		goto out_free;
	}
	for (uint32_t k = 0; k < job->nv; k++) {
		uint32_t v = x->topo[k];
		uint32_t p = par_override && par_override[v]
		    ? par_override[v]
		    : (uint32_t)job->v[v].parallelism;

		if (p == SLI_PAR_AT_RUN) {
			struct sl_adaptive_spec a;

			sli_job_adaptive(job, v, &a);
			p = a.max_parallelism;
		}

		if (job->v[v].parallelism == SL_PARALLELISM_AUTO &&
		    !(par_override && par_override[v])) {
			rv = sli_err(SL_EINVAL,
			    "vertex '%s' has parallelism \"auto\": it is "
			    "decided at run time; give --parallelism %s=N to "
			    "plan with a value",
			    job->v[v].id, job->v[v].id);
			goto out_free;
		}
		if (p < 1 || p > SL_MAX_PARALLELISM) {
			rv = sli_err(SL_ERANGE,
			    "vertex '%s': parallelism %u is not between 1 and "
			    "%d",
			    job->v[v].id, p, SL_MAX_PARALLELISM);
			goto out_free;
		}
		x->par[v] = p;
		x->base[v] = (uint32_t)total; /* unused if over the limit */
		total += p;
	}
	/* Counted to the end (at most 10^4 x 10^6, no overflow in 64 bits)
	 * so that the message gives the real total. */
	if (total > SL_MAX_TASKS) {
		rv = sli_err(SL_ERANGE,
		    "%u vertices with %llu tasks in all; at most %d "
		    "(SL_MAX_TASKS)",
		    job->nv, (unsigned long long)total, SL_MAX_TASKS);
		goto out_free;
	}
	x->ntasks = (uint32_t)total;
	x->task_vertex = malloc((total + 1) * sizeof(*x->task_vertex));
	if (x->task_vertex == NULL) {
		rv = sli_err(SL_ENOMEM, "out of memory");
		goto out_free;
	}
	for (uint32_t v = 0; v < job->nv; v++)
		for (uint32_t i = 0; i < x->par[v]; i++)
			x->task_vertex[x->base[v] + i] = v;
	return 0;

out_free:
	sli_exec_free(x);
	return rv;
}

void
sli_exec_free(struct sli_exec *x)
{
	free(x->topo);
	free(x->par);
	free(x->base);
	free(x->task_vertex);
	memset(x, 0, sizeof(*x));
}

int
sli_task_name(const struct sli_exec *x, uint32_t task, char *buf, size_t len)
{
	uint32_t v = x->task_vertex[task];

	return snprintf(buf, len, "%s#%u", x->job->v[v].id, task - x->base[v]);
}

int
sli_task_parse(const struct sli_exec *x, const char *name, uint32_t *task)
{
	const char *hash = strrchr(name, '#');
	char id[160];
	uint64_t idx = 0;
	int64_t v;

	if (hash == NULL || hash == name || hash[1] == '\0' ||
	    (size_t)(hash - name) >= sizeof(id))
		return sli_err(
		    SL_EPARSE, "task '%s': expected VERTEX#INDEX", name);
	memcpy(id, name, hash - name);
	id[hash - name] = '\0';
	/* Digits only (strtoul would take a sign or spaces); a number too
	 * big for any task is out of range, not malformed, so it saturates
	 * instead of failing. */
	for (const char *p = hash + 1; *p; p++) {
		if (*p < '0' || *p > '9')
			return sli_err(SL_EPARSE,
			    "task '%s': index is not a number", name);
		if (idx <= UINT32_MAX)
			idx = idx * 10 + (uint64_t)(*p - '0');
	}
	if ((v = sli_job_find_vertex(x->job, id)) < 0)
		return sli_err(
		    SL_ENOTFOUND, "task '%s': no vertex '%s'", name, id);
	if (idx >= x->par[v])
		return sli_err(SL_ENOTFOUND,
		    "task '%s': index out of range: vertex '%s' has tasks #0 "
		    "to #%u",
		    name, id, x->par[v] - 1);
	*task = x->base[v] + (uint32_t)idx;
	return 0;
}

/* With m >= n, consumer i reads producers floor(i*m/n) .. floor((i+1)*m/n)-1;
 * with m < n, producer j feeds consumers floor(j*n/m) .. floor((j+1)*n/m)-1.
 * The other direction inverts these: the largest i with floor(i*m/n) <= j
 * is floor(((j+1)*n - 1) / m). */
void
sli_pointwise_producers(
    uint32_t m, uint32_t n, uint32_t i, uint32_t *lo, uint32_t *hi)
{
	if (m >= n) {
		*lo = (uint32_t)((uint64_t)i * m / n);
		*hi = (uint32_t)((uint64_t)(i + 1) * m / n);
	} else {
		*lo = (uint32_t)(((uint64_t)(i + 1) * m - 1) / n);
		*hi = *lo + 1;
	}
}

void
sli_pointwise_consumers(
    uint32_t m, uint32_t n, uint32_t j, uint32_t *lo, uint32_t *hi)
{
	if (m < n) {
		*lo = (uint32_t)((uint64_t)j * n / m);
		*hi = (uint32_t)((uint64_t)(j + 1) * n / m);
	} else {
		*lo = (uint32_t)(((uint64_t)(j + 1) * n - 1) / m);
		*hi = *lo + 1;
	}
}

void
sli_edge_producers(const struct sli_exec *x, uint32_t e, uint32_t i,
    uint32_t *lo, uint32_t *hi)
{
	const struct sli_edge *ed = &x->job->e[e];
	uint32_t m = x->par[ed->from], n = x->par[ed->to];

	if (ed->distribution == SL_DIST_POINTWISE) {
		sli_pointwise_producers(m, n, i, lo, hi);
	} else {
		*lo = 0;
		*hi = m;
	}
}

void
sli_edge_consumers(const struct sli_exec *x, uint32_t e, uint32_t j,
    uint32_t *lo, uint32_t *hi)
{
	const struct sli_edge *ed = &x->job->e[e];
	uint32_t m = x->par[ed->from], n = x->par[ed->to];

	if (ed->distribution == SL_DIST_POINTWISE) {
		sli_pointwise_consumers(m, n, j, lo, hi);
	} else {
		*lo = 0;
		*hi = n;
	}
}

bool
sli_exec_chained(const struct sli_exec *x, uint32_t e)
{
	const sl_job *job = x->job;
	const struct sli_edge *ed;

	if (e >= job->ne)
		return false;
	ed = &job->e[e];
	return ed->distribution == SL_DIST_POINTWISE &&
	    ed->type == SL_PARTITION_PIPELINED && ed->shuffle == NULL &&
	    x->par[ed->from] == x->par[ed->to] && job->v[ed->from].nout == 1 &&
	    job->v[ed->to].nin == 1;
}
