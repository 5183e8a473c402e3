/*
 * The memory plugin's pipelined shuffle between two worker processes,
 * beside references measured in the same run: raw nng push/pull moving the
 * same bytes in messages of the same size with the same parallelism,
 * MPI_Alltoallv of Open MPI (mpi_alltoallv beside this program, mpirun -np
 * 2, shared memory or tcp) on the same volume and message size, and
 * single-thread memcpy. Then the sweeps for bench/run's plots: throughput
 * against the tasks per worker and against the buffer size.
 *
 *   shuffle_net [--mib N] [--tasks P] [--buffer BYTES] [--credits C]
 *               [--runs R] [--ipc | --tcp] [--one-way] [--no-sweep]
 *               [--sweep-mib N] [--no-mpi] [--quick]
 *
 * The all-to-all (the default): each of two processes plays a worker with
 * P producer and P consumer tasks of one all_to_all edge, 2P tasks a side
 * in all. A producer writes its share of the worker's N MiB into a
 * partition of 2P subpartitions, round robin; consumer c reads subpartition
 * c of all 2P partitions, so half of what a worker writes stays in it
 * (handed over without a socket) and half crosses to the other. The figure
 * counts what crosses, both ways together (N MiB a run): bytes a worker
 * reads from itself are not counted, as raw nng and MPI do not move them
 * across. --one-way: process 0 has the P producers, process 1 the P
 * consumers, everything crosses, one way (no MPI reference).
 *
 * Every run checks that each consumer got every buffer of every producer,
 * in order, by the header each buffer starts with, and that the bytes read
 * add up; one untimed run per transport checks every byte. MPI missing
 * (not built, or mpirun failing) is a failure, after the other figures;
 * --no-mpi leaves it out on purpose.
 *
 * The parent only spawns children and reads their lines; it never touches
 * nng, so each child is a process as a worker is.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>

#include <sluice/errors.h>

#include "plugin/loader.h"

#include "bench_util.h"

extern char **environ;

#define MAX_TASKS 256
#define MAX_RUNS 32

/* ---- the data: what every buffer and message carries ---- */

/* At the start of every buffer: read back in order by every consumer. */
struct head {
	uint32_t producer, sub;
	uint64_t seq; /* of this producer's buffers for this sub */
};

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

/* ---- who does what ---- */

/*
 * The edge's shape, the same in both children: producers of process 0
 * are the partitions [0, prod0), those of process 1 follow; consumer c
 * reads subpartition c of every partition.
 */
struct shape {
	bool one_way;
	uint32_t tasks; /* P */
	uint64_t nbuf;  /* buffers per producer, a multiple of nsub */
	size_t bufsz;   /* bytes per buffer and message */
	uint32_t nprod; /* producers, both processes */
	uint32_t nsub;  /* consumers, both processes */
	uint32_t prod0; /* producers in process 0 */
	uint32_t pbase; /* this process's producers: [pbase, pbase + np) */
	uint32_t np;
	uint32_t cbase; /* its consumers: [cbase, cbase + nc) */
	uint32_t nc;
};

static struct shape
shape_of(bool one_way, uint32_t tasks, uint64_t mib, size_t bufsz, int self)
{
	struct shape s = { .one_way = one_way, .tasks = tasks, .bufsz = bufsz };
	uint64_t per = ((mib << 20) + (uint64_t)tasks * bufsz - 1) /
	    ((uint64_t)tasks * bufsz);

	s.nprod = one_way ? tasks : 2 * tasks;
	s.nsub = one_way ? tasks : 2 * tasks;
	s.prod0 = tasks;
	s.nbuf = (per + s.nsub - 1) / s.nsub * s.nsub;
	s.np = one_way && self == 1 ? 0 : tasks;
	s.pbase = self == 0 ? 0 : s.prod0;
	s.nc = one_way && self == 0 ? 0 : tasks;
	s.cbase = one_way ? 0 : (uint32_t)self * tasks;
	return s;
}

/* Bytes that cross processes in a run: N MiB, rounded up to whole buffers
 * over whole subpartitions. */
static uint64_t
cross_bytes(const struct shape *s)
{
	return (uint64_t)s->tasks * s->nbuf * s->bufsz;
}

