/*
 * The memory plugin across processes, over nng req/rep, with credit-based
 * flow control (DESIGN §6).
 *
 * Producer side: each worker's plugin serves its partitions at one URL
 * (server_start). A remote reader's stream is one subpartition of one
 * partition; the server opens an ordinary reader of this plugin on it and
 * plays the consumer: it takes a buffer only to answer a request, copies
 * it into the reply and releases it, so the writer gets its credit back.
 *
 * Consumer side: a reader whose descriptor names another process's server
 * reads a local proxy part with the same key. A fetch per subpartition
 * keeps `credits` requests in flight, each answered by one buffer, and
 * appends the answers, in sequence order, to the proxy's queue; every
 * buffer the reader releases sends one more request. So a subpartition
 * holds at most `credits` buffers at the consumer and `credits` at the
 * producer, however slow the consumer is.
 *
 * Frames: u32 LE n, then an n-byte msgpack map, then (replies only) the
 * buffer's bytes.
 *   request {"v": 1, "op": 1 fetch | 2 close, "desc": bin, "sub": u32,
 *            "seq": u64, "credits": u32}
 *   reply   {"v": 1, "st": 0 data | 1 end | 2 error, "kind": u32,
 *            "err": str}
 * Request seq n asks for the stream's buffer n (from 0). Requests may
 * arrive out of order; the server answers them in order. A request for a
 * buffer already sent (a request sent again after a lost connection) is
 * answered with an error: the buffer is gone, the partition unreadable.
 */
#include <stdio.h>
#include <string.h>

#include <msgpack.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <sluice/msgpack_check.h>

#include "memory.h"

#define NET_VERSION 1
#define OP_FETCH 1
#define OP_CLOSE 2
#define ST_DATA 0
#define ST_END 1
#define ST_ERROR 2
/* A reply is one buffer and a header: records larger than a buffer travel
 * alone (records.h), so allow large frames. */
#define NET_MAX_FRAME (256u << 20)

static pthread_mutex_t net_mtx = PTHREAD_MUTEX_INITIALIZER;
static char own_url[512]; /* this process's server, "" when none */

/* Only a process that serves partitions (a worker) reads from others:
 * in one process (sluice run --in-process, tests) every partition is here,
 * whatever its descriptor says, and nothing is ever dialled. */
bool
mem_is_remote(const struct mem_desc *d)
{
	bool remote;

	if (d->location == NULL || d->location[0] == '\0')
		return false;
	pthread_mutex_lock(&net_mtx);
	remote = own_url[0] != '\0' && strcmp(d->location, own_url) != 0;
	pthread_mutex_unlock(&net_mtx);
	return remote;
}

/* ---- framing ---- */

static int
pack_key(msgpack_packer *pk, const char *k)
{
	size_t n = strlen(k);

	if (msgpack_pack_str(pk, n) != 0)
		return -1;
	return msgpack_pack_str_body(pk, k, n);
}

/* A frame of the map in sb followed by payload[0..plen). */
static int
frame(msgpack_sbuffer *sb, const void *payload, size_t plen, nng_msg **out)
{
	uint8_t n[4] = { (uint8_t)sb->size, (uint8_t)(sb->size >> 8),
		(uint8_t)(sb->size >> 16), (uint8_t)(sb->size >> 24) };
	nng_msg *m;

	if (nng_msg_alloc(&m, 4 + sb->size + plen) != 0)
		return SL_ENOMEM;
	memcpy(nng_msg_body(m), n, 4);
	memcpy((char *)nng_msg_body(m) + 4, sb->data, sb->size);
	if (plen > 0)
		memcpy((char *)nng_msg_body(m) + 4 + sb->size, payload, plen);
	*out = m;
	return 0;
}

/* The header map of a frame; payload and plen: what follows it. */
static int
unframe(nng_msg *m, msgpack_unpacked *u, const char **payload, size_t *plen)
{
	const uint8_t *b = nng_msg_body(m);
	size_t len = nng_msg_len(m), n, off = 0;

	if (len < 4)
		return SL_EPARSE;
	n = (size_t)b[0] | (size_t)b[1] << 8 | (size_t)b[2] << 16 |
	    (size_t)b[3] << 24;
	if (n > len - 4 || sl_msgpack_check(b + 4, n) != 0)
		return SL_EPARSE;
	if (msgpack_unpack_next(u, (const char *)b + 4, n, &off) !=
	        MSGPACK_UNPACK_SUCCESS ||
	    u->data.type != MSGPACK_OBJECT_MAP)
		return SL_EPARSE;
	*payload = (const char *)b + 4 + n;
	*plen = len - 4 - n;
	return 0;
}

