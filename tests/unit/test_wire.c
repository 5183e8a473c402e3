/*
 * The control-plane codec (core/wire): round trips of every message type
 * at its edges, the exact bytes of small messages, every rejection with
 * its detail, truncations and byte flips (run under ASan, which also
 * catches what a failed decode leaves allocated).
 */
#include <msgpack.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/errors.h>

#include "sl_test.h"
#include "wire/wire.h"

/* ---- building messages to decode ---- */

static char *
xstrdup(const char *s)
{
	char *d = strdup(s);

	CU_ASSERT_FATAL(d != NULL);
	return d;
}

/* A string of n bytes: `unit` repeated, cut at a whole unit. */
static char *
rep(const char *unit, size_t n)
{
	size_t u = strlen(unit);
	char *s = malloc(n + 1);

	CU_ASSERT_FATAL(s != NULL);
	for (size_t i = 0; i < n; i += u)
		memcpy(s + i, unit, n - i < u ? n - i : u);
	s[n] = '\0';
	return s;
}

static struct sl_bytes
xbytes(size_t n, unsigned seed)
{
	struct sl_bytes b = { NULL, n };

	if (n > 0) {
		b.data = malloc(n);
		CU_ASSERT_FATAL(b.data != NULL);
		for (size_t i = 0; i < n; i++)
			((unsigned char *)b.data)[i] =
			    (unsigned char)(seed * 31 + i * 7);
	}
	return b;
}

static void
set_json(char **p, size_t *len, size_t n)
{
	*p = n ? rep("{\"x\": [1, 2]} ", n) : NULL;
	*len = n;
}

static void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	CU_ASSERT_FATAL(p != NULL);
	return p;
}

/* An owned message of type t; variant 0: the least of everything (empty
 * strings and lists where allowed, zeros), 1: typical, 2: the most
 * (limits, maximal integers, large binaries). */
