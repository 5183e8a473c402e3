/*
 * sluice-shuffled: a remote shuffle service's daemon (docs/remote-
 * shuffle.md), also run as `sluice shuffled`. The command line, the
 * process's host table and its signals; the service itself is service.c.
 * Built without the core (as a plugin is), so its host table is its own:
 * malloc, errors kept per thread, log lines on stderr at the level
 * $SLUICE_LOG names (warning by default), as the core's.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rs_store.h" /* RS_MEMORY_DEFAULT */
#include "service.h"

static const char usage[] =
    "usage: sluice-shuffled --listen URL --data-dir DIR [--secret-file FILE]\n"
    "                       [--expire-after SECONDS] [--max-disk-use PCT]\n"
    "                       [--memory-limit MIB]\n"
    "                       [--tls-cert FILE --tls-key FILE]\n"
    "   or: sluice shuffled ...\n"
    "\n"
    "Keeps the partitions writers push to it under DIR (made if needed)\n"
    "and serves them to readers, until SIGINT or SIGTERM. URL is\n"
    "tcp://HOST:PORT (port 0: any free one), tls+tcp://HOST:PORT or\n"
    "ipc:///PATH; the URL bound is printed on stderr when it is ready.\n"
    "What an earlier daemon left in DIR is taken over: its committed\n"
    "partitions are served, its unfinished ones removed.\n"
    "\n"
    "  --secret-file FILE     requests must carry the file's first line;\n"
    "                         without it, none is asked\n"
    "  --expire-after SECONDS a job no request named (push, commit, or its\n"
    "                         coordinator's ping) for this long is dropped,\n"
    "                         its partitions removed (default 3600)\n"
    "  --max-disk-use PCT     refuse new partitions while DIR's file system\n"
    "                         is more than PCT % used, 1..100 (default 90)\n"
    "  --memory-limit MIB     pushed bytes held in memory before they are\n"
    "                         written; beyond it a push is answered only\n"
    "                         once there is room (default 256)\n"
    "  --tls-cert FILE        the certificate (PEM) of a tls+tcp:// URL,\n"
    "  --tls-key FILE         and its private key (PEM); both required\n"
    "                         with tls+tcp://, refused with other URLs\n"
    "\n"
    "Exit status: 0 stopped by a signal, 1 cannot start (listen, or DIR in\n"
    "use by another daemon), 2 bad arguments.\n";

/* ---- the host table ---- */

static const char *const level_names[] = { "error", "warning", "info",
	"debug" };
static int log_level = SL_LOG_WARN;
static _Thread_local char detail[1024];

static void *
h_alloc(size_t n)
{
	return malloc(n);
}

static void *
h_realloc(void *p, size_t n)
{
	return realloc(p, n);
}

static void
h_free(void *p)
{
	free(p);
}

static void
h_log(const struct sl_host *host, int level, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	int n;

	(void)host;
	if (level > log_level)
		return;
	if (level < SL_LOG_ERROR || level > SL_LOG_DEBUG)
		level = SL_LOG_ERROR;
	/* one write a line: threads' lines never mix */
	n = snprintf(
	    line, sizeof(line), "sluice-shuffled: %s: ", level_names[level]);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	strcat(line, "\n");
	fputs(line, stderr);
}

static void
h_set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
}

static const char *
h_strerror(int err)
{
	switch (err) {
#define ERR_CASE(name, num, msg) \
	case SL_E##name:         \
		return msg;
		SL_ERRNO_MAP(ERR_CASE)
#undef ERR_CASE
	default:
		return err < 0 ? strerror(-err) : "unknown error";
	}
}

static uint64_t
h_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
h_counter_add(const char *name, int64_t delta)
{
	(void)name; /* no metrics yet */
	(void)delta;
}

static const struct sl_host host = {
	.struct_size = sizeof(struct sl_host),
	.abi_major = SL_ABI_MAJOR,
	.abi_minor = SL_ABI_MINOR,
	.alloc = h_alloc,
	.realloc = h_realloc,
	.free = h_free,
	.log = h_log,
	.set_error = h_set_error,
	.strerror = h_strerror,
	.now_ns = h_now_ns,
	.counter_add = h_counter_add,
	.plugin_name = "shuffled",
};

