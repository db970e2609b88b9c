// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cpuwork: CPU time spent where the tests know in advance, for profile's demo and tests.  Built
 * without frame pointers, as most binaries ship.
 *
 *   cpuwork [--wait] SCENARIO...
 *
 * --wait prints "ready PID" and waits for a line on stdin before starting, and, when the
 * scenarios are done, prints "done" and waits for stdin to end before exiting: a tracer sees
 * the whole of the work and none of the start or the exit.  The scenarios run one after another:
 *
 *   ratio:S  on the main thread, for S seconds: burn_three() then burn_one(), 21 and 7 ms of CPU
 *            time each, over and over (CPU time 3:1)
 *   wall:S   two threads for S seconds: burn_all_along() burns, sleep_all_along() sleeps 100 ms
 *            at a time; the main thread waits for them
 *   write:S  on the main thread, for S seconds: write_to_dev_null() writes a byte at a time to
 *            /dev/null (kernel-heavy)
 *
 * With CPUWORK_LOG=FILE it writes the ground truth there: "cpu FUNCTION NS" (the CPU time each
 * burning function used in all), and "thread FUNCTION TID LIFETIME_NS CPU_NS" for each thread of
 * wall: (measured by the thread from its start to its end, CLOCK_THREAD_CPUTIME_ID).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "groundtruth.h"

#define noinline __attribute__((noinline))
#define MSEC	 1000000LL

static volatile uint64_t sink;

static long long thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Arithmetic until the calling thread has used ns more CPU time: the time it took */
static inline long long burn_for(long long ns)
{
	long long start = thread_cpu_ns(), used;

	do {
		for (int i = 0; i < 20000; i++)
			sink += (uint64_t)i * i;
		used = thread_cpu_ns() - start;
	} while (used < ns);
	return used;
}

static noinline long long burn_three(void)
{
	return burn_for(21 * MSEC);
}

static noinline long long burn_one(void)
{
	return burn_for(7 * MSEC);
}

static noinline void ratio(int seconds)
{
	long long end = now_ns() + seconds * 1000 * MSEC, three = 0, one = 0;

	while (now_ns() < end) {
		three += burn_three();
		one += burn_one();
	}
	note("cpu burn_three %lld\n", three);
	note("cpu burn_one %lld\n", one);
}

static noinline void write_to_dev_null(int seconds)
{
	long long end = now_ns() + seconds * 1000 * MSEC;
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		die("/dev/null");
	while (now_ns() < end)
		for (int i = 0; i < 1000; i++)
			if (write(fd, "x", 1) != 1)
				die("write");
	close(fd);
}

struct wall_thread {
	const char *name;
	int seconds;
	pthread_t thread;
};

static void note_thread(const struct wall_thread *t, long long start)
{
	note("thread %s %ld %lld %lld\n", t->name, (long)syscall(SYS_gettid), now_ns() - start,
	     thread_cpu_ns());
}

static noinline void *burn_all_along(void *arg)
{
	struct wall_thread *t = arg;
	long long start = now_ns(), end = start + t->seconds * 1000 * MSEC;

	while (now_ns() < end)
		burn_for(MSEC);
	note_thread(t, start);
	return NULL;
}

static noinline void *sleep_all_along(void *arg)
{
	struct wall_thread *t = arg;
	long long start = now_ns(), end = start + t->seconds * 1000 * MSEC;
	struct timespec nap = { 0, 100 * MSEC };

	while (now_ns() < end)
		nanosleep(&nap, NULL);
	note_thread(t, start);
	return NULL;
}

static noinline void wall(int seconds)
{
	struct wall_thread threads[] = { { "burn_all_along", seconds, 0 },
					 { "sleep_all_along", seconds, 0 } };

	if (pthread_create(&threads[0].thread, NULL, burn_all_along, &threads[0]) ||
	    pthread_create(&threads[1].thread, NULL, sleep_all_along, &threads[1]))
		die("pthread_create");
	for (size_t i = 0; i < 2; i++)
		pthread_join(threads[i].thread, NULL);
}

static void run(const char *scenario)
{
	int seconds;
	char kind[16];

	if (sscanf(scenario, "%15[a-z]:%d", kind, &seconds) != 2 || seconds <= 0) {
		fprintf(stderr, "cpuwork: bad scenario '%s'\n", scenario);
		exit(2);
	}
	if (!strcmp(kind, "ratio")) {
		ratio(seconds);
	} else if (!strcmp(kind, "wall")) {
		wall(seconds);
	} else if (!strcmp(kind, "write")) {
		write_to_dev_null(seconds);
	} else {
		fprintf(stderr, "cpuwork: unknown scenario '%s'\n", kind);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	bool wait = argc > 1 && !strcmp(argv[1], "--wait");
	char line[64];

	ground_truth_open("CPUWORK_LOG");
	if (wait && !ready_then_wait())
		return 1;
	for (int i = wait ? 2 : 1; i < argc; i++)
		run(argv[i]);
	if (wait) {
		printf("done\n");
		fflush(stdout);
		while (fgets(line, sizeof(line), stdin))
			;
	}
	return 0;
}
