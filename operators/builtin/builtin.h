/*
 * The builtin operator library: internals shared by its files.
 *
 * One file per operator (text_source.c, tokenize.c, hash_aggregate.c,
 * file_sink.c, generate.c), the hash table behind hash_aggregate
 * (agg_table.c), the config parser every operator uses (config.c), and
 * the library's descriptor (builtin.c). docs/operators.md describes what
 * each operator does; this header only what the files share.
 *
 * Memory comes from the host's allocator (ctx->host), which each operator
 * keeps in its state so that close, which gets no ctx, can free.
 */
#ifndef SL_BUILTIN_H
#define SL_BUILTIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sluice/operator.h>

/* Buffered I/O in chunks of this size (text_source reads, file_sink
 * writes). */
#define BI_IO_CHUNK (1u << 20)

extern const struct sl_operator_ops bi_text_source_ops;
extern const struct sl_operator_ops bi_tokenize_ops;
extern const struct sl_operator_ops bi_hash_aggregate_ops;
extern const struct sl_operator_ops bi_file_sink_ops;
extern const struct sl_operator_ops bi_generate_ops;
extern const struct sl_operator_ops bi_record_source_ops;
extern const struct sl_operator_ops bi_sort_ops;

/* Little-endian u32 and u64, whatever the host's byte order. */
static inline uint64_t
bi_load_le64(const void *p)
{
	const unsigned char *b = p;
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | b[i];
	return v;
}

static inline void
bi_store_le64(void *p, uint64_t v)
{
	unsigned char *b = p;

	for (int i = 0; i < 8; i++, v >>= 8)
		b[i] = (unsigned char)v;
}

static inline void
bi_store_le32(void *p, uint32_t v)
{
	unsigned char *b = p;

	for (int i = 0; i < 4; i++, v >>= 8)
		b[i] = (unsigned char)v;
}

/* floor(i * n / p) without overflow for any n and p < 2^32: the share
 * boundaries of sources (byte ranges, record numbers). */
static inline uint64_t
bi_share(uint64_t n, uint32_t i, uint32_t p)
{
	return (n / p) * i + (n % p) * i / p;
}

/*
 * Emit rec on every output edge: an operator's records go to each edge
 * leaving its vertex. Returns the first failure (SL_ECLOSED when the task
 * is being cancelled).
 */
static inline int
bi_emit(const struct sl_task_ctx *ctx, const struct sl_record *rec)
{
	for (uint32_t out = 0; out < ctx->num_outputs; out++) {
		int rv = ctx->emit(ctx, out, rec);
		if (rv != 0)
			return rv;
	}
	return 0;
}

/* Copy of s from host->alloc; NULL when out of memory. */
char *bi_strdup(const struct sl_host *host, const char *s);

/*
 * The vertex config (ctx->config_json), parsed by jansson. bi_config_open
 * refuses anything but an object and every key not in known (a
 * NULL-terminated list); the getters refuse a wrong type or range. Every
 * refusal sets the detail ("OP: config: 'path' is missing") and returns
 * SL_EINVAL. A getter leaves *out as it was when the key is absent and not
 * required, so callers set defaults first.
 */
struct bi_config {
	const struct sl_host *host;
	const char *op; /* the operator's name, for messages */
	void *root;     /* json_t *, kept out of this header */
};

int bi_config_open(struct bi_config *c, const struct sl_task_ctx *ctx,
    const char *op, const char *const *known);
/* The same without a task (input_bytes runs in the coordinator). */
int bi_config_parse(struct bi_config *c, const struct sl_host *host,
    const char *config_json, const char *op, const char *const *known);
/* input_bytes of a source that reads the file at config's "path": its
 * size (sources' input_bytes op). */
int bi_path_size(const struct sl_host *host, const char *config_json,
    const char *op, const char *const *known, uint64_t *bytes);
void bi_config_close(struct bi_config *c);
bool bi_config_has(const struct bi_config *c, const char *key);
/* *out: a copy from host->alloc, owned by the caller on success. */
int bi_config_string(
    struct bi_config *c, const char *key, bool required, char **out);
/* An integer in [min, max]. */
int bi_config_u64(struct bi_config *c, const char *key, bool required,
    uint64_t min, uint64_t max, uint64_t *out);
int bi_config_bool(struct bi_config *c, const char *key, bool *out);
/* A string that must be one of choices (NULL-terminated); *out is its
 * index. */
int bi_config_choice(struct bi_config *c, const char *key, bool required,
    const char *const *choices, int *out);

#endif
