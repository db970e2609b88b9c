// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * deepblock DEPTH: the main thread calls itself DEPTH times, then passes a byte back and forth
 * with a second thread over two pipes until it is killed, so that every time it blocks its user
 * stack is DEPTH frames deep (plus main, libc's start and the syscall wrapper).  The workload of
 * bench/unwind-cost, which traces the main thread's context switches alone; pin it to one CPU.
 *
 * The blocking calls go through libc's syscall(), which leaves rbp alone: a frame-pointer walk
 * starts from the caller's frame, as it would from any function built with frame pointers.
 * It never returns (it is killed), so main's frame record need not be put back (fp-end).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

static int to_echo[2], from_echo[2];

static void *echo(void *arg)
{
	char c;

	(void)arg;
	while (syscall(SYS_read, to_echo[0], &c, 1) == 1 &&
	       syscall(SYS_write, from_echo[1], &c, 1) == 1)
		;
	return NULL;
}

static __attribute__((noinline)) long ping_forever(void)
{
	char c = 0;

	while (syscall(SYS_write, to_echo[1], &c, 1) == 1 &&
	       syscall(SYS_read, from_echo[0], &c, 1) == 1)
		;
	return c;
}

/* noinline, and work after the call: no tail call, no recursion turned into a loop */
static __attribute__((noinline)) long descend(int depth)
{
	long r;

	if (depth <= 1)
		return ping_forever();
	r = descend(depth - 1);
	__asm__ volatile("" : "+r"(r));
	return r + depth;
}

int main(int argc, char **argv)
{
	int depth = argc > 1 ? atoi(argv[1]) : 0;
	pthread_t t;

	if (depth < 1 || depth > 1000 || (argc > 2 && strcmp(argv[2], "fp-end"))) {
		fprintf(stderr, "usage: deepblock DEPTH (1..1000) [fp-end]\n");
		return 2;
	}
	/*
	 * fp-end: main's frame record holds the frame pointer of its caller, libc's, which is built
	 * without them: whatever rbp held there.  The kernel's frame-pointer walk reads on from it
	 * and faults (a small number) or finds garbage; a kernel address instead ends the walk
	 * there, without a fault.  With frame pointers only (-fno-omit-frame-pointer).
	 */
	if (argc > 2)
		*(unsigned long *)__builtin_frame_address(0) = -4096UL;
	if (pipe(to_echo) || pipe(from_echo) || pthread_create(&t, NULL, echo, NULL)) {
		perror("deepblock");
		return 1;
	}
	return (int)descend(depth);
}
