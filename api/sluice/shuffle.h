/*
 * Shuffle plugin ABI: how result partitions move from producing tasks to
 * consuming tasks. A shuffle plugin has three roles, each with its own ops
 * table:
 *
 *  master  lives in the coordinator. Registers a partition for a producer
 *          attempt and returns an opaque shuffle descriptor (msgpack bytes
 *          the plugin alone interprets), releases partitions, says which are
 *          still available.
 *  writer  lives in the producing task. Takes buffers for subpartitions,
 *          then finish (commit) or fail (discard).
 *  reader  lives in the consuming task. Reads one inclusive range of
 *          subpartitions from one or more partitions, never blocking;
 *          readiness is signalled through a callback.
 *
 * For every role the core allocates state_size bytes, zeroed, and passes
 * them to every op; the plugin never frees that memory. Lifetimes follow
 * nng and the rule in plugin.h: a role's open (the master's init) fails ->
 * the core calls that role's fini and nothing else, and fini must cope with
 * the state open left half-made; open succeeds -> the owner ends with close
 * (optional, non-blocking) and fini (frees, may wait). Only the plugin's
 * own init (struct sl_plugin) differs: when it fails, fini is not called.
 */
#ifndef SLUICE_SHUFFLE_H
#define SLUICE_SHUFFLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

enum sl_partition_type {
	/* consumed while produced; bounded memory; not re-readable */
	SL_PARTITION_PIPELINED = 0,
	/* fully produced, then read; re-readable */
	SL_PARTITION_BLOCKING = 1,
	/* readable while produced, everything also spilled; re-readable */
	SL_PARTITION_HYBRID_FULL = 2,
	/* spills only what is not read in time; not re-readable */
	SL_PARTITION_HYBRID_SELECTIVE = 3,
};

/* How a partition's blocks are compressed (an edge's "compression" in a
 * job file). A plugin that cannot compress refuses any but NONE in
 * register_partition with SL_ENOTSUP; one built for ABI 1.1 does not know
 * the field, and the core refuses to run such an edge on it. */
enum sl_compression {
	SL_COMPRESSION_NONE = 0,
	SL_COMPRESSION_LZ4 = 1,
	SL_COMPRESSION_ZSTD = 2,
};

/*
 * Capability bits (struct sl_plugin.caps) of a shuffle plugin. The loader
 * refuses a shuffle that declares no SL_SHUFFLE_CAP_TYPE of a type above
 * (it could serve no partition); bits it does not know are ignored.
 */
#define SL_SHUFFLE_CAP_TYPE(t) (UINT64_C(1) << (t)) /* supports type t */
/* Its partitions stay readable after the producer's worker is lost. */
#define SL_SHUFFLE_CAP_SURVIVES_WORKER (UINT64_C(1) << 16)

/* A byte string. When a plugin returns one, data comes from host->alloc
 * and the caller frees it with the host's free. */
struct sl_bytes {
	void *data;
	size_t len;
};

enum sl_buffer_kind {
	SL_BUFFER_DATA = 0,  /* length-prefixed records */
	SL_BUFFER_EVENT = 1, /* an in-band control event (barrier, watermark) */
};

/*
 * A buffer of the data plane. data holds len bytes: for SL_BUFFER_DATA a
 * sequence of records, each a little-endian uint32 length then the bytes.
 * data is allocated with the host's allocator; ownership is stated on each op.
 */
struct sl_buffer {
	void *data;
	size_t len;
	uint32_t kind;         /* enum sl_buffer_kind */
	uint32_t subpartition; /* set by readers */
	uint32_t input;        /* set by readers: index of the descriptor */
	uint32_t reserved;
	void *plugin_private; /* readers may keep a token here for release */
};

/* What the master is asked to register: one result partition of one
 * producer task attempt. */
