/*
 * The wire schema (one table of fields per message type), names, UTF-8
 * checks, and the walks that free and compare messages. Encoding is in
 * wire_encode.c, decoding in wire_decode.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "wire_impl.h"

#define FIELD(S, key, kind, m, noff, lo, hi, elem, esize, map)            \
	{                                                                 \
		key, kind, offsetof(S, m), noff, lo, hi, elem, esize, map \
	}
#define U32(S, key, m, lo, hi) \
	FIELD(S, key, WF_U32, m, 0, lo, hi, NULL, 0, NULL)
#define U64(S, key, m) FIELD(S, key, WF_U64, m, 0, 0, UINT64_MAX, NULL, 0, NULL)
#define STRING(S, key, kind, m, max) \
	FIELD(S, key, kind, m, 0, 0, max, NULL, 0, NULL)
#define JSON(S, key, m, n) \
	FIELD(S, key, WF_JSON, m, offsetof(S, n), 0, 0, NULL, 0, NULL)
#define BIN(S, key, m) FIELD(S, key, WF_BIN, m, 0, 0, 0, NULL, 0, NULL)
#define LIST(S, key, m, n, max, elem, T) \
	FIELD(S, key, WF_LIST, m, offsetof(S, n), 0, max, elem, sizeof(T), NULL)
#define LAYOUT(fields, check)                                     \
	{                                                         \
		fields, sizeof(fields) / sizeof(fields[0]), check \
	}

/* Elements of lists: one value at the start of each element. */
static const struct wire_field u64_elem = { NULL, WF_U64, 0, 0, 0, UINT64_MAX,
	NULL, 0, NULL };
static const struct wire_field bin_elem = { NULL, WF_BIN, 0, 0, 0, 0, NULL, 0,
	NULL };
static const struct wire_field def_elem = { NULL, WF_STR, 0, 0, 0,
	SLI_WIRE_MAX_NAME, NULL, 0, NULL };
static const struct wire_field u64s_elem = FIELD(struct sli_wire_u64s, NULL,
    WF_LIST, v, offsetof(struct sli_wire_u64s, n), 0, SL_MAX_PARALLELISM,
    &u64_elem, sizeof(uint64_t), NULL);

static const struct wire_field part[] = {
	STRING(struct sli_wire_part, "job", WF_NAME, job, SLI_WIRE_MAX_NAME),
	U32(struct sli_wire_part, "edge", edge, 0, SL_MAX_EDGES - 1),
	U32(struct sli_wire_part, "producer", producer, 0,
	    SL_MAX_PARALLELISM - 1),
	U32(struct sli_wire_part, "attempt", attempt, 0, UINT32_MAX),
};

static const struct wire_layout part_layout = LAYOUT(part, NULL);
static const struct wire_field part_elem = { NULL, WF_MAP, 0, 0, 0, 0, NULL, 0,
	&part_layout };

static const struct wire_field service[] = {
	STRING(struct sli_wire_service, "plugin", WF_NAME, plugin,
	    SLI_WIRE_MAX_NAME),
	STRING(struct sli_wire_service, "url", WF_STR, url, SLI_WIRE_MAX_NAME),
	U32(struct sli_wire_service, "lists", lists, 0, 1),
	LIST(struct sli_wire_service, "held", held, nheld, SLI_WIRE_MAX_HELD,
	    &part_elem, struct sli_wire_part),
};

static const struct wire_layout service_layout = LAYOUT(service, NULL);
static const struct wire_field service_elem = { NULL, WF_MAP, 0, 0, 0, 0, NULL,
	0, &service_layout };

static const struct wire_field hello[] = {
	STRING(struct sli_wire_hello, "worker", WF_NAME, worker,
	    SLI_WIRE_MAX_NAME),
	U32(struct sli_wire_hello, "slots", slots, 1, UINT32_MAX),
	STRING(struct sli_wire_hello, "ctl_url", WF_STR, ctl_url,
	    SLI_WIRE_MAX_NAME),
	U32(struct sli_wire_hello, "pid", pid, 0, UINT32_MAX),
	STRING(struct sli_wire_hello, "host", WF_STR, host, SLI_WIRE_MAX_NAME),
	LIST(struct sli_wire_hello, "data", data, ndata, SLI_WIRE_MAX_DEFS,
	    &service_elem, struct sli_wire_service),
};

static const struct wire_field heartbeat[] = {
	STRING(struct sli_wire_heartbeat, "worker", WF_NAME, worker,
	    SLI_WIRE_MAX_NAME),
	U32(struct sli_wire_heartbeat, "running", running, 0, UINT32_MAX),
};

