// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * stallwork: a process that stalls in known ways, for the demo and the tests.
 *
 *   stallwork [--wait] STEP...
 *
 * --wait prints "ready PID" and waits for a line on stdin before the first step, so that a
 * tracer can attach first.  Steps run in order, on the main thread unless they say otherwise:
 *
 *   poll:N:MS       N poll() calls on an empty pipe, each timing out after MS milliseconds
 *   fail:N:ERRNO    N calls that fail with ERRNO: EBADF (close(-1)), ENOENT (openat of a
 *                   missing file), EAGAIN (read of an empty non-blocking pipe)
 *   fast:N          N getppid() calls
 *   sleep:MS        one nanosleep of MS milliseconds
 *   recv:N:MS       N recvfrom() calls on a UDP socket bound to 127.0.0.1, each timing out
 *                   after MS milliseconds (SO_RCVTIMEO; they fail with EAGAIN)
 *   threads:N       N short-lived threads, one after another, each calling getppid() once
 *   thread-poll:N:MS  like poll, on a new thread
 *   waiting-thread-poll:N:MS  like thread-poll, but the new thread first waits for a line on
 *                   stdin: a tracer given its TID attaches before its first poll()
 *   hang            a thread that blocks in read() on a pipe nobody writes (until exit)
 *   wait            wait for a line on stdin
 *   exec            execve() this program again with the remaining steps (same process)
 *
 * With STALLWORK_LOG=FILE it writes the ground truth for tests there, one fact per line:
 * "poll_ns NS" / "recv_ns NS" for every timed call as measured here, "fd poll 3 pipe:[123]"
 * for the descriptors it waits on, "tid hang 1234" for the threads it starts.
 *
 * Functions are not inlined and frame pointers are kept, so stacks name them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "groundtruth.h"

#define noinline __attribute__((noinline))

static void note_fd(const char *step, int fd)
{
	char path[64], target[256];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	target[n > 0 ? n : 0] = '\0';
	note("fd %s %d %s\n", step, fd, target);
}

static noinline void poll_empty_pipe(int n, int ms)
{
	int fds[2];

	if (pipe(fds))
		die("pipe");
	note_fd("poll", fds[0]);
	for (int i = 0; i < n; i++) {
		struct pollfd p = { .fd = fds[0], .events = POLLIN };
		long long start = now_ns();

		if (poll(&p, 1, ms) != 0)
			die("poll");
		note("poll_ns %lld\n", now_ns() - start);
	}
	close(fds[0]);
	close(fds[1]);
}

static noinline void fail_calls(int n, const char *err)
{
	int fds[2];

	if (!strcmp(err, "EAGAIN") && pipe2(fds, O_NONBLOCK))
		die("pipe2");
	for (int i = 0; i < n; i++) {
		char c;

		if (!strcmp(err, "EBADF"))
			close(-1);
		else if (!strcmp(err, "ENOENT"))
			openat(AT_FDCWD, "/nonexistent/stallwork", O_RDONLY);
		else if (!strcmp(err, "EAGAIN"))
			(void)!read(fds[0], &c, 1);
		else
			die("fail: unknown errno (EBADF, ENOENT, EAGAIN)");
	}
	if (!strcmp(err, "EAGAIN")) {
		close(fds[0]);
		close(fds[1]);
	}
}

static noinline void fast_calls(int n)
{
	for (int i = 0; i < n; i++)
		getppid();
}

static noinline void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static noinline void recv_timeouts(int n, int ms)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	char buf[64];

	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    getsockname(fd, (struct sockaddr *)&addr, &len))
		die("udp socket");
	note("fd recv %d udp 127.0.0.1:%d\n", fd, ntohs(addr.sin_port));
	for (int i = 0; i < n; i++) {
		long long start = now_ns();

		if (recvfrom(fd, buf, sizeof(buf), 0, NULL, NULL) >= 0)
			die("recvfrom: unexpected data");
		note("recv_ns %lld\n", now_ns() - start);
	}
	close(fd);
}

static void *short_thread(void *arg)
{
	(void)arg;
	getppid();
	return NULL;
}

static noinline void thread_churn(int n)
{
	for (int i = 0; i < n; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, short_thread, NULL) || pthread_join(t, NULL))
			die("pthread");
	}
}

struct poll_args {
	int n, ms;
	bool wait;
};

static void wait_for_line(void)
{
	char line[64];

	if (!fgets(line, sizeof(line), stdin))
		exit(0);
}

static void *poll_thread(void *arg)
{
	struct poll_args *a = arg;

	note("tid thread-poll %ld\n", (long)syscall(SYS_gettid));
	if (a->wait)
		wait_for_line();
	poll_empty_pipe(a->n, a->ms);
	return NULL;
}

static noinline void thread_poll(int n, int ms, bool wait)
{
	struct poll_args a = { n, ms, wait };
	pthread_t t;

	if (pthread_create(&t, NULL, poll_thread, &a) || pthread_join(t, NULL))
		die("pthread");
}

static noinline void *hang_in_read(void *arg)
{
	int *fds = arg;
	char c;

	note("tid hang %ld\n", (long)syscall(SYS_gettid));
	(void)!read(fds[0], &c, 1);
	return NULL;
}

static void start_hang(void)
{
	static int fds[2];
	pthread_t t;

	if (pipe(fds) || pthread_create(&t, NULL, hang_in_read, fds))
		die("hang");
	/* give it time to block before the next step */
	sleep_ms(50);
}

int main(int argc, char **argv)
{
	int first = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ground_truth_open("STALLWORK_LOG");
	if (argc > 1 && !strcmp(argv[1], "--wait")) {
		printf("ready %d\n", getpid());
		wait_for_line();
		first = 2;
	}
	for (int i = first; i < argc; i++) {
		char kind[32], err[32];
		int a = 0, b = 0;

		if (sscanf(argv[i], "%31[a-z-]:%d:%d", kind, &a, &b) < 1)
			die("step");
		if (!strcmp(kind, "poll"))
			poll_empty_pipe(a, b);
		else if (!strcmp(kind, "fail") && sscanf(argv[i], "fail:%d:%31s", &a, err) == 2)
			fail_calls(a, err);
		else if (!strcmp(kind, "fast"))
			fast_calls(a);
		else if (!strcmp(kind, "sleep"))
			sleep_ms(a);
		else if (!strcmp(kind, "recv"))
			recv_timeouts(a, b);
		else if (!strcmp(kind, "threads"))
			thread_churn(a);
		else if (!strcmp(kind, "thread-poll"))
			thread_poll(a, b, false);
		else if (!strcmp(kind, "waiting-thread-poll"))
			thread_poll(a, b, true);
		else if (!strcmp(kind, "hang"))
			start_hang();
		else if (!strcmp(kind, "wait"))
			wait_for_line();
		else if (!strcmp(kind, "exec")) {
			argv[i] = argv[0];
			execv("/proc/self/exe", argv + i);
			die("execv");
		}
		else {
			fprintf(stderr, "stallwork: unknown step %s\n", argv[i]);
			return 2;
		}
	}
	return 0;
}
