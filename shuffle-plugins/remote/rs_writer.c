/*
 * The remote plugin's writer: a task's buffers go, in batches numbered
 * from 0, to the daemon its descriptor names, and to its replica when it
 * has one; finish commits them. A thread of the writer's pushes the
 * batches in order, RS_ON_WIRE at once (a context each), to both daemons
 * at once, a batch done when both answered, while the task fills the
 * next; at most RS_IN_FLIGHT wait, then write blocks (back pressure from
 * a slow daemon: it answers a push once the batch is in its memory). Each
 * push says how many before it may still be on the wire, so that the
 * daemon waits for those rather than refuse it as a gap. A push whose answer is
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

/* A batch is built in the message that carries it: the blocks after
 * room for the request's header (w->reserve), which is written once its
 * seq is known, so that nothing is copied again to send it. */
struct batch {
	struct batch *next;
	uint64_t seq;
	bool commit;     /* the commit after seq batches, not blocks */
	nng_msg *m;      /* push: the request, once sealed (then sent as is) */
	size_t len, cap; /* the blocks' bytes, and room for them in m */
	/* the writer's mtx */
	bool sent, answered;
	int rv; /* answered: 0, or what failed (why) */
	char why[400];
};

/* Room past RS_BATCH_BYTES: the buffer that fills a batch fits in
 * without a realloc when it is no larger. */
#define SLACK (64u << 10)

enum { CALL_IDLE, CALL_SEND, CALL_RECV, CALL_DONE };

struct rwriter;
struct target;

/* A request out to a daemon, on a context of its socket's: one per push
 * on the wire. */
struct call {
	struct target *t;
	nng_ctx ctx;
	bool ctx_open;
	nng_aio *aio;
	/* w->mtx */
	int phase;
	int rv;         /* nng's, once CALL_DONE */
	nng_msg *rep;   /* the answer, once CALL_DONE with rv 0 */
	bool lost;      /* ended as unreachable */
	uint64_t since; /* when the request was sent */
};

/* A daemon pushed to. */
struct target {
	struct rwriter *w;
	const char *url; /* w->d's location or replica */
	nng_socket sock;
	bool sock_open;
	struct shc_link link;
	struct call c[RS_ON_WIRE];
};