static const msgpack_object *
map_get(const msgpack_object *o, const char *key)
{
	size_t n = strlen(key);

	for (uint32_t i = 0; i < o->via.map.size; i++) {
		const msgpack_object *k = &o->via.map.ptr[i].key;

		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
		    memcmp(k->via.str.ptr, key, n) == 0)
			return &o->via.map.ptr[i].val;
	}
	return NULL;
}

static bool
map_u64(const msgpack_object *o, const char *key, uint64_t max, uint64_t *out)
{
	const msgpack_object *v = map_get(o, key);

	if (v == NULL || v->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    v->via.u64 > max)
		return false;
	*out = v->via.u64;
	return true;
}

/* ---- server (producer side) ---- */

struct sreq;

struct stream {
	struct stream *next;
	struct sl_bytes desc; /* host->alloc'd copy */
	struct mem_desc key;
	uint32_t sub;
	uint32_t pipe;
	void *reader; /* mem_reader_ops state; NULL once ended */
	uint64_t sent;
	bool ended;
	bool failed;
	bool queued; /* on the server's event list */
	struct stream *qnext;
	struct sreq *waiting; /* by seq */
};

struct sreq {
	struct sreq *next; /* waiting list or free list */
	nng_ctx ctx;
	nng_aio *aio;
	bool sending;
	nng_msg *msg; /* received, until handled */
	uint64_t seq;
	uint32_t pipe;
	struct sreq *qnext; /* event list */
};

static struct {
	const struct sl_host *host;
	nng_socket sock;
	bool running;
	pthread_t th;
	pthread_mutex_t mtx; /* events, free list */
	pthread_cond_t cv;
	bool stop;
	struct sreq *rq_head, *rq_tail; /* received requests */
	struct stream *sq_head;         /* notified streams */
	uint32_t *closed_pipes;
	uint32_t nclosed, capclosed;
	struct sreq *free_reqs;
	struct sreq *all_reqs[4096];
	uint32_t nreqs;
	/* server thread only */
	struct stream *streams;
} srv = { .mtx = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static void sreq_cb(void *arg);

/* srv.mtx held: a ctx receiving the next request. */
static void
listen_one_locked(void)
{
	struct sreq *r = srv.free_reqs;

	if (r != NULL) {
		srv.free_reqs = r->next;
	} else {
		if (srv.nreqs == sizeof(srv.all_reqs) / sizeof(srv.all_reqs[0]))
			return; /* requests queue in the socket meanwhile */
		if ((r = srv.host->alloc(sizeof(*r))) == NULL)
			return;
		memset(r, 0, sizeof(*r));
		if (nng_ctx_open(&r->ctx, srv.sock) != 0 ||
		    nng_aio_alloc(&r->aio, sreq_cb, r) != 0) {
			srv.host->free(r);
			return;
		}
		srv.all_reqs[srv.nreqs++] = r;
	}
	r->sending = false;
	nng_ctx_recv(r->ctx, r->aio);
}

static void
sreq_cb(void *arg)
{
	struct sreq *r = arg;
	int rv = nng_aio_result(r->aio);

	pthread_mutex_lock(&srv.mtx);
	if (r->sending) {
		if (rv != 0)
			nng_msg_free(nng_aio_get_msg(r->aio));
		r->sending = false;
		r->next = srv.free_reqs;
		srv.free_reqs = r;
		pthread_mutex_unlock(&srv.mtx);
		return;
	}
	if (rv != 0) {
		if (rv != NNG_ECLOSED && rv != NNG_ECANCELED && !srv.stop)
			nng_ctx_recv(r->ctx, r->aio);
		pthread_mutex_unlock(&srv.mtx);
		return;
	}
	r->msg = nng_aio_get_msg(r->aio);
	r->pipe = nng_pipe_id(nng_msg_get_pipe(r->msg));
	r->qnext = NULL;
	if (srv.rq_tail != NULL)
		srv.rq_tail->qnext = r;
	else
		srv.rq_head = r;
	srv.rq_tail = r;
	if (!srv.stop)
		listen_one_locked();
	pthread_cond_signal(&srv.cv);
	pthread_mutex_unlock(&srv.mtx);
}

static void
pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	pthread_mutex_lock(&srv.mtx);
	if (srv.nclosed == srv.capclosed) {
		uint32_t cap = srv.capclosed ? srv.capclosed * 2 : 16;
		uint32_t *n = srv.host->alloc(cap * sizeof(*n));

		if (n == NULL) {
			pthread_mutex_unlock(&srv.mtx);
			return;
		}
		if (srv.nclosed > 0)
			memcpy(n, srv.closed_pipes, srv.nclosed * sizeof(*n));
		srv.host->free(srv.closed_pipes);
		srv.closed_pipes = n;
		srv.capclosed = cap;
	}
	srv.closed_pipes[srv.nclosed++] = nng_pipe_id(p);
	pthread_cond_signal(&srv.cv);
	pthread_mutex_unlock(&srv.mtx);
}

