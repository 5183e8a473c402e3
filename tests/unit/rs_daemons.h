/*
 * What the remote shuffle tests that run real daemons share: start the
 * sluice-shuffled program and learn the URL it listens at, kill it; push
 * a partition through the remote plugin's writer (rs_writer.c) and read
 * it back through its reader (localdisk's, built with LD_REMOTE_SERVICE),
 * every buffer checked: which one it is (each subpartition's buffers come
 * once each, in order) and every byte of it.
 */
#ifndef SL_RS_DAEMONS_H
#define SL_RS_DAEMONS_H

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "localdisk.h"
#include "rs_plugin.h"
#include "sl_test.h"
#include "sl_testutil.h"
#include "test_host.h"

#define NSUB 4

static inline double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---- daemons ---- */

struct daemon {
	pid_t pid; /* 0: not running */
	char url[256];
	char dir[512]; /* its --data-dir */
	char log[600]; /* what it said */
};

/* The sluice-shuffled of this build: $SL_BINARY_DIR/bin (ctest sets it),
 * else beside this program's build tree (tests/unit/../../bin). */
static inline void
shuffled_path(char *buf, size_t cap)
{
	const char *b = getenv("SL_BINARY_DIR");
	char self[512];
	ssize_t n;

	if (b != NULL) {
		snprintf(buf, cap, "%s/bin/sluice-shuffled", b);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	CU_ASSERT_FATAL(n > 0);
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	snprintf(buf, cap, "%s/../../bin/sluice-shuffled", self);
}

/* Start a daemon listening at listen, its data in root/name, its log in
 * root/name.log; wait until it says where it listens. A tls+tcp:// one
 * gets $SLUICE_SHUFFLE_TLS_CERT and _KEY as --tls-cert and --tls-key. */
static inline void
daemon_start(
    struct daemon *dm, const char *root, const char *name, const char *listen)
{
	char exe[600], *line = NULL, *at, *end;
	size_t n;

	shuffled_path(exe, sizeof(exe));
	CU_ASSERT_EQUAL_FATAL(access(exe, X_OK), 0);
	snprintf(dm->dir, sizeof(dm->dir), "%s/%s", root, name);
	snprintf(dm->log, sizeof(dm->log), "%s/%s.log", root, name);
	unlink(dm->log);
	dm->pid = fork();
	CU_ASSERT_FATAL(dm->pid >= 0);
	if (dm->pid == 0) {
		char *argv[] = { exe, "--listen", (char *)listen, "--data-dir",
			dm->dir, "--tls-cert",
			getenv("SLUICE_SHUFFLE_TLS_CERT"), "--tls-key",
			getenv("SLUICE_SHUFFLE_TLS_KEY"), NULL };
		int fd = open(dm->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0)
			_exit(126);
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
		if (strncmp(listen, "tls+", 4) != 0)
			argv[5] = NULL;
		execv(exe, argv);
		_exit(127);
	}
	for (int i = 0; i < 1000; i++) {
		free(line);
		line = sl_read_file(dm->log, &n);
		if (line != NULL && strstr(line, "listening at ") != NULL &&
		    strchr(strstr(line, "listening at "), '\n') != NULL)
			break;
		if (waitpid(dm->pid, NULL, WNOHANG) == dm->pid) {
			fprintf(stderr, "sluice-shuffled: %s\n",
			    line ? line : "(nothing)");
			dm->pid = 0;
			free(line);
			CU_FAIL_FATAL("the daemon did not start");
		}
		sleep_ms(10);
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(line);
	at = strstr(line, "listening at ");
	CU_ASSERT_PTR_NOT_NULL_FATAL(at);
	at += strlen("listening at ");
	end = strchr(at, '\n');
	CU_ASSERT_PTR_NOT_NULL_FATAL(end);
	*end = '\0';
	snprintf(dm->url, sizeof(dm->url), "%s", at);
	free(line);
}

static inline void
daemon_kill(struct daemon *dm, int sig)
{
	if (dm->pid <= 0)
		return;
	CU_ASSERT_EQUAL(kill(dm->pid, sig), 0);
	CU_ASSERT_EQUAL(waitpid(dm->pid, NULL, 0), dm->pid);
	dm->pid = 0;
}

/* A URL where nobody listens: a port bound, then let go. */
static inline void
dead_url(char *buf, size_t cap)
{
	nng_socket s;
	nng_listener l;
	int port;

	CU_ASSERT_EQUAL_FATAL(nng_rep0_open(&s), 0);
	CU_ASSERT_EQUAL_FATAL(nng_listen(s, "tcp://127.0.0.1:0", &l, 0), 0);
	CU_ASSERT_EQUAL_FATAL(
	    nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port), 0);
	nng_close(s);
	snprintf(buf, cap, "tcp://127.0.0.1:%d", port);
}

/* ---- partitions ---- */

/* Buffer i of subpartition s: its length (empty ones too), its bytes. */
static inline size_t
buf_len(uint32_t s, uint32_t i, size_t big)
{
	if (i % 17 == 5)
		return 0;
	return (s * 7919u + i * 104729u) % big + 1;
}

static inline unsigned char
buf_byte(uint32_t s, uint32_t i, size_t k)
{
	/* runs of equal bytes: compressible, but not wholly */
	return (unsigned char)(s * 31 + i * 7 + (k / 16) * 13 + (k % 3));
}

static inline struct ld_desc
part(uint32_t producer, const char *location, const char *replica,
    uint32_t codec)
{
	return (struct ld_desc) { .job = "job-rr",
		.edge = 1,
		.producer = producer,
		.nsub = NSUB,
		.type = SL_PARTITION_BLOCKING,
		.location = (char *)location,
		.codec = codec,
		.token = 77,
		.replica = (char *)replica };
}

/*
 * Write per buffers of up to big bytes to each subpartition of d through
 * the remote plugin's writer, round after round (after round hook_at, hook
 * runs), then finish. The first error's code; its detail in `detail`.
 * *secs: from the hook (or the start) to the end.
 */
static inline int
push_partition(const struct ld_desc *d, uint32_t per, size_t big,
    uint32_t hook_at, void (*hook)(void), double *secs)
{
	struct sl_bytes desc;
	void *st = calloc(1, rs_writer_ops.state_size);
	double t0 = now_s();
	bool opened;
	int rv;

	CU_ASSERT_EQUAL_FATAL(ld_desc_encode(&host, d, &desc), 0);
	rv = rs_writer_ops.open(st, &host, desc.data, desc.len);
	opened = rv == 0;
	for (uint32_t i = 0; rv == 0 && i < per; i++) {
		for (uint32_t s = 0; rv == 0 && s < NSUB; s++) {
			size_t n = buf_len(s, i, big);
			struct sl_buffer b = { .len = n,
				.kind = SL_BUFFER_DATA };

			b.data = malloc(n ? n : 1);
			for (size_t k = 0; k < n; k++)
				((unsigned char *)b.data)[k] =
				    buf_byte(s, i, k);
			rv = rs_writer_ops.write(st, s, &b);
			free(b.data); /* the writer took it: NULL */
		}
		if (hook != NULL && i == hook_at) {
			hook();
			t0 = now_s();
		}
	}
	if (rv == 0)
		rv = rs_writer_ops.finish(st);
	if (secs != NULL)
		*secs = now_s() - t0;
	if (rv != 0 && opened)
		rs_writer_ops.fail(st); /* as the core does */
	rs_writer_ops.fini(st);
	free(st);
	free(desc.data);
	return rv;
}

static inline void
on_notify(void *arg)
{
	(void)arg;
}

/* A reader of all of d, through localdisk's reader ops. */
struct reading {
	void *st;
	struct sl_bytes desc;
	uint32_t next[NSUB]; /* the buffer each subpartition is at */
	size_t big;
	uint64_t bufs, bytes;
	uint32_t wrong; /* buffers not what was written */
};

static inline void
read_open(struct reading *rd, const struct ld_desc *d, size_t big)
{
	struct sl_reader_spec spec = { .struct_size = sizeof(spec),
		.descriptors = &rd->desc,
		.num_descriptors = 1,
		.sub_lo = 0,
		.sub_hi = NSUB - 1,
		.notify = on_notify };

	memset(rd, 0, sizeof(*rd));
	rd->big = big;
	rd->st = calloc(1, ld_reader_ops.state_size);
	CU_ASSERT_EQUAL_FATAL(ld_desc_encode(&host, d, &rd->desc), 0);
	CU_ASSERT_EQUAL_FATAL(ld_reader_ops.open(rd->st, &host, &spec), 0);
}

/* Read up to max buffers (0: to the end), for at most secs: the last
 * code (0 when max were read, SL_EAGAIN when the time ran out). */
static inline int
read_some(struct reading *rd, uint64_t max, double secs)
{
	double until = now_s() + secs;
	uint64_t got = 0;
	int rv;

	for (;;) {
		struct sl_buffer b = { 0 };

		if (max > 0 && got == max)
			return 0;
		rv = ld_reader_ops.next(rd->st, &b);
		if (rv == SL_EAGAIN) {
			if (now_s() > until)
				return rv;
			sleep_ms(1);
			continue;
		}
		if (rv != 0)
			return rv;
		if (b.subpartition >= NSUB) {
			rd->wrong++;
		} else {
			uint32_t s = b.subpartition, i = rd->next[s]++;
			const unsigned char *p = b.data;
			bool same = b.len == buf_len(s, i, rd->big) &&
			    b.kind == SL_BUFFER_DATA;

			for (size_t k = 0; same && k < b.len; k++)
				same = p[k] == buf_byte(s, i, k);
			rd->wrong += !same;
		}
		rd->bufs++;
		rd->bytes += b.len;
		got++;
		ld_reader_ops.release(rd->st, &b);
	}
}

static inline void
read_close(struct reading *rd)
{
	ld_reader_ops.fini(rd->st);
	free(rd->st);
	free(rd->desc.data);
	rd->st = NULL;
}

/* Read all of d: whether every buffer of per rounds came, once, right. */
static inline bool
read_all(const struct ld_desc *d, uint32_t per, size_t big)
{
	struct reading rd;
	bool ok;
	int rv;

	read_open(&rd, d, big);
	rv = read_some(&rd, 0, 60);
	ok = rv == SL_EEOF && rd.wrong == 0 && rd.bufs == (uint64_t)per * NSUB;
	for (uint32_t s = 0; s < NSUB; s++)
		ok = ok && rd.next[s] == per;
	if (!ok)
		fprintf(stderr, "read_all: %d, %llu buffers, %u wrong: %s\n",
		    rv, (unsigned long long)rd.bufs, rd.wrong, detail);
	read_close(&rd);
	return ok;
}

/* Whether d's files in daemon dm's data dir are there (localdisk.h's
 * layout: DIR/JOB.TOKEN/eE.pP.aA.{data,index}). *data, *index malloc'd. */
static inline bool
has_files(
    const struct daemon *dm, const struct ld_desc *d, char **data, char **index)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s/%s.%016llx/e%u.p%u.a%u.data", dm->dir,
	    d->job, (unsigned long long)d->token, d->edge, d->producer,
	    d->attempt);
	*data = strdup(p);
	strcpy(p + strlen(p) - 4, "index");
	*index = strdup(p);
	return access(*data, F_OK) == 0 && access(*index, F_OK) == 0;
}

#endif