/* ---- the command line ---- */

static int
bad_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("sluice-shuffled: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n", stderr);
	return 2;
}

/* The first line of path (its newline dropped) into secret; 0, or 2
 * after saying why. */
static int
read_secret(const char *path, char *secret, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return bad_usage("--secret-file %s: %s", path, strerror(errno));
	if (fgets(secret, (int)cap, f) == NULL) {
		int e = ferror(f) ? errno : 0;

		fclose(f);
		return bad_usage("--secret-file %s: %s", path,
		    e != 0 ? strerror(e) : "empty");
	}
	fclose(f);
	n = strlen(secret);
	if (n == cap - 1 && secret[n - 1] != '\n')
		return bad_usage("--secret-file %s: its first line is longer "
		                 "than %d bytes",
		    path, RS_SECRET_MAX);
	while (n > 0 && (secret[n - 1] == '\n' || secret[n - 1] == '\r'))
		secret[--n] = '\0';
	if (n == 0)
		return bad_usage(
		    "--secret-file %s: its first line is empty", path);
	return 0;
}

/* mkdir -p dir, then its absolute path into abs (PATH_MAX bytes): localdisk
 * takes only an absolute base directory. 0, or 2 after saying why. */
static int
make_data_dir(const char *dir, char *abs)
{
	char p[PATH_MAX];
	size_t n = strlen(dir);
	struct stat st;

	if (n == 0 || n >= sizeof(p))
		return bad_usage("--data-dir: not a path: '%s'", dir);
	memcpy(p, dir, n + 1);
	for (char *s = p + 1;; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			return bad_usage("--data-dir: cannot make %s: %s", p,
			    strerror(errno));
		if ((*s = c) == '\0')
			break;
	}
	if (realpath(dir, abs) == NULL || stat(abs, &st) != 0)
		return bad_usage("--data-dir %s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return bad_usage("--data-dir %s: not a directory", dir);
	if (access(abs, W_OK | X_OK) != 0)
		return bad_usage("--data-dir %s: %s", dir, strerror(errno));
	return 0;
}

/* A whole number of opt in lo..hi; 0, or 2 after saying why. */
static int
parse_num(const char *opt, const char *arg, unsigned long long lo,
    unsigned long long hi, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || *end != '\0' || errno != 0 ||
	    *out < lo || *out > hi)
		return bad_usage("%s %s: not a whole number in %llu..%llu", opt,
		    arg, lo, hi);
	return 0;
}

/* --tls-cert/--tls-key: what the URL asks, the files readable; then their
 * absolute paths in the environment, where the listener takes them from.
 * 0, or 2 after saying why. */