/* A stream's reader calls this from any thread: queue the stream. */
static void
stream_notify(void *arg)
{
	struct stream *st = arg;

	pthread_mutex_lock(&srv.mtx);
	if (!st->queued) {
		st->queued = true;
		st->qnext = srv.sq_head;
		srv.sq_head = st;
		pthread_cond_signal(&srv.cv);
	}
	pthread_mutex_unlock(&srv.mtx);
}

static void
reply(struct sreq *r, int st, uint32_t kind, const char *err,
    const void *payload, size_t plen)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	nng_msg *m = NULL;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 4);
	pack_key(&pk, "v");
	msgpack_pack_uint32(&pk, NET_VERSION);
	pack_key(&pk, "st");
	msgpack_pack_uint32(&pk, (uint32_t)st);
	pack_key(&pk, "kind");
	msgpack_pack_uint32(&pk, kind);
	pack_key(&pk, "err");
	pack_key(&pk, err != NULL ? err : "");
	if (frame(&sb, payload, plen, &m) != 0) {
		/* No memory for the reply: drop it; the reader's request
		 * stays unanswered and its task is cancelled or times out. */
		msgpack_sbuffer_destroy(&sb);
		pthread_mutex_lock(&srv.mtx);
		r->next = srv.free_reqs;
		srv.free_reqs = r;
		pthread_mutex_unlock(&srv.mtx);
		return;
	}
	msgpack_sbuffer_destroy(&sb);
	pthread_mutex_lock(&srv.mtx);
	r->sending = true;
	pthread_mutex_unlock(&srv.mtx);
	nng_aio_set_msg(r->aio, m);
	nng_ctx_send(r->ctx, r->aio);
}

static void
stream_close_reader(struct stream *st)
{
	if (st->reader == NULL)
		return;
	mem_reader_ops.fini(st->reader);
	srv.host->free(st->reader);
	st->reader = NULL;
	/* A notify may have queued it; it stays valid (streams are freed
	 * only after the event list is drained of them). */
}

/* Answer what can be answered, in seq order. */
static void
pump(struct stream *st)
{
	char why[256];

	while (st->waiting != NULL) {
		struct sreq *r = st->waiting;
		struct sl_buffer b;
		int rv;

		if (st->failed) {
			st->waiting = r->next;
			reply(r, ST_ERROR, 0,
			    "partition unreadable at its producer", NULL, 0);
			continue;
		}
		if (st->ended) {
			st->waiting = r->next;
			reply(r, ST_END, 0, NULL, NULL, 0);
			continue;
		}
		memset(&b, 0, sizeof(b));
		if (r->seq < st->sent) {
			st->waiting = r->next;
			snprintf(why, sizeof(why),
			    "buffer %llu of subpartition %u was sent already "
			    "(a request repeated after a lost connection): "
			    "data lost",
			    (unsigned long long)r->seq, st->sub);
			reply(r, ST_ERROR, 0, why, NULL, 0);
			st->failed = true;
			continue;
		}
		if (r->seq > st->sent)
			return; /* the request for `sent` is still on its way */
		rv = mem_reader_ops.next(st->reader, &b);
		if (rv == SL_EAGAIN)
			return;
		if (rv == 0) {
			st->waiting = r->next;
			st->sent++;
			reply(r, ST_DATA, b.kind, NULL, b.data, b.len);
			mem_reader_ops.release(st->reader, &b);
			continue;
		}
		if (rv == SL_EEOF)
			st->ended = true;
		else
			st->failed = true;
		stream_close_reader(st);
	}
}

static struct stream *
stream_find(const struct mem_desc *key, uint32_t sub)
{
	for (struct stream *st = srv.streams; st != NULL; st = st->next)
		if (st->sub == sub && mem_desc_same_key(&st->key, key))
			return st;
	return NULL;
}

static void
stream_free(struct stream *st)
{
	struct stream **pp = &srv.streams;

	while (*pp != st)
		pp = &(*pp)->next;
	*pp = st->next;
	stream_close_reader(st);
	pthread_mutex_lock(&srv.mtx);
	if (st->queued) {
		struct stream **q = &srv.sq_head;

		while (*q != st)
			q = &(*q)->qnext;
		*q = st->qnext;
	}
	pthread_mutex_unlock(&srv.mtx);
	while (st->waiting != NULL) {
		struct sreq *r = st->waiting;

		st->waiting = r->next;
		reply(r, ST_ERROR, 0, "stream closed", NULL, 0);
	}
	srv.host->free(st->desc.data);
	mem_desc_clear(srv.host, &st->key);
	srv.host->free(st);
}

