/*
 * libFuzzer target: any bytes as a control-plane message (core/wire). A
 * decode may fail, only with SL_EPARSE (no input this small may make the
 * decoder run out of memory, or claim it did), and leaves nothing behind;
 * a message that decodes must encode (what the decoder accepts, the encoder
 * accepts), decode again to an equal message, and encode to the same bytes
 * once more (the encoding is canonical). Any mismatch aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/errors.h>

#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what, const struct sli_msg *m)
{
	fprintf(stderr, "fuzz_wire: %s (%s): %s\n", what,
	    sli_msg_type_name((int)m->type), sl_errdetail());
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sli_msg zero;
	struct sli_msg m, again;
	void *enc, *enc2;
	size_t len, len2;
	int rv;

	rv = sli_wire_decode(data, size, &m);
	if (rv != 0) {
		if (rv != SL_EPARSE || memcmp(&m, &zero, sizeof(m)) != 0)
			fail("decode failed wrongly or left something", &m);
		return 0;
	}
	if (sli_wire_encode(&m, &enc, &len) != 0)
		fail("a decoded message does not encode", &m);
	if (sli_wire_decode(enc, len, &again) != 0)
		fail("a re-encoded message does not decode", &m);
	if (!sli_msg_equal(&m, &again))
		fail("decoded twice, messages differ", &m);
	if (sli_wire_encode(&again, &enc2, &len2) != 0 || len2 != len ||
	    memcmp(enc, enc2, len) != 0)
		fail("encoded twice, bytes differ", &m);
	sli_msg_free(&m);
	sli_msg_free(&again);
	free(enc);
	free(enc2);
	return 0;
}
