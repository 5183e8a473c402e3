/*
 * The wire codec's schema: every message type as a table of fields, which
 * the encoder, the decoder, sli_msg_free and sli_msg_equal all walk, so the
 * four cannot disagree about a field. Internal to core/wire.
 */
#ifndef SLI_WIRE_IMPL_H
#define SLI_WIRE_IMPL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

enum wf_kind {
	WF_U32,  /* uint32_t in [min, max] */
	WF_U64,  /* uint64_t in [min, max] */
	WF_NAME, /* char *, 1..max bytes of UTF-8 */
	WF_STR,  /* char *, 0..max bytes of UTF-8 */
	WF_TEXT, /* char *, UTF-8 of any length; the encoder repairs it */
	WF_JSON, /* char * + size_t at noff: bytes, sent as bin, str accepted */
	WF_BIN,  /* struct sl_bytes */
	WF_LIST, /* pointer at off + uint32_t count at noff, <= max entries */
	WF_MAP,  /* a struct at off, described by map */
};

struct wire_layout;

struct wire_field {
	const char *key; /* NULL for a list's element */
	enum wf_kind kind;
	size_t off;  /* of the value in its struct */
	size_t noff; /* of the count (WF_LIST) or length (WF_JSON) */
	uint64_t min, max;
	const struct wire_field *elem; /* WF_LIST: each element, at offset 0 */
	size_t esize;                  /* WF_LIST: bytes per element */
	const struct wire_layout *map; /* WF_MAP */
};

struct wire_layout {
	const struct wire_field *fields;
	unsigned nfields;
	/* Optional rule across fields: NULL when s keeps it, else the
	 * problem, written into buf. */
	const char *(*check)(const void *s, char *buf, size_t size);
};

/* The layout of type t, NULL when t is no type. */
const struct wire_layout *sli__wire_layout(uint64_t t);

/* Where in a message a problem is, for the error detail:
 * "DEPLOY.inputs[2].descriptors[0]". Pushing returns what pop restores. */
struct wire_path {
	char buf[192];
	size_t len;
};

void sli__wire_path_init(struct wire_path *p, const char *root);
size_t sli__wire_path_push(struct wire_path *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sli__wire_path_pop(struct wire_path *p, size_t mark);
/* sli_err(err, "PATH: problem") */
int sli__wire_fail(int err, const struct wire_path *p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Length of the valid UTF-8 sequence at s (1..4; NUL counts as one), or 0
 * when s[0..n) does not start with one: overlong forms, surrogates and
 * code points above U+10FFFF are invalid. */
size_t sli__utf8_seq(const unsigned char *s, size_t n);

/* NULL, or the problem with s[0..n) as a string field of kind k with the
 * limit max: "not valid UTF-8", "contains a NUL byte", ... */
const char *sli__wire_str_problem(enum wf_kind k, uint64_t max, const char *s,
    size_t n, char *buf, size_t size);

#endif
