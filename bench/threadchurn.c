// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* threadchurn: THREADS short threads created and joined, again and again (ROUNDS times, 0:
 * forever); each thread sleeps SLEEP_US once and exits.  The thread churn of bench/report-latency's
 * busy host: threads are born, block once and die all the time.
 *
 *	threadchurn [THREADS (16)] [ROUNDS (0)] [SLEEP_US (100)]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MAX_THREADS 256

static long sleep_ns;

static void *brief(void *arg)
{
	struct timespec ts = { sleep_ns / 1000000000, sleep_ns % 1000000000 };

	(void)arg;
	nanosleep(&ts, NULL);
	return NULL;
}

int main(int argc, char **argv)
{
	long threads = argc > 1 ? atol(argv[1]) : 16;
	long rounds = argc > 2 ? atol(argv[2]) : 0;
	pthread_t tid[MAX_THREADS];

	sleep_ns = (argc > 3 ? atol(argv[3]) : 100) * 1000;
	if (threads < 1 || threads > MAX_THREADS || rounds < 0 || sleep_ns < 0) {
		fprintf(stderr, "usage: %s [THREADS (1-%d)] [ROUNDS (0: forever)] [SLEEP_US]\n",
			argv[0], MAX_THREADS);
		return 2;
	}
	for (long r = 0; !rounds || r < rounds; r++) {
		long n = 0;

		while (n < threads && !pthread_create(&tid[n], NULL, brief, NULL))
			n++;
		for (long i = 0; i < n; i++)
			pthread_join(tid[i], NULL);
	}
	return 0;
}
