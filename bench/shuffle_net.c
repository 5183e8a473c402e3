/*
 * The memory shuffle between two worker processes, beside the limits
 * measured in the same run: raw nng (push/pull of the same buffers between
 * the same two kinds of processes) and single-thread memcpy.
 *
 *   shuffle_net [--mib N] [--subs S] [--buffer BYTES] [--credits C (default:
 * the plugin's)]
 *               [--url-dir DIR] [--tcp] [--runs R]
 *
 * A producer process starts the plugin's server (as a worker does),
 * registers one partition of S subpartitions with itself as location, and
 * writes N MiB in buffers of --buffer bytes round robin over the
 * subpartitions; a consumer process (a server of its own, so the partition
 * is remote to it) reads all S subpartitions with C credits each and times
 * from its first buffer to the end. The raw nng figure moves the same bytes
 * in messages of the same size over push/pull. Each figure is the median of
 * --runs. The parent only spawns and reads: it never touches nng.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>

#include <sluice/errors.h>

#include "plugin/loader.h"

#include "bench_util.h"

extern char **environ;

static _Noreturn void
die(const char *what, const char *why)
{
	fprintf(stderr, "shuffle_net: %s: %s\n", what, why);
	exit(1);
}

static struct sli_plugin *
memory_plugin(struct sli_plugin_set *set)
{
	struct sli_plugin *p;

	if (sli_plugin_set_load_default(set, NULL, 0) < 0)
		die("plugins", sl_errdetail());
	if ((p = sli_plugin_set_find(set, SL_PLUGIN_SHUFFLE, "memory")) == NULL)
		die("plugins", "no memory shuffle plugin");
	return p;
}

static void
hex_out(const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
	printf("\n");
	fflush(stdout);
}

static size_t
hex_in(const char *s, unsigned char *out, size_t cap)
{
	size_t n = 0;

	while (s[0] && s[1] && n < cap) {
		unsigned v;

		if (sscanf(s, "%2x", &v) != 1)
			break;
		out[n++] = (unsigned char)v;
		s += 2;
	}
	return n;
}

/* Producer: prints its descriptor, writes, then waits for stdin to close
 * (the consumer is done) before it stops serving. */
static int
producer(const char *url, uint64_t bytes, uint32_t subs, size_t bufsz)
{
	struct sli_plugin_set set = { 0 };
	struct sli_plugin *p = memory_plugin(&set);
	const struct sl_host *h = &p->host;
	char bound[512], c;
	void *mst = calloc(1, p->ops.shuffle.master.state_size + 1);
	void *wst = calloc(1, p->ops.shuffle.writer.state_size + 1);
	struct sl_bytes desc;
	struct sl_partition_spec ps = {
		.struct_size = sizeof(ps),
		.type = SL_PARTITION_PIPELINED,
		.job_id = "bench",
		.num_subpartitions = subs,
		.producer_location = bound,
	};

	if (p->ops.shuffle.server.start(h, url, bound, sizeof(bound)) != 0)
		die("server", sl_errdetail());
	if (p->ops.shuffle.master.init(mst, h, NULL) != 0 ||
	    p->ops.shuffle.master.register_partition(mst, &ps, &desc) != 0 ||
	    p->ops.shuffle.writer.open(wst, h, desc.data, desc.len) != 0)
		die("producer", sl_errdetail());
	hex_out(desc.data, desc.len);
	for (uint64_t sent = 0, i = 0; sent < bytes; sent += bufsz, i++) {
		struct sl_buffer b = { .kind = SL_BUFFER_DATA, .len = bufsz };

		if ((b.data = h->alloc(bufsz)) == NULL)
			die("producer", "out of memory");
		memset(b.data, (int)(i & 0xff), bufsz);
		if (p->ops.shuffle.writer.write(
		        wst, (uint32_t)(i % subs), &b) != 0)
			die("write", sl_errdetail());
	}
	if (p->ops.shuffle.writer.finish(wst) != 0)
		die("finish", sl_errdetail());
	p->ops.shuffle.writer.fini(wst);
	while (read(0, &c, 1) > 0)
		;
	p->ops.shuffle.master.release_partition(mst, desc.data, desc.len);
	h->free(desc.data);
	p->ops.shuffle.master.fini(mst);
	p->ops.shuffle.server.stop();
	free(mst);
	free(wst);
	sli_plugin_set_clear(&set);
	return 0;
}