static void
sample(int t, int variant, struct sli_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = (uint32_t)t;
	switch (t) {
	case SLI_MSG_HELLO: {
		struct sli_wire_hello *h = &m->hello;

		h->worker = variant == 2 ? rep("\xc3\xa9", SLI_WIRE_MAX_NAME)
		                         : xstrdup(variant ? "worker-1" : "w");
		h->slots = variant == 2 ? UINT32_MAX : variant ? 2 : 1;
		h->ctl_url = variant == 2 ? rep("u", SLI_WIRE_MAX_NAME)
		    : variant             ? xstrdup("tcp://10.0.0.1:5001")
		                          : xstrdup("");
		h->pid = variant == 2 ? UINT32_MAX : variant ? 4242 : 0;
		h->host = variant == 2
		    ? rep("\xf0\x9f\x8c\x8a", SLI_WIRE_MAX_NAME)
		    : xstrdup(variant ? "node-a" : "");
		h->ndata = variant == 2 ? SLI_WIRE_MAX_DEFS : (uint32_t)variant;
		h->data = h->ndata ? xcalloc(h->ndata, sizeof(*h->data)) : NULL;
		for (uint32_t i = 0; i < h->ndata; i++) {
			h->data[i].plugin = xstrdup("memory");
			h->data[i].url = variant == 2
			    ? rep("d", SLI_WIRE_MAX_NAME)
			    : xstrdup("tcp://10.0.0.1:5002");
		}
		/* what a worker that outlived its coordinator holds */
		if (variant == 1) {
			struct sli_wire_service *sv = &h->data[0];

			sv->lists = 1;
			sv->nheld = 2;
			sv->held = xcalloc(2, sizeof(*sv->held));
			sv->held[0] =
			    (struct sli_wire_part) { xstrdup("wc-1"), 2, 0, 0 };
			sv->held[1] = (struct sli_wire_part) { xstrdup("wc-1"),
				SL_MAX_EDGES - 1, SL_MAX_PARALLELISM - 1,
				UINT32_MAX };
		}
		break;
	}
	case SLI_MSG_HEARTBEAT:
		m->heartbeat.worker = xstrdup("w");
		m->heartbeat.running = variant == 2 ? UINT32_MAX : variant * 3u;
		break;
	case SLI_MSG_TASK_STATE: {
		struct sli_wire_task_state *s = &m->task_state;
		uint64_t big = variant == 2 ? UINT64_MAX : variant ? 1000 : 0;

		s->job = xstrdup("wc-1");
		s->vertex = variant == 2 ? SL_MAX_VERTICES - 1 : variant;
		s->index = variant == 2 ? SL_MAX_PARALLELISM - 1 : variant;
		s->attempt = variant == 2 ? UINT32_MAX : (uint32_t)variant;
		s->state = variant == 2 ? SLI_WIRE_CANCELLED
		    : variant           ? SLI_WIRE_FAILED
		                        : SLI_WIRE_RUNNING;
		s->error = variant == 2 ? rep("\xe2\x82\xac", 99999)
		    : variant ? xstrdup("task count#1: b\xc3\xb6\xc3\xb6m")
		              : xstrdup("");
		s->records_in = big;
		s->records_out = big / 2;
		s->bytes_in = big - (big > 0);
		s->bytes_out = big;
		if (variant == 0)
			break;
		s->bad_edge = variant == 2 ? UINT32_MAX : (uint32_t)variant;
		s->bad_producer = variant == 2 ? UINT32_MAX - 1 : 7;
		s->nsub_bytes = variant == 2 ? 3 : 2;
		s->sub_bytes = xcalloc(s->nsub_bytes, sizeof(*s->sub_bytes));
		for (uint32_t e = 0; e < s->nsub_bytes; e++) {
			uint32_t n = variant == 2 ? 1000 : e * 3;

			s->sub_bytes[e].n = n;
			s->sub_bytes[e].v =
			    n ? xcalloc(n, sizeof(uint64_t)) : NULL;
			for (uint32_t i = 0; i < n; i++)
				s->sub_bytes[e].v[i] =
				    variant == 2 ? UINT64_MAX - i : i * 1000u;
		}
		break;
	}
	case SLI_MSG_WELCOME:
		m->welcome.worker = xstrdup("worker-1");
		m->welcome.heartbeat_ms = variant == 2 ? UINT32_MAX
		    : variant                          ? 500
		                                       : 1;
		break;
	case SLI_MSG_DEPLOY: {
		struct sli_wire_deploy *d = &m->deploy;

		d->job = xstrdup("wc-1");
		set_json(&d->job_json, &d->job_json_len,
		    variant == 2  ? 1u << 20
		        : variant ? 40
		                  : 0);
		d->vertex = variant == 2 ? SL_MAX_VERTICES - 1 : variant;
		d->index = variant == 2 ? SL_MAX_PARALLELISM - 1 : variant;
		d->attempt = variant == 2 ? UINT32_MAX : (uint32_t)variant;
		if (variant == 0)
			break;
		d->ninputs = 3;
		d->inputs = xcalloc(d->ninputs, sizeof(*d->inputs));
		for (uint32_t i = 0; i < d->ninputs; i++) {
			struct sli_wire_input *in = &d->inputs[i];

			in->edge = variant == 2 ? SL_MAX_EDGES - 1 - i : i * 2;
			in->sub_lo = i;
			in->sub_hi =
			    variant == 2 ? SL_MAX_PARALLELISM - 1 : i * 2;
			in->first = variant == 2 ? SL_MAX_PARALLELISM - 1 : i;
			in->partials = i == 1;
			/* 2: one input of 1000 small descriptors, one of a
			 * 2 MiB one, one of none. */
			in->ndescs = i == 2          ? 0
			    : variant == 2 && i == 0 ? 1000
			                             : 2;
			in->descs = in->ndescs
			    ? xcalloc(in->ndescs, sizeof(*in->descs))
			    : NULL;
			for (uint32_t k = 0; k < in->ndescs; k++)
				in->descs[k] = xbytes(variant == 2 && i == 1
				        ? (k == 0 ? 2u << 20 : 0)
				        : k == 1 ? 0
				                 : 60,
				    i * 100 + k);
		}
		d->noutputs = 2;
		d->outputs = xcalloc(d->noutputs, sizeof(*d->outputs));
		for (uint32_t o = 0; o < d->noutputs; o++) {
			d->outputs[o].edge =
			    variant == 2 ? SL_MAX_EDGES - 1 : 7 + o;
			d->outputs[o].num_subpartitions =
			    variant == 2 ? SL_MAX_PARALLELISM : 1 + o;
			d->outputs[o].desc = xbytes(o ? 0 : 80, o);
		}
		d->partial = variant == 2;
		d->config =
		    variant == 2 ? xstrdup("{\"mode\": \"final\"}") : NULL;
		/* 1: one chained task; 2: 3 of them, one without outputs */
		d->nchain = variant == 2 ? 3 : 1;
		d->chain = xcalloc(d->nchain, sizeof(*d->chain));
		for (uint32_t c = 0; c < d->nchain; c++) {
			struct sli_wire_chained *ch = &d->chain[c];

			ch->vertex = variant == 2 ? SL_MAX_VERTICES - 1 - c
			                          : d->vertex + 1 + c;
			ch->noutputs = c == 2 ? 0 : 1;
			ch->outputs = ch->noutputs
			    ? xcalloc(ch->noutputs, sizeof(*ch->outputs))
			    : NULL;
			for (uint32_t o = 0; o < ch->noutputs; o++) {
				ch->outputs[o].edge = 20 + c;
				ch->outputs[o].num_subpartitions = 1;
				ch->outputs[o].desc = xbytes(30, c);
			}
		}
		break;
	}
	case SLI_MSG_CANCEL:
		m->cancel.job = xstrdup("j");
		m->cancel.vertex = variant == 2 ? SL_MAX_VERTICES - 1 : 0;
		m->cancel.index = variant == 2 ? SL_MAX_PARALLELISM - 1 : 0;
		m->cancel.attempt =
		    variant == 2 ? UINT32_MAX : (uint32_t)variant;
		break;
	case SLI_MSG_SHUTDOWN:
	case SLI_MSG_STATUS:
	case SLI_MSG_OK:
		break;
	case SLI_MSG_SUBMIT: {
		struct sli_wire_submit *s = &m->submit;

		set_json(&s->job_json, &s->job_json_len,
		    variant == 2  ? 3u << 20
		        : variant ? 100
		                  : 0);
		s->ndefs = variant == 2 ? SLI_WIRE_MAX_DEFS : variant ? 2 : 0;
		s->defs = s->ndefs ? xcalloc(s->ndefs, sizeof(char *)) : NULL;
		for (uint32_t i = 0; i < s->ndefs; i++)
			s->defs[i] = variant == 2
			    ? rep("D=", i == 0 ? SLI_WIRE_MAX_NAME : 4)
			    : xstrdup(i ? "" : "INPUT=/data/in.txt");
		break;
	}
	case SLI_MSG_SUBMITTED:
		m->submitted.job = variant == 2 ? rep("j", SLI_WIRE_MAX_NAME)
		                                : xstrdup("wc-20240101-1");
		break;
	case SLI_MSG_ERROR:
		m->error.message = variant == 2 ? rep("x", 1u << 20)
		    : variant                   ? xstrdup("job.json: bad")
		                                : xstrdup("");
		break;
	case SLI_MSG_JOBS: {
		struct sli_wire_jobs *j = &m->jobs;

		j->njobs = variant == 2 ? SLI_WIRE_MAX_JOBS : variant ? 2 : 0;
		j->jobs = j->njobs ? xcalloc(j->njobs, sizeof(*j->jobs)) : NULL;
		for (uint32_t i = 0; i < j->njobs; i++) {
			char id[32];

			snprintf(id, sizeof(id), "job-%u", (unsigned)i);
			j->jobs[i].job = xstrdup(id);
			j->jobs[i].state = 1 + i % 4;
			j->jobs[i].message = xstrdup(i % 2 ? "" : "ok");
		}
		break;
	}
	default:
		CU_FAIL_FATAL("no sample for this type");
	}
}

