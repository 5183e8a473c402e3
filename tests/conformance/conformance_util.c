/* Helpers of the shuffle conformance suite (conformance.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conformance.h"

struct sli_plugin *conf_plugin;
const struct sl_host *conf_host;
const struct sl_shuffle_master_ops *conf_mops;
const struct sl_shuffle_writer_ops *conf_wops;
const struct sl_shuffle_reader_ops *conf_rops;
uint32_t conf_type;

void
conf_job_id(char *buf, size_t len)
{
	static atomic_uint n;

	snprintf(buf, len, "conformance-%d-%u", (int)getpid(),
	    atomic_fetch_add(&n, 1));
}

void
conf_err_init(struct conf_err *e)
{
	pthread_mutex_init(&e->mu, NULL);
	e->msg[0] = '\0';
}

void
conf_err_set(struct conf_err *e, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&e->mu);
	if (e->msg[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&e->mu);
}

bool
conf_err_ok(struct conf_err *e)
{
	bool ok;

	pthread_mutex_lock(&e->mu);
	if (!(ok = e->msg[0] == '\0'))
		fprintf(stderr, "\n    conformance: %s\n", e->msg);
	pthread_mutex_unlock(&e->mu);
	return ok;
}

void
conf_err_fini(struct conf_err *e)
{
	pthread_mutex_destroy(&e->mu);
}

void
conf_waiter_init(struct conf_waiter *w)
{
	pthread_condattr_t a;

	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &a);
	pthread_condattr_destroy(&a);
	w->count = 0;
}

void
conf_waiter_fini(struct conf_waiter *w)
{
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
}

void
conf_waiter_notify(void *arg)
{
	struct conf_waiter *w = arg;

	pthread_mutex_lock(&w->mu);
	w->count++;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

uint64_t
conf_waiter_count(struct conf_waiter *w)
{
	uint64_t n;

	pthread_mutex_lock(&w->mu);
	n = w->count;
	pthread_mutex_unlock(&w->mu);
	return n;
}

static struct timespec
deadline(int timeout_ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

bool
conf_waiter_wait(struct conf_waiter *w, uint64_t seen, int timeout_ms)
{
	struct timespec ts = deadline(timeout_ms);
	int rc = 0;

	pthread_mutex_lock(&w->mu);
	while (w->count == seen && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&w->cv, &w->mu, &ts);
	rc = w->count != seen;
	pthread_mutex_unlock(&w->mu);
	return rc;
}

static void *
state_new(size_t size)
{
	/* The core hands every role zeroed memory of state_size bytes. */
	return calloc(1, size > 0 ? size : 1);
}

void *
conf_master_new(void)
{
	void *m = state_new(conf_mops->state_size);

	/* a plugin that needs its section of the configuration (remote:
	 * its daemons) gets it from the environment */
	if (m == NULL ||
	    conf_mops->init(m, conf_host, getenv("SL_CONFORMANCE_CONFIG")) !=
	        0) {
		fprintf(stderr, "master init failed: %s\n", sl_errdetail());
		free(m);
		return NULL;
	}
	return m;
}

void
conf_master_free(void *m)
{
	if (m == NULL)
		return;
	conf_mops->fini(m);
	free(m);
}

int
conf_register(void *m, const char *job, uint32_t edge, uint32_t producer,
    uint32_t attempt, uint32_t nsub, struct sl_bytes *desc)
{
	struct sl_partition_spec spec = {
		.struct_size = sizeof(spec),
		.type = conf_type,
		.job_id = job,
		.edge = edge,
		.producer = producer,
		.attempt = attempt,
		.num_subpartitions = nsub,
		.producer_location = NULL,
	};

	int rv;

	desc->data = NULL;
	desc->len = 0;
	if ((rv = conf_mops->register_partition(m, &spec, desc)) != 0)
		fprintf(stderr, "\n    register_partition: %s: %s\n",
		    sl_errname(rv), sl_errdetail());
	return rv;
}

