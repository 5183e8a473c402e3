/* The jobs a daemon holds partitions of, expiry and restart (rs_jobs.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "localdisk.h"
#include "rs_jobs.h"

struct job {
	struct job *next;
	char *name;
	uint64_t token;
	char *dir; /* rs_job_dir's: what tells two jobs apart */
	uint64_t heard_ns;
};

struct rs_jobs {
	const struct sl_host *host;
	struct rs_store *store;
	char dir[PATH_MAX];
	int lock_fd;
	uint64_t expire_ns, tick_ns;
	pthread_mutex_t mtx;
	pthread_cond_t cv; /* the thread's wake-up; a drop's end */
	struct job *jobs;
	struct job *dropping; /* taken off jobs, being dropped */
	pthread_t th;
	bool started, stop;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
job_free(const struct sl_host *host, struct job *e)
{
	host->free(e->name);
	host->free(e->dir);
	host->free(e);
}

static char *
dup_str(const struct sl_host *host, const char *s)
{
	char *c = host->alloc(strlen(s) + 1);

	if (c != NULL)
		strcpy(c, s);
	return c;
}

/* mtx held: the job in list whose directory is dir, or NULL */
static struct job *
find_dir(struct job *list, const char *dir)
{
	for (; list != NULL; list = list->next)
		if (strcmp(list->dir, dir) == 0)
			return list;
	return NULL;
}

/* mtx held: add (name, token, dir) heard of at t */
static int
add(struct rs_jobs *j, const char *name, uint64_t token, const char *dir,
    uint64_t t)
{
	struct job *e = j->host->alloc(sizeof(*e));

	if (e == NULL)
		return SL_ENOMEM;
	e->name = dup_str(j->host, name);
	e->dir = dup_str(j->host, dir);
	if (e->name == NULL || e->dir == NULL) {
		job_free(j->host, e);
		return SL_ENOMEM;
	}
	e->token = token;
	e->heard_ns = t;
	e->next = j->jobs;
	j->jobs = e;
	return 0;
}

int
rs_jobs_heard(struct rs_jobs *j, const char *job, uint64_t token)
{
	char dir[PATH_MAX];
	struct job *e;
	int rv = 0;

	pthread_mutex_lock(&j->mtx);
	/* the common case: this name, heard of before */
	for (e = j->jobs; e != NULL; e = e->next)
		if (e->token == token && strcmp(e->name, job) == 0)
			break;
	if (e == NULL) {
		pthread_mutex_unlock(&j->mtx);
		if ((rv = rs_job_dir(j->host, job, token, dir, sizeof(dir))) !=
		    0)
			return rv;
		pthread_mutex_lock(&j->mtx);
		while (find_dir(j->dropping, dir) != NULL)
			pthread_cond_wait(&j->cv, &j->mtx);
		if ((e = find_dir(j->jobs, dir)) == NULL)
			rv = add(j, job, token, dir, now_ns());
	}
	if (e != NULL)
		e->heard_ns = now_ns();
	pthread_mutex_unlock(&j->mtx);
	return rv;
}

/* ---- the files of a job's directory ---- */

/* dir/name into buf (cap bytes); false when it does not fit */
static bool
join(char *buf, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(buf, cap, "%s/%s", dir, name);

	return n >= 0 && (size_t)n < cap;
}

enum kind { DATA, INDEX, DATA_TMP, INDEX_TMP };

/* name as one of a partition's files (ld_paths': e<E>.p<P>.a<A>.data,
 * .index, each also .tmp); false for anything else */
static bool
parse_file(const char *name, struct ld_desc *d, enum kind *k)
{
	static const char *const suffix[] = { ".data", ".index", ".data.tmp",
		".index.tmp" };
	char canon[64];
	int n = 0;

	if (sscanf(name, "e%u.p%u.a%u%n", &d->edge, &d->producer, &d->attempt,
	        &n) != 3 ||
	    n == 0)
		return false;
	/* exactly as ld_paths writes it: no "e01", no "e+1" */
	snprintf(canon, sizeof(canon), "e%u.p%u.a%u", d->edge, d->producer,
	    d->attempt);
	if ((size_t)n != strlen(canon) || strncmp(name, canon, (size_t)n) != 0)
		return false;
	for (int i = 0; i < 4; i++)
		if (strcmp(name + n, suffix[i]) == 0) {
			*k = (enum kind)i;
			return true;
		}
	return false;
}

struct found {
	uint32_t committed, removed;
	uint64_t bytes;
	bool partitions; /* any file of a partition seen */
};

/* At start: the committed partitions of (name, token) in dir into the
 * store; the rest of a partition (temporary files; a data file without its
 * index, or the reverse: a writer killed between its renames) removed. */
static void
take_over(struct rs_jobs *j, const char *name, uint64_t token, const char *dir,
    struct found *f)
{
	DIR *dh = opendir(dir);
	struct dirent *de;