#define NTYPES SLI_MSG_OK

static void
encode_ok(const struct sli_msg *m, void **data, size_t *len)
{
	int rv = sli_wire_encode(m, data, len);

	if (rv != 0)
		fprintf(stderr, "encode %s: %s\n",
		    sli_msg_type_name((int)m->type), sl_errdetail());
	CU_ASSERT_FATAL(rv == 0);
}

static bool
is_zero(const struct sli_msg *m)
{
	static const struct sli_msg zero;

	return memcmp(m, &zero, sizeof(zero)) == 0;
}

static void
test_round_trip(void)
{
	for (int t = 1; t <= NTYPES; t++) {
		for (int variant = 0; variant < 3; variant++) {
			struct sli_msg m, back;
			void *data, *again;
			size_t len, len2;
			int rv;

			sample(t, variant, &m);
			encode_ok(&m, &data, &len);
			rv = sli_wire_decode(data, len, &back);
			if (rv != 0)
				fprintf(stderr, "decode %s/%d: %s\n",
				    sli_msg_type_name(t), variant,
				    sl_errdetail());
			CU_ASSERT_FATAL(rv == 0);
			CU_ASSERT(back.type == (uint32_t)t);
			CU_ASSERT(sli_msg_equal(&m, &back));
			/* Canonical: the same bytes again. */
			encode_ok(&back, &again, &len2);
			CU_ASSERT(len2 == len && memcmp(data, again, len) == 0);
			sli_msg_free(&m);
			sli_msg_free(&back);
			CU_ASSERT(is_zero(&back));
			free(data);
			free(again);
		}
	}
}

/* What decoding promises beyond equality: no NULL strings, NUL after the
 * job text, empty descriptors as NULL. */
static void
test_decoded_shape(void)
{
	struct sli_msg m, back;
	void *data;
	size_t len;

	sample(SLI_MSG_HELLO, 0, &m);
	free(m.hello.host);
	m.hello.host = NULL; /* stands for "" */
	encode_ok(&m, &data, &len);
	CU_ASSERT_FATAL(sli_wire_decode(data, len, &back) == 0);
	CU_ASSERT(back.hello.host != NULL && back.hello.host[0] == '\0');
	CU_ASSERT(sli_msg_equal(&m, &back));
	sli_msg_free(&m);
	sli_msg_free(&back);
	free(data);

	sample(SLI_MSG_DEPLOY, 1, &m);
	encode_ok(&m, &data, &len);
	CU_ASSERT_FATAL(sli_wire_decode(data, len, &back) == 0);
	CU_ASSERT(back.deploy.job_json_len == 40);
	CU_ASSERT(back.deploy.job_json[40] == '\0');
	CU_ASSERT(back.deploy.inputs[0].descs[1].len == 0);
	CU_ASSERT(back.deploy.inputs[0].descs[1].data == NULL);
	CU_ASSERT(back.deploy.inputs[2].ndescs == 0);
	sli_msg_free(&m);
	sli_msg_free(&back);
	free(data);

	sample(SLI_MSG_DEPLOY, 0, &m);
	encode_ok(&m, &data, &len);
	CU_ASSERT_FATAL(sli_wire_decode(data, len, &back) == 0);
	CU_ASSERT(
	    back.deploy.job_json != NULL && back.deploy.job_json_len == 0);
	sli_msg_free(&m);
	sli_msg_free(&back);
	free(data);
}

static void
expect_bytes(const struct sli_msg *m, const char *hex)
{
	char got[512] = "";
	void *data;
	size_t len;

	encode_ok(m, &data, &len);
	for (size_t i = 0; i < len && 2 * i + 2 < sizeof(got); i++)
		snprintf(got + 2 * i, 3, "%02x", ((unsigned char *)data)[i]);
	if (strcmp(got, hex) != 0)
		fprintf(stderr, "\n  got  %s\n  want %s\n", got, hex);
	CU_ASSERT(strcmp(got, hex) == 0);
	free(data);
}

