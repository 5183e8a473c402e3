/*
 * The remote plugin's writer: a task's buffers go, in batches numbered
 * from 0, to the daemon its descriptor names, and to its replica when it
 * has one; finish commits them. A thread of the writer's pushes the
 * batches one at a time, to both daemons at once, waiting for both
 * answers, while the task fills the next; at most RS_IN_FLIGHT wait, then
 * write blocks (back pressure from a slow daemon). A push whose answer is
 * late is sent again by the req socket; the daemon drops a batch it has
 * (exactly once). A daemon with no connection for SHC_LOST_MS while a
 * push waits fails the writer at once (net.h: shc_link); one connected
 * but slow gets RS_REPLY_MS. Both daemons get the same batches in the
 * same order, so their files are the same bytes (ld_file.c writes the
 * same blocks the same way: runs cut at the same sizes, the same codec).
 * The daemon's secret comes from SLUICE_SHUFFLE_SECRET.
 */
#include <endian.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "net.h"
#include "rs_frame.h"
#include "rs_plugin.h"
#include "rs_store.h"

#define RS_RESEND_MS 2000  /* an answer not here by then: sent again */
#define RS_REPLY_MS 120000 /* none at all by then: the daemon is gone */

struct batch {
	struct batch *next;
	uint64_t seq;
	bool commit; /* the commit after seq batches, not blocks */
	unsigned char *p;
	size_t len, cap;
};

enum { CALL_IDLE, CALL_SEND, CALL_RECV, CALL_DONE };

struct rwriter;

/* A daemon pushed to, and the request out to it. */
struct target {
	struct rwriter *w;
	const char *url; /* w->d's location or replica */
	nng_socket sock;
	bool sock_open;
	struct shc_link link;
	nng_aio *aio;
	/* w->mtx */
	int phase;
	int rv;         /* nng's, once CALL_DONE */
	nng_msg *rep;   /* the answer, once CALL_DONE with rv 0 */
	bool lost;      /* ended as unreachable */
	uint64_t since; /* when the request was sent */
};

struct rwriter {
	const struct sl_host *host;
	struct ld_desc d;
	bool decoded;
	struct sl_bytes desc; /* as given: releases */
	struct sl_bytes push; /* without the replica: pushes and commits */
	char secret[256];
	struct target t[2]; /* the daemon, and its replica */
	uint32_t nt;
	struct batch *fill; /* being filled by write */
	uint64_t seq;       /* of the next batch */
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	struct batch *head, *tail; /* to push, in order */
	uint32_t waiting;          /* queued or being pushed */
	bool stop, closed, committed;
	/* in localdisk's table of partitions being written; settled:
	 * finished or failed there */
	bool announced, settled;
	int err;
	char why[400];
	pthread_t th;
	bool started;
};

/* mtx held: the first error stays */
static void
fail_with(struct rwriter *w, int err, const char *why)
{
	if (w->err == 0) {
		w->err = err;
		snprintf(w->why, sizeof(w->why), "%s", why);
	}
	pthread_cond_broadcast(&w->cv);
}

/* b as a request frame; NULL when out of memory. */
static nng_msg *
request(struct rwriter *w, const struct batch *b)
{
	struct rs_req q = { .op = b->commit ? RS_OP_COMMIT : RS_OP_PUSH,
		.desc = w->push.data,
		.desc_len = w->push.len,
		.seq = b->seq };
	msgpack_sbuffer sb;
	nng_msg *m = NULL;

	snprintf(q.secret, sizeof(q.secret), "%s", w->secret);
	msgpack_sbuffer_init(&sb);
	if (rs_req_encode(&sb, &q) == 0 &&
	    nng_msg_alloc(&m, 4 + sb.size + b->len) == 0) {
		shc_frame_header(&sb, nng_msg_body(m));
		if (b->len > 0)
			memcpy((char *)nng_msg_body(m) + 4 + sb.size, b->p,
			    b->len);
	}
	msgpack_sbuffer_destroy(&sb);
	return m;
}

