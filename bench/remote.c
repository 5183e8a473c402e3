/*
 * The remote shuffle service (issue 8) beside raw nng, in the same run.
 * A real `sluice-shuffled` daemon is pushed --bytes through the remote
 * plugin's writer (shuffle-remote.so loaded here and its ops called as a
 * worker's task calls them), and the same bytes are fetched back through
 * its reader; against them, raw nng req/rep with messages of the writer's
 * and the reader's sizes to a server process (pushes of RS_BATCH_BYTES
 * answered with a few bytes; requests of a few bytes answered with
 * LD_NET_FETCH), one request on the wire at a time (the reference; the
 * plugin's reader has one, its writer RS_ON_WIRE), and RS_IN_FLIGHT at a
 * time for comparison; over ipc and tcp loopback, a
 * daemon and a raw server for each. For scale: single-thread memcpy and
 * the disk's sequential write + fsync where the daemons keep their files.
 *
 *   remote_bench [--bytes N[K|M|G]] [--subs S] [--runs R] [--dir DIR]
 *                [--shuffled PATH] [--plugin PATH]
 *
 * Each round, per transport: the four raw figures; a push by one writer
 * (the partition committed), a fetch that only counts the bytes (the
 * figure, from the page cache: the daemon wrote them just before), a
 * second fetch that hashes every buffer and must find the bytes pushed,
 * the release; then a push of as many bytes by two writers at once (two
 * partitions). Then the disk. Medians of --runs rounds. The push and the
 * fetch against raw nng, per transport, go to bench/run as well
 * (bench_result; the goal is 0.7).
 *
 * The same program, run as `remote_bench --raw-server URL`, is the raw
 * server: a rep socket whose DEPTH contexts answer each request with as
 * many bytes as its first four ask for, copied into a new message as the
 * daemon copies a fetch's blocks. Everything runs in a temporary directory
 * under DIR (default $TMPDIR or /tmp), removed at the end, the daemons and
 * servers stopped before it goes.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <sluice/errors.h>

#include "plugin/loader.h"
#include "rs_plugin.h" /* RS_BATCH_BYTES, RS_IN_FLIGHT; LD_NET_FETCH */

#include "bench_util.h"

#define BUF (32u << 10) /* a task's buffer, as blocking_disk's */
#define MAX_RUNS 16
#define SMALL 64 /* a fetch request, a push's answer: about their size */
#define DEPTH RS_IN_FLIGHT /* the deeper raw figures' requests on the wire */
#define WAIT_MS 10000      /* for a server to listen, a release to land */

enum { IPC, TCP, NT };
static const char *const tname[NT] = { "ipc", "tcp" };

/* The raw figures: a shape, at depth 1 (the reference; the
 * plugin has one fetch on the wire at a time, and RS_ON_WIRE pushes) and
 * at DEPTH. */
enum { RAW_PUSH1, RAW_FETCH1, RAW_PUSHN, RAW_FETCHN, NRAW };

/* What one figure took: MB/s (10^6 bytes), and CPU seconds per GB of this
 * process and of the server (the raw server or the daemon). */
struct fig {
	double mbs[MAX_RUNS], here[MAX_RUNS], server[MAX_RUNS];
};

static struct {
	uint64_t bytes; /* a multiple of BUF */
	uint32_t subs;
	int runs;
	char self[PATH_MAX];
	char shuffled[PATH_MAX];
	char plugin[PATH_MAX];
} opt = { 1ull << 30, 16, 3, "", "", "" };

/* ---- small things ---- */

/* /proc/PID/stat's utime + stime, in seconds. */
static double
proc_cpu_s(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY)) < 0)
		bench_die("%s: %s", path, strerror(errno));
	n = (int)bench_read_full(fd, buf, sizeof(buf) - 1, path);
	close(fd);
	buf[n] = '\0';
	/* the name may hold spaces and parentheses: after its last ')' come
	 * fields 3 onwards; utime and stime are the 14th and 15th */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1,
	        " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
	        &st) != 2)
		bench_die("%s: cannot read it", path);
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double
self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return bench_cpu_s(&ru);
}

static double
loadavg(void)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double l = -1;

	if (f != NULL) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

/* N, NK, NM or NG (powers of 1024). */
static uint64_t
size_arg(const char *s)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *s == '-')
		return 0;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	else if (*end != '\0')
		return 0;
	if (shift != 0 && end[1] != '\0')
		return 0;
	if (v > (UINT64_C(1) << 40) >> shift)
		return 0;
	return (uint64_t)v << shift;
}

/* A file beside this program (name may climb: "../lib/..."). */
static void
beside_self(char *out, size_t cap, const char *name)
{
	char exe[PATH_MAX], *slash;
	ssize_t n;

	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) < 0)
		bench_die("/proc/self/exe: %s", strerror(errno));
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) == NULL)
		bench_die("/proc/self/exe: %s: not a path", exe);
	*slash = '\0';
	if (snprintf(out, cap, "%s/%s", exe, name) >= (int)cap)
		bench_die("%s/%s: too long a path", exe, name);
}

