/*
 * Reading a partition held by another process (consumer side): a remote
 * input sends one fetch at a time to the producer's server (ld_server.c)
 * and keeps at most two replies: the one whose blocks the task is reading
 * and the next, so disk, network and the task overlap while memory stays
 * bounded. Blocks are handed out where they lie in the reply, after their
 * checksum is checked here: damage on the way is caught like damage on
 * disk. Fetches carry their position, so a lost request is simply sent
 * again (REQ's resend) and a silent producer fails the input after
 * FETCH_TIMEOUT_MS; built into the remote plugin, a daemon with no
 * connection fails it in seconds (net.h: shc_link). With a replica, a
 * fetch that failed goes on there, from the same position.
 *
 * Releasing a partition elsewhere (the master, in the coordinator) queues
 * a message for a thread of its own, so the coordinator's loop never
 * waits for a worker.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>

#include "ld_file.h"
#include "localdisk.h"

#define FETCH_TIMEOUT_MS 60000
#define RESEND_MS 5000
#define MAX_REPLIES 2

#ifdef LD_REMOTE_SERVICE
/* A daemon gone is noticed in seconds (net.h: shc_link): its partitions
 * may have a replica to go on from, or are run again sooner. */
#define WATCH_LINK 1
#define SERVER "the shuffle service"
#define PLUGIN "remote"
#else
/* A producer's worker gone is the coordinator's to notice (heartbeats),
 * and its readers keep today's timeout. */
#define WATCH_LINK 0
#define SERVER "producer"
#define PLUGIN "localdisk"
#endif

/* one req socket per server, kept for the life of the process */
static struct shc_peers peers =
    SHC_PEERS(PLUGIN, RESEND_MS, 1000, LD_NET_MAX_FRAME);

static nng_msg *
request_msg(uint32_t op, const struct sl_bytes *desc, uint32_t lo, uint32_t hi,
    uint32_t run, uint64_t pos)
{
	struct ld_req q = { op, desc->data, desc->len, lo, hi, run, pos,
		LD_NET_FETCH, "" };
	msgpack_sbuffer sb;
	nng_msg *m = NULL;

#ifdef LD_REMOTE_SERVICE
	/* a service's: only the remote plugin sends it, to its daemons */
	if (getenv("SLUICE_SHUFFLE_SECRET") != NULL)
		snprintf(q.secret, sizeof(q.secret), "%s",
		    getenv("SLUICE_SHUFFLE_SECRET"));
#endif

	msgpack_sbuffer_init(&sb);
	if (ld_req_encode(&sb, &q) == 0 && nng_msg_alloc(&m, 4 + sb.size) == 0)
		shc_frame_header(&sb, nng_msg_body(m));
	msgpack_sbuffer_destroy(&sb);
	return m;
}

/* ---- a remote input ---- */

struct chunk {
	struct chunk *next;
	const struct sl_host *host;
	nng_msg *msg;
	const unsigned char *p; /* the blocks, in msg */
	size_t len, off;
	uint32_t run; /* where the blocks began, for messages */
	uint64_t pos;
	atomic_uint refs; /* the queue's, and one per buffer handed out */
};

struct ld_remote {
	const struct sl_host *host;
	void (*notify)(void *arg);
	void *arg;
	struct sl_bytes desc;
	uint32_t lo, hi;
	nng_aio *aio;
	nng_aio *watch; /* WATCH_LINK: looks at the link while a fetch waits */
	bool sending;   /* the aio's phase; the callback's own */
	pthread_mutex_t mtx;
	/* mtx */
	char url[256];     /* the server fetched from */
	char replica[256]; /* where to go when url fails; "" none (left) */
	char first[560];   /* why the first server failed, once left */
	nng_socket sock;
	const struct shc_link *link;
	nng_ctx ctx;
	bool ctx_ok;
	struct chunk *head, *tail;
	uint32_t nchunks;
	uint32_t run; /* where the next fetch starts */
	uint64_t pos;
	bool end, inflight, failed, stopping;
	uint64_t gen;      /* fetches sent */
	uint64_t lost_gen; /* the fetch the watch found its server gone for */
	uint64_t sent_ms;  /* when fetch gen was sent */
	bool watching;     /* the watch aio is busy */
	char err[1200];
};

static void
chunk_unref(struct chunk *c)
{
	if (atomic_fetch_sub(&c->refs, 1) == 1) {
		nng_msg_free(c->msg);
		c->host->free(c);
	}
}