/* A request's aio: sent, then answered (or not). */
static void
call_cb(void *arg)
{
	struct target *t = arg;
	struct rwriter *w = t->w;
	int rv = nng_aio_result(t->aio);
	nng_msg *m = nng_aio_get_msg(t->aio);
	uint64_t left = 0;
	bool recv = false;

	nng_aio_set_msg(t->aio, NULL);
	pthread_mutex_lock(&w->mtx);
	if (t->phase == CALL_SEND && rv == 0) {
		m = NULL; /* sent: the socket's */
		if (t->lost || w->stop) {
			rv = NNG_ECANCELED;
		} else {
			uint64_t spent = shc_now_ms() - t->since;

			t->phase = CALL_RECV;
			left = spent < RS_REPLY_MS ? RS_REPLY_MS - spent : 1;
			recv = true;
		}
	} else if (rv == 0) {
		t->rep = m; /* the answer */
		m = NULL;
	}
	if (!recv) {
		t->rv = rv;
		t->phase = CALL_DONE;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mtx);
	if (m != NULL)
		nng_msg_free(m); /* a request not sent */
	if (recv) {
		nng_aio_set_timeout(t->aio, (nng_duration)left);
		nng_recv_aio(t->sock, t->aio);
	}
}

/* mtx held: what t's answer says; 0, or an error with why naming t. */
static int
outcome(const struct target *t, char *why, size_t cap)
{
	struct rs_rep rep;

	if (t->lost) {
		snprintf(why, cap, "the shuffle service at %s is unreachable",
		    t->url);
		return SL_EIO;
	}
	if (t->rv != 0) {
		snprintf(why, cap, "the shuffle service at %s: %s", t->url,
		    t->rv == NNG_ETIMEDOUT ? "no answer in 120 s"
		                           : nng_strerror(t->rv));
		return SL_EIO;
	}
	if (rs_rep_decode(nng_msg_body(t->rep), nng_msg_len(t->rep), &rep) !=
	    0) {
		snprintf(why, cap,
		    "the shuffle service at %s: a malformed "
		    "answer",
		    t->url);
		return SL_EIO;
	}
	if (rep.st != LD_ST_DATA) {
		snprintf(
		    why, cap, "the shuffle service at %s: %s", t->url, rep.err);
		return SL_EIO;
	}
	return 0;
}

/* Wake at every SHC_WATCH_MS, to look at the links. */
static void
timed_wait(struct rwriter *w)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += SHC_WATCH_MS * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&w->cv, &w->mtx, &ts);
}

/*
 * Send b to every daemon at once, then wait for all their answers: 0, or
 * the first daemon's error (why names it). A daemon that has had no
 * connection for SHC_LOST_MS since the request went is not waited for
 * (its request is cancelled at every look until it ends: a cancel between
 * its send and its receive finds nothing to end). mtx not held.
 */