/* Wait until log holds a line starting with prefix: what follows it (the
 * URL bound) into url. pid, of bench_start, must not end meanwhile. */
static void
wait_listening(const char *what, pid_t pid, const char *log, const char *prefix,
    char *url, size_t cap)
{
	char buf[8192];

	for (int ms = 0; ms < WAIT_MS; ms += 10) {
		int fd = open(log, O_RDONLY), status;
		char *p, *nl;
		size_t n;

		if (fd >= 0) {
			n = bench_read_full(fd, buf, sizeof(buf) - 1, log);
			close(fd);
			buf[n] = '\0';
			if ((p = strstr(buf, prefix)) != NULL &&
			    (nl = strchr(p, '\n')) != NULL) {
				p += strlen(prefix);
				snprintf(url, cap, "%.*s", (int)(nl - p), p);
				return;
			}
		}
		if (waitpid(pid, &status, WNOHANG) == pid)
			bench_run_failed(what, status, log, "ended at start");
		bench_check_stop();
		usleep(10000);
	}
	bench_die("%s: not listening after %d s (its log: %s)", what,
	    WAIT_MS / 1000, log);
}

/* Bytes of the regular files below a directory: allocated and apparent. */
static uint64_t tree_alloc, tree_size, tree_files;

static int
tree_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)path;
	(void)f;
	if (flag == FTW_F && S_ISREG(st->st_mode)) {
		tree_alloc += (uint64_t)st->st_blocks * 512;
		tree_size += (uint64_t)st->st_size;
		tree_files++;
	}
	return 0;
}

static void
tree_measure(const char *dir)
{
	tree_alloc = tree_size = tree_files = 0;
	nftw(dir, tree_entry, 16, FTW_PHYS);
}

/* ---- the raw nng server (a process of its own, as the daemon is) ---- */

static const unsigned char *server_fill; /* LD_NET_FETCH bytes */

/* One context: each request answered with as many bytes as its first
 * four (LE) ask for, copied from server_fill, as the daemon copies a
 * fetch's blocks into its reply. */
static void *
serve(void *arg)
{
	nng_socket *s = arg;
	nng_aio *aio;
	nng_ctx ctx;

	if (nng_ctx_open(&ctx, *s) != 0 || nng_aio_alloc(&aio, NULL, NULL))
		bench_die("raw server: cannot open a context");
	for (;;) {
		nng_msg *m;
		uint32_t want = 0;

		nng_ctx_recv(ctx, aio);
		nng_aio_wait(aio);
		if (nng_aio_result(aio) != 0)
			break;
		m = nng_aio_get_msg(aio);
		if (nng_msg_len(m) >= 4)
			memcpy(&want, nng_msg_body(m), 4);
		want = le32toh(want);
		nng_msg_free(m);
		if (want > LD_NET_FETCH || nng_msg_alloc(&m, want) != 0)
			bench_die("raw server: a request for %u bytes", want);
		memcpy(nng_msg_body(m), server_fill, want);
		nng_aio_set_msg(aio, m);
		nng_ctx_send(ctx, aio);
		nng_aio_wait(aio);
		if (nng_aio_result(aio) != 0) {
			nng_msg_free(m);
			break;
		}
	}
	return NULL;
}

/* Serve until a signal ends the process (bench_stop's SIGTERM). */
static int
raw_server(const char *url)
{
	static nng_socket s;
	unsigned char *fill = malloc(LD_NET_FETCH);
	char bound[600];
	nng_listener l;
	pthread_t th[DEPTH];
	int port, rv;

	bench_init("remote_bench --raw-server");
	if (fill == NULL)
		bench_die("out of memory");
	memset(fill, 0x5a, LD_NET_FETCH);
	server_fill = fill;
	if ((rv = nng_rep0_open(&s)) != 0 ||
	    (rv = nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, 0)) != 0 ||
	    (rv = nng_listener_create(&l, s, url)) != 0 ||
	    (rv = nng_listener_start(l, 0)) != 0)
		bench_die("%s: %s", url, nng_strerror(rv));
	snprintf(bound, sizeof(bound), "%s", url);
	if (strncmp(url, "tcp://", 6) == 0 &&
	    nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port) == 0)
		snprintf(bound, sizeof(bound), "%.*s:%d",
		    (int)(strrchr(url, ':') - url), url, port);
	for (int i = 0; i < DEPTH; i++)
		if (pthread_create(&th[i], NULL, serve, &s) != 0)
			bench_die("raw server: cannot start a thread");
	fprintf(stderr, "raw: listening at %s\n", bound);
	for (int i = 0; i < DEPTH; i++)
		pthread_join(th[i], NULL);
	return 0;
}

/* ---- the raw nng client ---- */

struct raw_job {
	nng_socket s;
	size_t req, rep; /* bytes of each request and each reply */
	uint64_t n;      /* requests in all */
	atomic_uint_fast64_t next;
	const unsigned char *fill;
};

/* One context: requests, one at a time, until n were answered. A request
 * is built as the writer builds a push: a new message, its bytes copied
 * in. */