static _Noreturn void
die(const char *what, const char *why)
{
	bench_die("%s: %s", what, why);
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

static char *
line_in(FILE *f, const char *who)
{
	char *line = NULL;
	size_t cap = 0;

	if (getline(&line, &cap, f) < 0)
		die(who, "no line from the other side");
	return line;
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

static int
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
static int
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

/* ---- the parent ---- */

struct child {
	pid_t pid;
	FILE *out; /* its stdout */
	int in;    /* its stdin */
};

/* argv[0] without a '/' is looked up in PATH. false when it cannot start. */
static bool
spawn(char *const argv[], struct child *c)
{
	int o[2], i[2], rv;
	posix_spawn_file_actions_t fa;

	/* close-on-exec: a later child must not hold this one's pipes */
	if (pipe2(o, O_CLOEXEC) != 0 || pipe2(i, O_CLOEXEC) != 0)
		die("pipe", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, o[1], 1);
	posix_spawn_file_actions_adddup2(&fa, i[0], 0);
	rv = posix_spawnp(&c->pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(o[1]);
	close(i[0]);
	if (rv != 0) {
		close(o[0]);
		close(i[1]);
		errno = rv;
		return false;
	}
	c->out = fdopen(o[0], "r");
	c->in = i[1];
	return true;
}

/* Close its stdin, wait: whether it exited 0. */
static bool
reap(struct child *c)
{
	int st;

	close(c->in);
	fclose(c->out);
	return waitpid(c->pid, &st, 0) == c->pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0;
}

static void
send_line(struct child *c, const char *line)
{
	size_t n = strlen(line);

	if (write(c->in, line, n) != (ssize_t)n || write(c->in, "\n", 1) != 1)
		die("child", "cannot write to it");
}

struct setup {
	const char *exe, *dir, *mpi; /* mpi: NULL when not built */
	bool tcp, one_way;
	uint32_t tasks, credits;
	uint64_t mib;
	size_t bufsz;
};

/* Both children started, their first lines swapped, "ready" awaited,
 * then started together. */
static void
start_pair(struct child p[2], char *argv[2][16], const char *what)
{
	char *line[2];

	for (int i = 0; i < 2; i++) {
		if (!spawn(argv[i], &p[i]))
			die(what, "cannot start it");
		line[i] = line_in(p[i].out, what);
		line[i][strcspn(line[i], "\n")] = '\0';
	}
	send_line(&p[0], line[1]);
	send_line(&p[1], line[0]);
	for (int i = 0; i < 2; i++) {
		free(line[i]);
		line[i] = line_in(p[i].out, what);
		if (strcmp(line[i], "ready\n") != 0)
			die(what, "not ready");
		free(line[i]);
	}
	for (int i = 0; i < 2; i++)
		send_line(&p[i], "go");
}

static void
args_of(char *argv[16], char num[8][32], const struct setup *u, int self,
    const char *role, const char *where)
{
	int k = 0;

	snprintf(num[0], 32, "%d", self);
	snprintf(num[1], 32, "%u", u->tasks);
	snprintf(num[2], 32, "%llu", (unsigned long long)u->mib);
	snprintf(num[3], 32, "%zu", u->bufsz);
	snprintf(num[4], 32, "%u", u->credits);
	argv[k++] = (char *)u->exe;
	argv[k++] = (char *)role;
	argv[k++] = (char *)where;
	argv[k++] = num[0];
	argv[k++] = u->one_way ? "one-way" : "all-to-all";
	for (int i = 1; i < 5; i++)
		argv[k++] = num[i];
	argv[k] = NULL;
}

/* One run of the memory shuffle: GB/s of what crossed; *all_gbs: of
 * everything read. full: every byte checked (not a timed run). */
static double
run_shuffle(const struct setup *u, bool full, double *all_gbs)
{
	struct shape s = shape_of(u->one_way, u->tasks, u->mib, u->bufsz, 0);
	char *argv[2][16], num[2][8][32], url[2][600];
	unsigned long long local[2], remote[2];
	double secs[2], mx = 0;
	struct child p[2];

	for (int i = 0; i < 2; i++) {
		if (u->tcp)
			snprintf(url[i], sizeof(url[i]), "tcp://127.0.0.1:0");
		else
			snprintf(url[i], sizeof(url[i]), "ipc://%s/peer%d.sock",
			    u->dir, i);
		args_of(argv[i], num[i], u, i, "peer", url[i]);
		argv[i][9] = full ? "full" : "headers";
		argv[i][10] = NULL;
	}
	start_pair(p, argv, "peer");
	for (int i = 0; i < 2; i++) {
		if (fscanf(p[i].out, "%llu %llu %lf", &local[i], &remote[i],
		        &secs[i]) != 3)
			die("peer", "no figure");
		mx = secs[i] > mx ? secs[i] : mx;
	}
	for (int i = 0; i < 2; i++)
		if (!reap(&p[i]))
			die("peer", "failed");
	/* every consumer read every byte meant for it, in order (checked
	 * there); here the totals */
	if (remote[0] + remote[1] != cross_bytes(&s) ||
	    local[0] + local[1] != (u->one_way ? 0 : cross_bytes(&s)))
		die("peer", "bytes read differ from bytes written");
	*all_gbs =
	    (double)(local[0] + local[1] + remote[0] + remote[1]) / mx / 1e9;
	return (double)(remote[0] + remote[1]) / mx / 1e9;
}

/* One run of raw nng: GB/s of what crossed. */
static double
run_raw(const struct setup *u)
{
	struct shape s = shape_of(u->one_way, u->tasks, u->mib, u->bufsz, 0);
	char *argv[2][16], num[2][8][32];
	unsigned long long got[2];
	double secs[2], mx = 0;
	struct child p[2];

	for (int i = 0; i < 2; i++)
		args_of(argv[i], num[i], u, i, "raw", u->tcp ? "tcp" : u->dir);
	start_pair(p, argv, "raw");
	for (int i = 0; i < 2; i++) {
		if (fscanf(p[i].out, "%llu %lf", &got[i], &secs[i]) != 2)
			die("raw", "no figure");
		mx = secs[i] > mx ? secs[i] : mx;
	}
	for (int i = 0; i < 2; i++)
		if (!reap(&p[i]))
			die("raw", "failed");
	if (got[0] + got[1] != cross_bytes(&s))
		die("raw", "bytes received differ from bytes sent");
	return (double)(got[0] + got[1]) / mx / 1e9;
}

/* Why MPI was not measured, "" while it was. */
static char mpi_missing[PATH_MAX + 200];

/* R runs of MPI_Alltoallv under one mpirun into gbs[0..runs), over the
 * shared memory btl (vader) or tcp on loopback; each rank writes what a
 * worker writes, in messages of the buffer size. false, with mpi_missing
 * said, when it could not run. */
static bool
run_mpi(const struct setup *u, bool tcp, uint32_t runs, bool full, double *gbs)
{
	struct shape s = shape_of(false, u->tasks, u->mib, u->bufsz, 0);
	char bytes[32], count[32], nruns[32];
	char *argv[40];
	struct child c;
	int k = 0;

	if (u->mpi == NULL || mpi_missing[0] != '\0')
		return false; /* not built, or it failed once already */
	snprintf(
	    bytes, sizeof(bytes), "%llu", (unsigned long long)cross_bytes(&s));
	snprintf(count, sizeof(count), "%zu", u->bufsz);
	snprintf(nruns, sizeof(nruns), "%u", runs);
	argv[k++] = "mpirun";
	if (geteuid() == 0)
		argv[k++] = "--allow-run-as-root";
	argv[k++] = "--oversubscribe";
	argv[k++] = "--bind-to"; /* the sluice processes are not bound */
	argv[k++] = "none";
	argv[k++] = "-np";
	argv[k++] = "2";
	argv[k++] = "--mca";
	argv[k++] = "pml";
	argv[k++] = "ob1";
	argv[k++] = "--mca";
	argv[k++] = "btl";
	argv[k++] = tcp ? "self,tcp" : "self,vader";
	/* A rank waiting in a collective polls; on a machine whose cores
	 * are shared it must yield, or it spins on the core its partner
	 * needs (5 to 10 times slower with other work running). */
	argv[k++] = "--mca";
	argv[k++] = "mpi_yield_when_idle";
	argv[k++] = "1";
	if (tcp) {
		argv[k++] = "--mca";
		argv[k++] = "btl_tcp_if_include";
		argv[k++] = "lo";
	}
	argv[k++] = (char *)u->mpi;
	argv[k++] = "--bytes";
	argv[k++] = bytes;
	argv[k++] = "--count";
	argv[k++] = count;
	argv[k++] = "--runs";
	argv[k++] = nruns;
	if (full)
		argv[k++] = "--check";
	argv[k] = NULL;
	if (!spawn(argv, &c)) {
		snprintf(mpi_missing, sizeof(mpi_missing),
		    "mpirun cannot be started (%s): install openmpi-bin",
		    strerror(errno));
		return false;
	}
	for (uint32_t r = 0; r < runs; r++) {
		unsigned long long b;
		double t;

		if (fscanf(c.out, "%llu %lf", &b, &t) != 2 || t <= 0) {
			snprintf(mpi_missing, sizeof(mpi_missing),
			    "mpirun %s gave no figure (its messages above)",
			    u->mpi);
			reap(&c);
			return false;
		}
		if (b != cross_bytes(&s))
			die("mpi_alltoallv", "bytes received differ");
		gbs[r] = (double)b / t / 1e9;
	}
	if (!reap(&c)) {
		snprintf(mpi_missing, sizeof(mpi_missing), "mpirun failed");
		return false;
	}
	return true;
}

/* One configuration, R runs: medians of the memory shuffle, raw nng, and
 * all the shuffle read. */
struct figures {
	double shuf, raw, all;
};

static struct figures
measure(const struct setup *u, uint32_t runs)
{
	double shuf[MAX_RUNS], raw[MAX_RUNS], all[MAX_RUNS];
	struct figures f;

	for (uint32_t r = 0; r < runs; r++) {
		bench_check_stop();
		shuf[r] = run_shuffle(u, false, &all[r]);
		raw[r] = run_raw(u);
	}
	f.shuf = bench_median(shuf, runs);
	f.raw = bench_median(raw, runs);
	f.all = bench_median(all, runs);
	return f;
}

static double
mpi_median(const struct setup *u, bool tcp, uint32_t runs)
{
	double v[MAX_RUNS];

	return run_mpi(u, tcp, runs, false, v) ? bench_median(v, runs) : 0;
}

/* The figure and its references, printed and given to bench/run. */
static void
headline(struct setup *u, uint32_t runs, double mc)
{
	const char *tr = u->tcp ? "tcp" : "ipc";
	const char *btl = u->tcp ? "tcp" : "vader";
	struct setup chk = *u;
	struct shape s = shape_of(u->one_way, u->tasks, u->mib, u->bufsz, 0);
	char name[64], ref[64], cred[32], raw[64];
	struct figures f;
	double mpi = 0, ignored;

	/* every byte of one untimed run checked, at most 256 MiB */
	chk.mib = u->mib < 256 ? u->mib : 256;
	run_shuffle(&chk, true, &ignored);
	if (!u->one_way && u->mpi != NULL) {
		double v[1];

		run_mpi(&chk, u->tcp, 1, true, v);
	}
	f = measure(u, runs);
	if (!u->one_way)
		mpi = mpi_median(u, u->tcp, runs);

	snprintf(cred, sizeof(cred), "%u", u->credits);
	snprintf(raw, sizeof(raw), "raw nng push/pull, %u stream%s %s",
	    u->tasks, u->tasks > 1 ? "s" : "",
	    u->one_way ? "one way" : "each way");
	printf("\n%s over %s: %u producer and %u consumer tasks %s, "
	       "%.0f MiB written by %s, %zu-byte buffers, %s credits; "
	       "medians of %u runs. GB/s of the bytes that cross processes%s "
	       "(%.0f MiB a run)%s.\n",
	    u->one_way ? "one-way" : "all-to-all", tr, u->tasks, u->tasks,
	    u->one_way ? "(in two processes)" : "on each of two workers",
	    (double)cross_bytes(&s) / (1 << 20),
	    u->one_way ? "the producers" : "each worker", u->bufsz,
	    u->credits ? cred : "the plugin's default", runs,
	    u->one_way ? "" : ", both ways together",
	    (double)cross_bytes(&s) / (1 << 20),
	    u->one_way ? ""
	               : "; what a worker reads from itself is not counted");
	printf("%-52s %8s %14s\n", "", "GB/s", "sluice / this");
	printf("%-52s %8.2f\n", "memory shuffle, across processes", f.shuf);
	printf("%-52s %8.2f %14.2f\n", raw, f.raw, f.shuf / f.raw);
	if (!u->one_way && mpi > 0)
		printf("MPI_Alltoallv, Open MPI, btl %-23s %8.2f %14.2f\n", btl,
		    mpi, f.shuf / mpi);
	else if (!u->one_way)
		printf("MPI_Alltoallv, Open MPI, btl %-23s %8s (%s)\n", btl,
		    "-",
		    u->mpi == NULL && mpi_missing[0] == '\0'
		        ? "--no-mpi"
		        : "not measured: see the end");
	printf("%-52s %8.2f %14.2f\n", "memcpy, one thread", mc, f.shuf / mc);
	if (!u->one_way)
		printf("%-52s %8.2f\n",
		    "memory shuffle, all read (own partitions too)", f.all);

	snprintf(name, sizeof(name), "shuffle %s %s",
	    u->one_way ? "one-way" : "all-to-all", tr);
	snprintf(ref, sizeof(ref), "raw nng %s", tr);
	bench_result(name, f.shuf, "GB/s", ref, f.raw, f.shuf / f.raw, 0.5);
	bench_result(name, f.shuf, "GB/s", "memcpy", mc, f.shuf / mc, 0);
	if (!u->one_way && mpi > 0) {
		snprintf(ref, sizeof(ref), "MPI_Alltoallv %s", btl);
		bench_result(name, f.shuf, "GB/s", ref, mpi, f.shuf / mpi, 0);
	}
}

/* The plots: against the tasks per worker, then the buffer size. */
static void
sweeps(const struct setup *u0, uint32_t runs, uint64_t mib)
{
	static const uint32_t tasks[] = { 1, 2, 4, 8, 16, 32 };
	static const size_t sizes[] = { 4096, 16384, 65536, 262144, 1048576 };
	const char *tr = u0->tcp ? "tcp" : "ipc";
	const char *y = "GB/s across processes";
	char s_shuf[64], s_raw[64], s_mpi[64];
	struct setup u = *u0;

	u.mib = mib;
	snprintf(s_shuf, sizeof(s_shuf), "memory shuffle (%s)", tr);
	snprintf(s_raw, sizeof(s_raw), "raw nng (%s)", tr);
	snprintf(s_mpi, sizeof(s_mpi), "MPI_Alltoallv (%s)",
	    u0->tcp ? "tcp" : "vader");
	printf("\nsweeps over %s, %llu MiB a run, medians of %u runs\n", tr,
	    (unsigned long long)mib, runs);
	printf("%8s %10s %8s %8s %8s %8s\n", "tasks", "buffer", "shuffle",
	    "raw nng", "ratio", "MPI");
	for (size_t i = 0; i < sizeof(tasks) / sizeof(tasks[0]); i++) {
		struct figures f;

		u.tasks = tasks[i];
		f = measure(&u, runs);
		printf("%8u %10zu %8.2f %8.2f %8.2f\n", u.tasks, u.bufsz,
		    f.shuf, f.raw, f.shuf / f.raw);
		fflush(stdout);
		bench_point("shuffle_vs_tasks", "tasks per worker", y, s_shuf,
		    u.tasks, f.shuf);
		bench_point("shuffle_vs_tasks", "tasks per worker", y, s_raw,
		    u.tasks, f.raw);
	}
	u.tasks = u0->tasks;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		const char *x = "buffer and message size (KiB)";
		struct figures f;
		double mpi = 0;

		u.bufsz = sizes[i];
		f = measure(&u, runs);
		if (!u.one_way)
			mpi = mpi_median(&u, u.tcp, runs);
		printf("%8u %10zu %8.2f %8.2f %8.2f", u.tasks, u.bufsz, f.shuf,
		    f.raw, f.shuf / f.raw);
		if (mpi > 0)
			printf(" %8.2f", mpi);
		printf("\n");
		fflush(stdout);
		bench_point("shuffle_vs_buffer", x, y, s_shuf,
		    (double)u.bufsz / 1024, f.shuf);
		bench_point("shuffle_vs_buffer", x, y, s_raw,
		    (double)u.bufsz / 1024, f.raw);
		if (mpi > 0)
			bench_point("shuffle_vs_buffer", x, y, s_mpi,
			    (double)u.bufsz / 1024, mpi);
	}
}

static const char usage[] =
    "usage: shuffle_net [--mib N] [--tasks P] [--buffer BYTES] "
    "[--credits C] [--runs R]\n"
    "                   [--ipc | --tcp] [--one-way] [--no-sweep] "
    "[--sweep-mib N] [--no-mpi] [--quick]\n";

/* A child's shape from its arguments: SELF MODE P MIB BUFSZ. */
static struct shape
child_shape(char **a, int *self)
{
	*self = atoi(a[0]);
	return shape_of(strcmp(a[1], "one-way") == 0, (uint32_t)atoi(a[2]),
	    strtoull(a[3], NULL, 10), (size_t)atol(a[4]), *self);
}

int
main(int argc, char **argv)
{
	static char exe[PATH_MAX], mpi[PATH_MAX + 32];
	struct setup u = {
		.exe = exe, .tasks = 2, .mib = 1024, .bufsz = 32 << 10
	};
	uint64_t sweep_mib = UINT64_MAX; /* unset */
	uint32_t runs = 3;
	bool ipc = true, tcp = true, sweep = true, no_mpi = false;
	struct shape s;
	double mc;
	ssize_t n;
	int self;

	bench_init("shuffle_net");
	/* A child ends with the parent: one whose peer died would wait for
	 * its data for ever. */
	if (argc > 1 &&
	    (strcmp(argv[1], "peer") == 0 || strcmp(argv[1], "raw") == 0) &&
	    prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
		return 1;
	/* children: peer URL SELF MODE P MIB BUFSZ CREDITS CHECK, raw DIR
	 * SELF MODE P MIB BUFSZ CREDITS */
	if (argc == 10 && strcmp(argv[1], "peer") == 0) {
		s = child_shape(argv + 3, &self);
		return peer(argv[2], self, &s, (uint32_t)atoi(argv[8]),
		    strcmp(argv[9], "full") == 0);
	}
	if (argc == 9 && strcmp(argv[1], "raw") == 0) {
		s = child_shape(argv + 3, &self);
		return raw_peer(argv[2], self, &s);
	}

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";

		if (strcmp(a, "--mib") == 0 && ++i)
			u.mib = bench_count_arg(v, 1 << 20);
		else if (strcmp(a, "--tasks") == 0 && ++i)
			u.tasks = (uint32_t)bench_count_arg(v, MAX_TASKS / 2);
		else if (strcmp(a, "--buffer") == 0 && ++i)
			u.bufsz = (size_t)bench_count_arg(v, 64 << 20);
		else if (strcmp(a, "--credits") == 0 && ++i)
			u.credits = (uint32_t)bench_count_arg(v, 65536);
		else if (strcmp(a, "--runs") == 0 && ++i)
			runs = (uint32_t)bench_count_arg(v, MAX_RUNS);
		else if (strcmp(a, "--sweep-mib") == 0 && ++i)
			sweep_mib = bench_count_arg(v, 1 << 20);
		else if (strcmp(a, "--ipc") == 0)
			tcp = false;
		else if (strcmp(a, "--tcp") == 0)
			ipc = false;
		else if (strcmp(a, "--one-way") == 0)
			u.one_way = true;
		else if (strcmp(a, "--all-to-all") == 0)
			u.one_way =
			    false; /* the default; the flag it once was */
		else if (strcmp(a, "--no-sweep") == 0)
			sweep = false;
		else if (strcmp(a, "--no-mpi") == 0)
			no_mpi = true;
		else if (strcmp(a, "--quick") == 0) {
			u.mib = 256;
			runs = 3;
		} else {
			fputs(usage, stderr);
			return 2;
		}
	}
	if (u.mib == 0 || u.tasks == 0 || u.bufsz < sizeof(struct head) ||
	    runs == 0 || (!ipc && !tcp) || sweep_mib == 0) {
		fputs(usage, stderr);
		return 2;
	}
	if (sweep_mib == UINT64_MAX)
		sweep_mib = u.mib / 4 > 64 ? u.mib / 4 : 64;
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) < 0)
		die("readlink", strerror(errno));
	exe[n] = '\0';
	snprintf(mpi, sizeof(mpi), "%.*s/mpi_alltoallv",
	    (int)(strrchr(exe, '/') - exe), exe);
	if (no_mpi || u.one_way)
		u.mpi = NULL;
	else if (access(mpi, X_OK) == 0)
		u.mpi = mpi;
	else
		snprintf(mpi_missing, sizeof(mpi_missing),
		    "%s is missing: MPI was not found when this was built "
		    "(install libopenmpi-dev and openmpi-bin, then cmake "
		    "again)",
		    mpi);
	signal(SIGPIPE, SIG_IGN);
	bench_catch_signals();
	u.dir = bench_scratch_dir(NULL, "shuffle-net");

	mc = bench_memcpy_gbs();
	for (int t = 0; t < 2; t++) {
		u.tcp = t == 1;
		if (u.tcp ? tcp : ipc)
			headline(&u, runs, mc);
	}
	if (sweep) {
		u.tcp = !ipc;
		sweeps(&u, runs, sweep_mib);
	}
	if (no_mpi)
		printf("\nMPI_Alltoallv: skipped (--no-mpi)\n");
	else if (u.one_way)
		printf("\nMPI_Alltoallv: an all-to-all reference, not run "
		       "with --one-way\n");
	else if (mpi_missing[0] != '\0') {
		fprintf(stderr, "shuffle_net: MPI_Alltoallv not measured: %s\n",
		    mpi_missing);
		return 1;
	}
	return 0;
}
