/*
 * libFuzzer target: any bytes as a SL_BUFFER_DATA buffer, and as a
 * SL_BUFFER_EVENT buffer. The reader must stop cleanly (SL_EEOF exactly at
 * the end, SL_EPARSE before it) with every record inside the input, and the
 * writer, given what was read, must give back exactly the bytes the reader
 * consumed: in one buffer, and split at a small capacity taken from the
 * input. An event that decodes must encode to the same bytes. Any mismatch
 * aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/errors.h>

#include "data/records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what, size_t off)
{
	fprintf(stderr, "fuzz_records: %s at offset %zu\n", what, off);
	abort();
}

/* Compare a buffer the writer handed over with the input at *pos, and
 * move past it. */
static void
check_taken(struct sli_recbuf *b, const uint8_t *data, size_t *pos)
{
	uint32_t count = b->count;
	void *buf;
	size_t len;

	sli_recbuf_take(b, &buf, &len);
	if ((buf == NULL) != (count == 0) || (count == 0 && len != 0))
		fail("empty buffer taken, or records lost", *pos);
	if (len > b->cap && count != 1)
		fail("buffer over cap holds more than one record", *pos);
	if (len > 0 && memcmp(buf, data + *pos, len) != 0)
		fail("re-encoded bytes differ", *pos);
	*pos += len;
	free(buf);
}

static void
records(const uint8_t *data, size_t size)
{
	struct sli_recbuf whole, split;
	struct sli_recs it;
	struct sl_record r;
	size_t at = 0, pos = 0;
	int rc;

	sli_recbuf_init(&whole, size ? size : 1);
	sli_recbuf_init(&split, 1 + (size ? data[0] : 0) * 16u);
	sli_recs_init(&it, data, size);
	while ((rc = sli_recs_next(&it, &r)) == 0) {
		/* Exactly where the format says, inside the input. */
		if ((const uint8_t *)r.key != data + at + 8 ||
		    (const uint8_t *)r.value != data + at + 8 + r.key_len ||
		    it.off != at + 8 + (size_t)r.key_len + r.value_len ||
		    it.off > size)
			fail("record outside its place", at);
		at = it.off;
		if (sli_recbuf_append(&whole, &r) != 0)
			fail("append to the whole buffer", at);
		rc = sli_recbuf_append(&split, &r);
		if (rc == SL_EAGAIN) {
			check_taken(&split, data, &pos);
			rc = sli_recbuf_append(&split, &r);
		}
		if (rc != 0)
			fail("append to the split buffer", at);
	}
	if (rc != (it.off == size ? SL_EEOF : SL_EPARSE) || it.off != at)
		fail("reader stopped wrongly", it.off);
	if (sli_recs_next(&it, &r) != rc || it.off != at)
		fail("reader did not stay stopped", it.off);
	check_taken(&split, data, &pos);
	if (pos != at)
		fail("split buffers do not cover the prefix", pos);
	pos = 0;
	check_taken(&whole, data, &pos);
	if (pos != at || whole.total_records != it.count ||
	    split.total_records != it.count || whole.total_bytes != at)
		fail("counts differ", pos);
	sli_recbuf_free(&whole);
	sli_recbuf_free(&split);
}

static void
event(const uint8_t *data, size_t size)
{
	const void *payload;
	size_t plen, len;
	uint32_t type;
	void *buf;

	if (sli_event_decode(data, size, &type, &payload, &plen) != 0)
		return;
	if ((const uint8_t *)payload != data + 4 || plen != size - 4)
		fail("event payload outside its place", 4);
	if (sli_event_encode(type, payload, plen, NULL, &buf, &len) != 0)
		fail("a decoded event does not encode", 0);
	if (len != size || memcmp(buf, data, size) != 0)
		fail("re-encoded event differs", 0);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	records(data, size);
	event(data, size);
	return 0;
}
