/*
 * bench/run's report: the lines the benchmarks appended to
 * $SLUICE_BENCH_RESULTS (bench_result, bench_point) gathered into
 * OUTDIR/latest.json, the table printed, and a plot per bench_point plot.
 *
 *   bench_report RESULTS.jsonl OUTDIR [--machine-json FILE]
 *
 * latest.json is issue 9's shape, one result or point a line so that a
 * committed copy diffs by figure:
 *
 *   {"machine": {...} or null,
 *    "results": [{"name", "value", "unit", "reference", "reference_value",
 *                 "ratio", "goal", "benchmark"}, ...],
 *    "points": [{"plot", "series", "x", "y", "xlabel", "ylabel",
 *                "benchmark"}, ...]}
 *
 * a field a line lacks written as null. Per plot, OUTDIR/PLOT.dat (a block
 * per series, x sorted), OUTDIR/PLOT.gp and, by gnuplot run in OUTDIR,
 * OUTDIR/PLOT.png (report_plot.c writes them). Exit 1 on a malformed line (its
 * number said), or when a file cannot be written or gnuplot fails; the rest is
 * still written.
 */
#include "bench_util.h"
#include "report.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#define PREC JSON_REAL_PRECISION(6)

static const char *results_path;

static const char *const result_keys[] = { "name", "value", "unit", "reference",
	"reference_value", "ratio", "goal", "benchmark" };
static const char *const point_keys[] = { "plot", "series", "x", "y", "xlabel",
	"ylabel", "benchmark" };

#define NKEYS(a) (sizeof(a) / sizeof((a)[0]))

static _Noreturn void
usage(void)
{
	fprintf(stderr,
	    "usage: bench_report RESULTS.jsonl OUTDIR [--machine-json FILE]\n"
	    "(bench/report.c says what it writes)\n");
	exit(2);
}

static bool
key_in(const char *key, const char *const *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

/* Stop with the line's number unless o's field key is of the type wanted
 * (or absent or null, when it may be). */
static void
check_field(
    json_t *o, const char *key, json_type type, bool required, size_t lineno)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL || json_is_null(v)) {
		if (required)
			bench_die(
			    "%s:%zu: no \"%s\"", results_path, lineno, key);
		return;
	}
	if (type == JSON_REAL ? !json_is_number(v) : json_typeof(v) != type)
		bench_die("%s:%zu: \"%s\" is not a %s", results_path, lineno,
		    key, type == JSON_REAL ? "number" : "string");
}

/* A copy of o with exactly keys, in their order, a missing one null; the
 * fields beyond them are left out, each name said once. */
static json_t *
normalise(json_t *o, const char *const *keys, size_t n, size_t lineno)
{
	static json_t *said; /* the names said, as keys */
	json_t *out = json_object();
	const char *key;
	json_t *v;

	if (out == NULL)
		bench_die("out of memory");
	for (size_t i = 0; i < n; i++) {
		v = json_object_get(o, keys[i]);
		if (json_object_set(out, keys[i], v ? v : json_null()) != 0)
			bench_die("out of memory");
	}
	if (said == NULL && (said = json_object()) == NULL)
		bench_die("out of memory");
	json_object_foreach (o, key, v) {
		if (key_in(key, keys, n) || json_object_get(said, key) != NULL)
			continue;
		fprintf(stderr,
		    "bench_report: %s:%zu: field \"%s\" left out (and on "
		    "any later line)\n",
		    results_path, lineno, key);
		json_object_set_new(said, key, json_true());
	}
	return out;
}

