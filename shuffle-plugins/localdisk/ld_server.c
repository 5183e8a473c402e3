/*
 * The localdisk server (producer side): each worker serves the partitions
 * its tasks wrote to readers elsewhere, at one URL (the descriptors'
 * location). A fetch names a partition, a subpartition range and a
 * position (ld_frame.c); a few threads answer fetches by reading whole
 * blocks from the files straight into the reply. The readers opened for
 * recent fetches are kept, so a stream of fetches reads the index once.
 * A release removes a partition's files; stopping (the worker exits)
 * removes every partition written here that nobody released. A remote
 * shuffle daemon serves its partitions with this server, adding its own
 * ops through hooks (localdisk.h: ld_server_set_hooks).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "ld_file.h"
#include "localdisk.h"

#define NTHREADS 3 /* unless the hooks say */
#define NCACHED 32
#define RESERVE 256 /* room for a reply's header before its blocks */

static pthread_mutex_t own_mtx = PTHREAD_MUTEX_INITIALIZER;
static char own_url[512]; /* "" when this process serves nothing */

bool
ld_is_remote(const struct ld_desc *d)
{
	bool remote;

	if (d->location == NULL || d->location[0] == '\0')
		return false;
	pthread_mutex_lock(&own_mtx);
	remote = own_url[0] != '\0' && strcmp(d->location, own_url) != 0;
	pthread_mutex_unlock(&own_mtx);
	return remote;
}

bool
ld_serving(void)
{
	bool serving;

	pthread_mutex_lock(&own_mtx);
	serving = own_url[0] != '\0';
	pthread_mutex_unlock(&own_mtx);
	return serving;
}

/* A copy of d's key (no location, no replica). */
static int
key_copy(const struct sl_host *host, const struct ld_desc *d, struct ld_desc *k)
{
	*k = *d;
	k->location = k->replica = NULL;
	if ((k->job = host->alloc(strlen(d->job) + 1)) == NULL)
		return SL_ENOMEM;
	strcpy(k->job, d->job);
	return 0;
}

/* ---- partitions written here ---- */

struct served {
	struct served *next;
	struct ld_desc key;
};

static pthread_mutex_t served_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct served *served;

int
ld_served_add(const struct sl_host *host, const struct ld_desc *d)
{
	struct served *s;

	if (!ld_serving())
		return 0; /* one process: its partitions are released */
	if ((s = host->alloc(sizeof(*s))) == NULL ||
	    key_copy(host, d, &s->key) != 0) {
		host->free(s);
		return SL_ENOMEM;
	}
	pthread_mutex_lock(&served_mtx);
	s->next = served;
	served = s;
	pthread_mutex_unlock(&served_mtx);
	return 0;
}

void
ld_served_release(const struct sl_host *host, const struct ld_desc *d)
{
	struct served **pp, *s = NULL;

	pthread_mutex_lock(&served_mtx);
	for (pp = &served; *pp != NULL; pp = &(*pp)->next)
		if (ld_same_partition(&(*pp)->key, d)) {
			s = *pp;
			*pp = s->next;
			break;
		}
	pthread_mutex_unlock(&served_mtx);
	if (s != NULL) {
		ld_desc_clear(host, &s->key);
		host->free(s);
	}
}

/* ---- the server ---- */

struct cached {
	struct ld_desc key;
	uint32_t lo, hi;
	struct ld_reader *r;
	uint64_t used; /* for eviction */
};

struct sthread {
	pthread_t th;
	nng_ctx ctx;
	nng_aio *aio;
	bool started;
};

static struct {
	const struct sl_host *host; /* the plugin's */
	struct sl_host shim;        /* set_error kept for the reply */
	nng_socket sock;
	bool running;
	struct sthread t[LD_SERVER_MAX_THREADS];
	uint32_t nthreads;
	pthread_mutex_t mtx; /* the cache */
	struct cached cache[NCACHED];
	uint32_t ncached;
	uint64_t tick;
	uint64_t releases;       /* a reader taken before one is not put back */
	uint64_t fetches, bytes; /* served, for the log */
	struct ld_server_hooks hooks; /* set while stopped only */
} srv = { .mtx = PTHREAD_MUTEX_INITIALIZER };

void
ld_server_set_hooks(const struct ld_server_hooks *h)
{
	if (h != NULL)
		srv.hooks = *h;
	else
		memset(&srv.hooks, 0, sizeof(srv.hooks));
}

static _Thread_local char thread_err[300];

static void
keep_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(thread_err, sizeof(thread_err), fmt, ap);
	va_end(ap);
}

