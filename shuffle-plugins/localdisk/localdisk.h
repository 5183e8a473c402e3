/*
 * The localdisk shuffle plugin: blocking partitions kept on the producing
 * worker's disk (DESIGN §6), one data file and one index per partition
 * (ld_file.h). Internals shared by its files.
 *
 * Paths: BASE/JOB.TOKEN/e<edge>.p<producer>.a<attempt>.{data,index}, where BASE
 * is $SLUICE_LOCALDISK_DIR, else $TMPDIR/sluice-localdisk, else
 * /tmp/sluice-localdisk. Each process computes them from the descriptor's
 * key, so the descriptor carries no path: processes on one host agree,
 * and a reader on another host will fetch through the producer's server
 * (its URL is the descriptor's location).
 *
 * Within one process a reader may open before the partition is written
 * (the conformance suite does): a process-wide table of the partitions
 * being written here lets finish and fail notify those readers.
 */
#ifndef SL_LOCALDISK_H
#define SL_LOCALDISK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <msgpack.h>
#include <sluice/shuffle.h>

#include "net.h"

#define LD_DESC_VERSION 1
#define LD_MAX_SUBPARTITIONS 1000000u
#define LD_SPILL_BYTES (64u << 20) /* a writer's memory before a run */

/* A descriptor: msgpack array [v, job, edge, producer, attempt, nsub,
 * type, location | nil, codec, token, replica | nil]; later versions may
 * append elements (a descriptor without codec has none, without token 0,
 * without replica none). replica is encoded only when there is one, so
 * that localdisk's descriptors stay as they were. */
struct ld_desc {
	char *job; /* host->alloc */
	uint32_t edge, producer, attempt, nsub, type;
	char *location; /* NULL when none */
	uint32_t codec; /* enum sl_compression */
	/* the master's, random: two coordinators on one host may both run
	 * a job "wordcount-1", and their files must not meet */
	uint64_t token;
	/* a remote shuffle service's: a second daemon holding a
	 * byte-identical copy, which readers fetch from when location
	 * fails. host->alloc'd, NULL when none */
	char *replica;
};

/* Whether a and b name the same partition (location, replica and codec
 * aside). */
bool ld_same_partition(const struct ld_desc *a, const struct ld_desc *b);

int ld_desc_encode(
    const struct sl_host *host, const struct ld_desc *d, struct sl_bytes *out);
int ld_desc_decode(
    const struct sl_host *host, const void *buf, size_t len, struct ld_desc *d);
void ld_desc_clear(const struct sl_host *host, struct ld_desc *d);

/* The files of d: base dir and job made if make_dir. host->alloc'd. */
int ld_paths(const struct sl_host *host, const struct ld_desc *d, bool make_dir,
    char **data, char **index);
struct ld_writer;
/* A writer of d's files (ld_file.h), its job directory made (again, when
 * a release removed it meanwhile), compressing with d's codec. */
int ld_open_writer(const struct sl_host *host, const struct ld_desc *d,
    size_t spill, struct ld_writer **out);
/* Remove d's files, and its job directory once empty. */
void ld_remove(const struct sl_host *host, const struct ld_desc *d);

/* The table of partitions being written in this process. */
enum ld_state { LD_WRITING, LD_FINISHED, LD_FAILED };

struct ld_waiter {
	struct ld_waiter *next;
	void (*notify)(void *arg);
	void *arg;
};

/* Writer: announce, then settle (finish or fail), then forget. */
int ld_table_writing(const struct sl_host *host, const struct ld_desc *d);
void ld_table_settle(const struct ld_desc *d, enum ld_state s);
void ld_table_forget(const struct sl_host *host, const struct ld_desc *d);
/* Reader of a partition whose index is not there yet: link w in, to be
 * notified when its writer in this process settles; returns the state
 * now (LD_WRITING when no writer announced it yet). Unlink with
 * ld_table_unwait. ld_table_state looks without waiting. */
enum ld_state ld_table_wait(
    const struct sl_host *host, const struct ld_desc *d, struct ld_waiter *w);
enum ld_state ld_table_state(const struct ld_desc *d);
/* Whether a writer in this process announced d and has not ended. */
bool ld_table_has_writer(const struct ld_desc *d);
void ld_table_unwait(
    const struct sl_host *host, const struct ld_desc *d, struct ld_waiter *w);

/* ---- between processes (ld_frame.c, ld_server.c, ld_fetch.c) ---- */

#define LD_NET_VERSION 1
#define LD_NET_MAX_FETCH (16u << 20) /* the most a fetch may ask for */
#define LD_NET_FETCH (2u << 20)      /* what a reader asks for */
/* A reply holds up to a fetch's worth, or one block larger than that. */
#define LD_NET_MAX_FRAME (257u << 20)

enum { LD_OP_FETCH = 1, LD_OP_RELEASE = 2 };
enum { LD_ST_DATA = 0, LD_ST_ERROR = 2 };

struct ld_req {
	uint32_t op;
	const void *desc; /* decode: points into the frame */
	size_t desc_len;
	uint32_t lo, hi, run;
	uint64_t pos;
	uint32_t max;
	/* a remote shuffle service's (docs/remote-shuffle.md); "" is none,
	 * and then the frame has no such key */
	char secret[256];
};

