/*
 * tokenize: one record per word of each input value. A word is a maximal
 * run of ASCII letters and digits, lowercased; every other byte (space,
 * punctuation, control, any byte >= 0x80) separates words, so UTF-8 text
 * splits around its non-ASCII letters. Output: key = the word, value = 1
 * as a u64 LE, ready for hash_aggregate (count or sum).
 *
 * This is the WordCount hot path. A byte-at-a-time scanner pays a branch
 * misprediction at nearly every word boundary (word lengths are random),
 * so the value is classified 64 bytes at a time into a bit mask (one bit
 * per byte of a word; SSE2 where there is SSE2), and words are read off
 * the mask with count-trailing-zeros. Lowercasing needs no table: for a
 * letter or a digit, b | 0x20 is its lowercase, so the whole value is
 * OR'ed into a scratch copy and the words are emitted from there.
 */
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "builtin.h"

#define BLOCK 64

struct tokenize {
	const struct sl_host *host;
	unsigned char *lower; /* the value | 0x20, BLOCK bytes of slack */
	size_t cap;
};

static const char *const known_keys[] = { NULL };

static const unsigned char one_le64[8] = { 1, 0, 0, 0, 0, 0, 0, 0 };

static int
tok_open(void *state, const struct sl_task_ctx *ctx)
{
	struct tokenize *t = state;
	struct bi_config cfg;
	int rv;

	t->host = ctx->host;
	if ((rv = bi_config_open(&cfg, ctx, "tokenize", known_keys)) != 0)
		return rv;
	bi_config_close(&cfg);
	return 0;
}

/*
 * The word bytes of in[0..64) as bits of the result (bit i: in[i] is an
 * ASCII letter or digit); in[i] | 0x20 into lower[i].
 */
#if defined(__SSE2__)
static inline uint64_t
classify(const unsigned char *in, unsigned char *lower)
{
	const __m128i case_bit = _mm_set1_epi8(0x20);
	uint64_t mask = 0;

	for (int k = 0; k < BLOCK; k += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(in + k));
		__m128i l = _mm_or_si128(v, case_bit);
		/* Signed compares: bytes >= 0x80 are negative, below both
		 * ranges. */
		__m128i alpha =
		    _mm_and_si128(_mm_cmpgt_epi8(l, _mm_set1_epi8('a' - 1)),
		        _mm_cmpgt_epi8(_mm_set1_epi8('z' + 1), l));
		__m128i digit =
		    _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
		        _mm_cmpgt_epi8(_mm_set1_epi8('9' + 1), v));

		_mm_storeu_si128((__m128i *)(lower + k), l);
		mask |= (uint64_t)(uint16_t)_mm_movemask_epi8(
		            _mm_or_si128(alpha, digit))
		    << k;
	}
	return mask;
}
#else
static inline uint64_t
classify(const unsigned char *in, unsigned char *lower)
{
	uint64_t mask = 0;

	for (int i = 0; i < BLOCK; i++) {
		unsigned char l = in[i] | 0x20;
		bool word = (unsigned char)(l - 'a') < 26 ||
		    (unsigned char)(in[i] - '0') < 10;

		lower[i] = l;
		mask |= (uint64_t)word << i;
	}
	return mask;
}
#endif

static int
emit_word(const struct sl_task_ctx *ctx, const unsigned char *w, size_t len)
{
	struct sl_record out = {
		.key = w,
		.key_len = (uint32_t)len,
		.value = one_le64,
		.value_len = sizeof(one_le64),
	};

	return bi_emit(ctx, &out);
}

static int
tok_process(void *state, const struct sl_task_ctx *ctx, uint32_t in,
    const struct sl_record *rec)
{
	struct tokenize *t = state;
	const unsigned char *v = rec->value;
	size_t len = rec->value_len;
	/* Where the word under way started; SIZE_MAX when between words. */
	size_t start = SIZE_MAX;

	(void)in;
	if (len + BLOCK > t->cap) {
		unsigned char *l = t->host->realloc(t->lower, len + BLOCK);

		if (l == NULL) {
			t->host->set_error("tokenize: out of memory for a "
			                   "value of %zu bytes",
			    len);
			return SL_ENOMEM;
		}
		t->lower = l;
		t->cap = len + BLOCK;
	}
	for (size_t base = 0; base < len; base += BLOCK) {
		unsigned char tail[BLOCK];
		uint64_t m;
		int rv;

		if (len - base >= BLOCK) {
			m = classify(v + base, t->lower + base);
		} else {
			/* zeros separate words */
			memset(tail, 0, sizeof(tail));
			memcpy(tail, v + base, len - base);
			m = classify(tail, t->lower + base);
		}
		for (;;) {
			uint64_t sep;
			unsigned s, e;

			if (start == SIZE_MAX) {
				if (m == 0)
					break;
				s = (unsigned)__builtin_ctzll(m);
				start = base + s;
			} else {
				s = 0;
			}
			sep = ~m & (~UINT64_C(0) << s);
			if (sep == 0)
				break; /* the word goes on in the next block */
			e = (unsigned)__builtin_ctzll(sep);
			rv = emit_word(ctx, t->lower + start, base + e - start);
			if (rv != 0)
				return rv;
			start = SIZE_MAX;
			m &= ~UINT64_C(0) << e;
		}
	}
	if (start != SIZE_MAX)
		return emit_word(ctx, t->lower + start, len - start);
	return 0;
}

static void
tok_close(void *state)
{
	struct tokenize *t = state;

	if (t->host != NULL)
		t->host->free(t->lower);
}

const struct sl_operator_ops bi_tokenize_ops = {
	.struct_size = sizeof(struct sl_operator_ops),
	.name = "tokenize",
	.state_size = sizeof(struct tokenize),
	.open = tok_open,
	.process = tok_process,
	.close = tok_close,
};