static struct stream *
stream_open(const msgpack_object *d, uint32_t sub, uint32_t credits,
    uint32_t pipe, char *why, size_t cap)
{
	struct sl_reader_spec spec;
	struct stream *st;
	int rv;

	if ((st = srv.host->alloc(sizeof(*st))) == NULL) {
		snprintf(why, cap, "out of memory");
		return NULL;
	}
	memset(st, 0, sizeof(*st));
	st->sub = sub;
	st->pipe = pipe;
	if ((st->desc.data = srv.host->alloc(d->via.bin.size)) == NULL) {
		srv.host->free(st);
		snprintf(why, cap, "out of memory");
		return NULL;
	}
	memcpy(st->desc.data, d->via.bin.ptr, d->via.bin.size);
	st->desc.len = d->via.bin.size;
	if (mem_desc_decode(srv.host, st->desc.data, st->desc.len, &st->key) !=
	    0) {
		srv.host->free(st->desc.data);
		srv.host->free(st);
		snprintf(why, cap, "bad descriptor");
		return NULL;
	}
	st->next = srv.streams;
	srv.streams = st;
	if ((st->reader = srv.host->alloc(mem_reader_ops.state_size)) == NULL) {
		stream_free(st);
		snprintf(why, cap, "out of memory");
		return NULL;
	}
	memset(st->reader, 0, mem_reader_ops.state_size);
	spec = (struct sl_reader_spec) {
		.struct_size = sizeof(spec),
		.descriptors = &st->desc,
		.num_descriptors = 1,
		.sub_lo = sub,
		.sub_hi = sub,
		.notify = stream_notify,
		.notify_arg = st,
		.credits = credits,
	};
	if ((rv = mem_reader_ops.open(st->reader, srv.host, &spec)) != 0) {
		snprintf(
		    why, cap, "cannot open subpartition %u: error %d", sub, rv);
		stream_free(st);
		return NULL;
	}
	return st;
}

static void
handle_request(struct sreq *r)
{
	msgpack_unpacked u;
	const msgpack_object *d;
	const char *payload;
	uint64_t v, op, sub, seq, credits;
	struct stream *st;
	struct mem_desc key;
	size_t plen;
	char why[256];

	msgpack_unpacked_init(&u);
	if (unframe(r->msg, &u, &payload, &plen) != 0 ||
	    !map_u64(&u.data, "v", UINT32_MAX, &v) || v != NET_VERSION ||
	    !map_u64(&u.data, "op", 2, &op) ||
	    (d = map_get(&u.data, "desc")) == NULL ||
	    d->type != MSGPACK_OBJECT_BIN ||
	    !map_u64(&u.data, "sub", MEM_MAX_SUBPARTITIONS, &sub) ||
	    !map_u64(&u.data, "seq", UINT64_MAX / 2, &seq) ||
	    !map_u64(&u.data, "credits", 1u << 16, &credits) ||
	    mem_desc_decode(srv.host, d->via.bin.ptr, d->via.bin.size, &key) !=
	        0) {
		msgpack_unpacked_destroy(&u);
		nng_msg_free(r->msg);
		r->msg = NULL;
		reply(r, ST_ERROR, 0, "memory: malformed request", NULL, 0);
		return;
	}
	st = stream_find(&key, (uint32_t)sub);
	mem_desc_clear(srv.host, &key);
	if (op == OP_CLOSE) {
		if (st != NULL)
			stream_free(st);
		msgpack_unpacked_destroy(&u);
		nng_msg_free(r->msg);
		r->msg = NULL;
		reply(r, ST_END, 0, NULL, NULL, 0);
		return;
	}
	if (st == NULL &&
	    (st = stream_open(d, (uint32_t)sub, (uint32_t)credits, r->pipe, why,
	         sizeof(why))) == NULL) {
		msgpack_unpacked_destroy(&u);
		nng_msg_free(r->msg);
		r->msg = NULL;
		reply(r, ST_ERROR, 0, why, NULL, 0);
		return;
	}
	msgpack_unpacked_destroy(&u);
	nng_msg_free(r->msg);
	r->msg = NULL;
	r->seq = seq;
	{
		struct sreq **pp = &st->waiting;

		while (*pp != NULL && (*pp)->seq < seq)
			pp = &(*pp)->next;
		r->next = *pp;
		*pp = r;
	}
	pump(st);
}