/* Consumer: reads everything, prints "BYTES SECONDS". */
static int
consumer(const char *url, const char *hex, uint32_t subs, uint32_t credits)
{
	struct sli_plugin_set set = { 0 };
	struct sli_plugin *p = memory_plugin(&set);
	const struct sl_host *h = &p->host;
	unsigned char d[4096];
	char bound[512];
	struct sl_bytes desc = { d, hex_in(hex, d, sizeof(d)) };
	struct bench_waiter w = { PTHREAD_MUTEX_INITIALIZER,
		PTHREAD_COND_INITIALIZER, false };
	struct sl_reader_spec spec = {
		.struct_size = sizeof(spec),
		.descriptors = &desc,
		.num_descriptors = 1,
		.sub_lo = 0,
		.sub_hi = subs - 1,
		.notify = bench_notify,
		.notify_arg = &w,
		.credits = credits,
	};
	void *rst = calloc(1, p->ops.shuffle.reader.state_size + 1);
	uint64_t bytes = 0;
	double t0 = 0;
	int rv;

	/* A worker serves its own partitions: with a server of its own the
	 * producer's partition is remote to this process. */
	if (p->ops.shuffle.server.start(h, url, bound, sizeof(bound)) != 0)
		die("server", sl_errdetail());
	if (p->ops.shuffle.reader.open(rst, h, &spec) != 0)
		die("reader", sl_errdetail());
	for (;;) {
		struct sl_buffer b;

		pthread_mutex_lock(&w.mtx);
		w.ready = false;
		pthread_mutex_unlock(&w.mtx);
		rv = p->ops.shuffle.reader.next(rst, &b);
		if (rv == 0) {
			if (t0 == 0)
				t0 = bench_now();
			bytes += b.len;
			p->ops.shuffle.reader.release(rst, &b);
			continue;
		}
		if (rv == SL_EEOF)
			break;
		if (rv != SL_EAGAIN)
			die("next", sl_errdetail());
		pthread_mutex_lock(&w.mtx);
		while (!w.ready)
			pthread_cond_wait(&w.cv, &w.mtx);
		pthread_mutex_unlock(&w.mtx);
	}
	printf("%llu %.6f\n", (unsigned long long)bytes, bench_now() - t0);
	fflush(stdout);
	p->ops.shuffle.reader.fini(rst);
	p->ops.shuffle.server.stop();
	free(rst);
	sli_plugin_set_clear(&set);
	return 0;
}

/* Raw nng, the same buffers: push (listens) -> pull (dials). */
static int
raw_push(const char *url, uint64_t bytes, size_t bufsz)
{
	nng_socket s;
	char c;
	int rv;

	if ((rv = nng_push0_open(&s)) != 0 ||
	    (rv = nng_listen(s, url, NULL, 0)))
		die("push", nng_strerror(rv));
	printf("ready\n");
	fflush(stdout);
	for (uint64_t sent = 0, i = 0; sent < bytes; sent += bufsz, i++) {
		nng_msg *m;

		if (nng_msg_alloc(&m, bufsz) != 0)
			die("push", "out of memory");
		memset(nng_msg_body(m), (int)(i & 0xff), bufsz);
		if ((rv = nng_sendmsg(s, m, 0)) != 0)
			die("push", nng_strerror(rv));
	}
	while (read(0, &c, 1) > 0)
		;
	nng_close(s);
	return 0;
}

static int
raw_pull(const char *url, uint64_t bytes)
{
	nng_socket s;
	uint64_t got = 0;
	double t0 = 0;
	int rv;

	if ((rv = nng_pull0_open(&s)) != 0 ||
	    (rv = nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, 0)) != 0 ||
	    (rv = nng_dial(s, url, NULL, 0)) != 0)
		die("pull", nng_strerror(rv));
	while (got < bytes) {
		nng_msg *m;

		if ((rv = nng_recvmsg(s, &m, 0)) != 0)
			die("pull", nng_strerror(rv));
		if (t0 == 0)
			t0 = bench_now();
		got += nng_msg_len(m);
		nng_msg_free(m);
	}
	printf("%llu %.6f\n", (unsigned long long)got, bench_now() - t0);
	fflush(stdout);
	nng_close(s);
	return 0;
}

