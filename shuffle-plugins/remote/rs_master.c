/*
 * The remote plugin's master: localdisk's (ld_master.c: descriptors,
 * releases, availability, snapshots), with every partition placed on one
 * of the `sluice shuffled` daemons the coordinator was given
 * (`--shuffle-service`, the master's configuration {"services": [URL...]})
 * instead of its producer's worker: the descriptor's location is the
 * daemon's URL, so a worker's loss takes nothing with it.
 */
#include <string.h>

#include <jansson.h>

#include "rs_plugin.h"

#define MAX_SERVICES 64

struct rmaster {
	const struct sl_host *host;
	void *ld; /* ld_master_ops' state */
	char *service[MAX_SERVICES];
	uint32_t nservices;
	uint64_t *placed; /* per service: partitions placed */
};

static int
master_init(void *state, const struct sl_host *host, const char *config_json)
{
	struct rmaster *m = state;
	json_t *cfg, *sv;
	size_t i;

	m->host = host;
	cfg = config_json != NULL ? json_loads(config_json, 0, NULL) : NULL;
	sv = json_object_get(cfg, "services");
	for (i = 0; i < json_array_size(sv) && m->nservices < MAX_SERVICES;
	     i++) {
		const char *url = json_string_value(json_array_get(sv, i));

		if (url == NULL || url[0] == '\0')
			continue;
		if ((m->service[m->nservices] = host->alloc(strlen(url) + 1)) ==
		    NULL) {
			json_decref(cfg);
			return SL_ENOMEM;
		}
		strcpy(m->service[m->nservices++], url);
	}
	json_decref(cfg);
	if (m->nservices == 0) {
		host->set_error("remote: no shuffle service given (start "
		                "`sluice shuffled` and pass its URL with "
		                "--shuffle-service to sluice coordinator or "
		                "sluice run)");
		return SL_EINVAL;
	}
	if ((m->placed = host->alloc(m->nservices * sizeof(*m->placed))) ==
	        NULL ||
	    (m->ld = host->alloc(ld_master_ops.state_size)) == NULL)
		return SL_ENOMEM;
	memset(m->placed, 0, m->nservices * sizeof(*m->placed));
	memset(m->ld, 0, ld_master_ops.state_size);
	return ld_master_ops.init(m->ld, host, NULL);
}

static void
master_fini(void *state)
{
	struct rmaster *m = state;

	if (m->ld != NULL) {
		ld_master_ops.fini(m->ld);
		m->host->free(m->ld);
	}
	for (uint32_t i = 0; i < m->nservices; i++)
		m->host->free(m->service[i]);
	if (m->host != NULL)
		m->host->free(m->placed);
}

/* The daemon with the fewest partitions placed (the first of those). */
static int
master_register(
    void *state, const struct sl_partition_spec *spec, struct sl_bytes *desc)
{
	struct rmaster *m = state;
	struct sl_partition_spec s = *spec;
	uint32_t best = 0;

	for (uint32_t i = 1; i < m->nservices; i++)
		if (m->placed[i] < m->placed[best])
			best = i;
	s.producer_location = m->service[best];
	m->placed[best]++;
	return ld_master_ops.register_partition(m->ld, &s, desc);
}

static int
master_release(void *state, const void *desc, size_t len)
{
	struct rmaster *m = state;

	return ld_master_ops.release_partition(m->ld, desc, len);
}

static bool
master_is_available(void *state, const void *desc, size_t len)
{
	struct rmaster *m = state;

	return ld_master_ops.is_available(m->ld, desc, len);
}

/* A worker lost takes no partition: they are the daemons'. */
static void
master_worker_lost(void *state, const char *location)
{
	(void)state;
	(void)location;
}

static int
master_snapshot(void *state, struct sl_bytes *out)
{
	struct rmaster *m = state;

	return ld_master_ops.snapshot(m->ld, out);
}

static int
master_restore(void *state, const void *data, size_t len)
{
	struct rmaster *m = state;

	return ld_master_ops.restore(m->ld, data, len);
}

const struct sl_shuffle_master_ops rs_master_ops = {
	.struct_size = sizeof(struct sl_shuffle_master_ops),
	.state_size = sizeof(struct rmaster),
	.init = master_init,
	.fini = master_fini,
	.register_partition = master_register,
	.release_partition = master_release,
	.is_available = master_is_available,
	.worker_lost = master_worker_lost,
	.snapshot = master_snapshot,
	.restore = master_restore,
};
