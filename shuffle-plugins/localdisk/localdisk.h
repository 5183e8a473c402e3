/*
 * The localdisk shuffle plugin: blocking partitions kept on the producing
 * worker's disk (DESIGN §6), one data file and one index per partition
 * (ld_file.h). Internals shared by its files.
 *
 * Paths: BASE/JOB/e<edge>.p<producer>.a<attempt>.{data,index}, where BASE
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

#include <sluice/shuffle.h>

#define LD_DESC_VERSION 1
#define LD_MAX_SUBPARTITIONS 1000000u
#define LD_SPILL_BYTES (64u << 20) /* a writer's memory before a run */

/* A descriptor: msgpack array [v, job, edge, producer, attempt, nsub,
 * type, location | nil]; later versions may append elements. */
struct ld_desc {
	char *job; /* host->alloc */
	uint32_t edge, producer, attempt, nsub, type;
	char *location; /* NULL when none */
};

int ld_desc_encode(
    const struct sl_host *host, const struct ld_desc *d, struct sl_bytes *out);
int ld_desc_decode(
    const struct sl_host *host, const void *buf, size_t len, struct ld_desc *d);
void ld_desc_clear(const struct sl_host *host, struct ld_desc *d);

/* The files of d: base dir and job made if make_dir. host->alloc'd. */
int ld_paths(const struct sl_host *host, const struct ld_desc *d, bool make_dir,
    char **data, char **index);
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
void ld_table_unwait(
    const struct sl_host *host, const struct ld_desc *d, struct ld_waiter *w);

extern const struct sl_shuffle_master_ops ld_master_ops;
extern const struct sl_shuffle_writer_ops ld_writer_ops;
extern const struct sl_shuffle_reader_ops ld_reader_ops;

#endif