static void *
server_thread(void *arg)
{
	pthread_mutex_lock(&srv.mtx);
	for (;;) {
		struct sreq *r;
		struct stream *st;

		if ((r = srv.rq_head) != NULL) {
			if ((srv.rq_head = r->qnext) == NULL)
				srv.rq_tail = NULL;
			pthread_mutex_unlock(&srv.mtx);
			handle_request(r);
			pthread_mutex_lock(&srv.mtx);
			continue;
		}
		if ((st = srv.sq_head) != NULL) {
			srv.sq_head = st->qnext;
			st->queued = false;
			pthread_mutex_unlock(&srv.mtx);
			if (st->reader != NULL)
				pump(st);
			pthread_mutex_lock(&srv.mtx);
			continue;
		}
		if (srv.nclosed > 0) {
			uint32_t pipe = srv.closed_pipes[--srv.nclosed];

			pthread_mutex_unlock(&srv.mtx);
			/* The consumer's connection is gone: give its
			 * subpartitions up, so the writer does not wait for
			 * credit that never comes. */
			for (struct stream *s = srv.streams, *n; s != NULL;
			     s = n) {
				n = s->next;
				if (s->pipe == pipe)
					stream_free(s);
			}
			pthread_mutex_lock(&srv.mtx);
			continue;
		}
		if (srv.stop)
			break;
		pthread_cond_wait(&srv.cv, &srv.mtx);
	}
	pthread_mutex_unlock(&srv.mtx);
	while (srv.streams != NULL)
		stream_free(srv.streams);
	return NULL;
}

static int
server_start(
    const struct sl_host *host, const char *url, char *bound, size_t cap)
{
	nng_listener l;
	int nrv, port;

	if (srv.running) {
		host->set_error("memory: server already started");
		return SL_ESTATE;
	}
	srv.host = host;
	if ((nrv = nng_rep0_open(&srv.sock)) != 0) {
		host->set_error("memory: %s", nng_strerror(nrv));
		return SL_EIO;
	}
	nng_socket_set_size(srv.sock, NNG_OPT_RECVMAXSZ, 1u << 20);
	nng_pipe_notify(srv.sock, NNG_PIPE_EV_REM_POST, pipe_cb, NULL);
	if ((nrv = nng_listener_create(&l, srv.sock, url)) != 0 ||
	    (nrv = nng_listener_start(l, 0)) != 0) {
		nng_close(srv.sock);
		host->set_error(
		    "memory: cannot listen on %s: %s", url, nng_strerror(nrv));
		return SL_EIO;
	}
	snprintf(bound, cap, "%s", url);
	if (strncmp(url, "tcp://", 6) == 0 &&
	    nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port) == 0) {
		const char *colon = strrchr(url, ':');

		snprintf(bound, cap, "%.*s:%d", (int)(colon - url), url, port);
	}
	srv.stop = false;
	if (pthread_create(&srv.th, NULL, server_thread, NULL) != 0) {
		nng_close(srv.sock);
		host->set_error("memory: cannot start the server thread");
		return SL_ENOMEM;
	}
	pthread_mutex_lock(&srv.mtx);
	listen_one_locked();
	pthread_mutex_unlock(&srv.mtx);
	pthread_mutex_lock(&net_mtx);
	snprintf(own_url, sizeof(own_url), "%s", bound);
	pthread_mutex_unlock(&net_mtx);
	srv.running = true;
	return 0;
}

static void
server_stop(void)
{
	if (!srv.running)
		return;
	pthread_mutex_lock(&srv.mtx);
	srv.stop = true;
	pthread_cond_signal(&srv.cv);
	pthread_mutex_unlock(&srv.mtx);
	pthread_join(srv.th, NULL);
	nng_close(srv.sock);
	for (uint32_t i = 0; i < srv.nreqs; i++) {
		nng_aio_stop(srv.all_reqs[i]->aio);
		nng_aio_free(srv.all_reqs[i]->aio);
		srv.host->free(srv.all_reqs[i]);
	}
	/* Requests received and never handled. */
	for (struct sreq *r = srv.rq_head; r != NULL; r = r->qnext)
		nng_msg_free(r->msg);
	srv.rq_head = srv.rq_tail = NULL;
	srv.free_reqs = NULL;
	srv.nreqs = 0;
	srv.host->free(srv.closed_pipes);
	srv.closed_pipes = NULL;
	srv.nclosed = srv.capclosed = 0;
	srv.running = false;
	pthread_mutex_lock(&net_mtx);
	own_url[0] = '\0';
	pthread_mutex_unlock(&net_mtx);
}

