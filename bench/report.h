/*
 * What bench_report's two files share: report.c reads the results and
 * writes latest.json and the table, report_plot.c the plots.
 */
#ifndef REPORT_H
#define REPORT_H

#include <jansson.h>

/* The string at o's key, or dflt when it is not one. */
const char *str_or(json_t *o, const char *key, const char *dflt);

/* A plot per name in points (report_plot.c): 0, or -1 when one failed. */
int write_plots(const char *outdir, json_t *points);

#endif