static int
send_all(struct rwriter *w, const struct batch *b, char *why, size_t cap)
{
	nng_msg *m[2] = { NULL, NULL };
	int rv = 0;

	if ((m[0] = request(w, b)) == NULL ||
	    (w->nt > 1 && nng_msg_dup(&m[1], m[0]) != 0)) {
		if (m[0] != NULL)
			nng_msg_free(m[0]);
		snprintf(why, cap, "out of memory");
		return SL_ENOMEM;
	}
	pthread_mutex_lock(&w->mtx);
	for (uint32_t i = 0; i < w->nt; i++) {
		struct target *t = &w->t[i];

		t->phase = CALL_SEND;
		t->rv = 0;
		t->rep = NULL;
		t->lost = false;
		t->since = shc_now_ms();
	}
	pthread_mutex_unlock(&w->mtx);
	for (uint32_t i = 0; i < w->nt; i++) {
		nng_aio_set_timeout(w->t[i].aio, RS_REPLY_MS);
		nng_aio_set_msg(w->t[i].aio, m[i]);
		nng_send_aio(w->t[i].sock, w->t[i].aio);
	}
	pthread_mutex_lock(&w->mtx);
	for (;;) {
		bool busy = false, cancel[2] = { false, false };

		for (uint32_t i = 0; i < w->nt; i++) {
			struct target *t = &w->t[i];

			if (t->phase == CALL_DONE)
				continue;
			busy = true;
			if (!w->stop && !t->lost &&
			    shc_link_lost(&t->link, t->since))
				t->lost = true;
			cancel[i] = t->lost || w->stop;
		}
		if (!busy)
			break;
		if (cancel[0] || cancel[1]) {
			pthread_mutex_unlock(&w->mtx);
			for (uint32_t i = 0; i < w->nt; i++)
				if (cancel[i])
					nng_aio_cancel(w->t[i].aio);
			pthread_mutex_lock(&w->mtx);
		}
		timed_wait(w);
	}
	for (uint32_t i = 0; i < w->nt; i++) {
		struct target *t = &w->t[i];

		if (rv == 0)
			rv = outcome(t, why, cap);
		if (t->rep != NULL)
			nng_msg_free(t->rep);
		t->rep = NULL;
		t->phase = CALL_IDLE;
	}
	pthread_mutex_unlock(&w->mtx);
	/* their callbacks returned: the aios are free for the next batch */
	for (uint32_t i = 0; i < w->nt; i++)
		nng_aio_wait(w->t[i].aio);
	return rv;
}

static void *
pusher(void *arg)
{
	struct rwriter *w = arg;

	pthread_mutex_lock(&w->mtx);
	for (;;) {
		struct batch *b;
		char why[400];
		int rv = 0;

		while (w->head == NULL && !w->stop)
			pthread_cond_wait(&w->cv, &w->mtx);
		if (w->stop)
			break;
		b = w->head;
		if (w->err == 0) {
			pthread_mutex_unlock(&w->mtx);
			rv = send_all(w, b, why, sizeof(why));
			pthread_mutex_lock(&w->mtx);
		}
		if (rv != 0)
			fail_with(w, rv, why);
		else if (b->commit && w->err == 0)
			w->committed = true;
		w->head = b->next;
		if (w->head == NULL)
			w->tail = NULL;
		w->waiting--;
		free(b->p);
		free(b);
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mtx);
	return NULL;
}

/* t's socket, dialled (without waiting); 0 or an error said. */
static int
target_open(struct rwriter *w, struct target *t, const char *url)
{
	int rv;

	t->w = w;
	t->url = url;
	t->sock_open = nng_req0_open(&t->sock) == 0;
	if (!t->sock_open || nng_aio_alloc(&t->aio, call_cb, t) != 0) {
		w->host->set_error("remote: cannot open a socket");
		return SL_ENOMEM;
	}
	nng_socket_set_ms(t->sock, NNG_OPT_REQ_RESENDTIME, RS_RESEND_MS);
	nng_socket_set_ms(t->sock, NNG_OPT_RECONNMAXT, 1000);
	if ((rv = shc_link_watch(&t->link, t->sock)) != 0) {
		w->host->set_error("remote: cannot open a socket");
		return rv;
	}
	return shc_dial(w->host, t->sock, url, "remote");
}