struct sl_partition_spec {
	uint32_t struct_size;
	uint32_t type; /* enum sl_partition_type */
	const char *job_id;
	uint32_t edge;     /* index of the job graph edge */
	uint32_t producer; /* producer task index within its vertex */
	uint32_t attempt;
	uint32_t num_subpartitions;
	/* where the producer runs (worker id or data address); NULL when the
	 * whole job runs in one process */
	const char *producer_location;
	/* 1.2: enum sl_compression of the edge */
	uint32_t compression;
};

struct sl_shuffle_master_ops {
	uint32_t struct_size;
	size_t state_size;

	/* Optional (default: nothing). Coordinator thread. config_json is
	 * the plugin's section of the job configuration, or NULL. This is the
	 * master's open: when it fails, the core calls fini and nothing
	 * else. */
	int (*init)(
	    void *state, const struct sl_host *host, const char *config_json);
	/* Optional (default: nothing). Coordinator thread. Frees what the
	 * master holds; called once per init, also after a failed one, so it
	 * must cope with a half-made state. */
	void (*fini)(void *state);

	/* Coordinator thread; must not block for long. On success *desc
	 * holds a msgpack-encoded descriptor from host->alloc, owned by the
	 * caller. Required. */
	int (*register_partition)(void *state,
	    const struct sl_partition_spec *spec, struct sl_bytes *desc);

	/* Drop the partition's data. Idempotent. Required. */
	int (*release_partition)(void *state, const void *desc, size_t len);

	/* Required. Whether the partition can still be read: false once it
	 * was released, its writer failed, or its data was lost (a worker
	 * loss, a coordinator restart). Failover (DESIGN §4) relies on it. */
	bool (*is_available)(void *state, const void *desc, size_t len);

	/* Optional (default: nothing). A worker was declared lost; its
	 * location as in sl_partition_spec.producer_location. */
	void (*worker_lost)(void *state, const char *location);

	/* Optional (default: empty snapshot, restore accepts only empty).
	 * Serialise the master's state for the operation log, and restore it
	 * into a freshly initialised state. */
	int (*snapshot)(void *state, struct sl_bytes *out);
	int (*restore)(void *state, const void *data, size_t len);

	/* 1.4. Optional (default: never). Coordinator thread, on its tick;
	 * must not block. A count that grows whenever partitions became
	 * unavailable other than by release_partition or worker_lost (a
	 * shuffle service the master placed them on was lost): the
	 * coordinator then asks is_available of the finished partitions a
	 * consumer still needs, and runs their producers again. */
	uint64_t (*losses)(void *state);
};

struct sl_shuffle_writer_ops {
	uint32_t struct_size;
	size_t state_size;

	/* Task thread. desc is the descriptor from register_partition; the
	 * plugin copies what it needs. When it fails, the core calls fini
	 * and nothing else. Required. */
	int (*open)(void *state, const struct sl_host *host, const void *desc,
	    size_t len);

	/* Task thread; may block while the consumers hold no credit (back
	 * pressure). On success the plugin owns buf->data and sets it to NULL;
	 * on failure the caller still owns it. A subpartition not below
	 * num_subpartitions gives SL_ERANGE. Required. */
	int (*write)(void *state, uint32_t subpartition, struct sl_buffer *buf);

	/* Task thread. Commit: after 0 every buffer is visible to readers and
	 * as durable as the plugin promises. May block. Required. */
	int (*finish)(void *state);

	/* Task thread. Discard everything written; readers of this attempt
	 * see SL_EUNREADABLE. Required. */
	void (*fail)(void *state);

	/* Optional. Any thread, never blocks: a write or finish blocked in
	 * another thread returns SL_ECLOSED soon after, and so does every
	 * later write or finish. */
	void (*close)(void *state);

	/* Frees what the writer holds; safe after a failed open. A writer
	 * ended without finish counts as failed. Required. */
	void (*fini)(void *state);
};