/* A reader of key's lo..hi from the cache (taken out of it), or NULL. */
static struct ld_reader *
cache_take(const struct ld_desc *key, uint32_t lo, uint32_t hi, uint64_t *gen)
{
	struct ld_reader *r = NULL;

	pthread_mutex_lock(&srv.mtx);
	*gen = srv.releases;
	for (uint32_t i = 0; i < srv.ncached; i++) {
		struct cached *c = &srv.cache[i];

		if (c->lo == lo && c->hi == hi &&
		    ld_same_partition(&c->key, key)) {
			r = c->r;
			ld_desc_clear(srv.host, &c->key);
			srv.cache[i] = srv.cache[--srv.ncached];
			break;
		}
	}
	pthread_mutex_unlock(&srv.mtx);
	return r;
}

static void
cache_put(const struct ld_desc *key, uint32_t lo, uint32_t hi,
    struct ld_reader *r, uint64_t gen)
{
	struct ld_reader *evict = r;
	struct ld_desc k;

	if (key_copy(srv.host, key, &k) != 0) {
		ld_reader_free(r);
		return;
	}
	pthread_mutex_lock(&srv.mtx);
	/* a partition released meanwhile may be this one: its file is gone */
	if (gen == srv.releases) {
		struct cached *c;

		if (srv.ncached == NCACHED) {
			uint32_t old = 0;

			for (uint32_t i = 1; i < srv.ncached; i++)
				if (srv.cache[i].used < srv.cache[old].used)
					old = i;
			c = &srv.cache[old];
			evict = c->r;
			ld_desc_clear(srv.host, &c->key);
		} else {
			c = &srv.cache[srv.ncached++];
			evict = NULL;
		}
		*c = (struct cached) { k, lo, hi, r, ++srv.tick };
		k.job = NULL;
	}
	pthread_mutex_unlock(&srv.mtx);
	srv.host->free(k.job);
	ld_reader_free(evict);
}

/* The directory of d's files into dir (cap bytes); false when out of
 * memory. */
static bool
dir_of(const struct ld_desc *d, char *dir, size_t cap)
{
	char *data, *index, *slash;

	if (ld_paths(srv.host, d, false, &data, &index) != 0)
		return false;
	if ((slash = strrchr(data, '/')) != NULL)
		*slash = '\0';
	snprintf(dir, cap, "%s", data);
	srv.host->free(data);
	srv.host->free(index);
	return true;
}

/* Close the cached readers of d (every one when d is NULL), or with job
 * those of every partition in d's directory. Readers taken out of the
 * cache meanwhile are not put back (releases). */
static void
cache_drop_of(const struct ld_desc *d, bool job)
{
	char dir[4096] = "", cdir[4096];

	if (job && !dir_of(d, dir, sizeof(dir)))
		dir[0] = '\0'; /* out of memory: every reader goes */
	pthread_mutex_lock(&srv.mtx);
	srv.releases++;
	for (uint32_t i = 0; i < srv.ncached;) {
		struct cached *c = &srv.cache[i];
		bool match;

		if (d == NULL)
			match = true;
		else if (!job)
			match = ld_same_partition(&c->key, d);
		else /* out of memory: as if it were the job's */
			match = dir[0] == '\0' ||
			    !dir_of(&c->key, cdir, sizeof(cdir)) ||
			    strcmp(cdir, dir) == 0;
		if (!match) {
			i++;
			continue;
		}
		ld_reader_free(c->r);
		ld_desc_clear(srv.host, &c->key);
		*c = srv.cache[--srv.ncached];
	}
	pthread_mutex_unlock(&srv.mtx);
}

static void
cache_drop(const struct ld_desc *d)
{
	cache_drop_of(d, false);
}

void
ld_server_forget_job(const char *job, uint64_t token)
{
	struct ld_desc d = { .job = (char *)job, .token = token };

	if (srv.host != NULL)
		cache_drop_of(&d, true);
}

/* A reply without blocks. */
static nng_msg *
reply_head(uint32_t st, bool end, const char *err)
{
	struct ld_rep rep = { .st = st, .end = end };
	msgpack_sbuffer sb;
	nng_msg *m = NULL;

	snprintf(rep.err, sizeof(rep.err), "%s", err);
	msgpack_sbuffer_init(&sb);
	if (ld_rep_encode(&sb, &rep) == 0 &&
	    nng_msg_alloc(&m, 4 + sb.size) == 0)
		shc_frame_header(&sb, nng_msg_body(m));
	msgpack_sbuffer_destroy(&sb);
	return m;
}

/* The blocks of q from r, after a header saying where the next fetch
 * starts. */