static int
writer_open(
    void *state, const struct sl_host *host, const void *desc, size_t len)
{
	struct rwriter *w = state;
	const char *secret = getenv("SLUICE_SHUFFLE_SECRET");
	struct ld_desc bare;
	int rv;

	w->host = host;
	pthread_mutex_init(&w->mtx, NULL);
	pthread_cond_init(&w->cv, NULL);
	if ((rv = ld_desc_decode(host, desc, len, &w->d)) != 0)
		return rv;
	w->decoded = true;
	if (w->d.location == NULL || w->d.location[0] == '\0') {
		host->set_error("remote: a descriptor without its service");
		return SL_EINVAL;
	}
	if ((w->desc.data = malloc(len)) == NULL)
		return SL_ENOMEM;
	memcpy(w->desc.data, desc, len);
	w->desc.len = len;
	/* the daemons keep the partition, not who else does */
	bare = w->d;
	bare.replica = NULL;
	if ((rv = ld_desc_encode(host, &bare, &w->push)) != 0)
		return rv;
	snprintf(w->secret, sizeof(w->secret), "%s", secret ? secret : "");
	w->nt = 1;
	if (w->d.replica != NULL && strcmp(w->d.replica, w->d.location) != 0)
		w->nt = 2;
	if ((rv = target_open(w, &w->t[0], w->d.location)) != 0 ||
	    (w->nt > 1 && (rv = target_open(w, &w->t[1], w->d.replica)) != 0))
		return rv;
	if (pthread_create(&w->th, NULL, pusher, w) != 0)
		return SL_ENOMEM;
	w->started = true;
	/* a reader in this process waits for the commit (ld_reader.c) */
	if ((rv = ld_table_writing(host, &w->d)) != 0)
		return rv;
	w->announced = true;
	return 0;
}

/* mtx held: queue b, waiting while RS_IN_FLIGHT wait (back pressure) */
static int
enqueue(struct rwriter *w, struct batch *b)
{
	while (w->waiting >= RS_IN_FLIGHT && w->err == 0 && !w->closed)
		pthread_cond_wait(&w->cv, &w->mtx);
	if (w->closed || w->err != 0) {
		free(b->p);
		free(b);
		if (w->closed)
			return SL_ECLOSED;
		w->host->set_error("remote: %s", w->why);
		return w->err;
	}
	b->next = NULL;
	if (w->tail != NULL)
		w->tail->next = b;
	else
		w->head = b;
	w->tail = b;
	w->waiting++;
	pthread_cond_broadcast(&w->cv);
	return 0;
}

/* The batch being filled, queued. */
static int
flush(struct rwriter *w)
{
	struct batch *b = w->fill;
	int rv;

	if (b == NULL)
		return 0;
	w->fill = NULL;
	b->seq = w->seq++;
	pthread_mutex_lock(&w->mtx);
	rv = enqueue(w, b);
	pthread_mutex_unlock(&w->mtx);
	return rv;
}

