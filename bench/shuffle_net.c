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
 * nng, so each child is a process as a worker is. The children, the
 * worker and the raw nng peer, are in shuffle_net_peer.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "shuffle_net.h"

extern char **environ;

#define MAX_RUNS 32

/* ---- who does what ---- */

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

_Noreturn void
die(const char *what, const char *why)
{
	bench_die("%s: %s", what, why);
}

char *
line_in(FILE *f, const char *who)
{
	char *line = NULL;
	size_t cap = 0;

	if (getline(&line, &cap, f) < 0)
		die(who, "no line from the other side");
	return line;
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
