// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * blockwork: threads that block in named functions for known times, for offcputime's demo and
 * tests.
 *
 *   blockwork [--wait] SCENARIO...
 *
 * --wait prints "ready PID" and waits for a line on stdin before starting, so that a tracer can
 * attach first.  The scenarios run at the same time, each on threads of its own, and the
 * program exits when all have ended:
 *
 *   sleep:N:MS   sleep_in_nanosleep() sleeps N times for MS ms (nanosleep; state S)
 *   pipe:N:MS    read_fed_pipe() reads N bytes from a pipe that feed_pipe() writes one byte
 *                into every MS ms (read; S)
 *   mutex:N:MS   wait_for_mutex() locks a mutex N times while hold_mutex() holds it for MS ms
 *                each time (pthread_mutex_lock; S)
 *   vfork:N:MS   wait_for_vfork() calls vfork() N times, and each child sleeps MS ms before it
 *                exits (the parent waits uninterruptibly: D)
 *   storm:N:MS   fork_storm() starts N processes that exit at once, one after another, then
 *                block_after_storm() sleeps once for MS ms
 *   idle:N:MS    idle_until_end() sleeps N times for MS ms: it keeps the process alive past a
 *                tracer's window (a block still going on at its end is not counted)
 *
 * With BLOCKWORK_LOG=FILE it writes the ground truth there: "SCENARIO NS" for every blocking
 * call as measured here (how long wait_for_mutex() waited in pthread_mutex_lock(), say), and
 * "tid SCENARIO TID" for the thread that makes those calls.
 *
 * Functions are not inlined and frame pointers are kept; libc's are not, and offcputime has to
 * find the callers of libc's functions anyway.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "groundtruth.h"

#define noinline __attribute__((noinline))
#define MAX_SCENARIOS 16

struct scenario {
	char kind[16];
	int n, ms;
	pthread_t thread;
};

static void note_thread(const char *kind)
{
	note("tid %s %ld\n", kind, (long)syscall(SYS_gettid));
}

static struct timespec ms_timespec(int ms)
{
	return (struct timespec){ ms / 1000, (ms % 1000) * 1000000L };
}

static noinline void sleep_in_nanosleep(int n, int ms)
{
	struct timespec ts = ms_timespec(ms);

	note_thread("sleep");
	for (int i = 0; i < n; i++) {
		long long start = now_ns();

		nanosleep(&ts, NULL);
		note("sleep %lld\n", now_ns() - start);
	}
}

struct pipe_feed {
	int fds[2];
	int n, ms;
};

static noinline void *feed_pipe(void *arg)
{
	struct pipe_feed *f = arg;
	struct timespec ts = ms_timespec(f->ms);

	for (int i = 0; i < f->n; i++) {
		nanosleep(&ts, NULL);
		if (write(f->fds[1], "x", 1) != 1)
			die("write");
	}
	return NULL;
}

static noinline void read_fed_pipe(int n, int ms)
{
	struct pipe_feed f = { .n = n, .ms = ms };
	pthread_t feeder;
	char c;

	if (pipe(f.fds) || pthread_create(&feeder, NULL, feed_pipe, &f))
		die("pipe");
	note_thread("pipe");
	for (int i = 0; i < n; i++) {
		long long start = now_ns();

		if (read(f.fds[0], &c, 1) != 1)
			die("read");
		note("pipe %lld\n", now_ns() - start);
	}
	pthread_join(feeder, NULL);
	close(f.fds[0]);
	close(f.fds[1]);
}

/* The holder takes the mutex, lets the waiter try, and holds it for ms; turns alternate
 * through an atomic counter, spun on, so that nothing else blocks */
struct contention {
	pthread_mutex_t mutex;
	atomic_int turn; /* odd: the holder holds the mutex for the waiter's turn */
	int n, ms;
};

static noinline void *hold_mutex(void *arg)
{
	struct contention *c = arg;
	struct timespec ts = ms_timespec(c->ms);

	for (int i = 0; i < c->n; i++) {
		pthread_mutex_lock(&c->mutex);
		atomic_store(&c->turn, 2 * i + 1);
		nanosleep(&ts, NULL);
		pthread_mutex_unlock(&c->mutex);
		while (atomic_load(&c->turn) != 2 * i + 2)
			;
	}
	return NULL;
}