/* What went wrong at url, as the user reads it. */
static void
say(char *dst, size_t cap, const char *url, const char *why, bool lost)
{
	if (lost)
		snprintf(dst, cap, SERVER " at %.200s is unreachable%s", url,
		    shc_unreachable_hint(url));
	else
		snprintf(dst, cap, SERVER " at %.200s: %.300s", url, why);
}

/* mtx held. */
static void
fail_locked(struct ld_remote *r, const char *why, bool lost)
{
	char now[560];

	if (r->failed)
		return;
	say(now, sizeof(now), r->url, why, lost);
	if (r->first[0] != '\0')
		snprintf(r->err, sizeof(r->err), "%s; its replica, %s",
		    r->first, now);
	else
		snprintf(r->err, sizeof(r->err), "%s", now);
	r->failed = true;
}

/*
 * mtx held: the fetch out failed at r->url. Go on at the replica, from
 * the same position (its files are the same bytes), or fail. The context
 * left is put into *old (*close_old), to be closed without the lock.
 */
static void
fetch_failed_locked(struct ld_remote *r, const char *why, bool lost,
    nng_ctx *old, bool *close_old)
{
	nng_socket sock;
	const struct shc_link *link;
	nng_ctx ctx;

	if (r->replica[0] == '\0' || r->failed) {
		fail_locked(r, why, lost);
		return;
	}
	say(r->first, sizeof(r->first), r->url, why, lost);
	snprintf(r->url, sizeof(r->url), "%s", r->replica);
	r->replica[0] = '\0';
	if (shc_peer_get_link(&peers, r->host, r->url, &sock, &link) != 0 ||
	    nng_ctx_open(&ctx, sock) != 0) {
		fail_locked(r, "cannot connect", false);
		return;
	}
	if (r->ctx_ok) {
		*old = r->ctx;
		*close_old = true;
	}
	r->sock = sock;
	r->link = link;
	r->ctx = ctx;
	r->ctx_ok = true;
}

/* mtx held: whether to send the next fetch now. */
static bool
want_fetch_locked(struct ld_remote *r)
{
	if (r->inflight || r->end || r->failed || r->stopping ||
	    r->nchunks >= MAX_REPLIES)
		return false;
	r->inflight = true;
	return true;
}

/* No lock held; r->inflight is set. */
static void
send_fetch(struct ld_remote *r)
{
	nng_msg *m;
	nng_ctx ctx;
	bool watch = false;

	pthread_mutex_lock(&r->mtx);
	m = request_msg(LD_OP_FETCH, &r->desc, r->lo, r->hi, r->run, r->pos);
	if (m == NULL) {
		r->inflight = false;
		fail_locked(r, "out of memory", false);
	} else {
		r->gen++;
		r->sent_ms = shc_now_ms();
		ctx = r->ctx;
		if (WATCH_LINK && !r->watching)
			r->watching = watch = true;
	}
	pthread_mutex_unlock(&r->mtx);
	if (m == NULL) {
		r->notify(r->arg);
		return;
	}
	if (watch)
		nng_sleep_aio(SHC_WATCH_MS, r->watch);
	r->sending = true;
	nng_aio_set_timeout(r->aio, FETCH_TIMEOUT_MS);
	nng_aio_set_msg(r->aio, m);
	nng_ctx_send(ctx, r->aio);
}

/*
 * While a fetch waits: its server without a connection for SHC_LOST_MS
 * (net.h) ends it, as lost. Cancelled again at every tick while so, as a
 * cancel between the fetch's send and its receive finds nothing to end.
 */
static void
watch_cb(void *arg)
{
	struct ld_remote *r = arg;
	bool cancel = false, again = false;

	pthread_mutex_lock(&r->mtx);
	r->watching = false;
	if (!r->stopping && r->inflight) {
		if (shc_link_lost(r->link, r->sent_ms)) {
			r->lost_gen = r->gen;
			cancel = true;
		}
		again = r->watching = true;
	}
	pthread_mutex_unlock(&r->mtx);
	if (cancel)
		nng_aio_cancel(r->aio);
	if (again)
		nng_sleep_aio(SHC_WATCH_MS, r->watch);
}