static void *
raw_client(void *arg)
{
	struct raw_job *j = arg;
	nng_aio *aio;
	nng_ctx ctx;
	int rv;

	if ((rv = nng_ctx_open(&ctx, j->s)) != 0 ||
	    (rv = nng_aio_alloc(&aio, NULL, NULL)) != 0)
		bench_die("raw client: %s", nng_strerror(rv));
	while (atomic_fetch_add(&j->next, 1) < j->n) {
		uint32_t want = htole32((uint32_t)j->rep);
		nng_msg *m;

		if (nng_msg_alloc(&m, j->req) != 0)
			bench_die("out of memory");
		memcpy(nng_msg_body(m), j->fill, j->req);
		memcpy(nng_msg_body(m), &want, 4);
		nng_aio_set_msg(aio, m);
		nng_ctx_send(ctx, aio);
		nng_aio_wait(aio);
		if ((rv = nng_aio_result(aio)) != 0)
			bench_die("raw client: send: %s", nng_strerror(rv));
		nng_ctx_recv(ctx, aio);
		nng_aio_wait(aio);
		if ((rv = nng_aio_result(aio)) != 0)
			bench_die("raw client: receive: %s", nng_strerror(rv));
		m = nng_aio_get_msg(aio);
		if (nng_msg_len(m) != j->rep)
			bench_die("raw client: a reply of %zu bytes, not %zu",
			    nng_msg_len(m), j->rep);
		nng_msg_free(m);
	}
	nng_aio_free(aio);
	nng_ctx_close(ctx);
	return NULL;
}

/* bytes moved in requests of req bytes answered with rep, depth at a
 * time, to the server at url (process pid): into f's run r. */
static void
raw_run(const char *url, pid_t pid, size_t req, size_t rep, int depth,
    const unsigned char *fill, struct fig *f, int r)
{
	size_t payload = req > rep ? req : rep;
	struct raw_job j = { .req = req, .rep = rep, .fill = fill };
	pthread_t th[DEPTH];
	double t0, c0, s0, t;
	int rv;

	j.n = (opt.bytes + payload - 1) / payload;
	atomic_init(&j.next, 0);
	if ((rv = nng_req0_open(&j.s)) != 0 ||
	    (rv = nng_socket_set_size(j.s, NNG_OPT_RECVMAXSZ, 0)) != 0 ||
	    (rv = nng_dial(j.s, url, NULL, 0)) != 0)
		bench_die("raw client: %s: %s", url, nng_strerror(rv));
	c0 = self_cpu_s();
	s0 = proc_cpu_s(pid);
	t0 = bench_now();
	for (int i = 0; i < depth; i++)
		if (pthread_create(&th[i], NULL, raw_client, &j) != 0)
			bench_die("raw client: cannot start a thread");
	for (int i = 0; i < depth; i++)
		pthread_join(th[i], NULL);
	t = bench_now() - t0;
	f->mbs[r] = (double)(j.n * payload) / t / 1e6;
	f->here[r] = (self_cpu_s() - c0) / ((double)(j.n * payload) / 1e9);
	f->server[r] = (proc_cpu_s(pid) - s0) / ((double)(j.n * payload) / 1e9);
	nng_close(j.s);
	bench_check_stop();
}

/* ---- the remote plugin against a daemon ---- */

/* Buffer i of a partition: subpartition i % subs, its bytes a function
 * of i, so the expected digests are known before the run. */
static void
payload_fill(unsigned char *b, uint64_t i)
{
	memset(b, (int)((i * 131 + 7) & 0xff), BUF);
	memcpy(b, &i, sizeof(i));
}

/* Per subpartition: its bytes and the XXH3 of its stream, in order. */
struct digest {
	uint64_t *bytes, *hash;
};

static void
digest_expected(struct digest *d)
{
	XXH3_state_t **st = calloc(opt.subs, sizeof(*st));
	unsigned char *b = malloc(BUF);

	d->bytes = calloc(opt.subs, sizeof(uint64_t));
	d->hash = calloc(opt.subs, sizeof(uint64_t));
	if (st == NULL || b == NULL || d->bytes == NULL || d->hash == NULL)
		bench_die("out of memory");
	for (uint32_t s = 0; s < opt.subs; s++)
		if ((st[s] = XXH3_createState()) == NULL ||
		    XXH3_64bits_reset(st[s]) != XXH_OK)
			bench_die("out of memory");
	for (uint64_t i = 0; i < opt.bytes / BUF; i++) {
		payload_fill(b, i);
		XXH3_64bits_update(st[i % opt.subs], b, BUF);
		d->bytes[i % opt.subs] += BUF;
	}
	for (uint32_t s = 0; s < opt.subs; s++) {
		d->hash[s] = XXH3_64bits_digest(st[s]);
		XXH3_freeState(st[s]);
	}
	free(st);
	free(b);
}