static noinline void wait_for_mutex(int n, int ms)
{
	struct contention c = { .mutex = PTHREAD_MUTEX_INITIALIZER, .n = n, .ms = ms };
	pthread_t holder;

	if (pthread_create(&holder, NULL, hold_mutex, &c))
		die("pthread_create");
	note_thread("mutex");
	for (int i = 0; i < n; i++) {
		long long start;

		while (atomic_load(&c.turn) != 2 * i + 1)
			;
		start = now_ns();
		pthread_mutex_lock(&c.mutex);
		note("mutex %lld\n", now_ns() - start);
		pthread_mutex_unlock(&c.mutex);
		atomic_store(&c.turn, 2 * i + 2);
	}
	pthread_join(holder, NULL);
}

static noinline void wait_for_vfork(int n, int ms)
{
	note_thread("vfork");
	for (int i = 0; i < n; i++) {
		long long start = now_ns();
		pid_t child = vfork();

		if (child == 0) {
			/* the child borrows the parent's memory until it exits: a raw syscall */
			struct timespec ts = ms_timespec(ms);

			syscall(SYS_nanosleep, &ts, NULL);
			_exit(0);
		}
		if (child < 0)
			die("vfork");
		note("vfork %lld\n", now_ns() - start);
		waitpid(child, NULL, 0);
	}
}

static noinline void block_after_storm(int ms)
{
	struct timespec ts = ms_timespec(ms);
	long long start = now_ns();

	nanosleep(&ts, NULL);
	note("storm %lld\n", now_ns() - start);
}

static noinline void idle_until_end(int n, int ms)
{
	struct timespec ts = ms_timespec(ms);

	for (int i = 0; i < n; i++)
		nanosleep(&ts, NULL);
}

static noinline void fork_storm(int n, int ms)
{
	note_thread("storm");
	for (int i = 0; i < n; i++) {
		pid_t child = fork();

		if (child == 0)
			_exit(0);
		if (child < 0 || waitpid(child, NULL, 0) != child)
			die("fork");
	}
	block_after_storm(ms);
}

static void *run_scenario(void *arg)
{
	struct scenario *s = arg;

	if (!strcmp(s->kind, "sleep"))
		sleep_in_nanosleep(s->n, s->ms);
	else if (!strcmp(s->kind, "pipe"))
		read_fed_pipe(s->n, s->ms);
	else if (!strcmp(s->kind, "mutex"))
		wait_for_mutex(s->n, s->ms);
	else if (!strcmp(s->kind, "vfork"))
		wait_for_vfork(s->n, s->ms);
	else if (!strcmp(s->kind, "storm"))
		fork_storm(s->n, s->ms);
	else if (!strcmp(s->kind, "idle"))
		idle_until_end(s->n, s->ms);
	return NULL;
}

static bool known(const char *kind)
{
	static const char *const kinds[] = { "sleep", "pipe", "mutex", "vfork", "storm", "idle" };

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kind, kinds[i]))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	struct scenario scenarios[MAX_SCENARIOS];
	int first = 1, n = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ground_truth_open("BLOCKWORK_LOG");
	if (argc > 1 && !strcmp(argv[1], "--wait"))
		first = 2;
	for (int i = first; i < argc; i++, n++) {
		struct scenario *s = &scenarios[n];

		if (n == MAX_SCENARIOS || sscanf(argv[i], "%15[a-z]:%d:%d", s->kind, &s->n, &s->ms) != 3 ||
		    !known(s->kind) || s->n < 0 || s->ms < 0) {
			fprintf(stderr, "blockwork: bad scenario %s (see the source)\n", argv[i]);
			return 2;
		}
	}
	if (first == 2 && !ready_then_wait())
		return 0;
	for (int i = 0; i < n; i++)
		if (pthread_create(&scenarios[i].thread, NULL, run_scenario, &scenarios[i]))
			die("pthread_create");
	for (int i = 0; i < n; i++)
		pthread_join(scenarios[i].thread, NULL);
	return 0;
}