/* One line: a result (it has "name") or a point (it has "plot"). */
static void
read_line(const char *line, size_t lineno, json_t *results, json_t *points)
{
	json_error_t err;
	json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, &err);

	if (o == NULL)
		bench_die("%s:%zu:%d: not JSON: %s", results_path, lineno,
		    err.column > 0 ? err.column : 1, err.text);
	if (!json_is_object(o))
		bench_die("%s:%zu: not a JSON object", results_path, lineno);
	check_field(o, "benchmark", JSON_STRING, false, lineno);
	if (json_object_get(o, "plot") != NULL) {
		check_field(o, "plot", JSON_STRING, true, lineno);
		check_field(o, "series", JSON_STRING, true, lineno);
		check_field(o, "x", JSON_REAL, true, lineno);
		check_field(o, "y", JSON_REAL, true, lineno);
		check_field(o, "xlabel", JSON_STRING, false, lineno);
		check_field(o, "ylabel", JSON_STRING, false, lineno);
		json_array_append_new(points,
		    normalise(o, point_keys, NKEYS(point_keys), lineno));
	} else if (json_object_get(o, "name") != NULL) {
		check_field(o, "name", JSON_STRING, true, lineno);
		check_field(o, "value", JSON_REAL, true, lineno);
		check_field(o, "unit", JSON_STRING, false, lineno);
		check_field(o, "reference", JSON_STRING, false, lineno);
		check_field(o, "reference_value", JSON_REAL, false, lineno);
		check_field(o, "ratio", JSON_REAL, false, lineno);
		check_field(o, "goal", JSON_REAL, false, lineno);
		json_array_append_new(results,
		    normalise(o, result_keys, NKEYS(result_keys), lineno));
	} else {
		bench_die("%s:%zu: neither a result (\"name\") nor a point "
		          "(\"plot\")",
		    results_path, lineno);
	}
	json_decref(o);
}

static void
read_results(json_t *results, json_t *points)
{
	FILE *f = fopen(results_path, "r");
	char *line = NULL;
	size_t cap = 0, lineno = 0;

	if (f == NULL)
		bench_die("cannot open %s: %s", results_path, strerror(errno));
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		if (line[strspn(line, " \t\r\n")] == '\0')
			continue;
		read_line(line, lineno, results, points);
	}
	if (ferror(f))
		bench_die("cannot read %s: %s", results_path, strerror(errno));
	free(line);
	fclose(f);
}

/* ---- latest.json */

/* Each element of a, compact, on its own line. */
static int
write_array(FILE *f, const char *key, json_t *a)
{
	size_t i;
	json_t *v;

	fprintf(f, "  \"%s\": [", key);
	json_array_foreach (a, i, v) {
		char *s = json_dumps(v, JSON_COMPACT | PREC);

		if (s == NULL)
			return -1;
		fprintf(f, "%s\n    %s", i ? "," : "", s);
		free(s);
	}
	fprintf(f, "%s]", json_array_size(a) ? "\n  " : "");
	return 0;
}

/* The machine indented under its key. */
static int
write_machine(FILE *f, json_t *machine)
{
	char *s = json_dumps(machine, JSON_INDENT(2) | PREC | JSON_ENCODE_ANY);

	if (s == NULL)
		return -1;
	fputs("  \"machine\": ", f);
	for (const char *p = s; *p; p++) {
		fputc(*p, f);
		if (*p == '\n')
			fputs("  ", f);
	}
	free(s);
	return 0;
}