const struct sl_shuffle_server_ops mem_server_ops = {
	.struct_size = sizeof(struct sl_shuffle_server_ops),
	.start = server_start,
	.stop = server_stop,
};

/* ---- client (consumer side) ---- */

/* One req socket per producer server, kept for the life of the process. */
struct peer {
	struct peer *next;
	char *url;
	nng_socket sock;
};

static struct peer *peers; /* net_mtx */

static int
peer_get(const struct sl_host *host, const char *url, nng_socket *out)
{
	struct peer *p;
	int nrv = 0;

	pthread_mutex_lock(&net_mtx);
	for (p = peers; p != NULL; p = p->next)
		if (strcmp(p->url, url) == 0)
			break;
	if (p == NULL && (p = host->alloc(sizeof(*p))) != NULL) {
		memset(p, 0, sizeof(*p));
		if ((p->url = mem_strdup(host, url)) == NULL ||
		    (nrv = nng_req0_open(&p->sock)) != 0) {
			host->free(p->url);
			host->free(p);
			p = NULL;
		} else {
			nng_socket_set_ms(p->sock, NNG_OPT_REQ_RESENDTIME,
			    NNG_DURATION_INFINITE);
			nng_socket_set_ms(p->sock, NNG_OPT_RECONNMINT, 20);
			nng_socket_set_ms(p->sock, NNG_OPT_RECONNMAXT, 500);
			nng_socket_set_size(
			    p->sock, NNG_OPT_RECVMAXSZ, NET_MAX_FRAME);
			nng_dial(p->sock, url, NULL, NNG_FLAG_NONBLOCK);
			p->next = peers;
			peers = p;
		}
	}
	if (p != NULL)
		*out = p->sock;
	pthread_mutex_unlock(&net_mtx);
	if (p == NULL) {
		host->set_error("memory: cannot connect to %s: %s", url,
		    nrv ? nng_strerror(nrv) : "out of memory");
		return nrv ? SL_EIO : SL_ENOMEM;
	}
	return 0;
}

void
mem_net_fini(const struct sl_host *host)
{
	pthread_mutex_lock(&net_mtx);
	while (peers != NULL) {
		struct peer *p = peers;

		peers = p->next;
		nng_close(p->sock);
		host->free(p->url);
		host->free(p);
	}
	pthread_mutex_unlock(&net_mtx);
}

enum freq_state { FQ_IDLE, FQ_FLIGHT, FQ_DONE };

struct freq {
	struct fetch *f;
	nng_ctx ctx;
	nng_aio *aio;
	enum freq_state state; /* part->mtx */
	bool sending;
	uint64_t seq;
	/* the answer, FQ_DONE */
	int st;
	uint32_t kind;
	void *data; /* host->alloc */
	size_t len;
	char err[200];
};

struct fetch {
	const struct sl_host *host;
	struct part *p; /* the proxy; the reader holds the reference */
	uint32_t sub;
	uint32_t credits;
	nng_socket sock;
	struct sl_bytes desc; /* of the remote partition */
	char url[256];
	/* part->mtx */
	uint64_t next_req, next_deliver;
	bool ended, failed, stopping;
	bool heard; /* the producer answered once: it has a stream for us */
	char err[300];
	struct freq *ring; /* credits entries; seq s uses ring[s % credits] */
};

static void freq_cb(void *arg);

static nng_msg *
request_msg(const struct fetch *f, int op, uint64_t seq)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	nng_msg *m = NULL;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 6);
	pack_key(&pk, "v");
	msgpack_pack_uint32(&pk, NET_VERSION);
	pack_key(&pk, "op");
	msgpack_pack_uint32(&pk, (uint32_t)op);
	pack_key(&pk, "desc");
	msgpack_pack_bin(&pk, f->desc.len);
	msgpack_pack_bin_body(&pk, f->desc.data, f->desc.len);
	pack_key(&pk, "sub");
	msgpack_pack_uint32(&pk, f->sub);
	pack_key(&pk, "seq");
	msgpack_pack_uint64(&pk, seq);
	pack_key(&pk, "credits");
	msgpack_pack_uint32(&pk, f->credits);
	if (frame(&sb, NULL, 0, &m) != 0)
		m = NULL;
	msgpack_sbuffer_destroy(&sb);
	return m;
}

/* part->mtx held: move answers into the proxy's queue in seq order.
 * Returns whether the subpartition's reader must look again. */