	if (dh == NULL)
		return;
	while ((de = readdir(dh)) != NULL) {
		struct ld_desc d = { .job = (char *)name,
			.token = token,
			.nsub = 1,
			.type = SL_PARTITION_BLOCKING };
		char path[PATH_MAX], other[PATH_MAX];
		struct stat sp, so;
		enum kind k;
		size_t n;

		if (!parse_file(de->d_name, &d, &k) ||
		    !join(path, sizeof(path), dir, de->d_name))
			continue;
		f->partitions = true;
		if (k == DATA_TMP || k == INDEX_TMP) {
			f->removed += unlink(path) == 0;
			continue;
		}
		/* the other of the pair: swap the suffix */
		n = strlen(path) - (k == DATA ? 5 : 6);
		snprintf(other, sizeof(other), "%.*s%s", (int)n, path,
		    k == DATA ? ".index" : ".data");
		if (stat(other, &so) != 0) {
			f->removed += unlink(path) == 0;
			continue;
		}
		if (k == DATA || stat(path, &sp) != 0)
			continue; /* the index's turn takes it over */
		if (rs_store_adopt(j->store, &d,
		        (uint64_t)sp.st_size + (uint64_t)so.st_size) == 0) {
			f->committed++;
			f->bytes += (uint64_t)sp.st_size + (uint64_t)so.st_size;
		}
	}
	closedir(dh);
}

/* A directory name as localdisk makes it: JOB.TOKEN (16 hex digits, not
 * all 0), or JOB with token 0. */
static void
parse_dir(const char *dname, char *job, size_t cap, uint64_t *token)
{
	size_t n = strlen(dname);
	char *end;

	*token = 0;
	snprintf(job, cap, "%s", dname);
	if (n < 18 || dname[n - 17] != '.' ||
	    strspn(dname + n - 16, "0123456789abcdef") != 16)
		return;
	*token = strtoull(dname + n - 16, &end, 16);
	if (*token != 0)
		job[n - 17] = '\0';
}

/* At start: every job directory of the data dir taken over; one log line
 * says what was found. */
static int
scan(struct rs_jobs *j)
{
	struct found all = { 0 };
	uint32_t njobs = 0;
	uint64_t t = now_ns();
	DIR *dh = opendir(j->dir);
	struct dirent *de;
	int rv = 0;

	if (dh == NULL) {
		j->host->set_error(
		    "remote: data dir %s: %s", j->dir, strerror(errno));
		return SL_EIO;
	}
	while (rv == 0 && (de = readdir(dh)) != NULL) {
		char dir[PATH_MAX], job[NAME_MAX + 1];
		struct found f = { 0 };
		struct stat st;
		uint64_t token;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (!join(dir, sizeof(dir), j->dir, de->d_name) ||
		    lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
			continue;
		parse_dir(de->d_name, job, sizeof(job), &token);
		take_over(j, job, token, dir, &f);
		/* a directory without partitions' files is not a job's
		 * (lost+found, say): left alone; one emptied goes */
		if (f.partitions && rmdir(dir) != 0) {
			njobs++;
			/* known by the name requests will give it */
			rv = rs_job_dir(j->host, job, token, dir, sizeof(dir));
			pthread_mutex_lock(&j->mtx);
			if (rv == 0)
				rv = add(j, job, token, dir, t);
			pthread_mutex_unlock(&j->mtx);
		}
		all.committed += f.committed;
		all.removed += f.removed;
		all.bytes += f.bytes;
	}
	closedir(dh);
	if (rv != 0) {
		j->host->set_error("remote: out of memory");
		return rv;
	}
	j->host->log(j->host, SL_LOG_INFO,
	    "data dir %s: taken over %u committed partitions of %u jobs "
	    "(%llu bytes), removed %u unfinished files",
	    j->dir, all.committed, njobs, (unsigned long long)all.bytes,
	    all.removed);
	return 0;
}

/* ---- expiry ---- */

/* e not heard of for too long: out of the store, its files and its
 * directory gone. */
static void
drop(struct rs_jobs *j, const struct job *e)
{
	uint64_t bytes;
	uint32_t n = rs_store_drop_job(j->store, e->name, e->token, &bytes);
	DIR *dh = opendir(e->dir);
	struct dirent *de;

	/* what the store did not know of: an earlier daemon's leftovers */
	if (dh != NULL) {
		while ((de = readdir(dh)) != NULL) {
			struct ld_desc d;
			char path[PATH_MAX];
			enum kind k;

			if (parse_file(de->d_name, &d, &k) &&
			    join(path, sizeof(path), e->dir, de->d_name))
				unlink(path);
		}
		closedir(dh);
		if (rmdir(e->dir) != 0 && errno != ENOENT)
			j->host->log(j->host, SL_LOG_WARN,
			    "job %s expired, but its directory %s stays: %s",
			    e->name, e->dir, strerror(errno));
	}
	/* the server's open readers would serve the files still */
	ld_server_forget_job(e->name, e->token);
	j->host->log(j->host, SL_LOG_INFO,
	    "job %s (token %016llx) not heard of for %llu s: dropped, %u "
	    "partitions (%llu bytes)",
	    e->name, (unsigned long long)e->token,
	    (unsigned long long)(j->expire_ns / 1000000000u), n,
	    (unsigned long long)bytes);
}

static void *
expire(void *arg)
{
	struct rs_jobs *j = arg;

	pthread_mutex_lock(&j->mtx);
	while (!j->stop) {
		uint64_t t = now_ns() + j->tick_ns;
		struct timespec ts = { (time_t)(t / 1000000000u),
			(long)(t % 1000000000u) };

		pthread_cond_timedwait(&j->cv, &j->mtx, &ts);
		if (j->stop)
			break;
		t = now_ns();
		for (struct job **pp = &j->jobs; *pp != NULL;) {
			struct job *e = *pp;

			if (t - e->heard_ns < j->expire_ns) {
				pp = &e->next;
				continue;
			}
			*pp = e->next;
			e->next = j->dropping;
			j->dropping = e;
		}
		if (j->dropping == NULL)
			continue;
		/* requests naming these jobs wait (rs_jobs_heard) */
		pthread_mutex_unlock(&j->mtx);
		for (struct job *e = j->dropping; e != NULL; e = e->next)
			drop(j, e);
		pthread_mutex_lock(&j->mtx);
		while (j->dropping != NULL) {
			struct job *e = j->dropping;

			j->dropping = e->next;
			job_free(j->host, e);
		}
		pthread_cond_broadcast(&j->cv);
	}
	pthread_mutex_unlock(&j->mtx);
	return NULL;
}

/* ---- start, stop ---- */

static int
lock_dir(struct rs_jobs *j)
{
	j->lock_fd = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j->lock_fd < 0) {
		j->host->set_error(
		    "remote: data dir %s: %s", j->dir, strerror(errno));
		return SL_EIO;
	}
	if (flock(j->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;

		close(j->lock_fd);
		j->lock_fd = -1;
		if (e == EWOULDBLOCK) {
			j->host->set_error("remote: data dir %s is another "
			                   "daemon's",
			    j->dir);
			return SL_EBUSY;
		}
		j->host->set_error(
		    "remote: data dir %s: lock: %s", j->dir, strerror(e));
		return SL_EIO;
	}
	return 0;
}

static void
jobs_free(struct rs_jobs *j)
{
	while (j->jobs != NULL) {
		struct job *e = j->jobs;

		j->jobs = e->next;
		job_free(j->host, e);
	}
	if (j->lock_fd >= 0)
		close(j->lock_fd); /* and the lock goes */
	pthread_cond_destroy(&j->cv);
	pthread_mutex_destroy(&j->mtx);
	j->host->free(j);
}

int
rs_jobs_start(const struct sl_host *host, struct rs_store *store,
    const char *dir, uint64_t expire_ms, struct rs_jobs **out)
{
	struct rs_jobs *j = host->alloc(sizeof(*j));
	pthread_condattr_t ca;
	int rv;

	if (j == NULL) {
		host->set_error("remote: out of memory");
		return SL_ENOMEM;
	}
	memset(j, 0, sizeof(*j));
	j->host = host;
	j->store = store;
	j->lock_fd = -1;
	snprintf(j->dir, sizeof(j->dir), "%s", dir);
	j->expire_ns = (expire_ms ? expire_ms : 1) * 1000000u;
	/* about once a second; four times per expiry when that is shorter */
	j->tick_ns =
	    j->expire_ns / 4 < 1000000000u ? j->expire_ns / 4 : 1000000000u;
	if (j->tick_ns < 10000000u)
		j->tick_ns = 10000000u;
	pthread_mutex_init(&j->mtx, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&j->cv, &ca);
	pthread_condattr_destroy(&ca);
	if ((rv = lock_dir(j)) != 0 || (rv = scan(j)) != 0)
		goto out_free;
	if (pthread_create(&j->th, NULL, expire, j) != 0) {
		host->set_error("remote: cannot start a thread");
		rv = SL_ENOMEM;
		goto out_free;
	}
	j->started = true;
	*out = j;
	return 0;
out_free:
	jobs_free(j);
	return rv;
}

void
rs_jobs_stop(struct rs_jobs *j)
{
	if (j == NULL)
		return;
	pthread_mutex_lock(&j->mtx);
	j->stop = true;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mtx);
	if (j->started)
		pthread_join(j->th, NULL);
	jobs_free(j);
}