/* The format must not drift silently: these bytes are the protocol. */
static void
test_exact_bytes(void)
{
	struct sli_msg m = { .type = SLI_MSG_HEARTBEAT };
	struct sl_bytes desc = { "\x01\x02", 2 };
	struct sli_wire_output out = { 5, 300, { NULL, 0 } };
	struct sli_wire_input in = { 1, 0, 2, &desc, 1, 3, 1 };

	m.heartbeat.worker = "w1";
	m.heartbeat.running = 3;
	/* {"v":1,"t":2,"worker":"w1","running":3} */
	expect_bytes(&m,
	    "84"
	    "a17601"
	    "a17402"
	    "a6776f726b6572"
	    "a27731"
	    "a772756e6e696e67"
	    "03");

	memset(&m, 0, sizeof(m));
	m.type = SLI_MSG_SHUTDOWN;
	expect_bytes(&m, "82a17601a17407");

	memset(&m, 0, sizeof(m));
	m.type = SLI_MSG_DEPLOY;
	m.deploy.job = "j";
	m.deploy.job_json = "{}";
	m.deploy.job_json_len = 2;
	m.deploy.vertex = 128; /* uint8 */
	m.deploy.index = 2;
	m.deploy.attempt = 70000; /* uint32 */
	m.deploy.inputs = &in;
	m.deploy.ninputs = 1;
	m.deploy.outputs = &out;
	m.deploy.noutputs = 1;
	expect_bytes(&m,
	    "8c"
	    "a17601"
	    "a17405"
	    "a36a6f62"
	    "a16a" /* job "j" */
	    "a6766572746578"
	    "cc80" /* vertex 128 */
	    "a5696e646578"
	    "02" /* index 2 */
	    "a7617474656d7074"
	    "ce00011170" /* attempt 70000 */
	    "a86a6f625f6a736f6e"
	    "c4027b7d" /* job_json bin "{}" */
	    "a6696e70757473"
	    "91"
	    "86"
	    "a465646765"
	    "01"
	    "a67375625f6c6f"
	    "00"
	    "a67375625f6869"
	    "02"
	    "ab64657363726970746f7273"
	    "91"
	    "c4020102"
	    "a56669727374"
	    "03" /* first */
	    "a87061727469616c73"
	    "01" /* partials */
	    "a76f757470757473"
	    "91"
	    "83"
	    "a465646765"
	    "05"
	    "b16e756d5f7375627061727469"
	    "74696f6e73"
	    "cd012c" /* 300 */
	    "aa64657363726970746f72"
	    "c400"
	    "a5636861696e" /* chain */
	    "90"
	    "a77061727469616c"
	    "00" /* partial */
	    "a6636f6e666967"
	    "a0"); /* config "" */
}

/* ---- hand-made msgpack, for what our encoder never writes ---- */

/*
 * Pack by format: M map(unsigned), A array(unsigned), s str(const char *),
 * x str(const char *, size_t), u uint(unsigned), U uint(uint64_t),
 * i int(int), b bin(const void *, size_t), n nil, d double; blanks skip.
 * Returns malloc'd bytes.
 */
static void *
mp(size_t *len, const char *fmt, ...)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	va_list ap;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	va_start(ap, fmt);
	for (const char *f = fmt; *f; f++) {
		switch (*f) {
		case 'M':
			msgpack_pack_map(&pk, va_arg(ap, unsigned));
			break;
		case 'A':
			msgpack_pack_array(&pk, va_arg(ap, unsigned));
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);

			msgpack_pack_str_with_body(&pk, s, strlen(s));
			break;
		}
		case 'x': {
			const char *s = va_arg(ap, const char *);
			size_t n = va_arg(ap, size_t);

			msgpack_pack_str_with_body(&pk, s, n);
			break;
		}
		case 'u':
			msgpack_pack_uint32(&pk, va_arg(ap, unsigned));
			break;
		case 'U':
			msgpack_pack_uint64(&pk, va_arg(ap, uint64_t));
			break;
		case 'i':
			msgpack_pack_int(&pk, va_arg(ap, int));
			break;
		case 'b': {
			const void *p = va_arg(ap, const void *);
			size_t n = va_arg(ap, size_t);

			msgpack_pack_bin_with_body(&pk, p, n);
			break;
		}
		case 'n':
			msgpack_pack_nil(&pk);
			break;
		case 'd':
			msgpack_pack_double(&pk, va_arg(ap, double));
			break;
		default:
			break;
		}
	}
	va_end(ap);
	*len = sb.size;
	return msgpack_sbuffer_release(&sb);
}

static void
reject_bytes(void *data, size_t len, const char *detail)
{
	struct sli_msg m;
	int rv;

	memset(&m, 0xa5, sizeof(m));
	rv = sli_wire_decode(data, len, &m);
	CU_ASSERT(rv == SL_EPARSE);
	CU_ASSERT(is_zero(&m));
	if (strcmp(sl_errdetail(), detail) != 0)
		fprintf(stderr, "\n  detail %s\n  want   %s\n", sl_errdetail(),
		    detail);
	CU_ASSERT(strcmp(sl_errdetail(), detail) == 0);
	free(data);
}

#define REJECT(detail, ...)                        \
	do {                                       \
		size_t len_;                       \
		void *p_ = mp(&len_, __VA_ARGS__); \
		reject_bytes(p_, len_, detail);    \
	} while (0)

/* The start of a HELLO of 7 entries; its fields follow. */
#define HELLO_FMT "M s u s u"
#define HELLO_ARGS 7u, "v", 1u, "t", (unsigned)SLI_MSG_HELLO