static nng_msg *
reply_blocks(struct ld_reader *r, const struct ld_req *q)
{
	struct ld_rep rep = { .st = LD_ST_DATA };
	size_t cap = q->max, got, need;
	msgpack_sbuffer sb;
	nng_msg *m;
	int rv;

	if ((rv = ld_reader_seek(r, q->run, q->pos)) != 0)
		return reply_head(LD_ST_ERROR, false, thread_err);
	if (nng_msg_alloc(&m, RESERVE + cap) != 0)
		return NULL;
	rv = ld_reader_raw(
	    r, (unsigned char *)nng_msg_body(m) + RESERVE, cap, &got, &need);
	if (rv == 0 && got == 0) {
		/* one block larger than asked for travels alone */
		cap = need;
		if (nng_msg_realloc(m, RESERVE + cap) != 0) {
			nng_msg_free(m);
			return NULL;
		}
		rv =
		    ld_reader_raw(r, (unsigned char *)nng_msg_body(m) + RESERVE,
		        cap, &got, &need);
	}
	if (rv == SL_EEOF)
		rv = 0, got = 0;
	if (rv != 0) {
		nng_msg_free(m);
		return reply_head(LD_ST_ERROR, false,
		    rv == SL_ENOMEM ? "localdisk: out of memory" : thread_err);
	}
	rep.end = !ld_reader_tell(r, &rep.run, &rep.pos);
	msgpack_sbuffer_init(&sb);
	if (ld_rep_encode(&sb, &rep) != 0 || 4 + sb.size > RESERVE) {
		msgpack_sbuffer_destroy(&sb);
		nng_msg_free(m);
		return NULL;
	}
	shc_frame_header(
	    &sb, (unsigned char *)nng_msg_body(m) + RESERVE - 4 - sb.size);
	nng_msg_trim(m, RESERVE - 4 - sb.size);
	nng_msg_chop(m, cap - got);
	msgpack_sbuffer_destroy(&sb);
	return m;
}

/* The reply to *req; the hooks may take *req (NULL then). */
static nng_msg *
handle(nng_msg **req)
{
	const struct sl_host *host = &srv.shim;
	struct ld_desc d;
	struct ld_req q;
	struct ld_reader *r;
	char *data, *index;
	uint64_t gen;
	nng_msg *m;

	thread_err[0] = '\0';
	if (ld_req_decode(nng_msg_body(*req), nng_msg_len(*req), &q) != 0) {
		if (srv.hooks.other != NULL)
			return srv.hooks.other(srv.hooks.arg, req);
		return reply_head(
		    LD_ST_ERROR, false, "localdisk: malformed request");
	}
	if (srv.hooks.allowed != NULL &&
	    !srv.hooks.allowed(srv.hooks.arg, q.secret))
		return reply_head(LD_ST_ERROR, false, "remote: wrong secret");
	if (ld_desc_decode(host, q.desc, q.desc_len, &d) != 0)
		return reply_head(
		    LD_ST_ERROR, false, "localdisk: malformed request");
	if (q.op == LD_OP_RELEASE) {
		cache_drop(&d);
		ld_served_release(host, &d);
		ld_remove(host, &d);
		if (srv.hooks.released != NULL)
			srv.hooks.released(srv.hooks.arg, &d);
		/* again: a fetch may have opened one before the files went */
		cache_drop(&d);
		ld_desc_clear(host, &d);
		return reply_head(LD_ST_DATA, true, "");
	}
	if ((r = cache_take(&d, q.lo, q.hi, &gen)) == NULL) {
		int rv = ld_paths(host, &d, false, &data, &index);

		if (rv == 0) {
			rv = ld_reader_open(host, data, index, q.lo, q.hi, &r);
			host->free(data);
			host->free(index);
		}
		if (rv != 0) {
			ld_desc_clear(host, &d);
			return reply_head(LD_ST_ERROR, false,
			    rv == SL_ENOMEM ? "localdisk: out of memory"
			                    : thread_err);
		}
	}
	m = reply_blocks(r, &q);
	cache_put(&d, q.lo, q.hi, r, gen);
	pthread_mutex_lock(&srv.mtx);
	srv.fetches++;
	srv.bytes += m != NULL ? nng_msg_len(m) : 0;
	pthread_mutex_unlock(&srv.mtx);
	ld_desc_clear(host, &d);
	return m;
}

static void *
serve(void *arg)
{
	struct sthread *t = arg;

	for (;;) {
		nng_msg *in, *out;
		int rv;

		nng_ctx_recv(t->ctx, t->aio);
		nng_aio_wait(t->aio);
		if ((rv = nng_aio_result(t->aio)) != 0) {
			if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
				break;
			continue;
		}
		in = nng_aio_get_msg(t->aio);
		out = handle(&in);
		if (in != NULL)
			nng_msg_free(in);
		if (out == NULL &&
		    (out = reply_head(LD_ST_ERROR, false,
		         "localdisk: out of memory")) == NULL)
			continue; /* the reader's fetch times out */
		nng_aio_set_msg(t->aio, out);
		nng_ctx_send(t->ctx, t->aio);
		nng_aio_wait(t->aio);
		if (nng_aio_result(t->aio) != 0)
			nng_msg_free(out);
	}
	return NULL;
}