/* ---- all-to-all between two peers ---- */

struct peer_writer {
	struct sli_plugin *p;
	void *wst;
	uint64_t bytes;
	size_t bufsz;
	int rv;
};

static void *
peer_write(void *arg)
{
	struct peer_writer *pw = arg;
	const struct sl_host *h = &pw->p->host;

	for (uint64_t sent = 0, i = 0; sent < pw->bytes;
	     sent += pw->bufsz, i++) {
		struct sl_buffer b = { .kind = SL_BUFFER_DATA,
			.len = pw->bufsz };

		if ((b.data = h->alloc(pw->bufsz)) == NULL) {
			pw->rv = SL_ENOMEM;
			return NULL;
		}
		memset(b.data, (int)(i & 0xff), pw->bufsz);
		/* half for each peer, as a 2 x 2 all_to_all edge sends */
		if ((pw->rv = pw->p->ops.shuffle.writer.write(
		         pw->wst, (uint32_t)(i % 2), &b)) != 0)
			return NULL;
	}
	pw->rv = pw->p->ops.shuffle.writer.finish(pw->wst);
	return NULL;
}

/*
 * Peer `self` of two: writes `bytes` into a partition of 2 subpartitions
 * (one per peer) while it reads its subpartition of both peers' partitions
 * (its own in memory, the other's over nng), as task self of a 2 -> 2
 * all_to_all edge does on its own worker. Prints its descriptor, reads the
 * other's from stdin, prints "BYTES_READ SECONDS", then waits for stdin to
 * close before it stops serving.
 */
static int
peer(const char *url, int self, uint64_t bytes, size_t bufsz, uint32_t credits)
{
	struct sli_plugin_set set = { 0 };
	struct sli_plugin *p = memory_plugin(&set);
	const struct sl_host *h = &p->host;
	char bound[512], line[8192], c;
	unsigned char other[4096];
	void *mst = calloc(1, p->ops.shuffle.master.state_size + 1);
	void *wst = calloc(1, p->ops.shuffle.writer.state_size + 1);
	void *rst = calloc(1, p->ops.shuffle.reader.state_size + 1);
	struct bench_waiter w = { PTHREAD_MUTEX_INITIALIZER,
		PTHREAD_COND_INITIALIZER, false };
	struct sl_bytes mine, descs[2];
	struct sl_partition_spec ps = {
		.struct_size = sizeof(ps),
		.type = SL_PARTITION_PIPELINED,
		.job_id = "bench-a2a",
		.producer = (uint32_t)self,
		.num_subpartitions = 2,
		.producer_location = bound,
	};
	struct sl_reader_spec spec = {
		.struct_size = sizeof(spec),
		.descriptors = descs,
		.num_descriptors = 2,
		.sub_lo = (uint32_t)self,
		.sub_hi = (uint32_t)self,
		.notify = bench_notify,
		.notify_arg = &w,
		.credits = credits,
	};
	struct peer_writer pw = { p, wst, bytes, bufsz, 0 };
	uint64_t got = 0;
	pthread_t th;
	double t0;
	int rv;

	if (p->ops.shuffle.server.start(h, url, bound, sizeof(bound)) != 0 ||
	    p->ops.shuffle.master.init(mst, h, NULL) != 0 ||
	    p->ops.shuffle.master.register_partition(mst, &ps, &mine) != 0)
		die("peer", sl_errdetail());
	hex_out(mine.data, mine.len);
	if (fgets(line, sizeof(line), stdin) == NULL)
		die("peer", "no descriptor from the other peer");
	descs[self] = mine;
	descs[1 - self] =
	    (struct sl_bytes) { other, hex_in(line, other, sizeof(other)) };
	if (p->ops.shuffle.writer.open(wst, h, mine.data, mine.len) != 0 ||
	    p->ops.shuffle.reader.open(rst, h, &spec) != 0)
		die("peer", sl_errdetail());
	t0 = bench_now();
	if (pthread_create(&th, NULL, peer_write, &pw) != 0)
		die("peer", "thread");
	for (;;) {
		struct sl_buffer b;

		pthread_mutex_lock(&w.mtx);
		w.ready = false;
		pthread_mutex_unlock(&w.mtx);
		rv = p->ops.shuffle.reader.next(rst, &b);
		if (rv == 0) {
			got += b.len;
			p->ops.shuffle.reader.release(rst, &b);
			continue;
		}
		if (rv == SL_EEOF)
			break;
		if (rv != SL_EAGAIN)
			die("next", sl_errdetail());
		pthread_mutex_lock(&w.mtx);
		while (!w.ready)
			pthread_cond_wait(&w.cv, &w.mtx);
		pthread_mutex_unlock(&w.mtx);
	}
	pthread_join(th, NULL);
	if (pw.rv != 0)
		die("write", sl_strerror(pw.rv));
	printf("%llu %.6f\n", (unsigned long long)got, bench_now() - t0);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	p->ops.shuffle.reader.fini(rst);
	p->ops.shuffle.writer.fini(wst);
	p->ops.shuffle.master.release_partition(mst, mine.data, mine.len);
	h->free(mine.data);
	p->ops.shuffle.master.fini(mst);
	p->ops.shuffle.server.stop();
	free(mst);
	free(wst);
	free(rst);
	sli_plugin_set_clear(&set);
	return 0;
}