struct rwriter {
	const struct sl_host *host;
	struct ld_desc d;
	bool decoded;
	struct sl_bytes desc; /* as given: releases */
	struct sl_bytes push; /* without the replica: pushes and commits */
	char secret[256];
	size_t reserve;     /* a push's header at most, framed */
	struct target t[2]; /* the daemon, and its replica */
	uint32_t nt;
	struct batch *fill; /* being filled by write */
	uint64_t seq;       /* of the next batch */
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	struct batch *head, *tail;      /* to push, in order */
	struct batch *unsent;           /* the first not sent yet */
	struct batch *slot[RS_ON_WIRE]; /* on the wire: slot k's calls */
	uint32_t out;                   /* slots in use */
	uint32_t waiting;               /* queued or being pushed */
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

static void
batch_free(struct batch *b)
{
	if (b->m != NULL)
		nng_msg_free(b->m);
	free(b);
}

/* The header of a push or commit of seq into sb: 0 or SL_ENOMEM. A push
 * says how many before it may still be on the wire (RS_ON_WIRE). */
static int
header(struct rwriter *w, uint32_t op, uint64_t seq, msgpack_sbuffer *sb)
{
	struct rs_req q = { .op = op,
		.desc = w->push.data,
		.desc_len = w->push.len,
		.seq = seq };

	if (op == RS_OP_PUSH)
		q.out = seq + 1 < RS_ON_WIRE ? (uint32_t)seq : RS_ON_WIRE - 1;
	snprintf(q.secret, sizeof(q.secret), "%s", w->secret);
	return rs_req_encode(sb, &q);
}

/* A push's message made whole: its header before its blocks. */
static int
seal(struct rwriter *w, struct batch *b)
{
	msgpack_sbuffer sb;
	size_t h;
	int rv;

	msgpack_sbuffer_init(&sb);
	if ((rv = header(w, RS_OP_PUSH, b->seq, &sb)) == 0) {
		h = 4 + sb.size; /* at most w->reserve: its seq's is largest */
		shc_frame_header(
		    &sb, (unsigned char *)nng_msg_body(b->m) + w->reserve - h);
		nng_msg_chop(b->m, b->cap - b->len);
		nng_msg_trim(b->m, w->reserve - h);
	}
	msgpack_sbuffer_destroy(&sb);
	return rv;
}

/* b as a request: a push's sealed message (taken from b), or a commit's;
 * NULL when out of memory. */
static nng_msg *
request(struct rwriter *w, struct batch *b)
{
	msgpack_sbuffer sb;
	nng_msg *m = NULL;

	if (!b->commit) {
		m = b->m;
		b->m = NULL;
		return m;
	}
	msgpack_sbuffer_init(&sb);
	if (header(w, RS_OP_COMMIT, b->seq, &sb) == 0 &&
	    nng_msg_alloc(&m, 4 + sb.size) == 0)
		shc_frame_header(&sb, nng_msg_body(m));
	msgpack_sbuffer_destroy(&sb);
	return m;
}

/* A request's aio: sent, then answered (or not). */
static void
call_cb(void *arg)
{
	struct call *c = arg;
	struct rwriter *w = c->t->w;
	int rv = nng_aio_result(c->aio);
	nng_msg *m = nng_aio_get_msg(c->aio);
	uint64_t left = 0;
	bool recv = false;

	nng_aio_set_msg(c->aio, NULL);
	pthread_mutex_lock(&w->mtx);
	if (c->phase == CALL_SEND && rv == 0) {
		m = NULL; /* sent: the socket's */
		if (c->lost || w->stop) {
			rv = NNG_ECANCELED;
		} else {
			uint64_t spent = shc_now_ms() - c->since;

			c->phase = CALL_RECV;
			left = spent < RS_REPLY_MS ? RS_REPLY_MS - spent : 1;
			recv = true;
		}
	} else if (rv == 0) {
		c->rep = m; /* the answer */
		m = NULL;
	}
	if (!recv) {
		c->rv = rv;
		c->phase = CALL_DONE;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mtx);
	if (m != NULL)
		nng_msg_free(m); /* a request not sent */
	if (recv) {
		nng_aio_set_timeout(c->aio, (nng_duration)left);
		nng_ctx_recv(c->ctx, c->aio);
	}
}

/* mtx held: what c's answer says; 0, or an error with why naming its
 * daemon. */
static int
outcome(const struct call *c, char *why, size_t cap)
{
	const char *url = c->t->url;
	struct rs_rep rep;

	if (c->lost) {
		snprintf(
		    why, cap, "the shuffle service at %s is unreachable", url);
		return SL_EIO;
	}
	if (c->rv != 0) {
		snprintf(why, cap, "the shuffle service at %s: %s", url,
		    c->rv == NNG_ETIMEDOUT ? "no answer in 120 s"
		                           : nng_strerror(c->rv));
		return SL_EIO;
	}
	if (rs_rep_decode(nng_msg_body(c->rep), nng_msg_len(c->rep), &rep) !=
	    0) {
		snprintf(why, cap,
		    "the shuffle service at %s: a malformed "
		    "answer",
		    url);
		return SL_EIO;
	}
	if (rep.st != LD_ST_DATA) {
		snprintf(
		    why, cap, "the shuffle service at %s: %s", url, rep.err);
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

/* Send b on slot k of every daemon at once (mtx not held); their answers
 * come to call_cb. Out of memory, the slot ends at once, failed. */
static void
start(struct rwriter *w, struct batch *b, int k)
{
	nng_msg *m[2] = { NULL, NULL };
	bool ok;

	/* the slot's last callbacks have returned: its aios are free */
	for (uint32_t i = 0; i < w->nt; i++)
		nng_aio_wait(w->t[i].c[k].aio);
	ok = (m[0] = request(w, b)) != NULL &&
	    (w->nt < 2 || nng_msg_dup(&m[1], m[0]) == 0);
	pthread_mutex_lock(&w->mtx);
	for (uint32_t i = 0; i < w->nt; i++) {
		struct call *c = &w->t[i].c[k];

		c->phase = ok ? CALL_SEND : CALL_DONE;
		c->rv = ok ? 0 : NNG_ENOMEM;
		c->rep = NULL;
		c->lost = false;
		c->since = shc_now_ms();
	}
	pthread_mutex_unlock(&w->mtx);
	if (!ok) {
		if (m[0] != NULL)
			nng_msg_free(m[0]);
		return;
	}
	for (uint32_t i = 0; i < w->nt; i++) {
		struct call *c = &w->t[i].c[k];

		nng_aio_set_timeout(c->aio, RS_REPLY_MS);
		nng_aio_set_msg(c->aio, m[i]);
		nng_ctx_send(c->ctx, c->aio);
	}
}

/* mtx held: the slots every daemon answered (or failed) are free again,
 * their batches answered: 0, or the first daemon's error. */
static void
collect(struct rwriter *w)
{
	for (int k = 0; k < RS_ON_WIRE; k++) {
		struct batch *b = w->slot[k];
		bool done = b != NULL;

		for (uint32_t i = 0; done && i < w->nt; i++)
			done = w->t[i].c[k].phase == CALL_DONE;
		if (!done)
			continue;
		b->rv = 0;
		for (uint32_t i = 0; i < w->nt; i++) {
			struct call *c = &w->t[i].c[k];

			if (b->rv == 0)
				b->rv = outcome(c, b->why, sizeof(b->why));
			if (c->rep != NULL)
				nng_msg_free(c->rep);
			c->rep = NULL;
			c->phase = CALL_IDLE;
		}
		b->answered = true;
		w->slot[k] = NULL;
		w->out--;
	}
}

/* mtx held: the batches at the head answered, or never to be sent (the
 * writer failed or stops), done with in order. */
static void
retire(struct rwriter *w)
{
	struct batch *b;

	while ((b = w->head) != NULL &&
	    (b->answered || (!b->sent && (w->err != 0 || w->stop)))) {
		if (b->answered && b->rv != 0)
			fail_with(w, b->rv, b->why);
		else if (b->answered && b->commit && w->err == 0)
			w->committed = true;
		if (w->unsent == b)
			w->unsent = b->next;
		if ((w->head = b->next) == NULL)
			w->tail = NULL;
		w->waiting--;
		batch_free(b);
		pthread_cond_broadcast(&w->cv);
	}
}

/*
 * mtx held: a request whose daemon has had no connection for SHC_LOST_MS
 * since it went is lost, and cancelled, as are all once the writer
 * failed or stops: at every look until they end (a cancel between a
 * send and its receive finds nothing to end). mtx let go meanwhile.
 */
static void
watch(struct rwriter *w)
{
	nng_aio *cancel[2 * RS_ON_WIRE];
	int n = 0;

	for (int k = 0; k < RS_ON_WIRE; k++)
		for (uint32_t i = 0; w->slot[k] != NULL && i < w->nt; i++) {
			struct call *c = &w->t[i].c[k];

			if (c->phase != CALL_SEND && c->phase != CALL_RECV)
				continue;
			if (!w->stop && !c->lost &&
			    shc_link_lost(&w->t[i].link, c->since))
				c->lost = true;
			if (c->lost || w->stop || w->err != 0)
				cancel[n++] = c->aio;
		}
	if (n > 0) {
		pthread_mutex_unlock(&w->mtx);
		for (int i = 0; i < n; i++)
			nng_aio_cancel(cancel[i]);
		pthread_mutex_lock(&w->mtx);
	}
}

/* mtx held: a slot no batch is on, or -1 */
static int
free_slot(const struct rwriter *w)
{
	for (int k = 0; k < RS_ON_WIRE; k++)
		if (w->slot[k] == NULL)
			return k;
	return -1;
}

/*
 * The batches go in order, up to RS_ON_WIRE at once, each to every
 * daemon at once; a batch counts as pushed once all answered. A commit
 * goes only once every batch before it was answered (the daemon counts
 * them).
 */
static void *
pusher(void *arg)
{
	struct rwriter *w = arg;

	pthread_mutex_lock(&w->mtx);
	for (;;) {
		struct batch *b;
		int k;

		collect(w);
		retire(w);
		if (w->stop && w->out == 0)
			break;
		b = w->unsent;
		if (!w->stop && w->err == 0 && b != NULL &&
		    (k = free_slot(w)) >= 0 && (!b->commit || w->out == 0)) {
			w->unsent = b->next;
			b->sent = true;
			w->slot[k] = b;
			w->out++;
			pthread_mutex_unlock(&w->mtx);
			start(w, b, k);
			pthread_mutex_lock(&w->mtx);
			continue;
		}
		if (w->out > 0) {
			watch(w);
			timed_wait(w);
		} else if (!w->stop) {
			pthread_cond_wait(&w->cv, &w->mtx);
		}
	}
	pthread_mutex_unlock(&w->mtx);
	return NULL;
}

/* t's socket, dialled (without waiting), and its contexts; 0 or an error
 * said. */
static int
target_open(struct rwriter *w, struct target *t, const char *url)
{
	int rv;

	t->w = w;
	t->url = url;
	t->sock_open = nng_req0_open(&t->sock) == 0;
	if (!t->sock_open) {
		w->host->set_error("remote: cannot open a socket");
		return SL_ENOMEM;
	}
	/* before the contexts: they take the socket's */
	nng_socket_set_ms(t->sock, NNG_OPT_REQ_RESENDTIME, RS_RESEND_MS);
	nng_socket_set_ms(t->sock, NNG_OPT_RECONNMAXT, 1000);
	for (int k = 0; k < RS_ON_WIRE; k++) {
		struct call *c = &t->c[k];

		c->t = t;
		c->ctx_open = nng_ctx_open(&c->ctx, t->sock) == 0;
		if (!c->ctx_open || nng_aio_alloc(&c->aio, call_cb, c) != 0) {
			w->host->set_error("remote: cannot open a socket");
			return SL_ENOMEM;
		}
	}
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
	{
		msgpack_sbuffer sb;

		msgpack_sbuffer_init(&sb);
		rv = header(w, RS_OP_PUSH, UINT64_MAX / 2, &sb);
		w->reserve = 4 + sb.size;
		msgpack_sbuffer_destroy(&sb);
		if (rv != 0)
			return rv;
	}
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
		batch_free(b);
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
	if (w->unsent == NULL)
		w->unsent = b;
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
	if ((rv = seal(w, b)) != 0) {
		batch_free(b);
		return rv;
	}
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
	unsigned char *p;
	uint32_t h[3];
	int rv;

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
		if ((rv = flush(w)) != 0)
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

		if (cap < RS_BATCH_BYTES + RS_BLOCK_HEADER + SLACK)
			cap = RS_BATCH_BYTES + RS_BLOCK_HEADER + SLACK;
		if (b->m == NULL ? nng_msg_alloc(&b->m, w->reserve + cap) != 0
		                 : nng_msg_realloc(b->m, w->reserve + cap) != 0)
			return SL_ENOMEM;
		b->cap = cap;
	}
	h[0] = htole32(sub);
	h[1] = htole32(buf->kind);
	h[2] = htole32((uint32_t)buf->len);
	p = (unsigned char *)nng_msg_body(b->m) + w->reserve + b->len;
	memcpy(p, h, sizeof(h));
	memcpy(p + RS_BLOCK_HEADER, buf->data, buf->len);
	b->len += RS_BLOCK_HEADER + buf->len;
	/* a batch not queued is dropped, its copy of buf with it: buf stays
	 * the caller's then, as a failed write's must */
	if (b->len >= RS_BATCH_BYTES && (rv = flush(w)) != 0)
		return rv;
	w->host->free(buf->data);
	buf->data = NULL;
	return 0;
}

static int
writer_finish(void *state)
{
	struct rwriter *w = state;
	struct batch *c;
	int rv;

	/* an empty partition is one empty batch: the daemon knows of an
	 * attempt from its first batch on */
	if (w->seq == 0 && w->fill == NULL) {
		if ((w->fill = calloc(1, sizeof(*w->fill))) == NULL)
			return SL_ENOMEM;
		if (nng_msg_alloc(&w->fill->m, w->reserve) != 0)
			return SL_ENOMEM; /* fini frees the batch */
	}
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
		/* the pushes on the wire are cancelled (watch) */
		pthread_mutex_lock(&w->mtx);
		w->stop = true;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mtx);
		pthread_join(w->th, NULL);
	}
	for (uint32_t i = 0; i < 2; i++) {
		struct target *t = &w->t[i];

		for (int k = 0; k < RS_ON_WIRE; k++) {
			if (t->c[k].aio != NULL)
				nng_aio_free(t->c[k].aio);
			if (t->c[k].ctx_open)
				nng_ctx_close(t->c[k].ctx);
		}
		if (t->sock_open)
			nng_close(t->sock);
	}
	while (w->head != NULL) {
		struct batch *b = w->head;

		w->head = b->next;
		batch_free(b);
	}
	if (w->fill != NULL)
		batch_free(w->fill);
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
