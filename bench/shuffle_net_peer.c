/*
 * shuffle_net's children (shuffle_net.c starts them and reads their lines):
 * the worker, the memory plugin's producers and consumers, and the raw nng
 * peer moving the same bytes in push/pull messages; the data each buffer
 * and message carries, made and checked.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>

#include <sluice/errors.h>

#include "plugin/loader.h"

#include "bench_util.h"
#include "shuffle_net.h"

/* ---- the data: what every buffer and message carries ---- */

static unsigned char
fill_byte(uint32_t producer, uint32_t sub, uint64_t seq)
{
	return (unsigned char)(producer * 131u + sub * 7u + seq);
}

/* A producer makes its data: the whole buffer is written, as a task's
 * records would be, the raw nng pusher's too. */
static void
fill(void *buf, size_t len, uint32_t producer, uint32_t sub, uint64_t seq)
{
	struct head h = { producer, sub, seq };

	memset(buf, fill_byte(producer, sub, seq), len);
	memcpy(buf, &h, sizeof(h));
}

/* Whether buf is buffer seq of (producer, sub); every byte with full. */
static bool
check(const void *buf, size_t len, size_t want, uint32_t producer, uint32_t sub,
    uint64_t seq, bool full)
{
	const unsigned char *b = buf;
	unsigned char v = fill_byte(producer, sub, seq);
	struct head h;

	if (len != want)
		return false;
	memcpy(&h, buf, sizeof(h));
	if (h.producer != producer || h.sub != sub || h.seq != seq)
		return false;
	for (size_t i = sizeof(h); full && i < len; i++)
		if (b[i] != v)
			return false;
	return true;
}

/* ---- a worker: the memory plugin's producers and consumers ---- */

struct worker;

struct task {
	struct worker *wk;
	uint32_t id; /* producer or consumer index in the edge */
	void *st;    /* writer or reader state */
	struct bench_waiter w;
	uint64_t local, remote; /* bytes read */
	pthread_t th;
	const char *err;
};

struct worker {
	struct sli_plugin *p;
	struct shape s;
	int self;
	bool full;
	struct task prod[MAX_TASKS], cons[MAX_TASKS];
};

static void *
produce(void *arg)
{
	struct task *t = arg;
	const struct sl_host *h = &t->wk->p->host;
	const struct sl_shuffle_writer_ops *ops = &t->wk->p->ops.shuffle.writer;
	size_t bufsz = t->wk->s.bufsz;
	uint32_t nsub = t->wk->s.nsub;

	for (uint64_t i = 0; i < t->wk->s.nbuf; i++) {
		struct sl_buffer b = { .kind = SL_BUFFER_DATA, .len = bufsz };
		uint32_t sub = (uint32_t)(i % nsub);

		/* the host's allocator: the reader frees it, zero copy */
		if ((b.data = h->alloc(bufsz)) == NULL) {
			t->err = "out of memory";
			return NULL;
		}
		fill(b.data, bufsz, t->id, sub, i / nsub);
		if (ops->write(t->st, sub, &b) != 0) {
			t->err = sl_errdetail();
			return NULL;
		}
	}
	if (ops->finish(t->st) != 0)
		t->err = sl_errdetail();
	return NULL;
}

static void *
consume(void *arg)
{
	struct task *t = arg;
	struct worker *wk = t->wk;
	const struct sl_shuffle_reader_ops *ops = &wk->p->ops.shuffle.reader;
	uint64_t *seq = calloc(wk->s.nprod, sizeof(*seq));
	uint64_t per_input = wk->s.nbuf / wk->s.nsub;
	int rv;

	if (seq == NULL) {
		t->err = "out of memory";
		return NULL;
	}
	for (;;) {
		struct sl_buffer b;
		bool mine;

		pthread_mutex_lock(&t->w.mtx);
		t->w.ready = false;
		pthread_mutex_unlock(&t->w.mtx);
		rv = ops->next(t->st, &b);
		if (rv == 0) {
			if (b.input >= wk->s.nprod ||
			    !check(b.data, b.len, wk->s.bufsz, b.input, t->id,
			        seq[b.input]++, wk->full)) {
				t->err = "a buffer out of order, or wrong";
				break;
			}
			mine = (b.input < wk->s.prod0) == (wk->self == 0);
			*(mine ? &t->local : &t->remote) += b.len;
			ops->release(t->st, &b);
			continue;
		}
		if (rv == SL_EEOF)
			break;
		if (rv != SL_EAGAIN) {
			t->err = sl_errdetail();
			break;
		}
		pthread_mutex_lock(&t->w.mtx);
		while (!t->w.ready)
			pthread_cond_wait(&t->w.cv, &t->w.mtx);
		pthread_mutex_unlock(&t->w.mtx);
	}
	for (uint32_t i = 0; t->err == NULL && i < wk->s.nprod; i++)
		if (seq[i] != per_input)
			t->err = "buffers missing at the end";
	free(seq);
	return NULL;
}