struct daemon {
	pid_t pid;
	char url[600];
	char data[PATH_MAX];
	void *mst; /* the plugin's master, its service this daemon */
	struct fig push, push2, fetch;
	double blocked[MAX_RUNS]; /* seconds the task spent in write */
	double finish[MAX_RUNS];  /* seconds in the writer's finish */
	double push_s[MAX_RUNS];  /* seconds of the whole push */
	double checked[MAX_RUNS]; /* MB/s of the fetch that hashes */
	double disk_alloc[MAX_RUNS], disk_size[MAX_RUNS];
};

static void
daemon_start(struct daemon *d, const char *scratch, int t)
{
	char url[PATH_MAX + 16], log[PATH_MAX];

	snprintf(d->data, sizeof(d->data), "%s/data-%s", scratch, tname[t]);
	snprintf(log, sizeof(log), "%s/shuffled-%s.log", scratch, tname[t]);
	if (t == IPC)
		snprintf(url, sizeof(url), "ipc://%s/rs.sock", scratch);
	else
		snprintf(url, sizeof(url), "tcp://127.0.0.1:0");
	{
		char *const argv[] = { opt.shuffled, "--listen", url,
			"--data-dir", d->data, NULL };

		d->pid = bench_start("sluice-shuffled", argv, NULL, log, -1);
	}
	wait_listening("sluice-shuffled", d->pid, log,
	    "shuffled: listening at ", d->url, sizeof(d->url));
}

static void
master_init(struct sli_plugin *p, struct daemon *d)
{
	char cfg[800];

	snprintf(cfg, sizeof(cfg), "{\"services\": [\"%s\"]}", d->url);
	if ((d->mst = calloc(1, p->ops.shuffle.master.state_size + 1)) ==
	        NULL ||
	    p->ops.shuffle.master.init(d->mst, &p->host, cfg) != 0)
		bench_die("the remote master: %s", sl_errdetail());
}

/* Release n partitions (the daemon removes their files: the master's
 * message does not wait) and wait until the data dir holds no file, so
 * that the next figure does not share the disk with the removal. */
static void
remote_release(
    struct sli_plugin *p, struct daemon *d, struct sl_bytes *desc, int n)
{
	for (int k = 0; k < n; k++) {
		p->ops.shuffle.master.release_partition(
		    d->mst, desc[k].data, desc[k].len);
		p->host.free(desc[k].data);
	}
	for (int ms = 0;; ms += 10) {
		tree_measure(d->data);
		if (tree_files == 0)
			return;
		if (ms >= WAIT_MS)
			bench_die("%s: %" PRIu64 " files left %d s after the "
			          "release",
			    d->data, tree_files, WAIT_MS / 1000);
		usleep(10000);
	}
}

/* One writer of a push: buffers first, first + step, ... (n of them) of
 * the partition desc, each to subpartition index % subs. */
struct writer_job {
	struct sli_plugin *p;
	struct sl_bytes desc;
	uint64_t first, step, n;
	double blocked, finish; /* seconds in write, in finish */
};

static void *
writer_run(void *arg)
{
	struct writer_job *j = arg;
	struct sli_plugin *p = j->p;
	const struct sl_host *h = &p->host;
	void *wst = calloc(1, p->ops.shuffle.writer.state_size + 1);
	double tf;

	if (wst == NULL)
		bench_die("out of memory");
	if (p->ops.shuffle.writer.open(wst, h, j->desc.data, j->desc.len) != 0)
		bench_die("the remote writer: %s", sl_errdetail());
	for (uint64_t k = 0; k < j->n; k++) {
		struct sl_buffer b = { .kind = SL_BUFFER_DATA, .len = BUF };
		uint64_t i = j->first + k * j->step;
		double tw;

		if ((b.data = h->alloc(BUF)) == NULL)
			bench_die("out of memory");
		payload_fill(b.data, i);
		tw = bench_now();
		if (p->ops.shuffle.writer.write(
		        wst, (uint32_t)(i % opt.subs), &b) != 0)
			bench_die("write: %s", sl_errdetail());
		j->blocked += bench_now() - tw;
	}
	tf = bench_now();
	if (p->ops.shuffle.writer.finish(wst) != 0)
		bench_die("finish: %s", sl_errdetail());
	j->finish = bench_now() - tf;
	p->ops.shuffle.writer.fini(wst);
	free(wst);
	return NULL;
}

/* Push --bytes through the plugin's writer: nw partitions (producers 0 ..
 * nw-1) registered with d's master, each written by a thread of its own
 * (this one when nw is 1) in BUF buffers round robin over the
 * subpartitions, buffer i of the push by writer i % nw, and finished
 * (committed): the time until the last commit was answered, into f's run
 * r. With one writer, desc[0] keeps its descriptor and the details go to
 * d; with more, the partitions are released here. */
static void
remote_push(struct sli_plugin *p, struct daemon *d, int t, int r, int nw,
    struct fig *f, struct sl_bytes *desc)
{
	struct writer_job j[DEPTH];
	pthread_t th[DEPTH];
	char job[64];
	struct sl_partition_spec ps = {
		.struct_size = sizeof(ps),
		.type = SL_PARTITION_BLOCKING,
		.job_id = job,
		.num_subpartitions = opt.subs,
		.compression = SL_COMPRESSION_NONE,
	};
	uint64_t nbuf = opt.bytes / BUF;
	double t0, c0, s0, gb = (double)opt.bytes / 1e9;