struct ld_rep {
	uint32_t st;
	bool end;
	uint32_t run;
	uint64_t pos;
	char err[300];
	const unsigned char *blocks; /* decode: the payload, in the frame */
	size_t len;
};

/* The header map into sb (the frame is u32 LE size, map, payload:
 * shc_frame_header writes the first two, common/net.h). */
int ld_req_encode(msgpack_sbuffer *sb, const struct ld_req *q);
int ld_rep_encode(msgpack_sbuffer *sb, const struct ld_rep *r);
/* SL_EPARSE for anything but a well-formed frame. */
int ld_req_decode(const void *buf, size_t len, struct ld_req *q);
int ld_rep_decode(const void *buf, size_t len, struct ld_rep *r);

/* Whether d was written by another process than this one's server, so
 * that its files may be elsewhere (no server here: everything is here). */
bool ld_is_remote(const struct ld_desc *d);
/* Whether this process serves its partitions (a worker's server runs). */
bool ld_serving(void);
/* The partitions this process's writers finished: removed with their
 * files when released, or when the server stops (the worker exits). */
int ld_served_add(const struct sl_host *host, const struct ld_desc *d);
void ld_served_release(const struct sl_host *host, const struct ld_desc *d);

/*
 * A reader of one partition held by another process's server, at url.
 * With a replica (a second server holding a byte-identical copy; NULL or
 * "" for none), a fetch that fails at url (an error reply, no answer, the
 * server unreachable) is sent again to the replica, from where the reader
 * is, and the reader stays there; it fails only when both did. Built into
 * the remote plugin (LD_REMOTE_SERVICE), a server with no connection for
 * SHC_LOST_MS while a fetch waits counts as failed (net.h). desc (copied)
 * and the URLs stay the caller's. On failure, nothing to free.
 */
struct ld_remote;
int ld_remote_open_at(const struct sl_host *host, const struct sl_bytes *desc,
    const char *url, const char *replica, uint32_t lo, uint32_t hi,
    void (*notify)(void *), void *arg, struct ld_remote **out);
/* ld_remote_open_at without a replica. */
int ld_remote_open(const struct sl_host *host, const struct sl_bytes *desc,
    const char *url, uint32_t lo, uint32_t hi, void (*notify)(void *),
    void *arg, struct ld_remote **out);
/* As ld_reader_next, never blocking: SL_EAGAIN until a fetch answered
 * (notify is called). A buffer's data may lie in a reply (plugin_private
 * says which): give it back with ld_remote_release. */
int ld_remote_next(struct ld_remote *r, struct sl_buffer *out);
void ld_remote_release(struct ld_remote *r, struct sl_buffer *buf);
/* Every buffer must have been given back. */
void ld_remote_free(struct ld_remote *r);
/* Ask the server at url to remove d's files; does not wait. */
void ld_remote_release_partition(
    const struct sl_host *host, const char *url, const struct sl_bytes *desc);
void ld_net_fini(const struct sl_host *host);
/* struct sl_plugin's init and fini of the plugins built from these files
 * (localdisk, remote): the sockets to other processes' servers go. */
int ld_plugin_init(const struct sl_host *host);
void ld_plugin_fini(void);

/*
 * What a remote shuffle daemon (shuffle-plugins/remote/service) adds to
 * this server: its own ops, and word of releases, so that its store
 * forgets what a release removed. The localdisk plugin sets none, and the
 * server then behaves as if this did not exist.
 */
struct ld_server_hooks {
	/* A request ld_req_decode refuses (an op it does not know, or a
	 * malformed frame): the reply to send, NULL when out of memory.
	 * Called on a server thread, several at once; it may block (its
	 * context answers nothing meanwhile: back pressure). It may keep
	 * *req (setting it NULL: then it frees it), else *req stays the
	 * server's. */
	nng_msg *(*other)(void *arg, nng_msg **req);
	/* A RELEASE named d, after the server removed its files. Called on
	 * a server thread; d stays the server's. May be NULL. */
	void (*released)(void *arg, const struct ld_desc *d);
	void *arg;
	/* The largest request taken (NNG_OPT_RECVMAXSZ); 0: a fetch's. */
	size_t max_request;
	/* Whether a fetch or release with this secret is let in. May be
	 * NULL (all are). */
	bool (*allowed)(void *arg, const char *secret);
	/* Requests answered at once (threads, a context each): 0 is
	 * localdisk's 3, at most LD_SERVER_MAX_THREADS. */
	uint32_t threads;
};
#define LD_SERVER_MAX_THREADS 16
/* Copies *h (NULL: none). Only while the server is stopped: set before
 * ld_server_ops.start, clear after stop. */
void ld_server_set_hooks(const struct ld_server_hooks *h);
/* Close the readers the server keeps open (its cache) of the partitions
 * in (job, token)'s directory (ld_paths), after their files were removed
 * otherwise than by a release (a remote daemon's expiry): a fetch of them
 * then fails. Any thread. */
void ld_server_forget_job(const char *job, uint64_t token);

extern const struct sl_shuffle_server_ops ld_server_ops;
extern const struct sl_shuffle_master_ops ld_master_ops;
extern const struct sl_shuffle_writer_ops ld_writer_ops;
extern const struct sl_shuffle_reader_ops ld_reader_ops;

#endif