static int
writer_write(void *state, uint32_t sub, struct sl_buffer *buf)
{
	struct rwriter *w = state;
	struct batch *b = w->fill;
	uint32_t h[3];

	if (sub >= w->d.nsub) {
		w->host->set_error(
		    "remote: subpartition %u of %u", sub, w->d.nsub);
		return SL_ERANGE;
	}
	if (buf->len > RS_MAX_BATCH - RS_BLOCK_HEADER) {
		w->host->set_error("remote: a buffer of %zu bytes", buf->len);
		return SL_ERANGE;
	}
	if (b != NULL && b->len + RS_BLOCK_HEADER + buf->len > RS_MAX_BATCH) {
		int rv = flush(w);

		if (rv != 0)
			return rv;
		b = NULL;
	}
	if (b == NULL) {
		if ((b = calloc(1, sizeof(*b))) == NULL)
			return SL_ENOMEM;
		w->fill = b;
	}
	if (b->len + RS_BLOCK_HEADER + buf->len > b->cap) {
		size_t cap = b->len + RS_BLOCK_HEADER + buf->len;
		unsigned char *p;

		if (cap < RS_BATCH_BYTES + RS_BLOCK_HEADER)
			cap = RS_BATCH_BYTES + RS_BLOCK_HEADER;
		if ((p = realloc(b->p, cap)) == NULL)
			return SL_ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	h[0] = htole32(sub);
	h[1] = htole32(buf->kind);
	h[2] = htole32((uint32_t)buf->len);
	memcpy(b->p + b->len, h, sizeof(h));
	memcpy(b->p + b->len + RS_BLOCK_HEADER, buf->data, buf->len);
	b->len += RS_BLOCK_HEADER + buf->len;
	w->host->free(buf->data);
	buf->data = NULL;
	return b->len >= RS_BATCH_BYTES ? flush(w) : 0;
}

static int
writer_finish(void *state)
{
	struct rwriter *w = state;
	struct batch *c;
	int rv;

	/* an empty partition is one empty batch: the daemon knows of an
	 * attempt from its first batch on */
	if (w->seq == 0 && w->fill == NULL &&
	    (w->fill = calloc(1, sizeof(*w->fill))) == NULL)
		return SL_ENOMEM;
	if ((rv = flush(w)) != 0)
		return rv;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return SL_ENOMEM;
	c->commit = true;
	c->seq = w->seq;
	pthread_mutex_lock(&w->mtx);
	if ((rv = enqueue(w, c)) == 0) {
		while (w->waiting > 0 && w->err == 0 && !w->closed)
			pthread_cond_wait(&w->cv, &w->mtx);
		if (w->closed)
			rv = SL_ECLOSED;
		else if (w->err != 0 || !w->committed) {
			w->host->set_error("remote: %s",
			    w->err != 0 ? w->why : "not committed");
			rv = w->err != 0 ? w->err : SL_EIO;
		}
	}
	pthread_mutex_unlock(&w->mtx);
	if (rv == 0 && w->announced && !w->settled) {
		ld_table_settle(&w->d, LD_FINISHED);
		w->settled = true;
	}
	return rv;
}

/* Discard: the daemon drops what it has of this attempt. */
static void
writer_fail(void *state)
{
	struct rwriter *w = state;

	if (!w->decoded || w->desc.data == NULL || w->d.location == NULL)
		return;
	if (w->announced && !w->settled) {
		ld_table_settle(&w->d, LD_FAILED);
		w->settled = true;
	}
	ld_remote_release_partition(w->host, w->d.location, &w->desc);
	if (w->d.replica != NULL && strcmp(w->d.replica, w->d.location) != 0)
		ld_remote_release_partition(w->host, w->d.replica, &w->desc);
}

static void
writer_close(void *state)
{
	struct rwriter *w = state;

	pthread_mutex_lock(&w->mtx);
	w->closed = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mtx);
}

static void
writer_fini(void *state)
{
	struct rwriter *w = state;

	if (w->host == NULL)
		return;
	if (w->started) {
		/* a push waiting is cancelled (send_all) */
		pthread_mutex_lock(&w->mtx);
		w->stop = true;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mtx);
		pthread_join(w->th, NULL);
	}
	for (uint32_t i = 0; i < 2; i++) {
		struct target *t = &w->t[i];

		if (t->aio != NULL)
			nng_aio_free(t->aio);
		if (t->sock_open)
			nng_close(t->sock);
	}
	while (w->head != NULL) {
		struct batch *b = w->head;

		w->head = b->next;
		free(b->p);
		free(b);
	}
	if (w->fill != NULL) {
		free(w->fill->p);
		free(w->fill);
	}
	free(w->desc.data);
	w->host->free(w->push.data);
	if (w->announced) {
		if (!w->settled) /* neither finished nor failed: failed */
			ld_table_settle(&w->d, LD_FAILED);
		ld_table_forget(w->host, &w->d);
	}
	if (w->decoded)
		ld_desc_clear(w->host, &w->d);
	pthread_mutex_destroy(&w->mtx);
	pthread_cond_destroy(&w->cv);
}

const struct sl_shuffle_writer_ops rs_writer_ops = {
	.struct_size = sizeof(struct sl_shuffle_writer_ops),
	.state_size = sizeof(struct rwriter),
	.open = writer_open,
	.write = writer_write,
	.finish = writer_finish,
	.fail = writer_fail,
	.close = writer_close,
	.fini = writer_fini,
};