static int
tls_files(const char *listen, const char *cert, const char *key)
{
	const char *file[2] = { cert, key };
	const char *opt[2] = { "--tls-cert", "--tls-key" };
	const char *env[2] = { "SLUICE_SHUFFLE_TLS_CERT",
		"SLUICE_SHUFFLE_TLS_KEY" };

	/* tls+tcp://, tls+tcp4://, tls+tcp6:// */
	if (strncmp(listen, "tls+", 4) != 0) {
		if (cert != NULL || key != NULL)
			return bad_usage("--tls-cert and --tls-key are for a "
			                 "tls+tcp:// --listen only");
		return 0;
	}
	if (cert == NULL || key == NULL)
		return bad_usage(
		    "--listen %s needs --tls-cert and --tls-key", listen);
	for (int i = 0; i < 2; i++) {
		char abs[PATH_MAX];
		FILE *f = fopen(file[i], "r");
		struct stat st;

		if (f == NULL || realpath(file[i], abs) == NULL ||
		    fstat(fileno(f), &st) != 0) {
			int e = errno;

			if (f != NULL)
				fclose(f);
			return bad_usage(
			    "%s %s: %s", opt[i], file[i], strerror(e));
		}
		fclose(f);
		if (!S_ISREG(st.st_mode))
			return bad_usage("%s %s: not a file", opt[i], file[i]);
		if (setenv(env[i], abs, 1) != 0)
			return bad_usage(
			    "cannot set %s: %s", env[i], strerror(errno));
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "data-dir", required_argument, NULL, 'd' },
		{ "secret-file", required_argument, NULL, 's' },
		{ "expire-after", required_argument, NULL, 'e' },
		{ "max-disk-use", required_argument, NULL, 'm' },
		{ "memory-limit", required_argument, NULL, 'M' },
		{ "tls-cert", required_argument, NULL, 'c' },
		{ "tls-key", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen = NULL, *data_dir = NULL, *secret_file = NULL;
	const char *cert = NULL, *key = NULL, *lv = getenv("SLUICE_LOG");
	char secret[RS_SECRET_MAX + 2] = "", dir[PATH_MAX], bound[512];
	struct rs_service_config c = { .expire_ms = RS_EXPIRE_DEFAULT * 1000ull,
		.max_disk_use = RS_DISK_USE_DEFAULT };
	unsigned long long n;
	uint64_t keep;
	sigset_t sigs;
	int opt, sig, rv;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			listen = optarg;
			break;
		case 'd':
			data_dir = optarg;
			break;
		case 's':
			secret_file = optarg;
			break;
		case 'e':
			if ((rv = parse_num("--expire-after", optarg, 1,
			         UINT32_MAX, &n)) != 0)
				return rv;
			c.expire_ms = n * 1000;
			break;
		case 'm':
			if ((rv = parse_num(
			         "--max-disk-use", optarg, 1, 100, &n)) != 0)
				return rv;
			c.max_disk_use = (uint32_t)n;
			break;
		case 'M':
			if ((rv = parse_num("--memory-limit", optarg, 1,
			         1u << 20, &n)) != 0)
				return rv;
			c.memory_limit = (uint64_t)n << 20;
			break;
		case 'c':
			cert = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return fflush(stdout) == 0 ? 0 : 1;
		default: /* getopt said which */
			fprintf(stderr, "\n%s", usage);
			return 2;
		}
	}
	if (listen == NULL || data_dir == NULL || optind < argc)
		return bad_usage("%s\n\n%s",
		    listen == NULL         ? "--listen URL is required"
		        : data_dir == NULL ? "--data-dir DIR is required"
		                           : "unexpected arguments",
		    usage);
	for (int i = 0; lv != NULL && i < 4; i++)
		if (strncmp(lv, level_names[i], 4) == 0)
			log_level = i;
	if ((rv = tls_files(listen, cert, key)) != 0 ||
	    (secret_file != NULL &&
	        (rv = read_secret(secret_file, secret, sizeof(secret))) != 0) ||
	    (rv = make_data_dir(data_dir, dir)) != 0)
		return rv;
	/* Pushed batches (messages nng's threads allocate, freed once
	 * written) come and go by the hundred MiB: keep what is freed, up to
	 * the memory tier's size, for the next ones rather than give it back
	 * and have it faulted in and zeroed again (a tenth of the daemon's
	 * CPU in a push). 32 MiB: a batch's message (RS_MAX_BATCH and its
	 * header) comes from the heap. */
	keep = c.memory_limit ? c.memory_limit : RS_MEMORY_DEFAULT;
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, keep > INT_MAX ? INT_MAX : (int)keep);
	/* the partitions' files go there: localdisk's base directory */
	if (setenv("SLUICE_LOCALDISK_DIR", dir, 1) != 0)
		return bad_usage(
		    "cannot set SLUICE_LOCALDISK_DIR: %s", strerror(errno));

	/* the signals are the main thread's (sigwait), blocked in every
	 * thread the service starts */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	c.url = listen;
	c.secret = secret;
	if (rs_service_start(&host, &c, bound, sizeof(bound)) != 0) {
		fprintf(stderr, "sluice-shuffled: %s\n", detail);
		return 1;
	}
	memset(secret, 0, sizeof(secret));
	fprintf(stderr, "shuffled: listening at %s\n", bound);
	sigwait(&sigs, &sig);
	host.log(&host, SL_LOG_INFO, "signal %d, stopping", sig);
	rs_service_stop();
	return 0;
}