/* mtx held: queue the reply m (taken on success). */
static void
deliver_locked(struct ld_remote *r, nng_msg **m, nng_ctx *old, bool *close_old)
{
	struct ld_rep rep;
	struct chunk *c;

	if (ld_rep_decode(nng_msg_body(*m), nng_msg_len(*m), &rep) != 0) {
		fetch_failed_locked(
		    r, "malformed reply", false, old, close_old);
		return;
	}
	if (rep.st != LD_ST_DATA) {
		/* its files missing or damaged there, say: the replica has
		 * its own */
		fetch_failed_locked(
		    r, rep.err[0] ? rep.err : "error", false, old, close_old);
		return;
	}
	if ((c = r->host->alloc(sizeof(*c))) == NULL) {
		fail_locked(r, "out of memory", false);
		return;
	}
	memset(c, 0, sizeof(*c));
	c->host = r->host;
	c->msg = *m;
	c->p = rep.blocks;
	c->len = rep.len;
	c->run = r->run;
	c->pos = r->pos;
	atomic_init(&c->refs, 1);
	*m = NULL;
	if (r->tail != NULL)
		r->tail->next = c;
	else
		r->head = c;
	r->tail = c;
	r->nchunks++;
	r->run = rep.run;
	r->pos = rep.pos;
	r->end = rep.end;
}

static void
fetch_cb(void *arg)
{
	struct ld_remote *r = arg;
	int rv = nng_aio_result(r->aio);
	nng_msg *m = NULL;
	nng_ctx old;
	bool again, close_old = false;

	if (r->sending && rv == 0) {
		r->sending = false;
		nng_aio_set_msg(r->aio, NULL); /* the socket's now */
		pthread_mutex_lock(&r->mtx);
		old = r->ctx;
		pthread_mutex_unlock(&r->mtx);
		nng_ctx_recv(old, r->aio);
		return;
	}
	r->sending = false;
	if (rv != 0 && nng_aio_get_msg(r->aio) != NULL)
		nng_msg_free(nng_aio_get_msg(r->aio)); /* an unsent fetch */
	else if (rv == 0)
		m = nng_aio_get_msg(r->aio);
	/* the aio holds only messages nobody took (ld_remote_free) */
	nng_aio_set_msg(r->aio, NULL);
	pthread_mutex_lock(&r->mtx);
	r->inflight = false;
	if (r->stopping) {
		pthread_mutex_unlock(&r->mtx);
		if (m != NULL)
			nng_msg_free(m);
		return;
	}
	if (rv == NNG_ECANCELED && r->lost_gen == r->gen)
		fetch_failed_locked(r, NULL, true, &old, &close_old);
	else if (rv == NNG_ECANCELED)
		; /* the watch's, meant for the fetch before: sent again */
	else if (rv == NNG_ETIMEDOUT)
		fetch_failed_locked(
		    r, "no answer in 60 s", false, &old, &close_old);
	else if (rv != 0)
		fetch_failed_locked(
		    r, nng_strerror(rv), false, &old, &close_old);
	else
		deliver_locked(r, &m, &old, &close_old);
	again = want_fetch_locked(r);
	pthread_mutex_unlock(&r->mtx);
	if (close_old)
		nng_ctx_close(old);
	if (m != NULL)
		nng_msg_free(m);
	r->notify(r->arg);
	if (again)
		send_fetch(r);
}

int
ld_remote_open_at(const struct sl_host *host, const struct sl_bytes *desc,
    const char *url, const char *replica, uint32_t lo, uint32_t hi,
    void (*notify)(void *), void *arg, struct ld_remote **out)
{
	struct ld_remote *r;
	int rv;

	if ((r = host->alloc(sizeof(*r))) == NULL)
		return SL_ENOMEM;
	memset(r, 0, sizeof(*r));
	r->host = host;
	r->notify = notify;
	r->arg = arg;
	r->lo = lo;
	r->hi = hi;
	snprintf(r->url, sizeof(r->url), "%s", url);
	if (replica != NULL && strcmp(replica, url) != 0)
		snprintf(r->replica, sizeof(r->replica), "%s", replica);
	pthread_mutex_init(&r->mtx, NULL);
	if ((r->desc.data = host->alloc(desc->len)) == NULL) {
		ld_remote_free(r);
		return SL_ENOMEM;
	}
	memcpy(r->desc.data, desc->data, desc->len);
	r->desc.len = desc->len;
	rv = shc_peer_get_link(&peers, host, url, &r->sock, &r->link);
	if (rv != 0 && r->replica[0] != '\0') {
		/* url cannot even be dialled: the replica at once */
		say(r->first, sizeof(r->first), url, "cannot connect", false);
		snprintf(r->url, sizeof(r->url), "%s", r->replica);
		r->replica[0] = '\0';
		rv =
		    shc_peer_get_link(&peers, host, r->url, &r->sock, &r->link);
	}
	if (rv != 0) {
		ld_remote_free(r);
		return rv;
	}
	r->ctx_ok = nng_ctx_open(&r->ctx, r->sock) == 0;
	if (!r->ctx_ok || nng_aio_alloc(&r->aio, fetch_cb, r) != 0 ||
	    (WATCH_LINK && nng_aio_alloc(&r->watch, watch_cb, r) != 0)) {
		ld_remote_free(r);
		host->set_error(PLUGIN ": out of memory");
		return SL_ENOMEM;
	}
	pthread_mutex_lock(&r->mtx);
	(void)want_fetch_locked(r); /* the first: nothing is out yet */
	pthread_mutex_unlock(&r->mtx);
	send_fetch(r);
	*out = r;
	return 0;
}

