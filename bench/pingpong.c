// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* pingpong: two processes pass a byte back and forth over two pipes, N round trips, and the
 * mean wall-clock time of one round trip in ns is printed: two context switches each.  The
 * context-switch-heavy loop that the offcputime overhead benchmark traces (pin it to one CPU).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000;
	int ab[2], ba[2];
	struct timespec t0, t1;
	char c = 0;

	if (pipe(ab) || pipe(ba))
		return 1;
	if (fork() == 0) {
		/* only its own ends open: if the parent dies, read() sees the end, not a hang */
		close(ab[1]);
		close(ba[0]);
		for (long i = 0; i < n; i++)
			if (read(ab[0], &c, 1) != 1 || write(ba[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	close(ab[0]);
	close(ba[1]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++)
		if (write(ab[1], &c, 1) != 1 || read(ba[0], &c, 1) != 1)
			return 1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	wait(NULL);
	printf("%.0f\n", ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / n);
	return 0;
}
