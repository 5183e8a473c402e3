/*
 * The operation log's records (DESIGN §7), each a msgpack map with "t"
 * (the type) and "ms" (milliseconds since the job was submitted):
 *
 *   submitted  job (id), origin, json (the job after -D, as the workers
 *              get it)
 *   decided    vertex, id, parallelism, starts [first subpartition of each
 *              task's range], splits [[range, [first producer ...]] ...]
 *   finished   vertex, index, attempt, worker, outputs [[edge, descriptor
 *              (bin), [bytes per subpartition ...]] ...]
 *   reset      cause, restarted [[vertex, index, attempt] ...] (a failover)
 *   snapshot   plugin, data (bin): a shuffle master's state (its ABI's
 *              snapshot), restored into the master of a recovered job
 *   ended      state (FINISHED, FAILED, CANCELLED), message
 *
 * Each append goes to the log's buffer (oplog.h); the caller syncs.
 */
#ifndef SLI_OPLOG_EVENTS_H
#define SLI_OPLOG_EVENTS_H

#include <stdint.h>

#include <jansson.h>
#include <msgpack.h>
#include <sluice/shuffle.h>

#include "oplog.h"

int sli_oplog_submitted(struct sli_oplog *log, uint64_t ms, const char *job,
    const char *origin, const char *json, size_t json_len);
int sli_oplog_decided(struct sli_oplog *log, uint64_t ms, uint32_t vertex,
    const char *id, uint32_t parallelism, const uint32_t *starts);

/* One output of a finished task. */
struct sli_oplog_output {
	uint32_t edge;
	struct sl_bytes desc;
	const uint64_t *sub_bytes;
	uint32_t nsub;
};

int sli_oplog_finished(struct sli_oplog *log, uint64_t ms, uint32_t vertex,
    uint32_t index, uint32_t attempt, const char *worker,
    const struct sli_oplog_output *outs, uint32_t nout);
/* restarted: n triples (vertex, index, new attempt). */
int sli_oplog_reset(struct sli_oplog *log, uint64_t ms, const char *cause,
    const uint32_t (*restarted)[3], uint32_t n);
int sli_oplog_snapshot(struct sli_oplog *log, uint64_t ms, const char *plugin,
    const void *data, size_t len);
int sli_oplog_ended(
    struct sli_oplog *log, uint64_t ms, const char *state, const char *message);

/* Reading a record: the value of key in map (NULL when absent or map is
 * not a map), and an unsigned value (UINT64_MAX when o is none). */
const msgpack_object *sli_oplog_get(const msgpack_object *map, const char *key);
uint64_t sli_oplog_u64(const msgpack_object *o);

/* A record as JSON, for `sluice log dump`: maps become objects, binary
 * values hex strings. NULL when the payload is not msgpack. */
json_t *sli_oplog_record_json(const void *payload, size_t len);

#endif
