/*
 * The record format of the data plane (DESIGN §6) and its codec.
 *
 * A SL_BUFFER_DATA buffer (shuffle.h) is a sequence of records and nothing
 * else; it holds no header, so buffers concatenate and split on any record
 * boundary. All integers are little-endian.
 *
 *   record  = u32 L, then L bytes:
 *             u32 key_len, key (key_len bytes), value (L - 4 - key_len bytes)
 *   buffer  = record*
 *
 * so a record with an empty key and an empty value takes 8 bytes (L = 4).
 * L is at most SLI_RECORD_MAX; a reader refuses more, so one bad length
 * can never make it trust 4 GiB that is not there.
 *
 * A SL_BUFFER_EVENT buffer holds exactly one in-band control event:
 *
 *   event   = u32 type (enum sli_event_type), then the payload,
 *             whose length is the rest of the buffer
 *
 * Buffers are packed greedily to a target capacity (SLI_BUFFER_SIZE unless
 * the caller picks another). A record larger than the capacity travels
 * alone in a buffer of its own size, so any record up to SLI_RECORD_MAX can
 * be sent whatever the capacity.
 */
#ifndef SLI_RECORDS_H
#define SLI_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/operator.h>

#define SLI_BUFFER_SIZE (32u * 1024u)        /* default capacity */
#define SLI_RECORD_MAX (64u * 1024u * 1024u) /* largest L */
#define SLI_RECORD_OVERHEAD 8u               /* the two u32 of a record */

/*
 * Packs records into buffers. Not thread-safe; one writer per open buffer
 * (e.g. per subpartition).
 *
 * Memory comes from alloc and is given up with free (malloc and free after
 * init); the runtime sets them to host->alloc and host->free right after
 * init, before the first append, so that whoever receives a buffer frees
 * it with the host's free.
 */
struct sli_recbuf {
	uint8_t *data;          /* NULL while the buffer holds no record */
	size_t len;             /* bytes in data */
	size_t cap;             /* target capacity */
	uint32_t count;         /* records in data */
	uint64_t total_records; /* appended since init, taken or not */
	uint64_t total_bytes;   /* their encoded bytes */
	void *(*alloc)(size_t size);
	void (*free)(void *ptr);
};

/* Start an empty writer; cap 0 means SLI_BUFFER_SIZE. Nothing is allocated
 * until the first append. Cannot fail. */
void sli_recbuf_init(struct sli_recbuf *b, size_t cap);

/*
 * Append a copy of r (the writer never keeps r's pointers). Returns
 *   0            r is in the buffer;
 *   SL_EAGAIN    r does not fit in what is left of a buffer that already
 *                holds a record: take the buffer, hand it on, append again
 *                (an empty buffer never says SL_EAGAIN: a record larger
 *                than cap goes into it alone, in an allocation of its own
 *                size, and the next append says SL_EAGAIN);
 *   SL_ERANGE    r's L (4 + key_len + value_len) is over SLI_RECORD_MAX;
 *   SL_EINVAL    a NULL key or value with a non-zero length;
 *   SL_ENOMEM    no memory.
 * On an error the writer is unchanged.
 */
int sli_recbuf_append(struct sli_recbuf *b, const struct sl_record *r);

/*
 * Hand the buffer over: *data (NULL when no record was appended since the
 * last take) and *len. The caller owns *data and frees it with b->free.
 * The writer is then empty again, with its cap, totals and allocator.
 * The allocation may be larger than *len (it has cap bytes).
 */
void sli_recbuf_take(struct sli_recbuf *b, void **data, size_t *len);

/* Free what the writer holds (records not taken are lost) and leave it
 * empty, as after init with its cap and allocator. Safe to repeat. */
void sli_recbuf_free(struct sli_recbuf *b);

/*
 * Iterates the records of a SL_BUFFER_DATA buffer, in place: it copies
 * nothing and never reads outside [data, data + len), whatever the bytes.
 */
struct sli_recs {
	const uint8_t *data;
	size_t len;
	size_t off;     /* where the next record starts: the bytes consumed */
	uint64_t count; /* records returned */
};

/* data must stay valid and unchanged while the iterator is used. */
void sli_recs_init(struct sli_recs *it, const void *data, size_t len);

/*
 * The next record. Returns
 *   0           *out is the record; key and value point into the buffer;
 *   SL_EEOF     the buffer ended on a record boundary;
 *   SL_EPARSE   the bytes at it->off are not a record: a header cut short,
 *               an L below 4 or over SLI_RECORD_MAX, an L past the end of
 *               the buffer, or key_len > L - 4. sl_errdetail() gives the
 *               offset.
 * After SL_EEOF or SL_EPARSE every later call returns the same again.
 */
int sli_recs_next(struct sli_recs *it, struct sl_record *out);

enum sli_event_type {
	/* The producer wrote its last buffer to this subpartition. Empty
	 * payload. */
	SLI_EVENT_END_OF_PARTITION = 1,
};

/*
 * Encode an event into a new allocation from alloc (NULL: malloc), owned by
 * the caller on success. Returns 0, SL_EINVAL for a type this build does
 * not know or a payload the type does not allow, SL_ERANGE for a payload
 * over SLI_RECORD_MAX, SL_ENOMEM.
 */
int sli_event_encode(uint32_t type, const void *payload, size_t len,
    void *(*alloc)(size_t size), void **data, size_t *data_len);

/*
 * Decode an event; *payload points into data. Returns 0 or SL_EPARSE (a
 * buffer shorter than the type, an unknown type, a payload the type does
 * not allow), with the reason in sl_errdetail().
 */
int sli_event_decode(const void *data, size_t len, uint32_t *type,
    const void **payload, size_t *payload_len);

#endif
