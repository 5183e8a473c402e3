/* The remote shuffle service (service.h). */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "localdisk.h"
#include "rs_frame.h"
#include "rs_jobs.h"
#include "rs_store.h"
#include "service.h"

/* Room for a push's header (secret, descriptor) beside its blocks. */
#define HEADER_ROOM (64u << 10)
/* Requests answered at once: pushes waiting for the memory tier (back
 * pressure) leave some to fetches, commits and pings. */
#define THREADS 8

static struct {
	const struct sl_host *host; /* the caller's: logs, start's errors */
	/* the store's and the server's: their errors kept per thread */
	struct sl_host shim;
	struct rs_store *store; /* NULL while stopped */
	struct rs_jobs *jobs;
	char dir[PATH_MAX]; /* the data dir */
	bool need_secret;
	char secret[RS_SECRET_MAX + 1]; /* NUL-padded, as rs_req's */
} svc;

static _Thread_local char thread_err[300];

static void
keep_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(thread_err, sizeof(thread_err), fmt, ap);
	va_end(ap);
}

static nng_msg *
frame_msg(const msgpack_sbuffer *sb)
{
	nng_msg *m;

	if (nng_msg_alloc(&m, 4 + sb->size) != 0)
		return NULL;
	shc_frame_header(sb, nng_msg_body(m));
	return m;
}

static nng_msg *
reply_rep(const struct rs_rep *r)
{
	msgpack_sbuffer sb;
	nng_msg *m = NULL;

	msgpack_sbuffer_init(&sb);
	if (rs_rep_encode(&sb, r) == 0)
		m = frame_msg(&sb);
	msgpack_sbuffer_destroy(&sb);
	return m;
}

static nng_msg *
reply(uint32_t st, uint64_t next, const char *err)
{
	struct rs_rep r = { .st = st, .next = next };

	snprintf(r.err, sizeof(r.err), "%s", err);
	return reply_rep(&r);
}

/* A ping: its job heard of; what this daemon holds, how full its disk. */
static nng_msg *
on_ping(const struct rs_req *q)
{
	struct rs_rep r = { .st = LD_ST_DATA };

	if (rs_jobs_heard(svc.jobs, q->job, q->token) != 0)
		return reply(
		    LD_ST_ERROR, 0, "remote: ping failed: out of memory");
	r.bytes = rs_store_bytes(svc.store);
	if (rs_disk_used(svc.dir, &r.used) != 0)
		r.used = 0; /* not known: the master sees none */
	return reply_rep(&r);
}

/* A frame neither localdisk's nor ours: who sent it is unknown, so the
 * error reply carries the keys of both replies (ld_rep and rs_rep), and
 * a reader and a writer alike decode it as the error it is. */
static nng_msg *
malformed(void)
{
	static const char err[] = "remote: malformed request";
	msgpack_sbuffer sb;
	msgpack_packer pk;
	nng_msg *m = NULL;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if (msgpack_pack_map(&pk, 7) == 0 && shc_pack_key(&pk, "v") == 0 &&
	    msgpack_pack_uint32(&pk, LD_NET_VERSION) == 0 &&
	    shc_pack_key(&pk, "st") == 0 &&
	    msgpack_pack_uint32(&pk, LD_ST_ERROR) == 0 &&
	    shc_pack_key(&pk, "end") == 0 && msgpack_pack_false(&pk) == 0 &&
	    shc_pack_key(&pk, "run") == 0 && msgpack_pack_uint32(&pk, 0) == 0 &&
	    shc_pack_key(&pk, "pos") == 0 && msgpack_pack_uint64(&pk, 0) == 0 &&
	    shc_pack_key(&pk, "next") == 0 &&
	    msgpack_pack_uint64(&pk, 0) == 0 && shc_pack_key(&pk, "err") == 0 &&
	    msgpack_pack_str(&pk, sizeof(err) - 1) == 0 &&
	    msgpack_pack_str_body(&pk, err, sizeof(err) - 1) == 0)
		m = frame_msg(&sb);
	msgpack_sbuffer_destroy(&sb);
	return m;
}

/* Every byte compared whatever the strings (both NUL-padded to one size),
 * so how long it takes says nothing of where they differ. */
static bool
secret_ok(const char *got)
{
	volatile unsigned char diff = 0;

	if (!svc.need_secret)
		return true;
	for (size_t i = 0; i < sizeof(svc.secret); i++)
		diff |= (unsigned char)(svc.secret[i] ^ got[i]);
	return diff == 0;
}

static void
free_msg(void *m)
{
	nng_msg_free(m);
}

/* localdisk's server hands over what it does not know: a push, a commit,
 * a ping, or garbage. A push keeps its message: its blocks stay there
 * until they are written. */
