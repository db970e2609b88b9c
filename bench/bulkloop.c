// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* bulkloop: a bulk TCP transfer over loopback inside one process.  A receiver thread accepts
 * one connection and reads until EOF; the main thread connects, writes N bytes in large writes
 * and shuts the connection down.  The time from the first write to the receiver's EOF is
 * printed on one line, with the throughput and both threads' CPU time.  The loopback transfer
 * that the tcpretrans overhead benchmark traces.
 *
 *   bulkloop [-6] [-n BYTES] [-w WRITE] [-r READ] [-s CPU] [-R CPU]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct side {
	int fd;
	int cpu; /* -1: not pinned */
	size_t chunk;
	unsigned long long bytes;
	unsigned long long calls; /* write() or read() calls */
	struct timespec end;	  /* receiver: EOF seen */
	unsigned long long cpu_ns;
	int err;
};

static unsigned long long ns(const struct timespec *t)
{
	return t->tv_sec * 1000000000ULL + t->tv_nsec;
}

static unsigned long long thread_cpu_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return ns(&t);
}

static int pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *receiver(void *arg)
{
	struct side *r = arg;
	unsigned long long c0;
	char *buf;
	ssize_t n;

	buf = malloc(r->chunk);
	if (!buf || pin(r->cpu)) {
		if (buf)
			fprintf(stderr, "bulkloop: pinning the receiver to CPU %d failed\n",
				r->cpu);
		r->err = buf ? EINVAL : ENOMEM;
		free(buf);
		shutdown(r->fd, SHUT_RDWR); /* the sender's next write fails */
		return NULL;
	}
	c0 = thread_cpu_ns();
	while ((n = read(r->fd, buf, r->chunk)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r->err = errno;
			break;
		}
		r->bytes += n;
		r->calls++;
	}
	clock_gettime(CLOCK_MONOTONIC, &r->end);
	r->cpu_ns = thread_cpu_ns() - c0;
	free(buf);
	return NULL;
}

static unsigned long long number(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	switch (*end) {
	case 'G':
		v <<= 10;
		/* fall through */
	case 'M':
		v <<= 10;
		/* fall through */
	case 'K':
		v <<= 10;
		end++;
	}
	if (errno || end == s || *end || !v) {
		fprintf(stderr, "bulkloop: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

static int cpu(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end || v < 0 || v >= CPU_SETSIZE) {
		fprintf(stderr, "bulkloop: bad CPU '%s'\n", s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	struct side s = { .fd = -1, .cpu = -1, .chunk = 128 << 10 };
	struct side r = { .fd = -1, .cpu = -1, .chunk = 128 << 10 };
	unsigned long long total = 4ULL << 30, c0, wall;
	struct sockaddr_storage addr = {}, local = {};
	socklen_t len = sizeof(addr);
	struct timespec t0;
	pthread_t thread;
	int lfd, opt, v6 = 0;
	char *buf;

	while ((opt = getopt(argc, argv, "6n:w:r:s:R:")) != -1) {
		switch (opt) {
		case '6':
			v6 = 1;
			break;
		case 'n':
			total = number(optarg);
			break;
		case 'w':
			s.chunk = number(optarg);
			break;
		case 'r':
			r.chunk = number(optarg);
			break;
		case 's':
			s.cpu = cpu(optarg);
			break;
		case 'R':
			r.cpu = cpu(optarg);
			break;
		default:
			fprintf(stderr, "usage: bulkloop [-6] [-n BYTES] [-w WRITE] [-r READ] "
					"[-s SENDER_CPU] [-R RECEIVER_CPU] (sizes take K, M, G)\n");
			return 2;
		}
	}

	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&addr;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&addr;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	}
	lfd = socket(addr.ss_family, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, len) || listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&addr, &len)) {
		perror("bulkloop: listening socket");
		return 1;
	}
	s.fd = socket(addr.ss_family, SOCK_STREAM, 0);
	if (s.fd < 0 || connect(s.fd, (struct sockaddr *)&addr, len) ||
	    getsockname(s.fd, (struct sockaddr *)&local, &len)) {
		perror("bulkloop: connect");
		return 1;
	}
	r.fd = accept(lfd, NULL, NULL);
	buf = calloc(1, s.chunk);
	if (r.fd < 0 || !buf) {
		perror("bulkloop: accept");
		return 1;
	}
	close(lfd);
	/* the receiver pins itself, so that it does not inherit the sender's CPU */
	if (pthread_create(&thread, NULL, receiver, &r) || pin(s.cpu)) {
		fprintf(stderr, "bulkloop: starting the receiver or pinning the sender failed\n");
		return 1;
	}

	c0 = thread_cpu_ns();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (s.bytes < total) {
		size_t n = total - s.bytes < s.chunk ? total - s.bytes : s.chunk;
		ssize_t w = send(s.fd, buf, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			perror("bulkloop: send");
			break;
		}
		s.bytes += w;
		s.calls++;
	}
	shutdown(s.fd, SHUT_WR);
	s.cpu_ns = thread_cpu_ns() - c0;
	pthread_join(thread, NULL);
	if (r.err || r.bytes != total) {
		fprintf(stderr, "bulkloop: received %llu of %llu bytes: %s\n", r.bytes, total,
			strerror(r.err));
		return 1;
	}
	wall = ns(&r.end) - ns(&t0);
	/* the ports: at the same offset in sockaddr_in and sockaddr_in6 */
	printf("bulkloop bytes=%llu elapsed_ns=%llu bytes_per_s=%.0f gbit_per_s=%.3f "
	       "sender_cpu_ns=%llu receiver_cpu_ns=%llu writes=%llu reads=%llu write_size=%zu "
	       "read_size=%zu sport=%u dport=%u\n",
	       total, wall, total * 1e9 / wall, total * 8.0 / wall, s.cpu_ns, r.cpu_ns, s.calls,
	       r.calls, s.chunk, r.chunk, ntohs(((struct sockaddr_in *)&local)->sin_port),
	       ntohs(((struct sockaddr_in *)&addr)->sin_port));
	close(s.fd);
	close(r.fd);
	free(buf);
	return 0;
}