#define TASK_KEY(S)                                            \
	STRING(S, "job", WF_NAME, job, SLI_WIRE_MAX_NAME),     \
	    U32(S, "vertex", vertex, 0, SL_MAX_VERTICES - 1),  \
	    U32(S, "index", index, 0, SL_MAX_PARALLELISM - 1), \
	    U32(S, "attempt", attempt, 0, UINT32_MAX)

static const struct wire_field task_state[] = {
	TASK_KEY(struct sli_wire_task_state),
	U32(struct sli_wire_task_state, "state", state, SLI_WIRE_RUNNING,
	    SLI_WIRE_CANCELLED),
	STRING(struct sli_wire_task_state, "error", WF_TEXT, error, 0),
	U64(struct sli_wire_task_state, "records_in", records_in),
	U64(struct sli_wire_task_state, "records_out", records_out),
	U64(struct sli_wire_task_state, "bytes_in", bytes_in),
	U64(struct sli_wire_task_state, "bytes_out", bytes_out),
	LIST(struct sli_wire_task_state, "sub_bytes", sub_bytes, nsub_bytes,
	    SL_MAX_EDGES, &u64s_elem, struct sli_wire_u64s),
	U32(struct sli_wire_task_state, "bad_edge", bad_edge, 0, UINT32_MAX),
	U32(struct sli_wire_task_state, "bad_producer", bad_producer, 0,
	    UINT32_MAX),
};

static const struct wire_field welcome[] = {
	STRING(struct sli_wire_welcome, "worker", WF_NAME, worker,
	    SLI_WIRE_MAX_NAME),
	U32(struct sli_wire_welcome, "heartbeat_ms", heartbeat_ms, 1,
	    UINT32_MAX),
};

static const struct wire_field input[] = {
	U32(struct sli_wire_input, "edge", edge, 0, SL_MAX_EDGES - 1),
	U32(struct sli_wire_input, "sub_lo", sub_lo, 0, SL_MAX_PARALLELISM - 1),
	U32(struct sli_wire_input, "sub_hi", sub_hi, 0, SL_MAX_PARALLELISM - 1),
	LIST(struct sli_wire_input, "descriptors", descs, ndescs,
	    SL_MAX_PARALLELISM, &bin_elem, struct sl_bytes),
	U32(struct sli_wire_input, "first", first, 0, SL_MAX_PARALLELISM - 1),
	U32(struct sli_wire_input, "partials", partials, 0, 1),
};

static const char *
input_check(const void *s, char *buf, size_t size)
{
	const struct sli_wire_input *in = s;

	if (in->sub_lo <= in->sub_hi)
		return NULL;
	snprintf(buf, size, "sub_lo %u > sub_hi %u", (unsigned)in->sub_lo,
	    (unsigned)in->sub_hi);
	return buf;
}

static const struct wire_layout input_layout = LAYOUT(input, input_check);
static const struct wire_field input_elem = { NULL, WF_MAP, 0, 0, 0, 0, NULL, 0,
	&input_layout };

static const struct wire_field output[] = {
	U32(struct sli_wire_output, "edge", edge, 0, SL_MAX_EDGES - 1),
	U32(struct sli_wire_output, "num_subpartitions", num_subpartitions, 1,
	    SL_MAX_PARALLELISM),
	BIN(struct sli_wire_output, "descriptor", desc),
};

static const struct wire_layout output_layout = LAYOUT(output, NULL);
static const struct wire_field output_elem = { NULL, WF_MAP, 0, 0, 0, 0, NULL,
	0, &output_layout };

static const struct wire_field chained[] = {
	U32(struct sli_wire_chained, "vertex", vertex, 0, SL_MAX_VERTICES - 1),
	LIST(struct sli_wire_chained, "outputs", outputs, noutputs,
	    SL_MAX_EDGES, &output_elem, struct sli_wire_output),
};

static const struct wire_layout chained_layout = LAYOUT(chained, NULL);
static const struct wire_field chained_elem = { NULL, WF_MAP, 0, 0, 0, 0, NULL,
	0, &chained_layout };

static const struct wire_field deploy[] = {
	TASK_KEY(struct sli_wire_deploy),
	JSON(struct sli_wire_deploy, "job_json", job_json, job_json_len),
	LIST(struct sli_wire_deploy, "inputs", inputs, ninputs, SL_MAX_EDGES,
	    &input_elem, struct sli_wire_input),
	LIST(struct sli_wire_deploy, "outputs", outputs, noutputs, SL_MAX_EDGES,
	    &output_elem, struct sli_wire_output),
	LIST(struct sli_wire_deploy, "chain", chain, nchain,
	    SL_MAX_VERTICES - 1, &chained_elem, struct sli_wire_chained),
	U32(struct sli_wire_deploy, "partial", partial, 0, 1),
	STRING(struct sli_wire_deploy, "config", WF_TEXT, config, 0),
};