/* Descriptors as one line: hex, space separated, "-" for none. */
static void
descs_out(const struct sl_bytes *d, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		for (size_t j = 0; j < d[i].len; j++)
			printf("%02x", ((const unsigned char *)d[i].data)[j]);
		printf(i + 1 < n ? " " : "");
	}
	printf(n == 0 ? "-\n" : "\n");
	fflush(stdout);
}

/* The line's descriptors into d[0..), storage from malloc: how many. */
static uint32_t
descs_in(char *line, struct sl_bytes *d, uint32_t cap)
{
	uint32_t n = 0;

	for (char *tok = strtok(line, " \n"); tok != NULL && n < cap;
	     tok = strtok(NULL, " \n")) {
		size_t len = strlen(tok) / 2;
		unsigned char *b;

		if (strcmp(tok, "-") == 0)
			continue;
		if ((b = malloc(len + 1)) == NULL)
			die("peer", "out of memory");
		for (size_t i = 0; i < len; i++) {
			unsigned v;

			if (sscanf(tok + 2 * i, "%2x", &v) != 1)
				die("peer", "a bad descriptor");
			b[i] = (unsigned char)v;
		}
		d[n++] = (struct sl_bytes) { b, len };
	}
	return n;
}

/*
 * A worker (child "peer"): its plugin's server started, as a worker's,
 * its producers' partitions registered with itself as the location. Prints
 * its descriptors, reads the other's, opens every writer and reader, prints
 * "ready", waits for a line, runs its tasks and prints "LOCAL REMOTE
 * SECONDS" (bytes read); then serves until stdin closes.
 */
/* the plugin's ops, with the loader's defaults */
#define SH (wk->p->ops.shuffle)