static nng_msg *
on_other(void *arg, nng_msg **req)
{
	const char *what;
	struct rs_req q;
	struct ld_desc d;
	uint64_t next = 0;
	int rv;

	(void)arg;
	thread_err[0] = '\0';
	if (rs_req_decode(nng_msg_body(*req), nng_msg_len(*req), &q) != 0)
		return malformed();
	what = q.op == RS_OP_PUSH  ? "push"
	    : q.op == RS_OP_COMMIT ? "commit"
	                           : "ping";
	/* nothing else is looked at, nor said, before the secret */
	if (!secret_ok(q.secret)) {
		svc.host->log(svc.host, SL_LOG_WARN,
		    "a %s with a wrong secret refused", what);
		return reply(LD_ST_ERROR, 0, "remote: wrong secret");
	}
	if (q.op == RS_OP_PING)
		return on_ping(&q);
	if (ld_desc_decode(&svc.shim, q.desc, q.desc_len, &d) != 0)
		return reply(LD_ST_ERROR, 0, thread_err);
	/* before the store: a drop of the job under way ends first */
	if (rs_jobs_heard(svc.jobs, d.job, d.token) != 0) {
		ld_desc_clear(&svc.shim, &d);
		return reply(LD_ST_ERROR, 0, "remote: out of memory");
	}
	if (q.op == RS_OP_PUSH) {
		rv = rs_store_push_owned(svc.store, &d, q.seq, q.out, q.blocks,
		    q.len, free_msg, *req, &next);
		if (rv == 0)
			*req = NULL; /* the store's */
	} else {
		rv = rs_store_commit(svc.store, &d, q.seq);
		next = q.seq;
	}
	ld_desc_clear(&svc.shim, &d);
	if (rv == 0)
		return reply(LD_ST_DATA, next, "");
	if (rv == SL_ENOMEM || thread_err[0] == '\0')
		snprintf(thread_err, sizeof(thread_err), "remote: %s failed%s",
		    what, rv == SL_ENOMEM ? ": out of memory" : "");
	return reply(LD_ST_ERROR, next, thread_err);
}

/* A fetch or release: let in with the secret only. */
static bool
on_allowed(void *arg, const char *secret)
{
	char got[sizeof(svc.secret)] = { 0 };

	(void)arg;
	snprintf(got, sizeof(got), "%s", secret);
	if (secret_ok(got))
		return true;
	svc.host->log(
	    svc.host, SL_LOG_WARN, "a fetch or release with a wrong secret");
	return false;
}

static void
on_released(void *arg, const struct ld_desc *d)
{
	(void)arg;
	rs_store_release(svc.store, d);
}

/* localdisk's base directory, as its paths have it, made when missing. */
static int
data_dir(void)
{
	char *slash;

	if (rs_job_dir(&svc.shim, "x", 0, svc.dir, sizeof(svc.dir)) != 0) {
		svc.host->set_error("remote: out of memory");
		return SL_ENOMEM;
	}
	if ((slash = strrchr(svc.dir, '/')) != NULL)
		*slash = '\0';
	if (mkdir(svc.dir, 0755) != 0 && errno != EEXIST) {
		svc.host->set_error("remote: cannot make the data dir %s: %s",
		    svc.dir, strerror(errno));
		return SL_EIO;
	}
	return 0;
}

int
rs_service_start(const struct sl_host *host, const struct rs_service_config *c,
    char *bound, size_t cap)
{
	const struct ld_server_hooks hooks = {
		.other = on_other,
		.released = on_released,
		.allowed = on_allowed,
		.max_request = RS_MAX_BATCH + HEADER_ROOM,
		.threads = THREADS,
	};
	const char *secret = c->secret;
	int rv;

	if (svc.store != NULL) {
		host->set_error("remote: the service runs already");
		return SL_ESTATE;
	}
	if (secret != NULL && strlen(secret) > RS_SECRET_MAX) {
		host->set_error("remote: a secret of %zu bytes (at most %d)",
		    strlen(secret), RS_SECRET_MAX);
		return SL_EINVAL;
	}
	memset(svc.secret, 0, sizeof(svc.secret));
	svc.need_secret = secret != NULL && secret[0] != '\0';
	if (svc.need_secret)
		memcpy(svc.secret, secret, strlen(secret));
	svc.host = host;
	svc.shim = *host;
	svc.shim.set_error = keep_error;
	if ((rv = data_dir()) != 0)
		return rv;
	if ((rv = rs_store_open(&svc.shim, &svc.store)) != 0) {
		host->set_error("remote: out of memory");
		return rv;
	}
	rs_store_set_disk(svc.store, svc.dir, c->max_disk_use);
	rs_store_set_memory(svc.store, c->memory_limit);
	/* its errors are said by host: they are start's */
	if ((rv = rs_jobs_start(
	         host, svc.store, svc.dir, c->expire_ms, &svc.jobs)) != 0)
		goto out_close_store;
	ld_server_set_hooks(&hooks);
	thread_err[0] = '\0';
	if ((rv = ld_server_ops.start(&svc.shim, c->url, bound, cap)) != 0) {
		const char *why = thread_err;

		/* the server is localdisk's, the daemon is not */
		if (strncmp(why, "localdisk: ", 11) == 0)
			why += 11;
		host->set_error("%s", why);
		ld_server_set_hooks(NULL);
		rs_jobs_stop(svc.jobs);
		svc.jobs = NULL;
		goto out_close_store;
	}
	return 0;
out_close_store:
	rs_store_close(svc.store);
	svc.store = NULL;
	return rv;
}

void
rs_service_stop(void)
{
	if (svc.store == NULL)
		return;
	ld_server_ops.stop(); /* no hook runs after it returns */
	ld_server_set_hooks(NULL);
	rs_jobs_stop(svc.jobs); /* nor a drop */
	svc.jobs = NULL;
	rs_store_close(svc.store);
	svc.store = NULL;
	memset(svc.secret, 0, sizeof(svc.secret));
}