static const struct wire_field cancel[] = {
	TASK_KEY(struct sli_wire_cancel),
};

static const struct wire_field submit[] = {
	JSON(struct sli_wire_submit, "job_json", job_json, job_json_len),
	LIST(struct sli_wire_submit, "defs", defs, ndefs, SLI_WIRE_MAX_DEFS,
	    &def_elem, char *),
};

static const struct wire_field submitted[] = {
	STRING(
	    struct sli_wire_submitted, "job", WF_NAME, job, SLI_WIRE_MAX_NAME),
};

static const struct wire_field error[] = {
	STRING(struct sli_wire_error, "message", WF_TEXT, message, 0),
};

static const struct wire_field job[] = {
	STRING(struct sli_wire_job, "job", WF_NAME, job, SLI_WIRE_MAX_NAME),
	U32(struct sli_wire_job, "state", state, SLI_WIRE_RUNNING,
	    SLI_WIRE_CANCELLED),
	STRING(struct sli_wire_job, "message", WF_TEXT, message, 0),
};

static const struct wire_layout job_layout = LAYOUT(job, NULL);
static const struct wire_field job_elem = { NULL, WF_MAP, 0, 0, 0, 0, NULL, 0,
	&job_layout };

static const struct wire_field jobs[] = {
	LIST(struct sli_wire_jobs, "jobs", jobs, njobs, SLI_WIRE_MAX_JOBS,
	    &job_elem, struct sli_wire_job),
};

static const struct wire_layout layouts[] = {
	[SLI_MSG_HELLO] = LAYOUT(hello, NULL),
	[SLI_MSG_HEARTBEAT] = LAYOUT(heartbeat, NULL),
	[SLI_MSG_TASK_STATE] = LAYOUT(task_state, NULL),
	[SLI_MSG_WELCOME] = LAYOUT(welcome, NULL),
	[SLI_MSG_DEPLOY] = LAYOUT(deploy, NULL),
	[SLI_MSG_CANCEL] = LAYOUT(cancel, NULL),
	[SLI_MSG_SHUTDOWN] = { NULL, 0, NULL },
	[SLI_MSG_SUBMIT] = LAYOUT(submit, NULL),
	[SLI_MSG_SUBMITTED] = LAYOUT(submitted, NULL),
	[SLI_MSG_ERROR] = LAYOUT(error, NULL),
	[SLI_MSG_STATUS] = { NULL, 0, NULL },
	[SLI_MSG_JOBS] = LAYOUT(jobs, NULL),
	[SLI_MSG_OK] = { NULL, 0, NULL },
};

const struct wire_layout *
sli__wire_layout(uint64_t t)
{
	if (t == 0 || t >= sizeof(layouts) / sizeof(layouts[0]))
		return NULL;
	return &layouts[t];
}

const char *
sli_msg_type_name(int t)
{
	switch (t) {
#define XX(name, num, member) \
	case num:             \
		return #name;
		SLI_MSG_TYPES(XX)
#undef XX
	}
	return "?";
}

const char *
sli_wire_state_name(int s)
{
	switch (s) {
	case SLI_WIRE_RUNNING:
		return "RUNNING";
	case SLI_WIRE_FINISHED:
		return "FINISHED";
	case SLI_WIRE_FAILED:
		return "FAILED";
	case SLI_WIRE_CANCELLED:
		return "CANCELLED";
	}
	return "?";
}

void
sli__wire_path_init(struct wire_path *p, const char *root)
{
	p->len = 0;
	p->buf[0] = '\0';
	sli__wire_path_push(p, "%s", root);
}

size_t
sli__wire_path_push(struct wire_path *p, const char *fmt, ...)
{
	size_t mark = p->len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(p->buf + p->len, sizeof(p->buf) - p->len, fmt, ap);
	va_end(ap);
	/* Our keys are short and lists nest twice at most; a cut path
	 * still names where it went. */
	if (n > 0)
		p->len += (size_t)n < sizeof(p->buf) - p->len
		    ? (size_t)n
		    : sizeof(p->buf) - 1 - p->len;
	return mark;
}

void
sli__wire_path_pop(struct wire_path *p, size_t mark)
{
	p->len = mark;
	p->buf[mark] = '\0';
}