/* OUTDIR/latest.json, through a .tmp renamed over it. */
static int
write_latest(
    const char *outdir, json_t *machine, json_t *results, json_t *points)
{
	char path[4096], tmp[4200];
	FILE *f;
	int bad;

	snprintf(path, sizeof(path), "%s/latest.json", outdir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL) {
		fprintf(stderr, "bench_report: cannot write %s: %s\n", tmp,
		    strerror(errno));
		return -1;
	}
	fputs("{\n", f);
	bad = write_machine(f, machine);
	fputs(",\n", f);
	bad |= write_array(f, "results", results);
	fputs(",\n", f);
	bad |= write_array(f, "points", points);
	fputs("\n}\n", f);
	if (bad)
		bench_die("out of memory");
	if (fflush(f) != 0 || ferror(f) || fclose(f) != 0 ||
	    rename(tmp, path) != 0) {
		fprintf(stderr, "bench_report: cannot write %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	printf("wrote %s\n", path);
	return 0;
}

/* ---- the table */

/* Three significant figures at least, no exponent between 0.001 and 1e9.
 * (No libm: bench_report links none.) */
static void
fmt_num(char *buf, size_t cap, double v)
{
	double a = v < 0 ? -v : v;
	int dec = 2;

	if (v == 0)
		snprintf(buf, cap, "0");
	else if (a >= 1e9 || a < 1e-3)
		snprintf(buf, cap, "%.3g", v);
	else if (a >= 100)
		snprintf(buf, cap, "%.0f", v);
	else if (a >= 10)
		snprintf(buf, cap, "%.1f", v);
	else {
		for (; a < 1; a *= 10)
			dec++;
		snprintf(buf, cap, "%.*f", dec, v);
	}
}

const char *
str_or(json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : dflt;
}

/* The number at key into buf (fmt_num, or ">= %g" when a goal: a round
 * number, and a ratio meets it from above), or "" when there is none. */
static void
num_or_blank(json_t *o, const char *key, char *buf, size_t cap, bool goal)
{
	json_t *v = json_object_get(o, key);

	buf[0] = '\0';
	if (!json_is_number(v))
		return;
	if (goal)
		snprintf(buf, cap, ">= %g", json_number_value(v));
	else
		fmt_num(buf, cap, json_number_value(v));
}

enum { C_NAME, C_VAL, C_UNIT, C_REF, C_REFVAL, C_RATIO, C_GOAL, C_MARK, NCOL };

struct row {
	char cell[NCOL][256];
	const char *bench; /* the benchmark, its group */
};

/* A result's cells; its mark "met" or "MISSED" when it has a goal. */
static void
fill_row(struct row *r, json_t *o)
{
	json_t *ratio = json_object_get(o, "ratio");
	json_t *goal = json_object_get(o, "goal");

	r->bench = str_or(o, "benchmark", "(no benchmark)");
	snprintf(
	    r->cell[C_NAME], sizeof(r->cell[0]), "  %s", str_or(o, "name", ""));
	num_or_blank(o, "value", r->cell[C_VAL], sizeof(r->cell[0]), false);
	snprintf(
	    r->cell[C_UNIT], sizeof(r->cell[0]), "%s", str_or(o, "unit", ""));
	snprintf(r->cell[C_REF], sizeof(r->cell[0]), "%s",
	    str_or(o, "reference", ""));
	num_or_blank(
	    o, "reference_value", r->cell[C_REFVAL], sizeof(r->cell[0]), false);
	num_or_blank(o, "ratio", r->cell[C_RATIO], sizeof(r->cell[0]), false);
	num_or_blank(o, "goal", r->cell[C_GOAL], sizeof(r->cell[0]), true);
	r->cell[C_MARK][0] = '\0';
	if (json_is_number(goal))
		snprintf(r->cell[C_MARK], sizeof(r->cell[0]), "%s",
		    !json_is_number(ratio) ? "no ratio"
		        : json_number_value(ratio) >= json_number_value(goal)
		        ? "met"
		        : "MISSED");
}

/* The printed width of s: UTF-8 continuation bytes take no column. */
static int
cols(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* A line of the table, cut at its size. */
struct line {
	char buf[4096];
	size_t len;
};

static __attribute__((format(printf, 2, 3))) void
addf(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(l->buf + l->len, sizeof(l->buf) - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len += (size_t)n < sizeof(l->buf) - l->len
		    ? (size_t)n
		    : sizeof(l->buf) - 1 - l->len;
}

/* s padded to w columns, on the left when right is set, then sep. */
static void
add_cell(struct line *l, const char *s, int w, bool right, const char *sep)
{
	int pad = w - cols(s);

	pad = pad > 0 ? pad : 0;
	if (right)
		addf(l, "%*s%s%s", pad, "", s, sep);
	else
		addf(l, "%s%*s%s", s, pad, "", sep);
}

static void
print_line(char cell[NCOL][256], const int *w)
{
	struct line l = { .len = 0 };

	/* value and unit make one column, as do ref value and its unit */
	add_cell(&l, cell[C_NAME], w[C_NAME], false, "  ");
	add_cell(&l, cell[C_VAL], w[C_VAL], true, " ");
	add_cell(&l, cell[C_UNIT], w[C_UNIT], false, "  ");
	add_cell(&l, cell[C_REF], w[C_REF], false, "  ");
	add_cell(&l, cell[C_REFVAL], w[C_REFVAL], true, " ");
	add_cell(
	    &l, cell[C_REFVAL][0] ? cell[C_UNIT] : "", w[C_UNIT], false, "  ");
	add_cell(&l, cell[C_RATIO], w[C_RATIO], true, "  ");
	add_cell(&l, cell[C_GOAL], w[C_GOAL], true, "  ");
	add_cell(&l, cell[C_MARK], 0, false, "");
	while (l.len > 0 && l.buf[l.len - 1] == ' ')
		l.len--;
	printf("%.*s\n", (int)l.len, l.buf);
}

/* ", N MARK (name; name)": the rows marked so, when there are any. */
static void
print_marked(struct row *rows, size_t n, const char *mark)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += strcmp(rows[i].cell[C_MARK], mark) == 0;
	if (k == 0)
		return;
	printf(", %zu %s (", k,
	    strcmp(mark, "MISSED") == 0 ? "MISSED" : "without a ratio");
	for (size_t i = 0, m = 0; i < n; i++)
		if (strcmp(rows[i].cell[C_MARK], mark) == 0)
			printf(
			    "%s%s", m++ ? "; " : "", rows[i].cell[C_NAME] + 2);
	putchar(')');
}

/* The results grouped by benchmark in the order each first came, the
 * columns as wide as their widest cell; then the goals met, missed and
 * without a ratio. */
static void
print_table(json_t *results)
{
	size_t n = json_array_size(results), met = 0;
	struct row head = { .cell = { "figure", "value", "", "reference",
		                "ref value", "ratio", "goal", "" } };
	struct row *rows = calloc(n ? n : 1, sizeof(*rows));
	bool *done = calloc(n ? n : 1, sizeof(*done));
	int w[NCOL] = { 0 };

	if (rows == NULL || done == NULL)
		bench_die("out of memory");
	if (n == 0) {
		printf("no results\n");
		goto out_free;
	}
	for (size_t i = 0; i < n; i++)
		fill_row(&rows[i], json_array_get(results, i));
	for (size_t i = 0; i <= n; i++) {
		struct row *r = i < n ? &rows[i] : &head;

		for (int c = 0; c < NCOL; c++)
			if (cols(r->cell[c]) > w[c])
				w[c] = cols(r->cell[c]);
		if (i < n && cols(r->bench) > w[C_NAME])
			w[C_NAME] = cols(r->bench);
	}
	print_line(head.cell, w);
	for (size_t i = 0; i < n; i++) {
		if (done[i])
			continue;
		printf("%s\n", rows[i].bench);
		for (size_t j = i; j < n; j++) {
			if (done[j] ||
			    strcmp(rows[i].bench, rows[j].bench) != 0)
				continue;
			done[j] = true;
			print_line(rows[j].cell, w);
			if (strcmp(rows[j].cell[C_MARK], "met") == 0)
				met++;
		}
	}
	printf("goals: %zu met", met);
	print_marked(rows, n, "MISSED");
	print_marked(rows, n, "no ratio");
	putchar('\n');
out_free:
	free(done);
	free(rows);
}

/* ---- table.md: the table for the README */

/* s into f with the characters markdown's tables take as syntax escaped. */
static void
md_cell(FILE *f, const char *s)
{
	while (*s == ' ')
		s++;
	fputs("| ", f);
	for (; *s != '\0'; s++) {
		if (*s == '|' || *s == '*' || *s == '_' || *s == '<')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc(' ', f);
}

/* The machine's line under the table: what a reader needs to compare. */
static void
md_machine(FILE *f, json_t *m)
{
	json_t *suite = json_object_get(m, "suite");
	const char *keys[] = { "cpu", "os", "kernel", "scratch_fs" };

	fprintf(f,
	    "\nMeasured by `bench/run` (%s) on: ", str_or(suite, "mode", "?"));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		fprintf(f, "%s, ", str_or(m, keys[i], "?"));
	fprintf(f, "%lld cores, %.1f GiB; commit %.12s%s, %s.\n",
	    (long long)json_integer_value(json_object_get(m, "cores")),
	    json_number_value(json_object_get(m, "memory_gib")),
	    str_or(m, "git_commit", "?"),
	    json_is_true(json_object_get(m, "git_dirty")) ? " (with changes)"
	                                                  : "",
	    str_or(m, "date", "?"));
}

/* OUTDIR/table.md: the results as a markdown table, in the order of the
 * printed one, and the machine. */
static int
write_markdown(const char *outdir, json_t *machine, json_t *results)
{
	size_t n = json_array_size(results);
	char path[PATH_MAX];
	struct row r;
	FILE *f;

	snprintf(path, sizeof(path), "%s/table.md", outdir);
	if ((f = fopen(path, "w")) == NULL) {
		fprintf(stderr, "bench_report: cannot write %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	fputs("| figure | value | reference, same run | ratio | goal |\n"
	      "|---|---|---|---|---|\n",
	    f);
	for (size_t i = 0; i < n; i++) {
		char v[600], ref[1024], goal[600];

		fill_row(&r, json_array_get(results, i));
		snprintf(v, sizeof(v), "%s %s", r.cell[C_VAL], r.cell[C_UNIT]);
		if (r.cell[C_REFVAL][0] != '\0')
			snprintf(ref, sizeof(ref), "%s: %s %s", r.cell[C_REF],
			    r.cell[C_REFVAL], r.cell[C_UNIT]);
		else
			snprintf(ref, sizeof(ref), "%s", r.cell[C_REF]);
		snprintf(goal, sizeof(goal), "%s%s%s", r.cell[C_GOAL],
		    r.cell[C_MARK][0] != '\0' ? " " : "", r.cell[C_MARK]);
		md_cell(f, r.cell[C_NAME]);
		md_cell(f, v);
		md_cell(f, ref);
		md_cell(f, r.cell[C_RATIO]);
		md_cell(f, goal);
		fputs("|\n", f);
	}
	if (json_is_object(machine))
		md_machine(f, machine);
	if (fclose(f) != 0) {
		fprintf(stderr, "bench_report: cannot write %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	printf("wrote %s\n", path);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *outdir = NULL, *machine_path = NULL;
	json_t *machine = NULL, *results, *points;
	json_error_t err;
	int rc = 0;

	bench_init("bench_report");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--machine-json") == 0 && i + 1 < argc)
			machine_path = argv[++i];
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			usage();
		else if (results_path == NULL)
			results_path = argv[i];
		else if (outdir == NULL)
			outdir = argv[i];
		else
			usage();
	}
	if (outdir == NULL)
		usage();
	if (machine_path != NULL) {
		machine = json_load_file(machine_path, 0, &err);
		if (machine == NULL)
			bench_die("%s:%d: not JSON: %s", machine_path, err.line,
			    err.text);
		if (!json_is_object(machine))
			bench_die("%s: not a JSON object", machine_path);
	}
	if (mkdir(outdir, 0777) != 0 && errno != EEXIST)
		bench_die("cannot make %s: %s", outdir, strerror(errno));
	results = json_array();
	points = json_array();
	if (results == NULL || points == NULL)
		bench_die("out of memory");
	read_results(results, points);

	print_table(results);
	if (write_latest(
	        outdir, machine ? machine : json_null(), results, points) != 0)
		rc = 1;
	if (write_markdown(outdir, machine, results) != 0)
		rc = 1;
	if (write_plots(outdir, points) != 0)
		rc = 1;
	json_decref(points);
	json_decref(results);
	json_decref(machine);
	return rc;
}