static bool
deliver_locked(struct fetch *f)
{
	struct sub *s = &f->p->subs[f->sub];
	bool changed = false;

	while (!f->ended && !f->failed) {
		struct freq *q = &f->ring[f->next_deliver % f->credits];
		struct node *n;

		if (q->state != FQ_DONE || q->seq != f->next_deliver)
			break;
		if (q->st == ST_END) {
			f->ended = s->ended = true;
			changed = true;
			break;
		}
		if (q->st != ST_DATA) {
			snprintf(f->err, sizeof(f->err),
			    "producer at %.80s: %.200s", f->url, q->err);
			f->failed = s->rfailed = true;
			changed = true;
			break;
		}
		if ((n = f->host->alloc(sizeof(*n))) == NULL) {
			snprintf(f->err, sizeof(f->err), "out of memory");
			f->failed = s->rfailed = true;
			changed = true;
			break;
		}
		n->next = NULL;
		n->data = q->data;
		n->len = q->len;
		n->kind = q->kind;
		n->sub = f->sub;
		n->part = f->p;
		q->data = NULL;
		q->state = FQ_IDLE;
		if (s->tail != NULL)
			s->tail->next = n;
		else
			s->head = n;
		s->tail = n;
		s->outstanding++;
		f->next_deliver++;
		changed = true;
	}
	return changed;
}

static void
freq_fail(struct freq *q, const char *fmt, const char *what)
{
	q->st = ST_ERROR;
	snprintf(q->err, sizeof(q->err), fmt, what);
}

static void
freq_cb(void *arg)
{
	struct freq *q = arg;
	struct fetch *f = q->f;
	struct part *p = f->p;
	struct mreader *notify = NULL;
	int rv = nng_aio_result(q->aio);
	nng_msg *m = NULL;

	if (q->sending && rv == 0) {
		q->sending = false;
		nng_ctx_recv(q->ctx, q->aio);
		return;
	}
	q->sending = false;
	if (rv != 0) {
		nng_msg_free(nng_aio_get_msg(q->aio));
		nng_aio_set_msg(q->aio, NULL);
	} else {
		m = nng_aio_get_msg(q->aio);
	}
	pthread_mutex_lock(&p->mtx);
	if (f->stopping) {
		pthread_mutex_unlock(&p->mtx);
		if (m != NULL)
			nng_msg_free(m);
		return;
	}
	pthread_mutex_unlock(&p->mtx);

	/* Decode outside the lock; q is ours until marked done. */
	q->kind = 0;
	q->err[0] = '\0';
	if (rv != 0) {
		freq_fail(q, "%s", nng_strerror(rv));
	} else {
		msgpack_unpacked u;
		const char *payload;
		size_t plen;
		uint64_t v, st, kind;

		msgpack_unpacked_init(&u);
		if (unframe(m, &u, &payload, &plen) != 0 ||
		    !map_u64(&u.data, "v", UINT32_MAX, &v) ||
		    v != NET_VERSION || !map_u64(&u.data, "st", 2, &st) ||
		    !map_u64(&u.data, "kind", UINT32_MAX, &kind)) {
			freq_fail(q, "%s", "malformed reply");
		} else if (st == ST_DATA) {
			q->st = ST_DATA;
			q->kind = (uint32_t)kind;
			q->len = plen;
			if ((q->data = f->host->alloc(plen ? plen : 1)) == NULL)
				freq_fail(q, "%s", "out of memory");
			else if (plen > 0)
				memcpy(q->data, payload, plen);
		} else if (st == ST_END) {
			q->st = ST_END;
		} else {
			const msgpack_object *e = map_get(&u.data, "err");

			q->st = ST_ERROR;
			snprintf(q->err, sizeof(q->err), "%.*s",
			    e != NULL && e->type == MSGPACK_OBJECT_STR
			        ? (int)e->via.str.size
			        : 0,
			    e != NULL && e->type == MSGPACK_OBJECT_STR
			        ? e->via.str.ptr
			        : "");
		}
		msgpack_unpacked_destroy(&u);
		nng_msg_free(m);
	}

	pthread_mutex_lock(&p->mtx);
	q->state = FQ_DONE;
	f->heard = true;
	if (f->stopping) {
		/* fetch_stop frees q->data */
	} else if (deliver_locked(f)) {
		struct slot *s = p->subs[f->sub].reader;

		if (s != NULL && slot_ready_locked(s))
			notify = slot_reader(s);
	}
	pthread_mutex_unlock(&p->mtx);
	if (notify != NULL)
		reader_notify(notify);
}