void *
conf_writer_open(const struct sl_bytes *desc, int *rv)
{
	void *w = state_new(conf_wops->state_size);

	if (w == NULL) {
		*rv = SL_ENOMEM;
		return NULL;
	}
	if ((*rv = conf_wops->open(w, conf_host, desc->data, desc->len)) != 0) {
		conf_wops->fini(w);
		free(w);
		return NULL;
	}
	return w;
}

void
conf_writer_free(void *w)
{
	if (w == NULL)
		return;
	conf_wops->fini(w);
	free(w);
}

void *
conf_reader_open(const struct sl_bytes *descs, uint32_t n, uint32_t lo,
    uint32_t hi, uint32_t credits, struct conf_waiter *wt, int *rv)
{
	struct sl_reader_spec spec = {
		.struct_size = sizeof(spec),
		.descriptors = descs,
		.num_descriptors = n,
		.sub_lo = lo,
		.sub_hi = hi,
		.notify = conf_waiter_notify,
		.notify_arg = wt,
		.credits = credits,
	};
	void *r = state_new(conf_rops->state_size);

	if (r == NULL) {
		*rv = SL_ENOMEM;
		return NULL;
	}
	if ((*rv = conf_rops->open(r, conf_host, &spec)) != 0) {
		conf_rops->fini(r);
		free(r);
		return NULL;
	}
	return r;
}

void
conf_reader_free(void *r)
{
	if (r == NULL)
		return;
	conf_rops->fini(r);
	free(r);
}

