/*
 * The memory shuffle plugin: internals shared by its files.
 *
 * One producer attempt's result partition is a `struct part` in a
 * process-wide table keyed by (job, edge, producer, attempt). Each of its
 * subpartitions is a queue of buffers (`struct sub`). A writer appends to
 * the queues; a reader attaches one `struct slot` per (input, subpartition)
 * it reads and takes buffers from the queues, zero copy. Whoever opens a key
 * first creates its part (master, writer or reader, in any order); the part
 * lives while anything references it.
 *
 * Across processes (memory_server.c, memory_fetch.c, memory_frame.c;
 * docs/runtime.md): on the consumer's side a fetch plays the
 * writer of a local proxy part and the reader code stays as it is; on the
 * producer's side the server plays the reader of the real part and turns
 * released credits into messages. The descriptor carries the producer's
 * server URL.
 *
 * Locks, in the order they may nest:
 *   table_mtx (memory.c)  ->  part->mtx  ->  reader->mtx
 * Nothing blocks or calls out while holding table_mtx. A reader's notify
 * callback is always called with no lock of this plugin held.
 */
#ifndef SL_MEMORY_H
#define SL_MEMORY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>
#include <sluice/shuffle.h>

#include "net.h"

#define MEM_DESC_VERSION 1
#define MEM_DEFAULT_CREDITS 4
/* A reader's default credits for a subpartition in another process: a fetch
 * asks for all of its free credit at once, so more credit means bigger
 * batches per round trip (shuffle_net --all-to-all: 46 % of raw nng with 4,
 * 75 % with 8), at 2 x 8 x 32 KiB per subpartition at most. */
#define MEM_REMOTE_CREDITS 8

/* What a descriptor says: the key of a partition and its shape. */
/* A partition has one subpartition per consumer task (or per adaptive
 * range), so never more than the largest parallelism a job may have
 * (SL_MAX_PARALLELISM); a descriptor claiming more is refused rather than
 * allowed to allocate for it. */
#define MEM_MAX_SUBPARTITIONS 1000000u

struct mem_desc {
	char *job_id; /* from host->alloc */
	uint32_t edge;
	uint32_t producer;
	uint32_t attempt;
	uint32_t num_subpartitions;
	uint32_t type;
	char *location; /* NULL when the job runs in one process */
};

/* memory_descriptor.c. Encoded bytes and decoded strings come from
 * host->alloc; on failure nothing is left allocated. */
int mem_desc_encode(
    const struct sl_host *host, const struct mem_desc *d, struct sl_bytes *out);
int mem_desc_decode(const struct sl_host *host, const void *buf, size_t len,
    struct mem_desc *d);
void mem_desc_clear(const struct sl_host *host, struct mem_desc *d);
/* strdup through the host's allocator; NULL when out of memory. */
char *mem_strdup(const struct sl_host *host, const char *s);
bool mem_desc_same_key(const struct mem_desc *a, const struct mem_desc *b);
uint64_t mem_desc_hash(const struct mem_desc *d);

/* One buffer in flight: queued in a sub, then held by a reader. */
struct node {
	struct node *next;
	void *data; /* the writer's buffer, handed on untouched */
	size_t len;
	uint32_t kind;
	uint32_t sub;
	struct part *part;
};

struct slot;
struct fetch;

struct sub {
	struct node *head, *tail; /* queued, not yet taken */
	/* queued + taken but not released; the writer waits while it is at
	 * credits */
	uint32_t outstanding;
	uint32_t credits;
	struct slot *reader; /* the attached reader's slot, or NULL */
	/* a reader left before draining: data is gone, later writes are
	 * dropped and later readers see SL_EUNREADABLE */
	bool lost;
	/* A proxy of a partition in another process (memory_net.c): the
	 * fetch filling this queue, and its end or failure. */
	struct fetch *fetch;
	bool ended;
	bool rfailed;
	/* read to its end, or given up by its reader */
	bool drained;
};

enum part_state {
	PART_OPEN = 0,
	PART_FINISHED,
	PART_FAILED,
};

struct part {
	/* table_mtx */
	struct part *tnext;
	uint64_t hash;
	int refs;

	/* immutable after creation */
	struct mem_desc desc;
	const struct sl_host *host;