/* Raw nng both ways at once: push `bytes` to the other peer while pulling
 * as much from it. Prints "BYTES SECONDS". */
struct raw_writer {
	nng_socket s;
	uint64_t bytes;
	size_t bufsz;
};

static void *
raw_write(void *arg)
{
	struct raw_writer *rw = arg;

	for (uint64_t sent = 0, i = 0; sent < rw->bytes;
	     sent += rw->bufsz, i++) {
		nng_msg *m;

		if (nng_msg_alloc(&m, rw->bufsz) != 0)
			die("push", "out of memory");
		memset(nng_msg_body(m), (int)(i & 0xff), rw->bufsz);
		if (nng_sendmsg(rw->s, m, 0) != 0)
			die("push", "send");
	}
	return NULL;
}

static int
raw_peer(const char *mine, const char *theirs, uint64_t bytes, size_t bufsz)
{
	struct raw_writer rw = { .bytes = bytes, .bufsz = bufsz };
	nng_socket pull;
	uint64_t got = 0;
	pthread_t th;
	double t0;
	char c;
	int rv;

	if ((rv = nng_push0_open(&rw.s)) != 0 ||
	    (rv = nng_listen(rw.s, mine, NULL, 0)) != 0 ||
	    (rv = nng_pull0_open(&pull)) != 0 ||
	    (rv = nng_socket_set_size(pull, NNG_OPT_RECVMAXSZ, 0)) != 0)
		die("raw peer", nng_strerror(rv));
	printf("ready\n");
	fflush(stdout);
	/* the other listens by now: the parent waited for both */
	if (read(0, &c, 1) != 1 || (rv = nng_dial(pull, theirs, NULL, 0)) != 0)
		die("raw peer", "dial");
	t0 = bench_now();
	if (pthread_create(&th, NULL, raw_write, &rw) != 0)
		die("raw peer", "thread");
	while (got < bytes) {
		nng_msg *m;

		if ((rv = nng_recvmsg(pull, &m, 0)) != 0)
			die("pull", nng_strerror(rv));
		got += nng_msg_len(m);
		nng_msg_free(m);
	}
	pthread_join(th, NULL);
	printf("%llu %.6f\n", (unsigned long long)got, bench_now() - t0);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	nng_close(pull);
	nng_close(rw.s);
	return 0;
}

/* ---- the parent ---- */

struct child {
	pid_t pid;
	FILE *out; /* its stdout */
	int in;    /* its stdin */
};

static struct child
spawn(char *const argv[])
{
	int o[2], i[2];
	posix_spawn_file_actions_t fa;
	struct child c;

	/* close-on-exec: a later child must not hold this one's pipes */
	if (pipe2(o, O_CLOEXEC) != 0 || pipe2(i, O_CLOEXEC) != 0)
		die("pipe", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, o[1], 1);
	posix_spawn_file_actions_adddup2(&fa, i[0], 0);
	posix_spawn_file_actions_addclose(&fa, o[0]);
	posix_spawn_file_actions_addclose(&fa, i[1]);
	if (posix_spawn(&c.pid, argv[0], &fa, NULL, argv, environ) != 0)
		die("spawn", strerror(errno));
	posix_spawn_file_actions_destroy(&fa);
	close(o[1]);
	close(i[0]);
	c.out = fdopen(o[0], "r");
	c.in = i[1];
	return c;
}

