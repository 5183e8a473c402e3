/*
 * bench_report's plots (report.c says what the report writes): per plot
 * name, OUTDIR/PLOT.dat (a block per series, x sorted), OUTDIR/PLOT.gp and,
 * by gnuplot run in OUTDIR, OUTDIR/PLOT.png.
 */
#include "report.h"

#include "bench_util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

/* ---- plots */

struct xy {
	double x, y;
	size_t i; /* the point's place in the file: equal x keep it */
};

static int
cmp_xy(const void *a, const void *b)
{
	const struct xy *p = a, *q = b;

	if (p->x != q->x)
		return p->x < q->x ? -1 : 1;
	return p->i < q->i ? -1 : p->i > q->i;
}

/* The plot's name as a file name: anything but [A-Za-z0-9._-] becomes '_',
 * and so does a leading '.'. */
static void
plot_stem(const char *plot, char *stem, size_t cap)
{
	size_t i = 0;

	for (; plot[i] && i + 1 < cap; i++) {
		char c = plot[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		    (c == '.' && i > 0);

		stem[i] = ok ? c : '_';
	}
	stem[i] = '\0';
	if (i == 0)
		snprintf(stem, cap, "plot");
}

/* s in a gnuplot single-quoted string: ' doubled. */
static void
gp_string(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputc('\'', f);
		fputc(*s, f);
	}
	fputc('\'', f);
}

/* Run gnuplot STEM.gp in outdir: 0, or -1 (said why). Once gnuplot could
 * not be started it is not tried again. */