/* splitmix64: cheap, deterministic, well spread. */
static uint64_t
mix(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

static uint64_t
rec_seed(uint32_t p, uint32_t s, uint32_t k)
{
	return mix(((uint64_t)p << 44) ^ ((uint64_t)s << 24) ^ k);
}

uint32_t
conf_rec_count(uint32_t p, uint32_t s)
{
	/* Some subpartitions stay empty on purpose. */
	if ((p + s) % 5 == 4)
		return 0;
	return 60 + (uint32_t)(mix(((uint64_t)p << 32) | s) % 140);
}

uint32_t
conf_rec_len(uint32_t p, uint32_t s, uint32_t k)
{
	/* Every eighth record is empty, to catch off-by-ones on 0 bytes. */
	if (k % 8 == 7)
		return 0;
	return (uint32_t)(rec_seed(p, s, k) % (CONF_MAX_RECORD + 1));
}

void
conf_rec_fill(uint32_t p, uint32_t s, uint32_t k, uint8_t *dst)
{
	uint64_t seed = rec_seed(p, s, k);
	uint32_t n = conf_rec_len(p, s, k);

	for (uint32_t i = 0; i < n; i++)
		dst[i] = (uint8_t)(seed >> ((i & 7) * 8)) ^ (uint8_t)(i * 131);
}

void *
conf_buf_new(size_t len)
{
	uint8_t *b = conf_host->alloc(len > 0 ? len : 1);

	if (b != NULL)
		for (size_t i = 0; i < len; i++)
			b[i] = (uint8_t)i;
	return b;
}

static void
put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t
get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* Hand one buffer to the writer; on failure the buffer is still ours. */
static int
produce(struct conf_producer *pr, uint32_t s, struct sl_buffer *b)
{
	int rv = conf_wops->write(pr->w, s, b);

	if (rv != 0) {
		if (b->data == NULL)
			conf_err_set(pr->err,
			    "write failed with %s but took "
			    "the buffer",
			    sl_errname(rv));
		conf_host->free(b->data);
		b->data = NULL;
		pr->rv = rv;
		return rv;
	}
	if (b->data != NULL)
		conf_err_set(pr->err,
		    "write returned 0 but left buf->data "
		    "set (ownership must move)");
	if (pr->bp != NULL) {
		unsigned w = atomic_fetch_add(&pr->bp->written[s], 1) + 1;
		unsigned r = atomic_load(&pr->bp->released[s]);
		unsigned gap = w > r ? w - r : 0;
		unsigned max = atomic_load(&pr->bp->max_gap);

		while (gap > max &&
		    !atomic_compare_exchange_weak(&pr->bp->max_gap, &max, gap))
			;
	}
	return 0;
}

void *
conf_producer_main(void *arg)
{
	struct conf_producer *pr = arg;
	struct sl_buffer b[CONF_MAX_SUBS];
	uint32_t maxn = 0, written = 0;
	int rv = 0;

	memset(b, 0, sizeof(b));
	for (uint32_t s = 0; s < pr->nsub; s++) {
		uint32_t n = conf_rec_count(pr->id, s);

		maxn = n > maxn ? n : maxn;
		if (pr->event_first) {
			b[s].kind = SL_BUFFER_EVENT;
			b[s].len = 5;
			if ((b[s].data = conf_host->alloc(5)) == NULL)
				goto out_oom;
			memcpy(b[s].data, "event", 5);
			if ((rv = produce(pr, s, &b[s])) != 0)
				goto out;
		}
		b[s].kind = SL_BUFFER_DATA;
		b[s].len = 0;
		if ((b[s].data = conf_host->alloc(CONF_BUFFER_SIZE)) == NULL)
			goto out_oom;
	}
	/* Round-robin over subpartitions, so their buffers interleave. */
	for (uint32_t k = 0; k < maxn; k++) {
		for (uint32_t s = 0; s < pr->nsub; s++) {
			uint32_t len = conf_rec_len(pr->id, s, k);

			if (k >= conf_rec_count(pr->id, s))
				continue;
			if (b[s].len + 4 + len > CONF_BUFFER_SIZE) {
				if ((rv = produce(pr, s, &b[s])) != 0)
					goto out;
				if (pr->fail_after > 0 &&
				    ++written == pr->fail_after) {
					conf_wops->fail(pr->w);
					goto out;
				}
				b[s].len = 0;
				b[s].data = conf_host->alloc(CONF_BUFFER_SIZE);
				if (b[s].data == NULL)
					goto out_oom;
			}
			put_le32((uint8_t *)b[s].data + b[s].len, len);
			conf_rec_fill(
			    pr->id, s, k, (uint8_t *)b[s].data + b[s].len + 4);
			b[s].len += 4 + len;
		}
	}
	for (uint32_t s = 0; s < pr->nsub; s++) {
		if (b[s].len > 0 && (rv = produce(pr, s, &b[s])) != 0)
			goto out;
		conf_host->free(b[s].data);
		b[s].data = NULL;
	}
	if (pr->fail_after > 0) {
		conf_wops->fail(pr->w);
		goto out;
	}
	if ((rv = conf_wops->finish(pr->w)) != 0)
		pr->rv = rv;
	goto out;
out_oom:
	conf_err_set(pr->err, "producer %u: out of memory", pr->id);
out:
	for (uint32_t s = 0; s < pr->nsub; s++)
		conf_host->free(b[s].data);
	return NULL;
}

/* Check one buffer against the records expected next; false on a
 * mismatch (already recorded). */
static bool
check_buffer(struct conf_consumer *c, const struct sl_buffer *b)
{
	uint32_t nsub = c->hi - c->lo + 1;
	uint32_t p, s, *seq;
	uint8_t expect[CONF_MAX_RECORD];
	const uint8_t *d = b->data;
	size_t off = 0;

	if (b->input >= c->ninputs || b->subpartition < c->lo ||
	    b->subpartition > c->hi) {
		conf_err_set(c->err,
		    "buffer from input %u subpartition %u, "
		    "outside what [%u,%u] of %u inputs reads",
		    b->input, b->subpartition, c->lo, c->hi, c->ninputs);
		return false;
	}
	p = c->producer_of[b->input];
	s = b->subpartition;
	seq = &c->seq[b->input * nsub + (s - c->lo)];
	if (b->kind == SL_BUFFER_EVENT) {
		if (!c->event_first || *seq != 0 || b->len != 5 ||
		    memcmp(b->data, "event", 5) != 0) {
			conf_err_set(c->err,
			    "input %u sub %u: unexpected or "
			    "mangled event buffer",
			    b->input, s);
			return false;
		}
		*seq = 1;
		return true;
	}
	if (c->event_first && *seq == 0) {
		conf_err_set(c->err,
		    "input %u sub %u: data before the event "
		    "written first (order or kind lost)",
		    b->input, s);
		return false;
	}
	while (off < b->len) {
		uint32_t k = *seq - (c->event_first ? 1 : 0);
		uint32_t len;

		if (b->len - off < 4) {
			conf_err_set(c->err,
			    "input %u sub %u: torn length "
			    "prefix",
			    b->input, s);
			return false;
		}
		len = get_le32(d + off);
		off += 4;
		if (k >= conf_rec_count(p, s) || len != conf_rec_len(p, s, k) ||
		    len > b->len - off) {
			conf_err_set(c->err,
			    "input %u sub %u record %u: length "
			    "%u, expected %u of %u records "
			    "(duplicated, lost or reordered)",
			    b->input, s, k, len,
			    k < conf_rec_count(p, s) ? conf_rec_len(p, s, k)
			                             : 0,
			    conf_rec_count(p, s));
			return false;
		}
		conf_rec_fill(p, s, k, expect);
		if (memcmp(d + off, expect, len) != 0) {
			conf_err_set(c->err,
			    "input %u sub %u record %u: bytes "
			    "differ",
			    b->input, s, k);
			return false;
		}
		off += len;
		(*seq)++;
		c->records++;
	}
	return true;
}

void *
conf_consumer_main(void *arg)
{
	struct conf_consumer *c = arg;

	for (;;) {
		uint64_t seen = conf_waiter_count(&c->wt);
		struct sl_buffer b;
		int rv;

		memset(&b, 0, sizeof(b));
		rv = conf_rops->next(c->r, &b);
		if (rv == SL_EAGAIN) {
			if (!conf_waiter_wait(&c->wt, seen, CONF_TIMEOUT_MS)) {
				conf_err_set(c->err,
				    "no notify within %d ms "
				    "after SL_EAGAIN",
				    CONF_TIMEOUT_MS);
				c->rv = rv;
				return NULL;
			}
			continue;
		}
		if (rv != 0) {
			c->rv = rv;
			c->input = b.input;
			return NULL;
		}
		if (!check_buffer(c, &b)) {
			conf_rops->release(c->r, &b);
			c->rv = SL_EPARSE;
			return NULL;
		}
		if (c->delay_us > 0)
			usleep(c->delay_us);
		if (c->bp != NULL)
			atomic_fetch_add(&c->bp->released[b.subpartition], 1);
		conf_rops->release(c->r, &b);
	}
}

void
conf_consumer_check_complete(struct conf_consumer *c)
{
	uint32_t nsub = c->hi - c->lo + 1;

	for (uint32_t i = 0; i < c->ninputs; i++) {
		for (uint32_t s = c->lo; s <= c->hi; s++) {
			uint32_t p = c->producer_of[i];
			uint32_t want =
			    conf_rec_count(p, s) + (c->event_first ? 1 : 0);
			uint32_t got = c->seq[i * nsub + (s - c->lo)];

			if (got != want)
				conf_err_set(c->err,
				    "input %u sub %u: SL_EEOF "
				    "after %u of %u records",
				    i, s, got, want);
		}
	}
}

void
conf_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	if (pthread_create(t, NULL, fn, arg) != 0) {
		perror("pthread_create");
		exit(2);
	}
}

bool
conf_join(pthread_t t, int timeout_ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000 + 1;
	return pthread_timedjoin_np(t, NULL, &ts) == 0;
}