static void
reap(struct child *c)
{
	int st;

	close(c->in);
	fclose(c->out);
	if (waitpid(c->pid, &st, 0) != c->pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		die("child", "failed");
}

static double
gbs_of(FILE *f, uint64_t want)
{
	unsigned long long b;
	double s;

	if (fscanf(f, "%llu %lf", &b, &s) != 2 || b != want || s <= 0)
		die("child", "no figure");
	return (double)b / s / 1e9;
}

static double
memcpy_gbs(uint64_t bytes, size_t bufsz)
{
	char *a = malloc(64u << 20), *b = malloc(64u << 20);
	double t0;
	size_t off = 0;

	memset(a, 1, 64u << 20);
	memset(b, 2, 64u << 20);
	t0 = bench_now();
	for (uint64_t done = 0; done < bytes; done += bufsz) {
		memcpy(b + off, a + off, bufsz);
		off = (off + bufsz) % ((64u << 20) - bufsz);
	}
	t0 = bench_now() - t0;
	if (b[1] != 1)
		die("memcpy", "copied nothing");
	free(a);
	free(b);
	return (double)bytes / t0 / 1e9;
}

/* tcp ports of this run: a range of its own (a listener cannot bind a port
 * an earlier run's connections still hold in TIME_WAIT). */
static int base;

static void
url_of(
    char *buf, size_t n, bool tcp, const char *dir, const char *name, int port)
{
	if (tcp)
		snprintf(buf, n, "tcp://127.0.0.1:%d", port);
	else
		snprintf(buf, n, "ipc://%s/%s.sock", dir, name);
}

static void
send_line(struct child *c, const char *line)
{
	size_t n = strlen(line);

	if (write(c->in, line, n) != (ssize_t)n || write(c->in, "\n", 1) != 1)
		die("child", "cannot write to it");
}

/* Two peers, each the producer and the consumer of a 2 -> 2 all_to_all
 * edge, both ways at once: half of what each writes stays in its process,
 * half crosses. Beside it raw nng push/pull both ways at once, moving what
 * crosses. */
static int
all_to_all(const char *exe, const char *dir, bool tcp, uint64_t mib,
    const char *s_mib, const char *s_buf, const char *s_cred, uint32_t runs,
    uint64_t bytes, size_t bufsz)
{
	char url[2][600], rurl[2][600], line[2][8192], half[32];
	double shuf[32], raw[32], total[32], mc;

	snprintf(half, sizeof(half), "%llu", (unsigned long long)(mib / 2));
	for (uint32_t r = 0; r < runs; r++) {
		struct child p[2];
		uint64_t b[2];
		double secs[2], mx = 0;

		for (int i = 0; i < 2; i++) {
			char idx[4];

			snprintf(idx, sizeof(idx), "%d", i);
			url_of(url[i], sizeof(url[i]), tcp, dir,
			    i ? "peer1" : "peer0", base + 10 * (int)r + i);
			p[i] = spawn((char *[]) { (char *)exe, "peer", url[i],
			    idx, (char *)s_mib, (char *)s_buf, (char *)s_cred,
			    NULL });
			if (fgets(line[i], sizeof(line[i]), p[i].out) == NULL)
				die("peer", "no descriptor");
			line[i][strcspn(line[i], "\n")] = '\0';
		}
		send_line(&p[0], line[1]);
		send_line(&p[1], line[0]);
		for (int i = 0; i < 2; i++) {
			unsigned long long got;

			if (fscanf(p[i].out, "%llu %lf", &got, &secs[i]) != 2 ||
			    got != bytes)
				die("peer", "no figure");
			b[i] = got;
			mx = secs[i] > mx ? secs[i] : mx;
		}
		reap(&p[0]);
		reap(&p[1]);
		total[r] = (double)(b[0] + b[1]) / mx / 1e9;
		shuf[r] = total[r] / 2; /* what crossed */

		for (int i = 0; i < 2; i++)
			url_of(rurl[i], sizeof(rurl[i]), tcp, dir,
			    i ? "raw1" : "raw0", base + 5 + 10 * (int)r + i);
		mx = 0;
		for (int i = 0; i < 2; i++) {
			p[i] = spawn((char *[]) { (char *)exe, "rawpeer",
			    rurl[i], rurl[1 - i], half, (char *)s_buf, NULL });
			if (fgets(line[i], sizeof(line[i]), p[i].out) == NULL)
				die("rawpeer", "not ready");
		}
		for (int i = 0; i < 2; i++)
			if (write(p[i].in, "g", 1) != 1)
				die("rawpeer", "cannot start it");
		for (int i = 0; i < 2; i++) {
			unsigned long long got;

			if (fscanf(p[i].out, "%llu %lf", &got, &secs[i]) != 2)
				die("rawpeer", "no figure");
			b[i] = got;
			mx = secs[i] > mx ? secs[i] : mx;
		}
		reap(&p[0]);
		reap(&p[1]);
		raw[r] = (double)(b[0] + b[1]) / mx / 1e9;
	}
	rmdir(dir);
	mc = memcpy_gbs(bytes, bufsz);
	printf("all_to_all 2 -> 2 between two processes over %s: each writes "
	       "%llu MiB, half to itself, half to the other; buffers of %zu "
	       "bytes; medians of %u runs\n",
	    tcp ? "tcp (loopback)" : "ipc", (unsigned long long)mib, bufsz,
	    runs);
	printf("%-56s %8s %8s\n", "", "GB/s", "ratio");
	printf("%-56s %8.2f %8s\n",
	    "raw nng push/pull both ways (what crosses; the reference)",
	    bench_median(raw, runs), "1.00");
	printf("%-56s %8.2f %8.2f\n", "memory shuffle, what crosses processes",
	    bench_median(shuf, runs),
	    bench_median(shuf, runs) / bench_median(raw, runs));
	printf("%-56s %8.2f %8s\n", "memory shuffle, everything read",
	    bench_median(total, runs), "");
	printf("%-56s %8.2f %8.2f\n", "memcpy, one thread (the physical limit)",
	    mc, mc / bench_median(raw, runs));
	return 0;
}

int
main(int argc, char **argv)
{
	char exe[4096], dir[] = "/tmp/sl-shuffle-net-XXXXXX";
	char purl[600], curl[600], rurl[600], line[8192];
	char s_mib[32], s_subs[32], s_buf[32], s_cred[32];
	uint64_t mib = 1024, bytes;
	uint32_t subs = 4, credits = 0, runs = 3;
	size_t bufsz = 32 << 10;
	bool tcp = false, a2a = false;
	double shuf[32], raw[32], mc;
	ssize_t n;

	if (argc > 1 && strcmp(argv[1], "producer") == 0 && argc == 6)
		return producer(argv[2], strtoull(argv[3], NULL, 10) << 20,
		    (uint32_t)atoi(argv[4]), (size_t)atol(argv[5]));
	if (argc > 1 && strcmp(argv[1], "consumer") == 0 && argc == 6)
		return consumer(argv[2], argv[3], (uint32_t)atoi(argv[4]),
		    (uint32_t)atoi(argv[5]));
	if (argc > 1 && strcmp(argv[1], "peer") == 0 && argc == 7)
		return peer(argv[2], atoi(argv[3]),
		    strtoull(argv[4], NULL, 10) << 20, (size_t)atol(argv[5]),
		    (uint32_t)atoi(argv[6]));
	if (argc > 1 && strcmp(argv[1], "rawpeer") == 0 && argc == 6)
		return raw_peer(argv[2], argv[3],
		    strtoull(argv[4], NULL, 10) << 20, (size_t)atol(argv[5]));
	if (argc > 1 && strcmp(argv[1], "push") == 0 && argc == 5)
		return raw_push(argv[2], strtoull(argv[3], NULL, 10) << 20,
		    (size_t)atol(argv[4]));
	if (argc > 1 && strcmp(argv[1], "pull") == 0 && argc == 4)
		return raw_pull(argv[2], strtoull(argv[3], NULL, 10) << 20);

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--mib") == 0 && i + 1 < argc)
			mib = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--subs") == 0 && i + 1 < argc)
			subs = (uint32_t)atoi(argv[++i]);
		else if (strcmp(argv[i], "--buffer") == 0 && i + 1 < argc)
			bufsz = (size_t)atol(argv[++i]);
		else if (strcmp(argv[i], "--credits") == 0 && i + 1 < argc)
			credits = (uint32_t)atoi(argv[++i]);
		else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			runs = (uint32_t)atoi(argv[++i]);
		else if (strcmp(argv[i], "--tcp") == 0)
			tcp = true;
		else if (strcmp(argv[i], "--all-to-all") == 0)
			a2a = true;
		else {
			fprintf(stderr,
			    "usage: shuffle_net [--mib N] [--subs S] "
			    "[--buffer BYTES] [--credits C (default: the "
			    "plugin's)] [--runs R] "
			    "[--tcp] [--all-to-all]\n");
			return 2;
		}
	}
	if (mib == 0 || subs == 0 || bufsz == 0 || runs == 0 || runs > 32) {
		fprintf(stderr, "shuffle_net: bad arguments\n");
		return 2;
	}
	bytes = ((mib << 20) + bufsz - 1) / bufsz * bufsz;
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) < 0)
		die("readlink", strerror(errno));
	base = 20000 + (int)(getpid() % 2000) * 10;
	exe[n] = '\0';
	if (mkdtemp(dir) == NULL)
		die("mkdtemp", strerror(errno));
	snprintf(s_mib, sizeof(s_mib), "%llu", (unsigned long long)mib);
	snprintf(s_subs, sizeof(s_subs), "%u", subs);
	snprintf(s_buf, sizeof(s_buf), "%zu", bufsz);
	snprintf(s_cred, sizeof(s_cred), "%u", credits);

	if (a2a)
		return all_to_all(exe, dir, tcp, mib, s_mib, s_buf, s_cred,
		    runs, bytes, bufsz);
	for (uint32_t r = 0; r < runs; r++) {
		struct child p, c;

		url_of(purl, sizeof(purl), tcp, dir, "producer",
		    base + 10 * (int)r);
		url_of(curl, sizeof(curl), tcp, dir, "consumer",
		    base + 10 * (int)r + 1);
		p = spawn((char *[]) {
		    exe, "producer", purl, s_mib, s_subs, s_buf, NULL });
		if (fgets(line, sizeof(line), p.out) == NULL)
			die("producer", "no descriptor");
		line[strcspn(line, "\n")] = '\0';
		c = spawn((char *[]) {
		    exe, "consumer", curl, line, s_subs, s_cred, NULL });
		shuf[r] = gbs_of(c.out, bytes);
		reap(&c);
		reap(&p);

		url_of(rurl, sizeof(rurl), tcp, dir, "raw",
		    base + 10 * (int)r + 2);
		p = spawn((char *[]) { exe, "push", rurl, s_mib, s_buf, NULL });
		if (fgets(line, sizeof(line), p.out) == NULL)
			die("push", "not ready");
		c = spawn((char *[]) { exe, "pull", rurl, s_mib, NULL });
		raw[r] = gbs_of(c.out, bytes);
		reap(&c);
		reap(&p);
	}
	rmdir(dir);
	mc = memcpy_gbs(bytes, bufsz);
	printf("%llu MiB from one process to another over %s, buffers of %zu "
	       "bytes; medians of %u runs\n",
	    (unsigned long long)mib, tcp ? "tcp (loopback)" : "ipc", bufsz,
	    runs);
	printf("%-52s %8s %10s\n", "", "GB/s", "ratio");
	printf("%-52s %8.2f %10s\n", "raw nng push/pull (the reference)",
	    bench_median(raw, runs), "1.00");
	printf("%-36s%3u subs, %2s credits %8.2f %10.2f\n",
	    "memory shuffle across processes,", subs, credits ? s_cred : "def.",
	    bench_median(shuf, runs),
	    bench_median(shuf, runs) / bench_median(raw, runs));
	printf("%-52s %8.2f %10.2f\n",
	    "memcpy, one thread (the physical limit)", mc,
	    mc / bench_median(raw, runs));
	return 0;
}
