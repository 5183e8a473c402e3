/* What the cluster test programs share (cluster_util.h). */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cluster_util.h"
#include "sl_testutil.h"

extern char **environ;

/* ---- the scratch directory ---- */

static char root[256];

const char *
tmp(const char *name)
{
	static char bufs[8][600];
	static int k;
	char *b = bufs[k++ % 8];

	if (root[0] == '\0')
		CU_ASSERT_PTR_NOT_NULL_FATAL(
		    sl_tmp_dir(root, sizeof(root), cluster_tmp_prefix));
	snprintf(b, 600, "%s/%s", root, name);
	return b;
}

const char *
def(const char *name, const char *value)
{
	static char bufs[8][700];
	static int k;
	char *b = bufs[k++ % 8];

	snprintf(b, 700, "%s=%s", name, value);
	return b;
}

void
cleanup(void)
{
	if (root[0] != '\0')
		sl_rm_rf(root);
}

/* ---- time and processes ---- */

double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

pid_t
spawn(char *const argv[], const char *out, const char *err)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO,
	    out ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO,
	    err ? err : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CU_ASSERT_EQUAL_FATAL(
	    posix_spawn(&pid, argv[0], &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

int
wait_for(pid_t pid, double secs)
{
	double until = now() + secs;
	int st;

	while (now() < until) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (w == pid)
			return st;
		sleep_ms(20);
	}
	return -1;
}

/* ---- files processes write ---- */

bool
file_has(const char *path, const char *needle, double secs)
{
	double until = now() + secs;

	for (;;) {
		size_t len;
		char *s = sl_read_file(path, &len);
		bool has = s != NULL && strstr(s, needle) != NULL;

		free(s);
		if (has)
			return true;
		if (now() > until)
			return false;
		sleep_ms(50);
	}
}

bool
file_count(const char *path, const char *needle, int n, double secs)
{
	double until = now() + secs;

	for (;;) {
		size_t len;
		char *s = sl_read_file(path, &len);
		int k = 0;

		for (char *p = s; p != NULL && (p = strstr(p, needle)) != NULL;
		     p++)
			k++;
		free(s);
		if (k >= n)
			return true;
		if (now() > until)
			return false;
		sleep_ms(50);
	}
}

void
put(const char *path, const char *s)
{
	sl_write_file(path, s, strlen(s));
}

void
print_tails(const char *const *names)
{
	for (; *names != NULL; names++) {
		size_t n = 0;
		char *t = sl_read_file(tmp(*names), &n);

		fprintf(stderr, "\n--- %s (last 3000 bytes)\n%s\n", *names,
		    t != NULL ? t + (n > 3000 ? n - 3000 : 0) : "");
		free(t);
	}
}

/* ---- the sluice binary ---- */

void
expect(struct run_result *r, int status, const char *needle)
{
	if (r->status != status ||
	    (needle != NULL && strstr(r->err, needle) == NULL &&
	        strstr(r->out, needle) == NULL)) {
		fprintf(stderr,
		    "\nwanted exit %d and '%s'; got exit %d\nstdout: %s\n"
		    "stderr: %s\n",
		    status, needle ? needle : "", r->status, r->out, r->err);
		CU_FAIL("wrong outcome");
	}
	run_result_free(r);
}

pid_t
start_coordinator(const char *url, const char *dir, const char *err)
{
	char *argv[] = { (char *)sluice_path(), "coordinator", "--listen",
		(char *)url, "--state-dir", (char *)dir, "--heartbeat-ms",
		"100", NULL };

	return spawn(argv, NULL, err);
}

/* ---- the blocking WordCount ---- */

char *
make_text(const char *path, size_t want, size_t *len)
{
	size_t nl, nw;
	char *text = sl_gen_text(want, len, &nl, &nw);

	sl_write_file(path, text, *len);
	return text;
}

void
put_blocking_wc(const char *path, const char *extra)
{
	char job[4096];

	snprintf(job, sizeof(job),
	    "{\"name\": \"wcb\", %s, \"vertices\": ["
	    "{\"id\": \"read\", \"operator\": \"text_source\", "
	    "\"parallelism\": 4, \"config\": {\"path\": \"${input}\"}},"
	    "{\"id\": \"words\", \"operator\": \"tokenize\", "
	    "\"parallelism\": 4},"
	    "{\"id\": \"combine\", \"operator\": \"hash_aggregate\", "
	    "\"parallelism\": 4, \"config\": {\"function\": \"count\", "
	    "\"mode\": \"partial\", \"max_entries\": 512}},"
	    "{\"id\": \"count\", \"operator\": \"hash_aggregate\", "
	    "\"parallelism\": 3, \"config\": {\"function\": \"sum\", "
	    "\"mode\": \"final\"}},"
	    "{\"id\": \"write\", \"operator\": \"file_sink\", "
	    "\"parallelism\": 3, \"config\": {\"path\": \"${output}\", "
	    "\"format\": \"tsv\"}}], \"edges\": ["
	    "{\"from\": \"read\", \"to\": \"words\", \"distribution\": "
	    "\"pointwise\", \"type\": \"pipelined\"},"
	    "{\"from\": \"words\", \"to\": \"combine\", \"distribution\": "
	    "\"pointwise\", \"type\": \"pipelined\"},"
	    "{\"from\": \"combine\", \"to\": \"count\", \"distribution\": "
	    "\"all_to_all\", \"type\": \"blocking\", \"shuffle\": "
	    "\"localdisk\"},"
	    "{\"from\": \"count\", \"to\": \"write\", \"distribution\": "
	    "\"pointwise\", \"type\": \"blocking\", \"shuffle\": "
	    "\"localdisk\"}]}",
	    extra);
	put(path, job);
}

bool
output_is_wordcount(const char *dir, const char *text, size_t len)
{
	char **want, *all = NULL, **got = NULL;
	size_t nwant = sl_ref_wordcount(text, len, &want, NULL), ngot = 0;
	size_t cap = 0, alen = 0;
	bool same;
	char names[8192], *name, *save = NULL;

	sl_list_dir(dir, names, sizeof(names));
	for (name = strtok_r(names, " ", &save); name != NULL;
	     name = strtok_r(NULL, " ", &save)) {
		char path[1200];
		size_t n;
		char *part;

		if (strncmp(name, "part-", 5) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if ((part = sl_read_file(path, &n)) == NULL)
			continue;
		if (alen + n + 1 > cap) {
			cap = (alen + n + 1) * 2;
			all = realloc(all, cap);
		}
		memcpy(all + alen, part, n);
		alen += n;
		free(part);
	}
	if (all != NULL) {
		all[alen] = '\0';
		got = malloc(sizeof(*got) * (alen / 2 + 1));
		for (char *l = strtok_r(all, "\n", &save); l != NULL;
		     l = strtok_r(NULL, "\n", &save))
			got[ngot++] = l;
		qsort(got, ngot, sizeof(*got), sl_cmp_str);
	}
	same = ngot == nwant;
	for (size_t i = 0; same && i < nwant; i++)
		same = strcmp(got[i], want[i]) == 0;
	if (!same)
		fprintf(stderr, "\n%s: %zu lines, the reference has %zu\n", dir,
		    ngot, nwant);
	for (size_t i = 0; i < nwant; i++)
		free(want[i]);
	free(want);
	free(got);
	free(all);
	return same;
}

/* ---- the operation log ---- */

json_t *
log_records(const char *dir)
{
	struct run_result r = sl_run_sluice("log", "dump", dir, NULL);
	json_t *all = json_array();
	char *save = NULL;

	for (char *line = strtok_r(r.out, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save))
		json_array_append_new(all, json_loads(line, 0, NULL));
	run_result_free(&r);
	return all;
}

size_t
count_type(json_t *recs, const char *type)
{
	size_t i, n = 0;
	json_t *rec;

	json_array_foreach (recs, i, rec)
		n += strcmp(json_string_value(json_object_get(rec, "t")),
		         type) == 0;
	return n;
}

/* A task's attempts in a report; -1 when it is not there. */
int
report_attempts(const char *path, const char *task)
{
	json_t *rep = json_load_file(path, 0, NULL), *v, *t;
	size_t i, k;
	int n = -1;

	json_array_foreach (json_object_get(rep, "vertices"), i, v)
		json_array_foreach (json_object_get(v, "tasks"), k, t)
			if (strcmp(json_string_value(json_object_get(t, "id")),
			        task) == 0)
				n = (int)json_integer_value(
				    json_object_get(t, "attempts"));
	json_decref(rep);
	return n;
}

/* Every task of a report ran `want` attempts, but for those listed. */
bool
report_attempts_all(const char *path, int want, const char *const *but)
{
	json_t *rep = json_load_file(path, 0, NULL), *v, *t;
	size_t i, k;
	bool ok = rep != NULL;

	json_array_foreach (json_object_get(rep, "vertices"), i, v)
		json_array_foreach (json_object_get(v, "tasks"), k, t) {
			const char *id =
			    json_string_value(json_object_get(t, "id"));
			bool listed = false;

			for (const char *const *b = but; *b != NULL; b++)
				listed = listed || strcmp(*b, id) == 0;
			if (!listed &&
			    json_integer_value(
			        json_object_get(t, "attempts")) != want) {
				fprintf(stderr, "\n  %s: %lld attempts\n", id,
				    (long long)json_integer_value(
				        json_object_get(t, "attempts")));
				ok = false;
			}
		}
	json_decref(rep);
	return ok;
}