static void
test_reject_envelope(void)
{
	unsigned char junk[] = { 0xc1 };
	unsigned char two[] = { 0x80, 0x80 };
	void *p;

	p = malloc(1);
	reject_bytes(p, 0, "message: empty");
	p = malloc(sizeof(junk));
	memcpy(p, junk, sizeof(junk));
	reject_bytes(p, sizeof(junk),
	    "message: not one well-formed msgpack object (1 bytes)");
	p = malloc(sizeof(two));
	memcpy(p, two, sizeof(two));
	reject_bytes(p, sizeof(two),
	    "message: not one well-formed msgpack object (2 bytes)");
	/* A map that claims more entries than the bytes could hold. */
	p = malloc(5);
	memcpy(p, "\xdf\xff\xff\xff\xff", 5);
	reject_bytes(
	    p, 5, "message: not one well-formed msgpack object (5 bytes)");
	p = calloc(1, (size_t)SLI_WIRE_MAX + 1);
	reject_bytes(p, (size_t)SLI_WIRE_MAX + 1,
	    "message: 67108865 bytes, at most 67108864");

	REJECT("message: expected map, got array", "A u", 1u, 1u);
	REJECT("message: expected map, got string", "s", "hello");
	REJECT("message: missing field \"v\" (the protocol version; this "
	       "build speaks version 1)",
	    "M s u", 1u, "t", 1u);
	REJECT("message: version 2, this build speaks version 1", "M s u s u",
	    2u, "v", 2u, "t", 99u);
	REJECT("message: version 0, this build speaks version 1", "M s u s u",
	    2u, "t", 1u, "v", 0u);
	REJECT("message: field \"v\": expected uint, got string", "M s s s u",
	    2u, "v", "1", "t", 1u);
	REJECT("message: field \"v\": expected uint, got negative int", "M s i",
	    1u, "v", -1);
	REJECT("message: field \"v\" appears twice", "M s u s u s u", 3u, "v",
	    1u, "t", 7u, "v", 1u);
	REJECT("message: missing field \"t\" (the type)", "M s u", 1u, "v", 1u);
	REJECT("message: field \"t\": expected uint, got nil", "M s u s n", 2u,
	    "v", 1u, "t");
	REJECT("message: unknown type 99", "M s u s u", 2u, "v", 1u, "t", 99u);
	REJECT("message: unknown type 0", "M s u s u", 2u, "v", 1u, "t", 0u);
}