int
sli__wire_fail(int err, const struct wire_path *p, const char *fmt, ...)
{
	char what[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return sli_err(err, "%s: %s", p->buf, what);
}

size_t
sli__utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0; /* continuation byte, overlong lead, or past 0x10ffff
		           */
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

const char *
sli__wire_str_problem(enum wf_kind k, uint64_t max, const char *s, size_t n,
    char *buf, size_t size)
{
	if (k == WF_NAME && n == 0)
		return "empty";
	if (k != WF_TEXT && n > max) {
		snprintf(buf, size, "%zu bytes, at most %llu", n,
		    (unsigned long long)max);
		return buf;
	}
	if (memchr(s, '\0', n) != NULL)
		return "contains a NUL byte";
	for (size_t i = 0, step; i < n; i += step)
		if ((step = sli__utf8_seq(
		         (const unsigned char *)s + i, n - i)) == 0) {
			snprintf(buf, size, "not valid UTF-8 (byte %zu)", i);
			return buf;
		}
	return NULL;
}

static void
free_field(const struct wire_field *f, void *base)
{
	char *p = (char *)base + f->off;

	switch (f->kind) {
	case WF_U32:
	case WF_U64:
		break;
	case WF_NAME:
	case WF_STR:
	case WF_TEXT:
	case WF_JSON:
		free(*(char **)p);
		break;
	case WF_BIN:
		free(((struct sl_bytes *)p)->data);
		break;
	case WF_LIST: {
		char *v = *(char **)p;
		uint32_t n = *(uint32_t *)((char *)base + f->noff);

		for (uint32_t i = 0; v != NULL && i < n; i++)
			free_field(f->elem, v + i * f->esize);
		free(v);
		break;
	}
	case WF_MAP:
		for (unsigned i = 0; i < f->map->nfields; i++)
			free_field(&f->map->fields[i], p);
		break;
	}
}

void
sli_msg_free(struct sli_msg *m)
{
	const struct wire_layout *l;

	if (m == NULL)
		return;
	if ((l = sli__wire_layout(m->type)) != NULL)
		for (unsigned i = 0; i < l->nfields; i++)
			free_field(&l->fields[i], &m->hello);
	memset(m, 0, sizeof(*m));
}

static bool
same_bytes(const void *a, size_t na, const void *b, size_t nb)
{
	return na == nb && (na == 0 || memcmp(a, b, na) == 0);
}

static bool
equal_field(const struct wire_field *f, const void *a, const void *b)
{
	const char *pa = (const char *)a + f->off;
	const char *pb = (const char *)b + f->off;

	switch (f->kind) {
	case WF_U32:
		return *(const uint32_t *)pa == *(const uint32_t *)pb;
	case WF_U64:
		return *(const uint64_t *)pa == *(const uint64_t *)pb;
	case WF_NAME:
	case WF_STR:
	case WF_TEXT: {
		const char *sa = *(char *const *)pa, *sb = *(char *const *)pb;

		return strcmp(sa ? sa : "", sb ? sb : "") == 0;
	}
	case WF_JSON:
		return same_bytes(*(char *const *)pa,
		    *(const size_t *)((const char *)a + f->noff),
		    *(char *const *)pb,
		    *(const size_t *)((const char *)b + f->noff));
	case WF_BIN: {
		const struct sl_bytes *ba = (const void *)pa;
		const struct sl_bytes *bb = (const void *)pb;

		return same_bytes(ba->data, ba->len, bb->data, bb->len);
	}
	case WF_LIST: {
		const char *va = *(char *const *)pa, *vb = *(char *const *)pb;
		uint32_t n = *(const uint32_t *)((const char *)a + f->noff);

		if (n != *(const uint32_t *)((const char *)b + f->noff))
			return false;
		for (uint32_t i = 0; i < n; i++)
			if (!equal_field(
			        f->elem, va + i * f->esize, vb + i * f->esize))
				return false;
		return true;
	}
	case WF_MAP:
		for (unsigned i = 0; i < f->map->nfields; i++)
			if (!equal_field(&f->map->fields[i], pa, pb))
				return false;
		return true;
	}
	return false;
}

bool
sli_msg_equal(const struct sli_msg *a, const struct sli_msg *b)
{
	const struct wire_layout *l;

	if (a->type != b->type)
		return false;
	if ((l = sli__wire_layout(a->type)) == NULL)
		return true; /* neither encodes */
	for (unsigned i = 0; i < l->nfields; i++)
		if (!equal_field(&l->fields[i], &a->hello, &b->hello))
			return false;
	return true;
}
