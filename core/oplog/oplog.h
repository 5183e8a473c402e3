/*
 * The operation log (DESIGN §7): one append-only file per job in the
 * coordinator's state directory, a record per decision or event:
 *
 *   u32 LE  payload length (1 .. SLI_OPLOG_MAX_RECORD)
 *   u32 LE  checksum: the low 32 bits of XXH3-64 over the length's four
 *           bytes and the payload, so a record cut or garbled anywhere,
 *           its length included, fails it
 *   payload a msgpack map {"t": type name, ...} (oplog_events.c)
 *
 * Appends go to a buffer; sli_oplog_sync writes and fdatasyncs what was
 * appended since the last sync, so the records of one event loop turn
 * share one fsync (group commit). Whoever acts on a record (sends a
 * DEPLOY that a logged decision allows) syncs first.
 *
 * Reading stops at the first record that is not whole and right: the end
 * of the file cutting a record short is a torn tail (a crash during a
 * write; opening the log for appending cuts it off), a whole record that
 * fails its checksum is corruption (reported; the records before it are
 * still good).
 */
#ifndef SLI_OPLOG_H
#define SLI_OPLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SLI_OPLOG_MAX_RECORD (64u << 20)
#define SLI_OPLOG_HEADER 8

struct sli_oplog {
	int fd;
	char *path;
	unsigned char *buf; /* appended, not yet written */
	size_t len, cap;
	uint64_t size;    /* bytes in the file, written */
	uint64_t syncs;   /* fdatasyncs done, for tests and benchmarks */
	uint64_t records; /* appended since open */
};

/*
 * Open path for appending, creating it (mode 0600) when it is not there.
 * An existing log is read first: a torn tail is cut off (ftruncate and
 * fsync); a corrupt record refuses the open (SL_EPARSE, the detail saying
 * where), since appending after it would hide what follows from every
 * reader. SL_EIO with the path and the system's words otherwise.
 */
int sli_oplog_open(const char *path, struct sli_oplog *log);
/* Append one record (payload copied). SL_ERANGE above the largest record,
 * SL_ENOMEM. Nothing reaches the file before sli_oplog_sync. */
int sli_oplog_append(struct sli_oplog *log, const void *payload, size_t len);
/* Write what was appended and fdatasync it; nothing to do is no sync.
 * SL_EIO (the disk full, say) leaves the file as it was before the
 * write: a partial write is cut off again. */
int sli_oplog_sync(struct sli_oplog *log);
/* Sync, close, free. Returns the sync's result. */
int sli_oplog_close(struct sli_oplog *log);

/* How a read ended. */
enum sli_oplog_end {
	SLI_OPLOG_CLEAN,   /* at the end of the file, on a record boundary */
	SLI_OPLOG_TORN,    /* the file ends inside a record */
	SLI_OPLOG_CORRUPT, /* a whole record fails its checksum or length */
};

struct sli_oplog_read {
	enum sli_oplog_end end;
	uint64_t records; /* good records read */
	uint64_t good;    /* bytes up to the end of the last good record */
	uint64_t size;    /* bytes in the file */
};

/*
 * Call fn(arg, payload, len, offset) for every good record of the file,
 * in order; a nonzero return from fn stops the read and is returned. The
 * payload is valid during the call. 0, fn's code, or SL_EIO/SL_ENOMEM;
 * *out (may be NULL) says how the read ended.
 */
int sli_oplog_read_file(const char *path,
    int (*fn)(void *arg, const void *payload, size_t len, uint64_t offset),
    void *arg, struct sli_oplog_read *out);

#endif
