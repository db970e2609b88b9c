// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * resolveloop: N getaddrinfo(NAME, NULL, {AF_INET, SOCK_STREAM}) + freeaddrinfo calls, and the
 * mean wall-clock time of one lookup in ns and the lookups per second are printed:
 *
 *	<ns per lookup> ns/lookup <lookups per second> lookups/s
 *
 * The lookup-heavy loop that the dnsblock overhead benchmark traces (bench/dnsblock-overhead).
 * NAME must be answered from a hosts file, never from DNS: the benchmark runs it under
 * `ip netns exec` with its own /etc/netns/<ns>/hosts.  With EXPECT, the first answer must be
 * that IPv4 address, or the loop fails before timing anything; every lookup must succeed.
 * --probe makes one lookup, prints its answer or error and exits 0 either way: for checking
 * that a name is, or is not, answered.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static const struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM };

static int usage(void)
{
	fprintf(stderr, "usage: resolveloop N NAME [EXPECT]\n"
			"       resolveloop --probe NAME\n");
	return 2;
}

/* The first address of NAME, as text; the getaddrinfo error if it has none */
static int first_answer(const char *name, char *buf, size_t len)
{
	struct addrinfo *res = NULL;
	int err = getaddrinfo(name, NULL, &hints, &res);

	if (err)
		return err;
	inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, buf, len);
	freeaddrinfo(res);
	return 0;
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	char addr[INET_ADDRSTRLEN] = "";
	char *end;
	long n;
	int err;

	if (argc == 3 && !strcmp(argv[1], "--probe")) {
		err = first_answer(argv[2], addr, sizeof(addr));
		printf("%s %s\n", argv[2], err ? gai_strerror(err) : addr);
		return 0;
	}
	if (argc < 3 || argc > 4)
		return usage();
	n = strtol(argv[1], &end, 10);
	if (*end || n < 1)
		return usage();
	/* the first lookup loads the NSS modules and reads the configuration: not timed */
	err = first_answer(argv[2], addr, sizeof(addr));
	if (err) {
		fprintf(stderr, "resolveloop: %s: %s\n", argv[2], gai_strerror(err));
		return 1;
	}
	if (argc == 4 && strcmp(addr, argv[3])) {
		fprintf(stderr, "resolveloop: %s is %s, expected %s\n", argv[2], addr, argv[3]);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++) {
		struct addrinfo *res;

		err = getaddrinfo(argv[2], NULL, &hints, &res);
		if (err) {
			fprintf(stderr, "resolveloop: lookup %ld of %s: %s\n", i, argv[2],
				gai_strerror(err));
			return 1;
		}
		freeaddrinfo(res);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ns = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / n;
	printf("%.1f ns/lookup %.0f lookups/s\n", ns, 1e9 / ns);
	return 0;
}