static void
test_reject_fields(void)
{
	char nul[] = { 'a', '\0', 'b' };

	/* Missing, duplicate. */
	REJECT("HELLO: missing field \"slots\"",
	    HELLO_FMT " s s s s s u s s s s", HELLO_ARGS, "worker", "w",
	    "ctl_url", "", "pid", 1u, "host", "h", "zz", "");
	REJECT("HEARTBEAT: missing field \"worker\"", "M s u s u s u", 3u, "v",
	    1u, "t", 2u, "running", 1u);
	REJECT("HEARTBEAT: field \"running\" appears twice",
	    "M s u s u s s s u s u", 5u, "v", 1u, "t", 2u, "worker", "w",
	    "running", 1u, "running", 2u);

	/* Wrong msgpack types. */
	REJECT("HELLO.slots: expected uint, got string",
	    HELLO_FMT " s s s s s s s u s s", HELLO_ARGS, "worker", "w",
	    "slots", "2", "ctl_url", "", "pid", 1u, "host", "h");
	REJECT("HELLO.slots: expected uint, got float",
	    HELLO_FMT " s s s d s s s u s s", HELLO_ARGS, "worker", "w",
	    "slots", 2.0, "ctl_url", "", "pid", 1u, "host", "h");
	REJECT("HELLO.worker: expected string, got binary",
	    HELLO_FMT " s b s u s s s u s s", HELLO_ARGS, "worker", "w",
	    (size_t)1, "slots", 1u, "ctl_url", "", "pid", 1u, "host", "h");
	REJECT("HELLO.pid: expected uint, got negative int",
	    HELLO_FMT " s s s u s s s i s s", HELLO_ARGS, "worker", "w",
	    "slots", 1u, "ctl_url", "", "pid", -5, "host", "h");
	REJECT("SUBMIT.job_json: expected binary or string, got nil",
	    "M s u s u s n s A", 4u, "v", 1u, "t", 8u, "job_json", "defs", 0u);
	REJECT("SUBMIT.defs: expected array, got map", "M s u s u s s s M", 4u,
	    "v", 1u, "t", 8u, "job_json", "{}", "defs", 0u);
	REJECT("SUBMIT.defs[1]: expected string, got int",
	    "M s u s u s s s A s u", 4u, "v", 1u, "t", 8u, "job_json", "{}",
	    "defs", 2u, "A=1", 7u);
	REJECT("JOBS.jobs[0]: expected map, got array", "M s u s u s A A", 3u,
	    "v", 1u, "t", 12u, "jobs", 1u, 0u);
	REJECT("JOBS.jobs[1]: missing field \"message\"",
	    "M s u s u s A M s s s u s s M s s s u", 3u, "v", 1u, "t", 12u,
	    "jobs", 2u, 3u, "job", "a", "state", 2u, "message", "", 2u, "job",
	    "b", "state", 3u);
	/* The example of the design: a descriptor that is not bytes. */
	REJECT("DEPLOY.inputs[2].descriptors[0]: expected binary, got int",
	    "M s u s u s s s s s u s u s u s A"
	    "M s u s u s u s A s u s u"
	    "M s u s u s u s A s u s u"
	    "M s u s u s u s A u"
	    "s A",
	    9u, "v", 1u, "t", 5u, "job", "j", "job_json", "{}", "vertex", 0u,
	    "index", 0u, "attempt", 0u, "inputs", 3u, /**/
	    6u, "edge", 0u, "sub_lo", 0u, "sub_hi", 0u, "descriptors", 0u,
	    "first", 0u, "partials", 0u, 6u, "edge", 1u, "sub_lo", 0u, "sub_hi",
	    0u, "descriptors", 0u, "first", 0u, "partials", 0u, 4u, "edge", 2u,
	    "sub_lo", 0u, "sub_hi", 0u, "descriptors", 1u, 7u, "outputs", 0u);

	/* Out of range. */
	REJECT("HELLO.slots: 0 out of range 1..4294967295",
	    HELLO_FMT " s s s u s s s u s s", HELLO_ARGS, "worker", "w",
	    "slots", 0u, "ctl_url", "", "pid", 1u, "host", "h");
	REJECT("HELLO.pid: 4294967296 out of range 0..4294967295",
	    HELLO_FMT " s s s u s s s U s s", HELLO_ARGS, "worker", "w",
	    "slots", 1u, "ctl_url", "", "pid", (uint64_t)UINT32_MAX + 1, "host",
	    "h");
	REJECT("WELCOME.heartbeat_ms: 0 out of range 1..4294967295",
	    "M s u s u s s s u", 4u, "v", 1u, "t", 4u, "worker", "w",
	    "heartbeat_ms", 0u);
	REJECT("CANCEL.vertex: 10000 out of range 0..9999",
	    "M s u s u s s s u s u s u", 6u, "v", 1u, "t", 6u, "job", "j",
	    "vertex", 10000u, "index", 0u, "attempt", 0u);
	REJECT("CANCEL.index: 1000000 out of range 0..999999",
	    "M s u s u s s s u s u s u", 6u, "v", 1u, "t", 6u, "job", "j",
	    "vertex", 1u, "index", 1000000u, "attempt", 0u);
	REJECT("JOBS.jobs[0].state: 5 out of range 1..4",
	    "M s u s u s A M s s s u s s", 3u, "v", 1u, "t", 12u, "jobs", 1u,
	    3u, "job", "a", "state", 5u, "message", "");
	REJECT("DEPLOY.outputs[0].num_subpartitions: 0 out of range 1..1000000",
	    "M s u s u s s s s s u s u s u s A s A M s u s u s b", 9u, "v", 1u,
	    "t", 5u, "job", "j", "job_json", "{}", "vertex", 0u, "index", 0u,
	    "attempt", 0u, "inputs", 0u, "outputs", 1u, 3u, "edge", 0u,
	    "num_subpartitions", 0u, "descriptor", "", (size_t)0);
	REJECT("DEPLOY.inputs[0]: sub_lo 5 > sub_hi 3",
	    "M s u s u s s s s s u s u s u s A M s u s u s u s A s u s u s A",
	    9u, "v", 1u, "t", 5u, "job", "j", "job_json", "{}", "vertex", 0u,
	    "index", 0u, "attempt", 0u, "inputs", 1u, 6u, "edge", 0u, "sub_lo",
	    5u, "sub_hi", 3u, "descriptors", 0u, "first", 0u, "partials", 0u,
	    "outputs", 0u);

	/* Strings. */
	REJECT("HEARTBEAT.worker: empty", "M s u s u s s s u", 4u, "v", 1u, "t",
	    2u, "worker", "", "running", 0u);
	REJECT("HEARTBEAT.worker: not valid UTF-8 (byte 1)",
	    "M s u s u s s s u", 4u, "v", 1u, "t", 2u, "worker", "a\xff",
	    "running", 0u);
	REJECT("HEARTBEAT.worker: not valid UTF-8 (byte 0)",
	    "M s u s u s s s u", 4u, "v", 1u, "t", 2u, "worker", "\xc0\xaf",
	    "running", 0u); /* overlong "/" */
	REJECT("HEARTBEAT.worker: not valid UTF-8 (byte 0)",
	    "M s u s u s s s u", 4u, "v", 1u, "t", 2u, "worker", "\xed\xa0\x80",
	    "running", 0u); /* a surrogate */
	REJECT("HEARTBEAT.worker: contains a NUL byte", "M s u s u s x s u", 4u,
	    "v", 1u, "t", 2u, "worker", nul, sizeof(nul), "running", 0u);
	REJECT("ERROR.message: not valid UTF-8 (byte 2)", "M s u s u s s", 3u,
	    "v", 1u, "t", 10u, "message", "ok\x80");
	{
		char *longname = rep("n", SLI_WIRE_MAX_NAME + 1);

		REJECT("SUBMITTED.job: 1025 bytes, at most 1024",
		    "M s u s u s s", 3u, "v", 1u, "t", 9u, "job", longname);
		free(longname);
	}

	/* Lists longer than their limit. */
	{
		msgpack_sbuffer sb;
		msgpack_packer pk;
		size_t size;

		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		msgpack_pack_map(&pk, 4);
		msgpack_pack_str_with_body(&pk, "v", 1);
		msgpack_pack_uint32(&pk, 1);
		msgpack_pack_str_with_body(&pk, "t", 1);
		msgpack_pack_uint32(&pk, SLI_MSG_SUBMIT);
		msgpack_pack_str_with_body(&pk, "job_json", 8);
		msgpack_pack_bin_with_body(&pk, "{}", 2);
		msgpack_pack_str_with_body(&pk, "defs", 4);
		msgpack_pack_array(&pk, SLI_WIRE_MAX_DEFS + 1);
		for (int i = 0; i <= SLI_WIRE_MAX_DEFS; i++)
			msgpack_pack_str_with_body(&pk, "A=1", 3);
		size = sb.size; /* release zeroes it */
		reject_bytes(msgpack_sbuffer_release(&sb), size,
		    "SUBMIT.defs: 4097 entries, at most 4096");
	}
}

/* Unknown fields are skipped wherever they are: a later revision may add
 * some. */
