/* The record format of the data plane; see records.h. */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "data/records.h"

/* Byte by byte, so the format is the same on every host and unaligned
 * offsets are fine. */
static uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

void
sli_recbuf_init(struct sli_recbuf *b, size_t cap)
{
	memset(b, 0, sizeof(*b));
	b->cap = cap ? cap : SLI_BUFFER_SIZE;
	b->alloc = malloc;
	b->free = free;
}

int
sli_recbuf_append(struct sli_recbuf *b, const struct sl_record *r)
{
	/* In 64 bits: key_len + value_len alone may overflow 32. */
	uint64_t l = 4 + (uint64_t)r->key_len + r->value_len;
	size_t need;
	uint8_t *p;

	if ((r->key == NULL && r->key_len > 0) ||
	    (r->value == NULL && r->value_len > 0))
		return sli_err(SL_EINVAL, "record: NULL key or value");
	if (l > SLI_RECORD_MAX)
		return sli_err(SL_ERANGE,
		    "record of %llu bytes is over the limit of %u",
		    (unsigned long long)l, SLI_RECORD_MAX);
	need = (size_t)l + 4;
	if (b->data != NULL) {
		/* len > cap after a record that came alone. */
		if (b->len > b->cap || need > b->cap - b->len)
			return SL_EAGAIN;
	} else {
		b->data = b->alloc(need > b->cap ? need : b->cap);
		if (b->data == NULL)
			return sli_err(SL_ENOMEM, "record buffer of %zu bytes",
			    need > b->cap ? need : b->cap);
		b->len = 0;
	}
	p = b->data + b->len;
	put_u32(p, (uint32_t)l);
	put_u32(p + 4, r->key_len);
	/* memcpy from NULL is undefined even for 0 bytes. */
	if (r->key_len > 0)
		memcpy(p + 8, r->key, r->key_len);
	if (r->value_len > 0)
		memcpy(p + 8 + r->key_len, r->value, r->value_len);
	b->len += need;
	b->count++;
	b->total_records++;
	b->total_bytes += need;
	return 0;
}

void
sli_recbuf_take(struct sli_recbuf *b, void **data, size_t *len)
{
	*data = b->data;
	*len = b->len;
	b->data = NULL;
	b->len = 0;
	b->count = 0;
}

void
sli_recbuf_free(struct sli_recbuf *b)
{
	if (b->data != NULL)
		b->free(b->data);
	b->data = NULL;
	b->len = 0;
	b->count = 0;
}

void
sli_recs_init(struct sli_recs *it, const void *data, size_t len)
{
	it->data = data;
	it->len = len;
	it->off = 0;
	it->count = 0;
}

int
sli_recs_next(struct sli_recs *it, struct sl_record *out)
{
	size_t left = it->len - it->off;
	const uint8_t *p;
	uint32_t l, key_len;

	if (left == 0)
		return SL_EEOF; /* also when data is NULL: no NULL + 0 */
	p = it->data + it->off;
	if (left < 4)
		return sli_err(SL_EPARSE,
		    "record at offset %zu: header cut short (%zu bytes left)",
		    it->off, left);
	l = get_u32(p);
	if (l < 4 || l > SLI_RECORD_MAX)
		return sli_err(SL_EPARSE,
		    "record at offset %zu: length %u out of range [4, %u]",
		    it->off, l, SLI_RECORD_MAX);
	if (l > left - 4)
		return sli_err(SL_EPARSE,
		    "record at offset %zu: length %u past the end of the "
		    "buffer (%zu bytes left)",
		    it->off, l, left - 4);
	key_len = get_u32(p + 4);
	if (key_len > l - 4)
		return sli_err(SL_EPARSE,
		    "record at offset %zu: key length %u past the record's "
		    "end (length %u)",
		    it->off, key_len, l);
	out->key = p + 8;
	out->key_len = key_len;
	out->value = p + 8 + key_len;
	out->value_len = l - 4 - key_len;
	it->off += 4 + (size_t)l;
	it->count++;
	return 0;
}

/* Whether this build knows the type and the type allows len bytes of
 * payload. */
static int
event_valid(uint32_t type, size_t len)
{
	switch (type) {
	case SLI_EVENT_END_OF_PARTITION:
		return len == 0;
	default:
		return 0;
	}
}

int
sli_event_encode(uint32_t type, const void *payload, size_t len,
    void *(*alloc)(size_t size), void **data, size_t *data_len)
{
	uint8_t *p;

	if (len > SLI_RECORD_MAX)
		return sli_err(SL_ERANGE,
		    "event payload of %zu bytes is over the limit of %u", len,
		    SLI_RECORD_MAX);
	if (!event_valid(type, len) || (payload == NULL && len > 0))
		return sli_err(SL_EINVAL,
		    "event type %u with a payload of %zu bytes", type, len);
	p = (alloc ? alloc : malloc)(4 + len);
	if (p == NULL)
		return sli_err(SL_ENOMEM, "event of %zu bytes", 4 + len);
	put_u32(p, type);
	if (len > 0)
		memcpy(p + 4, payload, len);
	*data = p;
	*data_len = 4 + len;
	return 0;
}

int
sli_event_decode(const void *data, size_t len, uint32_t *type,
    const void **payload, size_t *payload_len)
{
	uint32_t t;

	if (len < 4)
		return sli_err(SL_EPARSE, "event of %zu bytes: no type", len);
	t = get_u32(data);
	if (!event_valid(t, len - 4))
		return sli_err(SL_EPARSE,
		    "event type %u with a payload of %zu bytes", t, len - 4);
	*type = t;
	*payload = (const uint8_t *)data + 4;
	*payload_len = len - 4;
	return 0;
}