static int
run_gnuplot(const char *outdir, const char *stem)
{
	static bool missing;
	char gp[512];
	int status;
	pid_t pid;

	if (missing)
		return -1;
	snprintf(gp, sizeof(gp), "%s.gp", stem);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		bench_die("fork: %s", strerror(errno));
	if (pid == 0) {
		if (chdir(outdir) != 0) {
			fprintf(stderr, "bench_report: cd %s: %s\n", outdir,
			    strerror(errno));
			_exit(126);
		}
		execlp("gnuplot", "gnuplot", gp, (char *)NULL);
		fprintf(stderr,
		    "bench_report: cannot run gnuplot: %s (apt-get install "
		    "gnuplot-nox; .ci/install-deps)\n",
		    strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		bench_die("waitpid: %s", strerror(errno));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	missing = WIFEXITED(status) && WEXITSTATUS(status) == 127;
	if (!missing)
		fprintf(stderr, "bench_report: gnuplot %s/%s failed (%s %d)\n",
		    outdir, gp, WIFEXITED(status) ? "exit" : "signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return -1;
}

/* Whether v[0..n) are all > 0 and span two decades or more: then that
 * axis is logarithmic. */
static bool
spans_decades(const double *v, size_t n)
{
	double lo = 0, hi = 0;

	for (size_t i = 0; i < n; i++) {
		if (!(v[i] > 0))
			return false;
		lo = i == 0 || v[i] < lo ? v[i] : lo;
		hi = v[i] > hi ? v[i] : hi;
	}
	return n > 0 && hi / lo >= 100;
}

static FILE *
open_out(const char *outdir, const char *stem, const char *ext, char *path,
    size_t cap)
{
	FILE *f;

	snprintf(path, cap, "%s/%s.%s", outdir, stem, ext);
	if ((f = fopen(path, "w")) == NULL)
		fprintf(stderr, "bench_report: cannot write %s: %s\n", path,
		    strerror(errno));
	return f;
}

/* STEM.dat (a block per series, in the order each first came, x sorted,
 * two blank lines between: gnuplot's index), STEM.gp, and STEM.png by
 * gnuplot. The first point gives the axes' labels. */
static int
write_plot(const char *outdir, json_t *points, const char *plot)
{
	size_t n = json_array_size(points), ns = 0, np = 0, i;
	const char **series = calloc(n, sizeof(*series));
	struct xy *pt = calloc(n, sizeof(*pt));
	double *xs = calloc(n, sizeof(*xs)), *ys = calloc(n, sizeof(*ys));
	const char *xlabel = NULL, *ylabel = NULL;
	char stem[256], path[4400];
	json_t *p;
	FILE *dat = NULL, *gp = NULL;
	int rc = -1;

	if (series == NULL || pt == NULL || xs == NULL || ys == NULL)
		bench_die("out of memory");
	plot_stem(plot, stem, sizeof(stem));
	json_array_foreach (points, i, p) {
		size_t s;

		if (strcmp(str_or(p, "plot", ""), plot) != 0)
			continue;
		if (xlabel == NULL) {
			xlabel = str_or(p, "xlabel", "");
			ylabel = str_or(p, "ylabel", "");
		}
		xs[np] = json_number_value(json_object_get(p, "x"));
		ys[np++] = json_number_value(json_object_get(p, "y"));
		for (s = 0; s < ns; s++)
			if (strcmp(series[s], str_or(p, "series", "")) == 0)
				break;
		if (s == ns)
			series[ns++] = str_or(p, "series", "");
	}
	if ((dat = open_out(outdir, stem, "dat", path, sizeof(path))) == NULL ||
	    (gp = open_out(outdir, stem, "gp", path, sizeof(path))) == NULL)
		goto out_close;

	fprintf(
	    dat, "# %s: x, y; a block per series (gnuplot's index)\n", plot);
	for (size_t s = 0; s < ns; s++) {
		size_t k = 0;

		json_array_foreach (points, i, p) {
			if (strcmp(str_or(p, "plot", ""), plot) == 0 &&
			    strcmp(str_or(p, "series", ""), series[s]) == 0)
				pt[k++] = (struct xy) {
					json_number_value(
					    json_object_get(p, "x")),
					json_number_value(
					    json_object_get(p, "y")),
					i,
				};
		}
		qsort(pt, k, sizeof(*pt), cmp_xy);
		fprintf(
		    dat, "%s# series %zu: %s\n", s ? "\n\n" : "", s, series[s]);
		for (size_t j = 0; j < k; j++)
			fprintf(dat, "%.9g %.9g\n", pt[j].x, pt[j].y);
	}

	fprintf(gp,
	    "# made by bench_report; in this directory, `gnuplot %s.gp` "
	    "makes %s.png\n"
	    "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
	    "\tset terminal pngcairo noenhanced size 900,560 font ',10'\n"
	    "} else {\n"
	    "\tset terminal png noenhanced size 900,560\n"
	    "}\n"
	    "set output '%s.png'\n"
	    "set title ",
	    stem, stem, stem);
	gp_string(gp, plot);
	fputs("\nset xlabel ", gp);
	gp_string(gp, xlabel);
	fputs("\nset ylabel ", gp);
	gp_string(gp, ylabel);
	fputs("\nset grid\nset key outside right top\n", gp);
	if (spans_decades(xs, np))
		fputs("set logscale x\nset format x '%.0s%c'\n", gp);
	if (spans_decades(ys, np))
		fputs("set logscale y\nset format y '%.0s%c'\n", gp);
	else {
		bool nonneg = true;

		for (size_t j = 0; j < np; j++)
			nonneg &= ys[j] >= 0;
		if (nonneg)
			fputs("set yrange [0:*]\n", gp);
	}
	fputs("plot ", gp);
	for (size_t s = 0; s < ns; s++) {
		fprintf(gp,
		    "%s'%s.dat' index %zu using 1:2 with linespoints "
		    "pointtype 7 title ",
		    s ? ", \\\n     " : "", stem, s);
		gp_string(gp, series[s]);
	}
	fputc('\n', gp);
	rc = 0;
out_close:
	if (dat != NULL && (fclose(dat) != 0))
		rc = -1;
	if (gp != NULL && (fclose(gp) != 0))
		rc = -1;
	if (rc == 0 && (rc = run_gnuplot(outdir, stem)) == 0)
		printf("plot %s: %s/%s.png (%zu series, %zu points)\n", plot,
		    outdir, stem, ns, np);
	free(ys);
	free(xs);
	free(pt);
	free(series);
	return rc;
}

/* A plot per name, in the order each first came. Two names that make the
 * same file name are refused. */
int
write_plots(const char *outdir, json_t *points)
{
	size_t i, j;
	json_t *p;
	int rc = 0;

	json_array_foreach (points, i, p) {
		const char *plot = str_or(p, "plot", "");
		char stem[256], other[256];
		bool seen = false, clash = false;

		plot_stem(plot, stem, sizeof(stem));
		for (j = 0; j < i && !seen && !clash; j++) {
			const char *prev =
			    str_or(json_array_get(points, j), "plot", "");

			plot_stem(prev, other, sizeof(other));
			seen = strcmp(prev, plot) == 0;
			clash = !seen && strcmp(stem, other) == 0;
		}
		if (seen)
			continue;
		if (clash) {
			fprintf(stderr,
			    "bench_report: plot \"%s\" would overwrite another "
			    "plot's %s.png: left out\n",
			    plot, stem);
			rc = -1;
			continue;
		}
		if (strcmp(stem, plot) != 0)
			fprintf(stderr,
			    "bench_report: plot \"%s\" written as %s.png\n",
			    plot, stem);
		if (write_plot(outdir, points, plot) != 0)
			rc = -1;
	}
	return rc;
}