static void
test_unknown_fields(void)
{
	struct sli_msg m;
	size_t len;
	void *p;

	p = mp(&len, "M s M s A n s s u u u s u s s s u", 6u, "later", 1u, "x",
	    2u, "y", "v", 1u, 7u, 9u, "running", 4u, "worker", "w", "t", 2u);
	CU_ASSERT_FATAL(sli_wire_decode(p, len, &m) == 0);
	CU_ASSERT(m.type == SLI_MSG_HEARTBEAT && m.heartbeat.running == 4);
	CU_ASSERT(strcmp(m.heartbeat.worker, "w") == 0);
	sli_msg_free(&m);
	free(p);

	/* Inside a list's element too, and twice. */
	p = mp(&len, "M s u s u s A M s s s u s d s d s s", 3u, "v", 1u, "t",
	    12u, "jobs", 1u, 5u, "job", "a", "state", 2u, "eta", 1.5, "eta",
	    2.5, "message", "m");
	CU_ASSERT_FATAL(sli_wire_decode(p, len, &m) == 0);
	CU_ASSERT(m.jobs.njobs == 1 && m.jobs.jobs[0].state == 2);
	sli_msg_free(&m);
	free(p);

	/* job_json as a string is accepted. */
	p = mp(&len, "M s u s u s s s A s", 4u, "v", 1u, "t", 8u, "job_json",
	    "{\"a\":1}", "defs", 1u, "X=y");
	CU_ASSERT_FATAL(sli_wire_decode(p, len, &m) == 0);
	CU_ASSERT(m.submit.job_json_len == 7);
	CU_ASSERT(strcmp(m.submit.job_json, "{\"a\":1}") == 0);
	CU_ASSERT(m.submit.ndefs == 1 && strcmp(m.submit.defs[0], "X=y") == 0);
	sli_msg_free(&m);
	free(p);
}

/* An unknown field nested deeper than msgpack-c goes (32 open arrays and
 * maps, the message's own included; an empty one counts where it is met)
 * makes the message undecodable, as a parse error rather than the
 * unpacker's "out of memory"; one level less is skipped. The fuzzer found
 * the empty one. */
static void
test_deep_nesting(void)
{
	for (int k = 0; k < 4; k++) {
		unsigned char inner = k < 2 ? 0xc0 : 0x90; /* nil, [] */
		int depth = (inner == 0x90 ? 30 : 31) + k % 2;
		static const char head[] =
		    "\x85\xa1v\x01\xa1t\x02\xa6worker\xa1w\xa4"
		    "deep";
		unsigned char buf[128];
		struct sli_msg m;
		size_t n = sizeof(head) - 1;
		void *p;
		int rv;

		memcpy(buf, head, n);
		for (int i = 0; i < depth; i++)
			buf[n++] = 0x91; /* [ */
		buf[n++] = inner;
		buf[n++] = 0xa7;
		memcpy(buf + n, "running", 7);
		n += 7;
		buf[n++] = 0x05;
		p = malloc(n);
		memcpy(p, buf, n);
		rv = sli_wire_decode(p, n, &m);
		if (depth + (inner == 0x90) <= 31) {
			CU_ASSERT(rv == 0 && m.heartbeat.running == 5);
			sli_msg_free(&m);
			free(p);
		} else {
			CU_ASSERT(rv == SL_EPARSE);
			reject_bytes(
			    p, n, "message: nested deeper than 32 levels");
		}
	}
}

static void
expect_einval(const struct sli_msg *m, int err, const char *detail)
{
	void *data = (void *)1;
	size_t len = 7;

	CU_ASSERT(sli_wire_encode(m, &data, &len) == err);
	CU_ASSERT(data == (void *)1 && len == 7);
	if (strcmp(sl_errdetail(), detail) != 0)
		fprintf(stderr, "\n  detail %s\n  want   %s\n", sl_errdetail(),
		    detail);
	CU_ASSERT(strcmp(sl_errdetail(), detail) == 0);
}

/* The encoder refuses what the decoder would, naming the field. */
static void
test_encode_rejects(void)
{
	struct sli_msg m;

	memset(&m, 0, sizeof(m));
	m.type = 0;
	expect_einval(&m, SL_EINVAL, "wire: encode: unknown message type 0");
	m.type = NTYPES + 1;
	expect_einval(&m, SL_EINVAL, "wire: encode: unknown message type 14");

	m.type = SLI_MSG_HEARTBEAT;
	expect_einval(&m, SL_EINVAL, "HEARTBEAT.worker: empty");
	m.heartbeat.worker = "w\xe2\x82";
	expect_einval(
	    &m, SL_EINVAL, "HEARTBEAT.worker: not valid UTF-8 (byte 1)");

	sample(SLI_MSG_DEPLOY, 1, &m);
	m.deploy.inputs[1].sub_lo = 4;
	m.deploy.inputs[1].sub_hi = 2;
	expect_einval(&m, SL_EINVAL, "DEPLOY.inputs[1]: sub_lo 4 > sub_hi 2");
	m.deploy.inputs[1].sub_lo = 0;
	m.deploy.outputs[1].num_subpartitions = SL_MAX_PARALLELISM + 1;
	expect_einval(&m, SL_EINVAL,
	    "DEPLOY.outputs[1].num_subpartitions: 1000001 out of range "
	    "1..1000000");
	m.deploy.outputs[1].num_subpartitions = 1;
	m.deploy.outputs[1].desc.len = 3; /* data NULL */
	expect_einval(
	    &m, SL_EINVAL, "DEPLOY.outputs[1].descriptor: NULL with length 3");
	m.deploy.outputs[1].desc.len = 0;
	m.deploy.noutputs = SL_MAX_EDGES + 1;
	expect_einval(
	    &m, SL_EINVAL, "DEPLOY.outputs: 100001 entries, at most 100000");
	m.deploy.noutputs = 2;
	sli_msg_free(&m);

	sample(SLI_MSG_TASK_STATE, 0, &m);
	m.task_state.state = 0;
	expect_einval(&m, SL_EINVAL, "TASK_STATE.state: 0 out of range 1..4");
	m.task_state.state = SLI_WIRE_FINISHED;
	m.task_state.nsub_bytes = 1; /* sub_bytes NULL */
	expect_einval(&m, SL_EINVAL,
	    "TASK_STATE.sub_bytes: NULL with 1 "
	    "entries");
	m.task_state.nsub_bytes = 0;
	sli_msg_free(&m);

	/* Too long as a whole: SL_ERANGE. */
	memset(&m, 0, sizeof(m));
	m.type = SLI_MSG_SUBMIT;
	m.submit.job_json_len = SLI_WIRE_MAX;
	m.submit.job_json = calloc(1, SLI_WIRE_MAX);
	CU_ASSERT_FATAL(m.submit.job_json != NULL);
	expect_einval(
	    &m, SL_ERANGE, "SUBMIT: 67108891 bytes encoded, at most 67108864");
	sli_msg_free(&m);

	CU_ASSERT(sli_wire_encode(NULL, NULL, NULL) == SL_EINVAL);
}