	/* part->mtx */
	pthread_mutex_t mtx;
	pthread_cond_t cv; /* the writer waits here for credit */
	enum part_state state;
	bool released; /* by the master: data dropped */
	bool has_writer;
	bool writer_waiting;
	/* The finished writer's reference, kept until every subpartition is
	 * drained: a reader in another process may come after the writer
	 * left, and nothing else in this process holds the data for it. */
	bool linger;
	uint32_t ndrained;
	struct sub *subs; /* desc.num_subpartitions */
};

/*
 * memory.c: the table. part_get finds or creates the part for d and takes a
 * reference (d is copied); part_find only finds. part_put drops one; the
 * last frees the part and every buffer still queued in it.
 */
int part_get(
    const struct sl_host *host, const struct mem_desc *d, struct part **out);
struct part *part_find(const struct mem_desc *d);
void part_put(struct part *p);

/* Free a list of nodes and their buffers; call without part->mtx. */
void node_free_list(const struct sl_host *host, struct node *n);
/* Unlink every queued buffer of s (part->mtx held); returns the list. */
struct node *sub_drain_locked(struct sub *s);

/*
 * Drop the part's data and make its readers see SL_EUNREADABLE (release by
 * the master, or the writer's fail). Wakes the writer and notifies readers.
 */
void part_discard(struct part *p, bool release);

/* memory_reader.c, called by writers and the table with part->mtx held:
 * mark a slot ready; true when the caller must call reader_notify on
 * slot_reader(s) once it dropped part->mtx. */
bool slot_ready_locked(struct slot *s);
struct mreader *slot_reader(struct slot *s);
void reader_notify(struct mreader *r);

/* part->mtx held: sub i is drained; true when the caller must drop the
 * lingering reference (part_put) once it dropped part->mtx. */
bool sub_drained_locked(struct part *p, uint32_t i);

/* Mark every attached slot of p ready and notify their readers, without
 * holding part->mtx while notifying. */
void part_wake_readers(struct part *p);

/*
 * memory_frame.c: the frames between processes (described there).
 * Decoders point into buf (desc, payload), which must outlive the result.
 */
#define NET_VERSION 1
#define OP_FETCH 1
#define OP_CLOSE 2
#define ST_DATA 0
#define ST_ERROR 2
#define NET_MAX_BATCH 64       /* buffers in one reply */
#define NET_MAX_CREDITS 65536u /* a reader's credits per subpartition */

struct net_req {
	uint32_t op;
	const void *desc;
	size_t desc_len;
	uint32_t sub;
	uint64_t seq; /* the first buffer asked for */
	uint32_t n;   /* at most this many */
	uint32_t credits;
};

struct net_rep {
	uint32_t st;
	bool end;
	uint32_t count;
	const uint32_t *kinds;
	const uint64_t *lens;
	const char *err;
};

struct net_rep_in {
	uint32_t st;
	bool end;
	uint32_t count;
	uint32_t kinds[NET_MAX_BATCH];
	uint64_t lens[NET_MAX_BATCH];
	const char *payload; /* the buffers, concatenated */
	char err[200];
};

int net_req_encode(msgpack_sbuffer *sb, const struct net_req *q);
int net_rep_encode(msgpack_sbuffer *sb, const struct net_rep *r);
int net_req_decode(const void *buf, size_t len, struct net_req *q);
int net_rep_decode(const void *buf, size_t len, struct net_rep_in *r);
/* (shc_frame_header, common/net.h, writes a frame's length and map) */
/* The frame's length and header: 4 + sb->size bytes at dst. */

/*
 * memory_server.c: serving this process's partitions. mem_is_remote: d
 * names a server other than this process's (and this process serves).
 */
bool mem_is_remote(const struct mem_desc *d);
extern const struct sl_shuffle_server_ops mem_server_ops;

/*
 * memory_fetch.c: reading another process's partition. fetch_start (no
 * lock held) begins filling subpartition sub of the proxy part p from the
 * producer; fetch_credit is called after the reader released a buffer;
 * fetch_stop (no lock held) waits for callbacks in flight and tells the
 * producer the reader left; fetch_error says why a fetch failed.
 */
int fetch_start(const struct sl_host *host, struct part *p, uint32_t sub,
    uint32_t credits, struct fetch **out);
void fetch_credit(struct fetch *f);
void fetch_stop(struct fetch *f);
const char *fetch_error(const struct fetch *f);
void mem_net_fini(const struct sl_host *host);

extern const struct sl_shuffle_master_ops mem_master_ops;
extern const struct sl_shuffle_writer_ops mem_writer_ops;
extern const struct sl_shuffle_reader_ops mem_reader_ops;

#endif
