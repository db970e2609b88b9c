/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the workloads share: failing loudly, a monotonic clock, and the log of ground truth
 * (what the workload measured itself) that the tests compare the tools' numbers with.
 */
#ifndef STALLKIT_GROUNDTRUTH_H
#define STALLKIT_GROUNDTRUTH_H

#include <pthread.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static FILE *ground_truth;
static pthread_mutex_t ground_truth_lock = PTHREAD_MUTEX_INITIALIZER;

static inline void die(const char *what)
{
	perror(what);
	exit(1);
}

static inline long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Logs to the file named by the environment variable, if it is set */
static inline void ground_truth_open(const char *variable)
{
	const char *path = getenv(variable);

	if (path && !(ground_truth = fopen(path, "a")))
		die(variable);
}

/* One line of ground truth; lines from several threads stay whole */
static inline void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void note(const char *fmt, ...)
{
	va_list ap;

	if (!ground_truth)
		return;
	va_start(ap, fmt);
	pthread_mutex_lock(&ground_truth_lock);
	vfprintf(ground_truth, fmt, ap);
	fflush(ground_truth);
	pthread_mutex_unlock(&ground_truth_lock);
	va_end(ap);
}

/* --wait: says "ready PID" and waits for a line on stdin, so that a tracer can attach first.
 * False if stdin ended instead. */
static inline bool ready_then_wait(void)
{
	char line[64];

	printf("ready %d\n", getpid());
	fflush(stdout);
	return fgets(line, sizeof(line), stdin) != NULL;
}

#endif