/* Invalid UTF-8 in an error text is repaired, not refused: a failure
 * report must reach the coordinator. */
static void
test_text_repaired(void)
{
	struct sli_msg m = { .type = SLI_MSG_ERROR }, back;
	void *data;
	size_t len;

	m.error.message = "read \xff\xfe: \xe2\x82 x \xc3\xa9";
	encode_ok(&m, &data, &len);
	CU_ASSERT_FATAL(sli_wire_decode(data, len, &back) == 0);
	CU_ASSERT(strcmp(back.error.message,
	              "read \xef\xbf\xbd\xef\xbf\xbd: \xef\xbf\xbd\xef\xbf\xbd "
	              "x \xc3\xa9") == 0);
	sli_msg_free(&back);
	free(data);
}

/* Every proper prefix of every message is refused, and leaves nothing
 * allocated (ASan's leak check runs at exit). */
static void
test_truncations(void)
{
	unsigned n = 0;

	for (int t = 1; t <= NTYPES; t++) {
		for (int variant = 0; variant < 2; variant++) {
			struct sli_msg m, back;
			void *data;
			size_t len;

			sample(t, variant, &m);
			encode_ok(&m, &data, &len);
			for (size_t cut = 0; cut < len; cut++, n++) {
				/* A copy of exactly cut bytes, so ASan sees any
				 * read past the end. */
				void *p = malloc(cut ? cut : 1);

				memcpy(p, data, cut);
				CU_ASSERT(sli_wire_decode(p, cut, &back) ==
				    SL_EPARSE);
				CU_ASSERT(is_zero(&back));
				free(p);
			}
			sli_msg_free(&m);
			free(data);
		}
	}
	CU_ASSERT(n > 1000);
}

/* Random flips of a few bytes never crash; what still decodes encodes
 * again, and to a message equal to itself. */
static void
test_byte_flips(void)
{
	unsigned seed = 12345, decoded = 0, tried = 0;

	for (int t = 1; t <= NTYPES; t++) {
		for (int variant = 0; variant < 2; variant++) {
			struct sli_msg m;
			unsigned char *data;
			size_t len;

			sample(t, variant, &m);
			encode_ok(&m, (void **)&data, &len);
			for (int round = 0; round < 3000; round++, tried++) {
				unsigned char *p = malloc(len);
				struct sli_msg back, again;
				int flips = 1 + round % 4;
				void *enc;
				size_t elen;

				memcpy(p, data, len);
				for (int f = 0; f < flips; f++) {
					seed = seed * 1103515245u + 12345u;
					p[(seed >> 8) % len] ^=
					    (unsigned char)(1u
					        << (seed >> 28) % 8) |
					    (unsigned char)(round % 3 == 0
					            ? seed >> 16
					            : 0);
				}
				if (sli_wire_decode(p, len, &back) == 0) {
					decoded++;
					encode_ok(&back, &enc, &elen);
					CU_ASSERT_FATAL(sli_wire_decode(enc,
					                    elen, &again) == 0);
					CU_ASSERT(sli_msg_equal(&back, &again));
					sli_msg_free(&again);
					free(enc);
				}
				sli_msg_free(&back);
				free(p);
			}
			sli_msg_free(&m);
			free(data);
		}
	}
	/* Some flips land in values and still decode. */
	CU_ASSERT(decoded > 0 && decoded < tried);
}

static void
test_names(void)
{
	CU_ASSERT(strcmp(sli_msg_type_name(SLI_MSG_HELLO), "HELLO") == 0);
	CU_ASSERT(
	    strcmp(sli_msg_type_name(SLI_MSG_TASK_STATE), "TASK_STATE") == 0);
	CU_ASSERT(strcmp(sli_msg_type_name(SLI_MSG_JOBS), "JOBS") == 0);
	CU_ASSERT(strcmp(sli_msg_type_name(0), "?") == 0);
	CU_ASSERT(strcmp(sli_msg_type_name(14), "?") == 0);
	CU_ASSERT(
	    strcmp(sli_wire_state_name(SLI_WIRE_CANCELLED), "CANCELLED") == 0);
	CU_ASSERT(strcmp(sli_wire_state_name(0), "?") == 0);
	sli_msg_free(NULL);
}

static const struct sl_test tests[] = {
	{ "round trip of every type", test_round_trip },
	{ "decoded shape", test_decoded_shape },
	{ "exact bytes", test_exact_bytes },
	{ "reject envelope", test_reject_envelope },
	{ "reject fields", test_reject_fields },
	{ "unknown fields skipped", test_unknown_fields },
	{ "deep nesting", test_deep_nesting },
	{ "encoder rejects", test_encode_rejects },
	{ "text repaired", test_text_repaired },
	{ "truncations", test_truncations },
	{ "byte flips", test_byte_flips },
	{ "names", test_names },
	{ NULL, NULL },
};

SL_TEST_MAIN("wire", tests)