int
ld_remote_open(const struct sl_host *host, const struct sl_bytes *desc,
    const char *url, uint32_t lo, uint32_t hi, void (*notify)(void *),
    void *arg, struct ld_remote **out)
{
	return ld_remote_open_at(
	    host, desc, url, NULL, lo, hi, notify, arg, out);
}

int
ld_remote_next(struct ld_remote *r, struct sl_buffer *out)
{
	struct chunk *c, *done = NULL;
	const char *why;
	size_t size;
	bool again = false;
	int rv = SL_EAGAIN;

	pthread_mutex_lock(&r->mtx);
	while ((c = r->head) != NULL && c->off == c->len) {
		/* read to its end: the next fetch may go */
		if ((r->head = c->next) == NULL)
			r->tail = NULL;
		r->nchunks--;
		c->next = done;
		done = c;
	}
	if (c != NULL) {
		if (ld_block_parse(c->p + c->off, c->len - c->off, r->lo, r->hi,
		        out, &size, &why) != 0) {
			char w[120];

			snprintf(w, sizeof(w), "%s (run %u, at %llu)", why,
			    c->run, (unsigned long long)(c->pos + c->off));
			fail_locked(r, w, false);
			c->off = c->len; /* nothing more from it */
		} else if (out->kind >> 8 != SL_COMPRESSION_NONE) {
			/* decompressed into a buffer of its own */
			c->off += size;
			rv = ld_block_inflate(r->host, out, false, &why);
			if (rv == SL_EUNREADABLE)
				fail_locked(r, why, false);
			else if (rv == 0)
				out->plugin_private = NULL;
		} else {
			atomic_fetch_add(&c->refs, 1);
			out->plugin_private = c;
			c->off += size;
			rv = 0;
		}
	}
	if (rv == SL_ENOMEM) {
		r->host->set_error(PLUGIN ": out of memory");
	} else if (rv != 0 && r->failed) {
		r->host->set_error(PLUGIN ": %s", r->err);
		rv = SL_EUNREADABLE;
	} else if (rv == SL_EAGAIN && r->head == NULL && r->end) {
		rv = SL_EEOF;
	}
	again = want_fetch_locked(r);
	pthread_mutex_unlock(&r->mtx);
	while (done != NULL) {
		c = done;
		done = c->next;
		chunk_unref(c);
	}
	if (again)
		send_fetch(r);
	return rv;
}

void
ld_remote_release(struct ld_remote *r, struct sl_buffer *buf)
{
	if (buf->plugin_private == NULL) {
		r->host->free(buf->data); /* decompressed: its own */
		buf->data = NULL;
		return;
	}
	chunk_unref(buf->plugin_private);
	buf->plugin_private = NULL;
	buf->data = NULL;
}

void
ld_remote_free(struct ld_remote *r)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&r->mtx);
	r->stopping = true;
	pthread_mutex_unlock(&r->mtx);
	/* the watch first, as it cancels fetches; freed once no fetch's
	 * callback can start it again */
	if (r->watch != NULL)
		nng_aio_stop(r->watch);
	if (r->aio != NULL) {
		nng_aio_stop(r->aio);
		/* a fetch sent by a callback as the aio stopped: the stopped
		 * aio refused it without a callback */
		if (nng_aio_get_msg(r->aio) != NULL)
			nng_msg_free(nng_aio_get_msg(r->aio));
		nng_aio_free(r->aio);
	}
	if (r->watch != NULL)
		nng_aio_free(r->watch);
	if (r->ctx_ok)
		nng_ctx_close(r->ctx);
	while (r->head != NULL) {
		struct chunk *c = r->head;

		r->head = c->next;
		chunk_unref(c);
	}
	pthread_mutex_destroy(&r->mtx);
	r->host->free(r->desc.data);
	r->host->free(r);
}

