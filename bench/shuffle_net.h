/*
 * What shuffle_net's parent (shuffle_net.c) and its children
 * (shuffle_net_peer.c) share: the header every buffer and message starts
 * with, the edge's shape, the children's entry points, and stopping and
 * reading a line as both do.
 */
#ifndef SHUFFLE_NET_H
#define SHUFFLE_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MAX_TASKS 256

/* ---- the data: what every buffer and message carries ---- */

/* At the start of every buffer: read back in order by every consumer. */
struct head {
	uint32_t producer, sub;
	uint64_t seq; /* of this producer's buffers for this sub */
};

/* ---- who does what ---- */

/*
 * The edge's shape, the same in both children: producers of process 0
 * are the partitions [0, prod0), those of process 1 follow; consumer c
 * reads subpartition c of every partition.
 */
struct shape {
	bool one_way;
	uint32_t tasks; /* P */
	uint64_t nbuf;  /* buffers per producer, a multiple of nsub */
	size_t bufsz;   /* bytes per buffer and message */
	uint32_t nprod; /* producers, both processes */
	uint32_t nsub;  /* consumers, both processes */
	uint32_t prod0; /* producers in process 0 */
	uint32_t pbase; /* this process's producers: [pbase, pbase + np) */
	uint32_t np;
	uint32_t cbase; /* its consumers: [cbase, cbase + nc) */
	uint32_t nc;
};

/* "WHAT: WHY" on stderr, exit(1) (bench_die). */
_Noreturn void die(const char *what, const char *why);
/* The next line from the other side, storage from malloc; none: die. */
char *line_in(FILE *f, const char *who);

/* The children, by main on their arguments; shuffle_net_peer.c says what
 * each prints and reads. 0, or they stop with die. */
int peer(const char *url, int self, const struct shape *s, uint32_t credits,
    bool full);
int raw_peer(const char *dir, int self, const struct shape *s);

#endif