static void server_stop(void);

static int
server_start(
    const struct sl_host *host, const char *url, char *bound, size_t cap)
{
	int nrv, rv;

	if (srv.running) {
		host->set_error("localdisk: server already started");
		return SL_ESTATE;
	}
	srv.host = host;
	srv.shim = *host;
	srv.shim.set_error = keep_error;
	if ((nrv = nng_rep0_open(&srv.sock)) != 0) {
		host->set_error("localdisk: %s", nng_strerror(nrv));
		return SL_EIO;
	}
	srv.running = true;
	nng_socket_set_size(srv.sock, NNG_OPT_RECVMAXSZ,
	    srv.hooks.max_request ? srv.hooks.max_request : 64u << 10);
	if ((rv = shc_listen(host, srv.sock, url, bound, cap, "localdisk")) !=
	    0) {
		server_stop();
		return rv;
	}
	srv.nthreads = srv.hooks.threads ? srv.hooks.threads : NTHREADS;
	if (srv.nthreads > LD_SERVER_MAX_THREADS)
		srv.nthreads = LD_SERVER_MAX_THREADS;
	for (uint32_t i = 0; i < srv.nthreads; i++) {
		struct sthread *t = &srv.t[i];

		if (nng_ctx_open(&t->ctx, srv.sock) != 0 ||
		    nng_aio_alloc(&t->aio, NULL, NULL) != 0 ||
		    pthread_create(&t->th, NULL, serve, t) != 0) {
			server_stop();
			host->set_error("localdisk: cannot start the server");
			return SL_ENOMEM;
		}
		t->started = true;
	}
	pthread_mutex_lock(&own_mtx);
	snprintf(own_url, sizeof(own_url), "%s", bound);
	pthread_mutex_unlock(&own_mtx);
	return 0;
}

static void
server_stop(void)
{
	if (!srv.running)
		return;
	/* Each thread's aio stopped first: whatever it does next with it
	 * ends with NNG_ECANCELED, so the thread leaves its loop. Closing
	 * the socket under a thread still sending its last reply makes nng
	 * 1.5 abort. */
	for (uint32_t i = 0; i < LD_SERVER_MAX_THREADS; i++) {
		struct sthread *t = &srv.t[i];

		if (t->aio != NULL)
			nng_aio_stop(t->aio);
		if (t->started)
			pthread_join(t->th, NULL);
		if (t->aio != NULL)
			nng_aio_free(t->aio);
		memset(t, 0, sizeof(*t));
	}
	nng_close(srv.sock);
	cache_drop(NULL);
	srv.host->log(srv.host, SL_LOG_DEBUG,
	    "served %llu fetches, %llu bytes, at %s",
	    (unsigned long long)srv.fetches, (unsigned long long)srv.bytes,
	    own_url);
	srv.fetches = srv.bytes = 0;
	/* The worker exits: what it wrote can no longer be served. */
	pthread_mutex_lock(&served_mtx);
	while (served != NULL) {
		struct served *s = served;

		served = s->next;
		ld_remove(srv.host, &s->key);
		ld_desc_clear(srv.host, &s->key);
		srv.host->free(s);
	}
	pthread_mutex_unlock(&served_mtx);
	pthread_mutex_lock(&own_mtx);
	own_url[0] = '\0';
	pthread_mutex_unlock(&own_mtx);
	srv.running = false;
}

/* The partitions written here whose files are both still there. */
static int
server_held(void (*each)(void *arg, const char *job_id, uint32_t edge,
                uint32_t producer, uint32_t attempt),
    void *arg)
{
	int rv = 0;

	if (!srv.running)
		return 0;
	pthread_mutex_lock(&served_mtx);
	for (struct served *s = served; s != NULL && rv == 0; s = s->next) {
		char *data = NULL, *index = NULL;

		if ((rv = ld_paths(srv.host, &s->key, false, &data, &index)) ==
		        0 &&
		    access(data, F_OK) == 0 && access(index, F_OK) == 0)
			each(arg, s->key.job, s->key.edge, s->key.producer,
			    s->key.attempt);
		srv.host->free(data);
		srv.host->free(index);
	}
	pthread_mutex_unlock(&served_mtx);
	return rv;
}

const struct sl_shuffle_server_ops ld_server_ops = {
	.struct_size = sizeof(struct sl_shuffle_server_ops),
	.start = server_start,
	.stop = server_stop,
	.held = server_held,
};