/* ---- releasing partitions elsewhere ---- */

struct release {
	struct release *next;
	char *url;
	struct sl_bytes desc;
};

static struct {
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	const struct sl_host *host;
	bool started, stop;
	pthread_t th;
	struct release *head, *tail;
} rel = { .mtx = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

/* Send one release and wait a little for its answer: best effort, the
 * worker removes what it wrote when it exits anyway. */
static bool
release_send(struct release *q, int timeout_ms)
{
	nng_socket sock;
	nng_ctx ctx;
	nng_aio *aio;
	nng_msg *m;
	bool ok = false;

	if (shc_peer_get(&peers, rel.host, q->url, &sock) != 0 ||
	    (m = request_msg(LD_OP_RELEASE, &q->desc, 0, 0, 0, 0)) == NULL)
		return false;
	if (nng_ctx_open(&ctx, sock) != 0) {
		nng_msg_free(m);
		return false;
	}
	if (nng_aio_alloc(&aio, NULL, NULL) == 0) {
		nng_aio_set_timeout(aio, timeout_ms);
		nng_aio_set_msg(aio, m);
		nng_ctx_send(ctx, aio);
		nng_aio_wait(aio);
		if (nng_aio_result(aio) != 0) {
			nng_msg_free(m);
		} else {
			nng_ctx_recv(ctx, aio);
			nng_aio_wait(aio);
			if (nng_aio_result(aio) == 0) {
				nng_msg_free(nng_aio_get_msg(aio));
				ok = true;
			}
		}
		nng_aio_free(aio);
	} else {
		nng_msg_free(m);
	}
	nng_ctx_close(ctx);
	return ok;
}

static void *
releaser(void *arg)
{
	bool give_up = false;

	(void)arg;
	pthread_mutex_lock(&rel.mtx);
	for (;;) {
		struct release *q = rel.head;
		bool stopping = rel.stop;

		if (q == NULL) {
			if (stopping)
				break;
			pthread_cond_wait(&rel.cv, &rel.mtx);
			continue;
		}
		if ((rel.head = q->next) == NULL)
			rel.tail = NULL;
		pthread_mutex_unlock(&rel.mtx);
		/* when stopping, the process is leaving: do not hold it */
		if (!give_up && !release_send(q, stopping ? 200 : 5000))
			give_up = stopping;
		rel.host->free(q->url);
		rel.host->free(q->desc.data);
		rel.host->free(q);
		pthread_mutex_lock(&rel.mtx);
	}
	pthread_mutex_unlock(&rel.mtx);
	return NULL;
}

void
ld_remote_release_partition(
    const struct sl_host *host, const char *url, const struct sl_bytes *desc)
{
	struct release *q = host->alloc(sizeof(*q));

	if (q == NULL)
		return;
	memset(q, 0, sizeof(*q));
	if ((q->url = host->alloc(strlen(url) + 1)) == NULL ||
	    (q->desc.data = host->alloc(desc->len)) == NULL) {
		host->free(q->url);
		host->free(q);
		return;
	}
	strcpy(q->url, url);
	memcpy(q->desc.data, desc->data, desc->len);
	q->desc.len = desc->len;
	pthread_mutex_lock(&rel.mtx);
	if (!rel.started) {
		rel.host = host;
		rel.stop = false;
		rel.started =
		    pthread_create(&rel.th, NULL, releaser, NULL) == 0;
	}
	if (!rel.started) {
		pthread_mutex_unlock(&rel.mtx);
		host->free(q->url);
		host->free(q->desc.data);
		host->free(q);
		return;
	}
	if (rel.tail != NULL)
		rel.tail->next = q;
	else
		rel.head = q;
	rel.tail = q;
	pthread_cond_signal(&rel.cv);
	pthread_mutex_unlock(&rel.mtx);
}

void
ld_net_fini(const struct sl_host *host)
{
	pthread_mutex_lock(&rel.mtx);
	rel.stop = true;
	pthread_cond_signal(&rel.cv);
	pthread_mutex_unlock(&rel.mtx);
	if (rel.started)
		pthread_join(rel.th, NULL);
	rel.started = false;
	shc_peers_close(&peers, host);
}

/* ---- the plugin's own init and fini (localdisk's and remote's) ---- */

static const struct sl_host *plugin_host;

int
ld_plugin_init(const struct sl_host *host)
{
	plugin_host = host;
	return 0;
}

void
ld_plugin_fini(void)
{
	if (plugin_host != NULL)
		ld_net_fini(plugin_host);
	plugin_host = NULL;
}