	snprintf(job, sizeof(job), "remote-bench-%d-%s-%d-%d", (int)getpid(),
	    tname[t], r, nw);
	for (int k = 0; k < nw; k++) {
		ps.producer = (uint32_t)k;
		j[k] = (struct writer_job) { .p = p,
			.first = (uint64_t)k,
			.step = (uint64_t)nw,
			.n = (nbuf - (uint64_t)k + (uint64_t)nw - 1) /
			    (uint64_t)nw };
		if (p->ops.shuffle.master.register_partition(
		        d->mst, &ps, &j[k].desc) != 0)
			bench_die("register_partition: %s", sl_errdetail());
	}
	c0 = self_cpu_s();
	s0 = proc_cpu_s(d->pid);
	t0 = bench_now();
	if (nw == 1)
		writer_run(&j[0]);
	for (int k = 0; nw > 1 && k < nw; k++)
		if (pthread_create(&th[k], NULL, writer_run, &j[k]) != 0)
			bench_die("cannot start a writer's thread");
	for (int k = 0; nw > 1 && k < nw; k++)
		pthread_join(th[k], NULL);
	f->mbs[r] = (double)opt.bytes / (bench_now() - t0) / 1e6;
	f->here[r] = (self_cpu_s() - c0) / gb;
	f->server[r] = (proc_cpu_s(d->pid) - s0) / gb;
	if (nw == 1) {
		d->push_s[r] = bench_now() - t0;
		d->blocked[r] = j[0].blocked;
		d->finish[r] = j[0].finish;
		tree_measure(d->data);
		d->disk_alloc[r] = (double)tree_alloc;
		d->disk_size[r] = (double)tree_size;
		*desc = j[0].desc;
	} else {
		struct sl_bytes all[DEPTH];

		for (int k = 0; k < nw; k++)
			all[k] = j[k].desc;
		remote_release(p, d, all, nw);
	}
	bench_check_stop();
}

/* Fetch every subpartition back through the plugin's reader, one reader
 * of the whole range. The figure's fetch (want NULL) only counts the
 * bytes, as the raw client does; the one that checks them (want) hashes
 * each buffer into its subpartition's digest, and they must be those
 * pushed: its MB/s goes to d->checked. */
static void
remote_fetch(struct sli_plugin *p, struct daemon *d, int r,
    const struct sl_bytes *desc, const struct digest *want)
{
	void *rst = calloc(1, p->ops.shuffle.reader.state_size + 1);
	struct bench_waiter w = { PTHREAD_MUTEX_INITIALIZER,
		PTHREAD_COND_INITIALIZER, false };
	struct sl_reader_spec spec = {
		.struct_size = sizeof(spec),
		.descriptors = desc,
		.num_descriptors = 1,
		.sub_lo = 0,
		.sub_hi = opt.subs - 1,
		.notify = bench_notify,
		.notify_arg = &w,
	};
	XXH3_state_t **st = calloc(opt.subs, sizeof(*st));
	uint64_t *got = calloc(opt.subs, sizeof(uint64_t)), all = 0;
	double t0, c0, s0, mbs, gb = (double)opt.bytes / 1e9;

	if (rst == NULL || st == NULL || got == NULL)
		bench_die("out of memory");
	for (uint32_t s = 0; s < opt.subs; s++)
		if ((st[s] = XXH3_createState()) == NULL ||
		    XXH3_64bits_reset(st[s]) != XXH_OK)
			bench_die("out of memory");
	c0 = self_cpu_s();
	s0 = proc_cpu_s(d->pid);
	t0 = bench_now();
	if (p->ops.shuffle.reader.open(rst, &p->host, &spec) != 0)
		bench_die("the remote reader: %s", sl_errdetail());
	for (;;) {
		struct sl_buffer b = { 0 };
		int rv = p->ops.shuffle.reader.next(rst, &b);

		if (rv == 0) {
			if (b.subpartition >= opt.subs)
				bench_die("read: subpartition %u of %u",
				    b.subpartition, opt.subs);
			if (want != NULL)
				XXH3_64bits_update(
				    st[b.subpartition], b.data, b.len);
			got[b.subpartition] += b.len;
			all += b.len;
			p->ops.shuffle.reader.release(rst, &b);
		} else if (rv == SL_EEOF) {
			break;
		} else if (rv == SL_EAGAIN) {
			pthread_mutex_lock(&w.mtx);
			while (!w.ready)
				pthread_cond_wait(&w.cv, &w.mtx);
			w.ready = false;
			pthread_mutex_unlock(&w.mtx);
		} else {
			bench_die("read: %s", sl_errdetail());
		}
	}
	mbs = (double)all / (bench_now() - t0) / 1e6;
	if (want == NULL) {
		d->fetch.mbs[r] = mbs;
		d->fetch.here[r] = (self_cpu_s() - c0) / gb;
		d->fetch.server[r] = (proc_cpu_s(d->pid) - s0) / gb;
	} else {
		d->checked[r] = mbs;
	}
	p->ops.shuffle.reader.fini(rst);
	free(rst);
	if (want == NULL && all != opt.bytes)
		bench_die("MISMATCH: %" PRIu64 " bytes read back, %" PRIu64
		          " pushed",
		    all, opt.bytes);
	for (uint32_t s = 0; s < opt.subs; s++) {
		uint64_t h = XXH3_64bits_digest(st[s]);

		XXH3_freeState(st[s]);
		if (want != NULL &&
		    (got[s] != want->bytes[s] || h != want->hash[s]))
			bench_die("MISMATCH: subpartition %u read back %" PRIu64
			          " bytes (XXH3 %016" PRIx64 "), %" PRIu64
			          " pushed (XXH3 %016" PRIx64 ")",
			    s, got[s], h, want->bytes[s], want->hash[s]);
	}
	free(st);
	free(got);
	bench_check_stop();
}