int
peer(const char *url, int self, const struct shape *s, uint32_t credits,
    bool full)
{
	struct sli_plugin_set set = { 0 };
	struct worker *wk = calloc(1, sizeof(*wk));
	const struct sl_host *h;
	struct sl_bytes mine[MAX_TASKS], all[2 * MAX_TASKS];
	char bound[512], *line;
	uint64_t local = 0, remote = 0;
	void *mst;
	uint32_t nall;
	double t0;
	char c;

	if (wk == NULL || sli_plugin_set_load_default(&set, NULL, 0) < 0 ||
	    (wk->p = sli_plugin_set_find(&set, SL_PLUGIN_SHUFFLE, "memory")) ==
	        NULL)
		die("plugins", "no memory shuffle plugin");
	h = &wk->p->host;
	wk->s = *s;
	wk->self = self;
	wk->full = full;
	if ((mst = calloc(1, SH.master.state_size + 1)) == NULL ||
	    SH.server.start(h, url, bound, sizeof(bound)) != 0 ||
	    SH.master.init(mst, h, NULL) != 0)
		die("peer", sl_errdetail());
	for (uint32_t i = 0; i < s->np; i++) {
		struct sl_partition_spec ps = {
			.struct_size = sizeof(ps),
			.type = SL_PARTITION_PIPELINED,
			.job_id = "bench-shuffle-net",
			.producer = s->pbase + i,
			.num_subpartitions = s->nsub,
			.producer_location = bound,
		};

		if (SH.master.register_partition(mst, &ps, &mine[i]) != 0)
			die("register", sl_errdetail());
	}
	descs_out(mine, s->np);
	line = line_in(stdin, "peer");
	nall = 0;
	if (self == 1)
		nall = descs_in(line, all, 2 * MAX_TASKS);
	for (uint32_t i = 0; i < s->np; i++)
		all[nall++] = mine[i];
	if (self == 0)
		nall += descs_in(line, all + nall, 2 * MAX_TASKS - nall);
	free(line);
	if (nall != s->nprod)
		die("peer", "descriptors missing");

	for (uint32_t i = 0; i < s->np; i++) {
		struct task *t = &wk->prod[i];

		*t = (struct task) { .wk = wk, .id = s->pbase + i };
		if ((t->st = calloc(1, SH.writer.state_size + 1)) == NULL ||
		    SH.writer.open(t->st, h, mine[i].data, mine[i].len) != 0)
			die("writer", sl_errdetail());
	}
	for (uint32_t i = 0; i < s->nc; i++) {
		struct task *t = &wk->cons[i];
		struct sl_reader_spec spec = {
			.struct_size = sizeof(spec),
			.descriptors = all,
			.num_descriptors = nall,
			.sub_lo = s->cbase + i,
			.sub_hi = s->cbase + i,
			.notify = bench_notify,
			.notify_arg = &t->w,
			.credits = credits,
		};

		*t = (struct task) { .wk = wk, .id = s->cbase + i };
		t->w = (struct bench_waiter) { PTHREAD_MUTEX_INITIALIZER,
			PTHREAD_COND_INITIALIZER, false };
		if ((t->st = calloc(1, SH.reader.state_size + 1)) == NULL ||
		    SH.reader.open(t->st, h, &spec) != 0)
			die("reader", sl_errdetail());
	}
	printf("ready\n");
	fflush(stdout);
	free(line_in(stdin, "peer"));

	t0 = bench_now();
	for (uint32_t i = 0; i < s->np; i++)
		if (pthread_create(
		        &wk->prod[i].th, NULL, produce, &wk->prod[i]) != 0)
			die("peer", "thread");
	for (uint32_t i = 0; i < s->nc; i++)
		if (pthread_create(
		        &wk->cons[i].th, NULL, consume, &wk->cons[i]) != 0)
			die("peer", "thread");
	for (uint32_t i = 0; i < s->np; i++) {
		pthread_join(wk->prod[i].th, NULL);
		if (wk->prod[i].err != NULL)
			die("producer", wk->prod[i].err);
	}
	for (uint32_t i = 0; i < s->nc; i++) {
		pthread_join(wk->cons[i].th, NULL);
		if (wk->cons[i].err != NULL)
			die("consumer", wk->cons[i].err);
		local += wk->cons[i].local;
		remote += wk->cons[i].remote;
	}
	printf("%llu %llu %.6f\n", (unsigned long long)local,
	    (unsigned long long)remote, bench_now() - t0);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;

	for (uint32_t i = 0; i < s->nc; i++) {
		SH.reader.fini(wk->cons[i].st);
		free(wk->cons[i].st);
	}
	for (uint32_t i = 0; i < s->np; i++) {
		SH.writer.fini(wk->prod[i].st);
		free(wk->prod[i].st);
		SH.master.release_partition(mst, mine[i].data, mine[i].len);
		h->free(mine[i].data);
	}
	for (uint32_t i = 0; i < nall; i++)
		if (i < s->pbase || i >= s->pbase + s->np)
			free(all[i].data);
	SH.master.fini(mst);
	SH.server.stop();
	free(mst);
	free(wk);
	sli_plugin_set_clear(&set);
	return 0;
}

#undef SH

/* ---- raw nng: the same bytes, messages and parallelism ---- */

/* One stream each way per producer task that has a consumer on the other
 * side: P push sockets out, P pull sockets in, a thread each. */
struct stream {
	nng_socket sock;
	uint32_t id;
	uint64_t n; /* messages */
	size_t bufsz;
	const char *err;
	pthread_t th;
};

static void *
raw_send(void *arg)
{
	struct stream *st = arg;

	for (uint64_t i = 0; i < st->n && st->err == NULL; i++) {
		nng_msg *m;
		int rv;

		if ((rv = nng_msg_alloc(&m, st->bufsz)) != 0) {
			st->err = nng_strerror(rv);
			break;
		}
		fill(nng_msg_body(m), st->bufsz, st->id, 0, i);
		if ((rv = nng_sendmsg(st->sock, m, 0)) != 0) {
			nng_msg_free(m);
			st->err = nng_strerror(rv);
		}
	}
	return NULL;
}