struct sl_reader_spec {
	uint32_t struct_size;
	/* One descriptor per producer partition to read; the reader copies
	 * what it needs during open. */
	const struct sl_bytes *descriptors;
	uint32_t num_descriptors;
	/* Inclusive range of subpartitions read from every descriptor. */
	uint32_t sub_lo;
	uint32_t sub_hi;
	/* Called, from any thread, when next() may return something new
	 * after it returned SL_EAGAIN; never after fini returned. It must be
	 * quick, never block and never call back into the reader, so a plugin
	 * may call it with its own locks held (e.g. signal a condvar or
	 * uv_async_send). */
	void (*notify)(void *arg);
	void *notify_arg;
	/* Buffers not yet released that each subpartition of each input may
	 * have outstanding (credits); 0 picks the plugin's default. */
	uint32_t credits;
};

struct sl_shuffle_reader_ops {
	uint32_t struct_size;
	size_t state_size;

	/* Task thread. Succeeds even when a partition is gone or not yet
	 * written: next() reports SL_EUNREADABLE or waits. When it fails
	 * (bad spec, no memory), the core calls fini and nothing else.
	 * Required. */
	int (*open)(void *state, const struct sl_host *host,
	    const struct sl_reader_spec *spec);

	/*
	 * Task thread, never blocks. Returns 0 with a buffer in *out (release
	 * it with release), SL_EAGAIN when nothing is ready (notify will be
	 * called), SL_EEOF when every input is finished and drained, or
	 * SL_EUNREADABLE when an input failed or its data is bad (out->input
	 * names it; later calls say so again), or SL_ECLOSED after close.
	 * Buffers of one input and subpartition arrive in the order they
	 * were written. Required.
	 */
	int (*next)(void *state, struct sl_buffer *out);

	/* Task thread. Gives a buffer from next back; this is what returns
	 * credit to the writer. Required. */
	void (*release)(void *state, struct sl_buffer *buf);

	/* Optional. Any thread, never blocks; calls notify so that a task
	 * waiting for it wakes and sees SL_ECLOSED. */
	void (*close)(void *state);

	/* Frees what the reader holds; safe after a failed open. Every
	 * buffer must have been released. Required. */
	void (*fini)(void *state);
};

/*
 * Optional: serving this process's partitions to readers in other
 * processes. A worker calls start once, on its control thread, before it
 * runs a task, with a URL to listen at (ipc://PATH, or tcp://HOST:0 for a
 * port of the plugin's choosing); the plugin writes into bound (cap bytes)
 * the URL readers must dial. The worker announces that URL to the
 * coordinator, whose master then gets it as producer_location of every
 * partition produced on this worker, so it travels in the descriptors. A
 * plugin without a server only works within one process (or through a
 * service of its own, named in its configuration). stop is called once
 * after the worker's last task ended.
 */
struct sl_shuffle_server_ops {
	uint32_t struct_size;
	int (*start)(const struct sl_host *host, const char *url, char *bound,
	    size_t cap);
	void (*stop)(void);
	/* ABI 1.3, optional. Control thread, after start: call each once for
	 * every partition this process's writers finished whose data it
	 * still holds whole (not released, not lost). A coordinator that
	 * restarted asks for it when the worker registers again (DESIGN §7),
	 * and runs again the producers of the partitions a consumer still
	 * needs that are not listed. Without it every partition of a worker
	 * that came back is taken as held. Returns 0 or an SL_E* code. */
	int (*held)(void (*each)(void *arg, const char *job_id, uint32_t edge,
	                uint32_t producer, uint32_t attempt),
	    void *arg);
};

/* The ops of a SL_PLUGIN_SHUFFLE plugin (struct sl_plugin.ops). */
struct sl_shuffle_ops {
	uint32_t struct_size;
	const struct sl_shuffle_master_ops *master;
	const struct sl_shuffle_writer_ops *writer;
	const struct sl_shuffle_reader_ops *reader;
	/* ABI 1.1; NULL: no server */
	const struct sl_shuffle_server_ops *server;
};

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_SHUFFLE_H */
