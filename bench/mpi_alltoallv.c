/*
 * MPI_Alltoallv of Open MPI on the volume of shuffle_net's all-to-all: the
 * reference a user of MPI would measure sluice's pipelined shuffle against.
 * shuffle_net starts it with mpirun -np 2 (bench/README.md).
 *
 *   mpi_alltoallv --bytes B --count C [--runs R] [--check]
 *
 * Each rank writes B bytes per run, C bytes to every rank (itself
 * included) per MPI_Alltoallv call, so C is the message size and a run is
 * B / (C x ranks) calls, rounded up. Each block is filled (memset, as a
 * shuffle's producer writes its buffers) and headed by (source, destination,
 * call); every received header is checked, and with --check every byte.
 * Rank 0 prints a line per run: "CROSS_BYTES SECONDS", the bytes every rank
 * received from the other ranks together (what crossed processes; what a
 * rank sent itself is not counted) and the slowest rank's seconds from a
 * barrier to its last call returning.
 */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct head {
	uint32_t src, dst;
	uint64_t call;
};

static void
fail(const char *what)
{
	fprintf(stderr, "mpi_alltoallv: %s\n", what);
	MPI_Abort(MPI_COMM_WORLD, 1);
	exit(1);
}

static unsigned char
pattern(int src, uint64_t call)
{
	return (unsigned char)((uint64_t)src * 131u + call);
}

static void
check_block(const unsigned char *b, size_t count, int src, int dst,
    uint64_t call, int full)
{
	struct head h;

	memcpy(&h, b, sizeof(h));
	if (h.src != (uint32_t)src || h.dst != (uint32_t)dst || h.call != call)
		fail("a received block's header is wrong");
	if (!full)
		return;
	for (size_t i = sizeof(h); i < count; i++)
		if (b[i] != pattern(src, call))
			fail("a received block's bytes are wrong");
}

int
main(int argc, char **argv)
{
	unsigned long long bytes = 0, count = 0, runs = 3;
	int check = 0, rank, size;
	unsigned char *sbuf, *rbuf;
	int *counts, *displs;
	uint64_t calls;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--bytes") == 0 && i + 1 < argc)
			bytes = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
			count = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			runs = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--check") == 0)
			check = 1;
		else
			fail("usage: mpi_alltoallv --bytes B --count C "
			     "[--runs R] [--check]");
	}
	if (bytes == 0 || count < sizeof(struct head) || count > (1u << 30) ||
	    runs == 0)
		fail("--bytes and --count (16 .. 1 GiB) are needed");
	calls = (bytes + count * (unsigned)size - 1) / (count * (unsigned)size);
	sbuf = malloc(count * (unsigned)size);
	rbuf = malloc(count * (unsigned)size);
	counts = malloc(sizeof(int) * (unsigned)size);
	displs = malloc(sizeof(int) * (unsigned)size);
	if (sbuf == NULL || rbuf == NULL || counts == NULL || displs == NULL)
		fail("out of memory");
	for (int r = 0; r < size; r++) {
		counts[r] = (int)count;
		displs[r] = (int)(count * (unsigned)r);
	}
	for (unsigned long long run = 0; run < runs; run++) {
		double t0, t, tmax;
		unsigned long long cross = 0, all;

		MPI_Barrier(MPI_COMM_WORLD);
		t0 = MPI_Wtime();
		for (uint64_t c = 0; c < calls; c++) {
			for (int d = 0; d < size; d++) {
				unsigned char *b = sbuf + count * (unsigned)d;
				struct head h = { (uint32_t)rank, (uint32_t)d,
					c };

				memset(b, pattern(rank, c), count);
				memcpy(b, &h, sizeof(h));
			}
			if (MPI_Alltoallv(sbuf, counts, displs, MPI_BYTE, rbuf,
			        counts, displs, MPI_BYTE,
			        MPI_COMM_WORLD) != MPI_SUCCESS)
				fail("MPI_Alltoallv failed");
			for (int s = 0; s < size; s++) {
				check_block(rbuf + count * (unsigned)s, count,
				    s, rank, c, check);
				if (s != rank)
					cross += count;
			}
		}
		t = MPI_Wtime() - t0;
		MPI_Reduce(
		    &t, &tmax, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
		MPI_Reduce(&cross, &all, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, 0,
		    MPI_COMM_WORLD);
		if (rank == 0) {
			printf("%llu %.6f\n", all, tmax);
			fflush(stdout);
		}
	}
	free(sbuf);
	free(rbuf);
	free(counts);
	free(displs);
	MPI_Finalize();
	return 0;
}