static void *
raw_recv(void *arg)
{
	struct stream *st = arg;

	for (uint64_t i = 0; i < st->n && st->err == NULL; i++) {
		nng_msg *m;
		int rv;

		if ((rv = nng_recvmsg(st->sock, &m, 0)) != 0) {
			st->err = nng_strerror(rv);
			break;
		}
		if (!check(nng_msg_body(m), nng_msg_len(m), st->bufsz, st->id,
		        0, i, false))
			st->err = "a message out of order, or wrong";
		nng_msg_free(m);
	}
	return NULL;
}

/*
 * Child "raw": listens with its pushers (ipc in dir, or tcp on a port of
 * the kernel's choice), prints their URLs, reads the other's and dials
 * them, prints "ready", waits for a line, moves the messages and prints
 * "BYTES SECONDS" (bytes received); then waits for stdin to close.
 */
int
raw_peer(const char *dir, int self, const struct shape *s)
{
	uint32_t nout = s->np ? s->tasks : 0;
	uint32_t nin = s->nc ? s->tasks : 0;
	uint64_t n = s->one_way ? s->nbuf : s->nbuf / 2, got = 0;
	struct stream *out = calloc(MAX_TASKS, sizeof(*out));
	struct stream *in = calloc(MAX_TASKS, sizeof(*in));
	char *line, *save = NULL, *tok;
	double t0;
	char c;
	int rv;

	if (out == NULL || in == NULL)
		die("raw", "out of memory");
	for (uint32_t k = 0; k < nout; k++) {
		char url[600];
		nng_listener l;
		int port;

		out[k] = (struct stream) { .id = k, .n = n, .bufsz = s->bufsz };
		if (strcmp(dir, "tcp") == 0)
			snprintf(url, sizeof(url), "tcp://127.0.0.1:0");
		else
			snprintf(url, sizeof(url), "ipc://%s/raw%d.%u.sock",
			    dir, self, k);
		if ((rv = nng_push0_open(&out[k].sock)) != 0 ||
		    (rv = nng_listen(out[k].sock, url, &l, 0)) != 0)
			die("raw listen", nng_strerror(rv));
		if (strcmp(dir, "tcp") == 0 &&
		    nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port) == 0)
			snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);
		printf("%s%s", k ? " " : "", url);
	}
	printf(nout ? "\n" : "-\n");
	fflush(stdout);
	line = line_in(stdin, "raw");
	for (uint32_t k = 0; k < nin; k++) {
		if ((tok = strtok_r(k ? NULL : line, " \n", &save)) == NULL)
			die("raw", "a URL missing");
		in[k] = (struct stream) { .id = k, .n = n, .bufsz = s->bufsz };
		if ((rv = nng_pull0_open(&in[k].sock)) != 0 ||
		    (rv = nng_socket_set_size(
		         in[k].sock, NNG_OPT_RECVMAXSZ, 0)) != 0 ||
		    (rv = nng_dial(in[k].sock, tok, NULL, 0)) != 0)
			die("raw dial", nng_strerror(rv));
	}
	free(line);
	printf("ready\n");
	fflush(stdout);
	free(line_in(stdin, "raw"));

	t0 = bench_now();
	for (uint32_t k = 0; k < nout; k++)
		if (pthread_create(&out[k].th, NULL, raw_send, &out[k]) != 0)
			die("raw", "thread");
	for (uint32_t k = 0; k < nin; k++)
		if (pthread_create(&in[k].th, NULL, raw_recv, &in[k]) != 0)
			die("raw", "thread");
	for (uint32_t k = 0; k < nout; k++) {
		pthread_join(out[k].th, NULL);
		if (out[k].err != NULL)
			die("raw push", out[k].err);
	}
	for (uint32_t k = 0; k < nin; k++) {
		pthread_join(in[k].th, NULL);
		if (in[k].err != NULL)
			die("raw pull", in[k].err);
		got += in[k].n * in[k].bufsz;
	}
	printf("%llu %.6f\n", (unsigned long long)got, bench_now() - t0);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	for (uint32_t k = 0; k < nin; k++)
		nng_close(in[k].sock);
	for (uint32_t k = 0; k < nout; k++)
		nng_close(out[k].sock);
	free(in);
	free(out);
	return 0;
}