/* ---- the disk ---- */

/* Sequential write of --bytes in BUF writes, filled as the writer's
 * buffers are, then fsync: MB/s. */
static double
disk_write(const char *path)
{
	unsigned char *b = malloc(BUF);
	double t0 = bench_now(), t;
	int fd;

	if (b == NULL)
		bench_die("out of memory");
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
		bench_die("%s: %s", path, strerror(errno));
	for (uint64_t i = 0; i < opt.bytes / BUF; i++) {
		payload_fill(b, i);
		if (write(fd, b, BUF) != (ssize_t)BUF)
			bench_die("%s: write: %s", path, strerror(errno));
	}
	if (fsync(fd) != 0)
		bench_die("%s: fsync: %s", path, strerror(errno));
	close(fd);
	t = bench_now() - t0;
	unlink(path);
	free(b);
	bench_check_stop();
	return (double)opt.bytes / t / 1e6;
}

/* ---- the table ---- */

static double
med(const double *v)
{
	double c[MAX_RUNS];

	memcpy(c, v, sizeof(double) * (size_t)opt.runs);
	return bench_median(c, (size_t)opt.runs);
}

/* One row: per transport, MB/s, the ratio to ref (none when NULL), and
 * CPU s/GB here and in the server. */
static void
row(const char *what, const struct fig *f[NT], const struct fig *ref[NT])
{
	printf("%-34s", what);
	for (int t = 0; t < NT; t++) {
		printf(" %8.0f", med(f[t]->mbs));
		if (ref != NULL)
			printf(" %5.2f", med(f[t]->mbs) / med(ref[t]->mbs));
		else
			printf(" %5s", "");
		printf(" %5.2f %5.2f", med(f[t]->here), med(f[t]->server));
		printf(t + 1 < NT ? "  |" : "\n");
	}
}

/* For bench/run: push and fetch per transport against raw nng of the same
 * shape, one request on the wire, in GB/s; issue 8 asks 70 %. A push ends
 * with its commit's fsync, so it is also given against the disk's write +
 * fsync (disk_mbs), the limit raw nng does not have (the blocking
 * shuffle's goal against it is 70 % too). */