/* No lock held. Send the request of q (FQ_FLIGHT, seq set). */
static void
freq_send(struct freq *q)
{
	struct fetch *f = q->f;
	nng_msg *m = request_msg(f, OP_FETCH, q->seq);

	if (m == NULL) {
		struct mreader *notify = NULL;
		struct part *p = f->p;

		pthread_mutex_lock(&p->mtx);
		q->state = FQ_DONE;
		freq_fail(q, "%s", "out of memory");
		if (deliver_locked(f)) {
			struct slot *s = p->subs[f->sub].reader;

			if (s != NULL && slot_ready_locked(s))
				notify = slot_reader(s);
		}
		pthread_mutex_unlock(&p->mtx);
		if (notify != NULL)
			reader_notify(notify);
		return;
	}
	q->sending = true;
	nng_aio_set_msg(q->aio, m);
	nng_ctx_send(q->ctx, q->aio);
}

/* part->mtx held: the next request to send, or NULL. */
static struct freq *
next_request_locked(struct fetch *f)
{
	struct freq *q;

	if (f->ended || f->failed || f->stopping)
		return NULL;
	q = &f->ring[f->next_req % f->credits];
	if (q->state != FQ_IDLE)
		return NULL; /* cannot happen: one request per release */
	q->state = FQ_FLIGHT;
	q->seq = f->next_req++;
	return q;
}

void
fetch_credit(struct fetch *f)
{
	struct freq *q;

	pthread_mutex_lock(&f->p->mtx);
	q = next_request_locked(f);
	pthread_mutex_unlock(&f->p->mtx);
	if (q != NULL)
		freq_send(q);
}

const char *
fetch_error(const struct fetch *f)
{
	return f->err;
}

int
fetch_start(const struct sl_host *host, struct part *p, uint32_t sub,
    uint32_t credits, struct fetch **out)
{
	struct fetch *f;
	int rv;

	if ((f = host->alloc(sizeof(*f))) == NULL)
		return SL_ENOMEM;
	memset(f, 0, sizeof(*f));
	f->host = host;
	f->p = p;
	f->sub = sub;
	f->credits = credits;
	snprintf(f->url, sizeof(f->url), "%s", p->desc.location);
	if ((rv = peer_get(host, p->desc.location, &f->sock)) != 0 ||
	    (rv = mem_desc_encode(host, &p->desc, &f->desc)) != 0 ||
	    (f->ring = host->alloc(sizeof(*f->ring) * credits)) == NULL) {
		host->free(f->desc.data);
		host->free(f);
		return rv != 0 ? rv : SL_ENOMEM;
	}
	memset(f->ring, 0, sizeof(*f->ring) * credits);
	for (uint32_t i = 0; i < credits; i++) {
		struct freq *q = &f->ring[i];

		q->f = f;
		if (nng_ctx_open(&q->ctx, f->sock) != 0 ||
		    nng_aio_alloc(&q->aio, freq_cb, q) != 0) {
			f->credits = i + 1;
			fetch_stop(f);
			host->set_error("memory: out of memory");
			return SL_ENOMEM;
		}
	}
	for (uint32_t i = 0; i < credits; i++) {
		struct freq *q;

		pthread_mutex_lock(&p->mtx);
		q = next_request_locked(f);
		pthread_mutex_unlock(&p->mtx);
		if (q != NULL)
			freq_send(q);
	}
	*out = f;
	return 0;
}

void
fetch_stop(struct fetch *f)
{
	bool tell;
	nng_msg *m;

	if (f == NULL)
		return;
	pthread_mutex_lock(&f->p->mtx);
	f->stopping = true;
	tell = !f->ended && f->heard;
	pthread_mutex_unlock(&f->p->mtx);
	for (uint32_t i = 0; i < f->credits; i++) {
		struct freq *q = &f->ring[i];

		if (q->aio != NULL) {
			nng_aio_stop(q->aio);
			nng_aio_free(q->aio);
		}
		nng_ctx_close(q->ctx);
		f->host->free(q->data);
	}
	/* Tell the producer to let the subpartition go (its writer must not
	 * wait for credit from a reader that left). Best effort: the request
	 * is queued on a connection that is up (the producer answered), and
	 * its answer is not waited for. */
	if (tell && (m = request_msg(f, OP_CLOSE, 0)) != NULL) {
		nng_ctx ctx;
		nng_aio *aio;

		if (nng_ctx_open(&ctx, f->sock) != 0) {
			nng_msg_free(m);
		} else {
			if (nng_aio_alloc(&aio, NULL, NULL) != 0) {
				nng_msg_free(m);
			} else {
				nng_aio_set_timeout(aio, 200);
				nng_aio_set_msg(aio, m);
				nng_ctx_send(ctx, aio);
				nng_aio_wait(aio);
				if (nng_aio_result(aio) != 0)
					nng_msg_free(m);
				nng_aio_free(aio);
			}
			nng_ctx_close(ctx);
		}
	}
	f->host->free(f->ring);
	f->host->free(f->desc.data);
	f->host->free(f);
}