static void
results(
    const struct daemon dm[NT], const struct fig raw[NT][NRAW], double disk_mbs)
{
	char name[128], ref[160];

	for (int t = 0; t < NT; t++) {
		snprintf(name, sizeof(name),
		    "remote shuffle %" PRIu64 " MiB, %s: push", opt.bytes >> 20,
		    tname[t]);
		snprintf(ref, sizeof(ref),
		    "raw nng req/rep, %u KiB requests, 1 in flight",
		    RS_BATCH_BYTES >> 10);
		bench_result(name, med(dm[t].push.mbs) / 1e3, "GB/s", ref,
		    med(raw[t][RAW_PUSH1].mbs) / 1e3,
		    med(dm[t].push.mbs) / med(raw[t][RAW_PUSH1].mbs), 0.7);
		bench_result(name, med(dm[t].push.mbs) / 1e3, "GB/s",
		    "sequential write + fsync (32 KiB writes)", disk_mbs / 1e3,
		    med(dm[t].push.mbs) / disk_mbs, 0.7);
		snprintf(name, sizeof(name),
		    "remote shuffle %" PRIu64 " MiB, %s: fetch",
		    opt.bytes >> 20, tname[t]);
		snprintf(ref, sizeof(ref),
		    "raw nng req/rep, %u KiB replies, 1 in flight",
		    LD_NET_FETCH >> 10);
		bench_result(name, med(dm[t].fetch.mbs) / 1e3, "GB/s", ref,
		    med(raw[t][RAW_FETCH1].mbs) / 1e3,
		    med(dm[t].fetch.mbs) / med(raw[t][RAW_FETCH1].mbs), 0.7);
	}
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: remote_bench [--bytes N[K|M|G]] [--subs S] [--runs R] "
	    "[--dir DIR]\n"
	    "                    [--shuffled PATH] [--plugin PATH]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *dir = NULL, *scratch;
	struct fig raw[NT][NRAW];
	struct daemon dm[NT];
	pid_t rawpid[NT];
	char rawurl[NT][600], path[PATH_MAX + 32];
	double disk[MAX_RUNS], memcpy_gbs, load0;
	struct sli_plugin *p;
	struct digest want;
	unsigned char *fill;

	if (argc == 3 && strcmp(argv[1], "--raw-server") == 0)
		return raw_server(argv[2]);
	bench_init("remote_bench");
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (v == NULL)
			usage();
		i++;
		if (strcmp(a, "--bytes") == 0) {
			if ((opt.bytes = size_arg(v)) < BUF)
				bench_die("--bytes: at least %u", BUF);
		} else if (strcmp(a, "--subs") == 0) {
			if ((opt.subs = (uint32_t)bench_count_arg(v, 100000)) ==
			    0)
				bench_die("--subs: 1 to 100000");
		} else if (strcmp(a, "--runs") == 0) {
			if ((opt.runs = (int)bench_count_arg(v, MAX_RUNS)) == 0)
				bench_die("--runs: 1 to %d", MAX_RUNS);
		} else if (strcmp(a, "--dir") == 0) {
			dir = v;
		} else if (strcmp(a, "--shuffled") == 0) {
			snprintf(opt.shuffled, sizeof(opt.shuffled), "%s", v);
		} else if (strcmp(a, "--plugin") == 0) {
			snprintf(opt.plugin, sizeof(opt.plugin), "%s", v);
		} else {
			usage();
		}
	}
	opt.bytes -= opt.bytes % BUF;
	beside_self(opt.self, sizeof(opt.self), "remote_bench");
	if (opt.shuffled[0] == '\0')
		beside_self(
		    opt.shuffled, sizeof(opt.shuffled), "sluice-shuffled");
	if (opt.plugin[0] == '\0')
		beside_self(opt.plugin, sizeof(opt.plugin),
		    "../" SL_PLUGIN_SUBDIR "/shuffle-remote.so");
	if (access(opt.shuffled, X_OK) != 0)
		bench_die("%s: %s (build the sluice-shuffled target)",
		    opt.shuffled, strerror(errno));
	/* no secret asked by the daemons, none sent */
	unsetenv("SLUICE_SHUFFLE_SECRET");
	bench_catch_signals();
	load0 = loadavg();
	scratch = bench_scratch_dir(dir, "sl-remote");
	/* the daemon's files, then the disk's: never both at once */
	bench_check_space(scratch, opt.bytes + opt.bytes / 8 + (64u << 20),
	    "(a partition in the daemon's data dir)");
	if (sli_plugin_open(opt.plugin, &p) != 0)
		bench_die("%s", sl_errdetail());
	if (p->desc.kind != SL_PLUGIN_SHUFFLE || strcmp(p->name, "remote") != 0)
		bench_die("%s: not the remote shuffle plugin", opt.plugin);

	for (int t = 0; t < NT; t++) {
		char url[PATH_MAX + 16], log[PATH_MAX];

		if (t == IPC)
			snprintf(
			    url, sizeof(url), "ipc://%s/raw.sock", scratch);
		else
			snprintf(url, sizeof(url), "tcp://127.0.0.1:0");
		snprintf(log, sizeof(log), "%s/raw-%s.log", scratch, tname[t]);
		{
			char *const av[] = { opt.self, "--raw-server", url,
				NULL };

			rawpid[t] =
			    bench_start("raw server", av, NULL, log, -1);
		}
		wait_listening("raw server", rawpid[t], log,
		    "raw: listening at ", rawurl[t], sizeof(rawurl[t]));
		memset(&dm[t], 0, sizeof(dm[t]));
		daemon_start(&dm[t], scratch, t);
		master_init(p, &dm[t]);
	}
	if ((fill = malloc(LD_NET_FETCH)) == NULL)
		bench_die("out of memory");
	memset(fill, 0x5a, LD_NET_FETCH);
	digest_expected(&want);
	memcpy_gbs = bench_memcpy_gbs();
	snprintf(path, sizeof(path), "%s/disk", scratch);

	/* Round after round: each figure's runs see the machine's load of
	 * the same minutes as the others'. */
	for (int r = 0; r < opt.runs; r++) {
		for (int t = 0; t < NT; t++) {
			struct sl_bytes desc;

			raw_run(rawurl[t], rawpid[t], RS_BATCH_BYTES, SMALL, 1,
			    fill, &raw[t][RAW_PUSH1], r);
			raw_run(rawurl[t], rawpid[t], SMALL, LD_NET_FETCH, 1,
			    fill, &raw[t][RAW_FETCH1], r);
			raw_run(rawurl[t], rawpid[t], RS_BATCH_BYTES, SMALL,
			    DEPTH, fill, &raw[t][RAW_PUSHN], r);
			raw_run(rawurl[t], rawpid[t], SMALL, LD_NET_FETCH,
			    DEPTH, fill, &raw[t][RAW_FETCHN], r);
			remote_push(p, &dm[t], t, r, 1, &dm[t].push, &desc);
			remote_fetch(p, &dm[t], r, &desc, NULL);
			remote_fetch(p, &dm[t], r, &desc, &want);
			remote_release(p, &dm[t], &desc, 1);
			remote_push(p, &dm[t], t, r, 2, &dm[t].push2, NULL);
		}
		disk[r] = disk_write(path);
	}

	for (int t = 0; t < NT; t++) {
		p->ops.shuffle.master.fini(dm[t].mst);
		free(dm[t].mst);
		bench_stop(dm[t].pid);
		bench_stop(rawpid[t]);
	}
	sli_plugin_unref(p);

	{
		const struct fig *f[NT], *ref[NT];
		char what[64];

		printf("%" PRIu64 " MiB in %u KiB buffers over %u "
		       "subpartitions; medians of %d runs, in %.*s;\n%ld "
		       "cores online, load %.1f at the start, %.1f at the "
		       "end\n",
		    opt.bytes >> 20, BUF >> 10, opt.subs, opt.runs,
		    (int)(strrchr(scratch, '/') - scratch), scratch,
		    sysconf(_SC_NPROCESSORS_ONLN), load0, loadavg());
		printf("raw nng req/rep to a server process: pushes of %u "
		       "bytes (RS_BATCH_BYTES) answered\nwith %d, fetches of "
		       "%d bytes answered with %u (LD_NET_FETCH)\n",
		    RS_BATCH_BYTES, SMALL, SMALL, LD_NET_FETCH);
		printf("%-34s %-28s  | %s\n", "", "ipc", "tcp loopback");
		printf("%-34s", "");
		for (int t = 0; t < NT; t++)
			printf(" %8s %5s %5s %5s%s", "MB/s", "ratio", "cpu",
			    "cpu", t + 1 < NT ? "  |" : "\n");
		printf("%-34s", "");
		for (int t = 0; t < NT; t++)
			printf(" %8s %5s %5s %5s%s", "", "", "here", "serv.",
			    t + 1 < NT ? "  |" : "\n");
		for (int k = 0; k < NRAW; k++) {
			static const char *const rname[NRAW] = {
				"raw push-like, 1 in flight",
				"raw fetch-like, 1 in flight",
				"raw push-like, %d in flight",
				"raw fetch-like, %d in flight",
			};

			snprintf(what, sizeof(what), rname[k], DEPTH);
			for (int t = 0; t < NT; t++)
				f[t] = &raw[t][k];
			row(what, f, NULL);
		}
		for (int t = 0; t < NT; t++) {
			f[t] = &dm[t].push;
			ref[t] = &raw[t][RAW_PUSH1];
		}
		row("remote push (writer -> daemon)", f, ref);
		for (int t = 0; t < NT; t++)
			f[t] = &dm[t].push2;
		row("remote push, 2 writers at once", f, ref);
		for (int t = 0; t < NT; t++) {
			f[t] = &dm[t].fetch;
			ref[t] = &raw[t][RAW_FETCH1];
		}
		row("remote fetch (daemon -> reader)", f, ref);
		printf(
		    "ratio: to the raw figure of the same shape, 1 in flight "
		    "(the goal is >= 0.70);\ncpu: seconds per GB moved, "
		    "of this process (here) and of the server process\n");
		printf("against raw with %d in flight: push ipc %.2f, tcp "
		       "%.2f; fetch ipc %.2f, tcp %.2f\n",
		    DEPTH, med(dm[IPC].push.mbs) / med(raw[IPC][RAW_PUSHN].mbs),
		    med(dm[TCP].push.mbs) / med(raw[TCP][RAW_PUSHN].mbs),
		    med(dm[IPC].fetch.mbs) / med(raw[IPC][RAW_FETCHN].mbs),
		    med(dm[TCP].fetch.mbs) / med(raw[TCP][RAW_FETCHN].mbs));
		for (int t = 0; t < NT; t++)
			printf("push over %s: %.2f s, of which the task waited "
			       "%.2f s in write (back pressure)\nand %.2f s "
			       "in finish (the last batches, the commit: the "
			       "daemon's fsync)\n",
			    tname[t], med(dm[t].push_s), med(dm[t].blocked),
			    med(dm[t].finish));
		printf("a second fetch of each run hashes every buffer (XXH3 "
		       "per subpartition): ipc %.0f MB/s,\ntcp %.0f MB/s; "
		       "each returned the bytes pushed, subpartition by "
		       "subpartition\n",
		    med(dm[IPC].checked), med(dm[TCP].checked));
		printf("the daemon's data dir after the commit: %.1f MiB in "
		       "files, %.1f MiB on disk,\nfor %" PRIu64
		       " MiB pushed (ipc daemon, median)\n",
		    med(dm[IPC].disk_size) / 1048576,
		    med(dm[IPC].disk_alloc) / 1048576, opt.bytes >> 20);
		printf("physical limits, same run: memcpy %.1f GB/s (one "
		       "thread, 64 MiB blocks); the disk's\nsequential write "
		       "+ fsync %.0f MB/s (%u KiB writes, in the scratch "
		       "dir)\n",
		    memcpy_gbs, med(disk), BUF >> 10);
	}
	results(dm, raw, med(disk));
	free(fill);
	free(want.bytes);
	free(want.hash);
	return 0;
}
