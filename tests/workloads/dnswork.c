// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dnswork: name lookups through libc's resolver functions, each from a function of its own,
 * for dnsblock's tests.  Run it under "ip netns exec" in a namespace whose resolver is
 * tests/integration/dns_responder.py, and the names say how long an answer takes and what it is.
 *
 *   dnswork [--wait] STEP...
 *
 * --wait prints "ready PID" and waits for a line on stdin before the first step, so that a
 * tracer can attach first.  Steps run one after another on the main thread:
 *
 *   getaddrinfo:NAME       resolve_with_getaddrinfo(): getaddrinfo() for SOCK_STREAM, AF_UNSPEC
 *                          (glibc asks for A and AAAA at once)
 *   gethostbyname:NAME     resolve_with_gethostbyname()
 *   gethostbyname_r:NAME   resolve_with_gethostbyname_r(), with an 8 KiB buffer
 *   gethostbyname2_r:NAME  resolve_with_gethostbyname2_r(), AF_INET, 8 KiB buffer
 *   getnameinfo:IPV4       resolve_with_getnameinfo(): the name of an IPv4 address, NI_NAMEREQD
 *   res_query:NAME         resolve_with_res_query(): class IN, type A, 4 KiB answer buffer
 *   threads:N:NAME         N threads that call getaddrinfo(NAME) together, from
 *                          resolve_in_thread()
 *   sleep:MS               one nanosleep of MS milliseconds, to keep steps apart
 *
 * With DNSWORK_LOG=FILE it writes one line of ground truth for every lookup:
 *
 *   lookup API NAME TID LATENCY_NS RESULT NADDR
 *
 * API is the libc function called, LATENCY_NS the time the call took as measured around it,
 * RESULT "OK" or the name of the error (EAI_NONAME, EAI_AGAIN, ... for getaddrinfo and
 * getnameinfo; HOST_NOT_FOUND, TRY_AGAIN, NO_RECOVERY, NO_DATA for gethostbyname* and
 * res_query; ERANGE when a gethostbyname*_r buffer is too small), NADDR the number of distinct
 * addresses returned: IPv4 and IPv6 addresses for getaddrinfo, the A records that fit in the
 * buffer for res_query, 1 for the name getnameinfo found, 0 whenever the lookup failed.
 *
 * Failed lookups are what the tests want to see, so they do not change the exit status: 0
 * unless a step is malformed (2) or the program itself fails (1).
 *
 * The lookups are called directly from the named functions, which are not inlined, and frame
 * pointers are kept, so the caller of each libc function is known.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <resolv.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "groundtruth.h"

#define noinline       __attribute__((noinline))
#define MAX_THREADS    64
#define HOSTENT_BUFFER 8192
#define ANSWER_BUFFER  4096
#define ARRAY_SIZE(a)  (sizeof(a) / sizeof((a)[0]))

struct error_name {
	int code;
	const char *name;
};

static const struct error_name eai_names[] = {
	{ EAI_BADFLAGS, "EAI_BADFLAGS" },
	{ EAI_NONAME, "EAI_NONAME" },
	{ EAI_AGAIN, "EAI_AGAIN" },
	{ EAI_FAIL, "EAI_FAIL" },
	{ EAI_FAMILY, "EAI_FAMILY" },
	{ EAI_SOCKTYPE, "EAI_SOCKTYPE" },
	{ EAI_SERVICE, "EAI_SERVICE" },
	{ EAI_MEMORY, "EAI_MEMORY" },
	{ EAI_SYSTEM, "EAI_SYSTEM" },
	{ EAI_OVERFLOW, "EAI_OVERFLOW" },
	{ EAI_NODATA, "EAI_NODATA" },
	{ EAI_ADDRFAMILY, "EAI_ADDRFAMILY" },
	{ EAI_INPROGRESS, "EAI_INPROGRESS" },
	{ EAI_CANCELED, "EAI_CANCELED" },
	{ EAI_NOTCANCELED, "EAI_NOTCANCELED" },
	{ EAI_ALLDONE, "EAI_ALLDONE" },
	{ EAI_INTR, "EAI_INTR" },
	{ EAI_IDN_ENCODE, "EAI_IDN_ENCODE" },
};

static const struct error_name h_errno_names[] = {
	{ NETDB_INTERNAL, "NETDB_INTERNAL" },
	{ NETDB_SUCCESS, "NETDB_SUCCESS" },
	{ HOST_NOT_FOUND, "HOST_NOT_FOUND" },
	{ TRY_AGAIN, "TRY_AGAIN" },
	{ NO_RECOVERY, "NO_RECOVERY" },
	{ NO_DATA, "NO_DATA" },
};

/* A code no table knows still gets a name a test can match: PREFIX_NUMBER */
static const char *error_name(const struct error_name *table, size_t n, const char *prefix,
			      int code, char *buf, size_t size)
{
	for (size_t i = 0; i < n; i++)
		if (table[i].code == code)
			return table[i].name;
	snprintf(buf, size, "%s_%d", prefix, code);
	return buf;
}

static const char *eai_name(int code, char *buf, size_t size)
{
	return error_name(eai_names, ARRAY_SIZE(eai_names), "EAI", code, buf, size);
}

static const char *h_errno_name(int code, char *buf, size_t size)
{
	return error_name(h_errno_names, ARRAY_SIZE(h_errno_names), "H_ERRNO", code, buf, size);
}

static long gettid_now(void)
{
	return (long)syscall(SYS_gettid);
}

static void note_lookup(const char *api, const char *name, long long ns, const char *result,
			int naddr)
{
	note("lookup %s %s %ld %lld %s %d\n", api, name, gettid_now(), ns, result, naddr);
}

/*
 * Addresses seen so far, to count distinct ones: getaddrinfo returns an address once per
 * socket type asked for, and answers may repeat a record.  The responder gives at most 1000
 * addresses for a name, so a fixed array and a linear search are enough.
 */
struct address_set {
	int n;
	struct {
		int family;
		unsigned char bytes[16];
	} a[2048];
};

static void address_set_add(struct address_set *set, int family, const void *bytes, size_t len)
{
	if (len > sizeof(set->a[0].bytes) || set->n == (int)ARRAY_SIZE(set->a))
		die("address_set_add: too many or too long addresses");
	for (int i = 0; i < set->n; i++)
		if (set->a[i].family == family && !memcmp(set->a[i].bytes, bytes, len))
			return;
	set->a[set->n].family = family;
	memset(set->a[set->n].bytes, 0, sizeof(set->a[0].bytes));
	memcpy(set->a[set->n].bytes, bytes, len);
	set->n++;
}

static int count_addrinfo(const struct addrinfo *list)
{
	struct address_set set = { 0 };

	for (const struct addrinfo *ai = list; ai; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET) {
			const struct sockaddr_in *sin = (const void *)ai->ai_addr;

			address_set_add(&set, AF_INET, &sin->sin_addr, sizeof(sin->sin_addr));
		} else if (ai->ai_family == AF_INET6) {
			const struct sockaddr_in6 *sin6 = (const void *)ai->ai_addr;

			address_set_add(&set, AF_INET6, &sin6->sin6_addr, sizeof(sin6->sin6_addr));
		}
	}
	return set.n;
}

static int count_hostent(const struct hostent *h)
{
	struct address_set set = { 0 };

	for (char **addr = h->h_addr_list; *addr; addr++)
		address_set_add(&set, h->h_addrtype, *addr, h->h_length);
	return set.n;
}

/* The result of a getaddrinfo() call, wherever it was made */
static void note_getaddrinfo(const char *name, long long ns, int err, struct addrinfo *list)
{
	char buf[32];

	if (err) {
		note_lookup("getaddrinfo", name, ns, eai_name(err, buf, sizeof(buf)), 0);
		return;
	}
	note_lookup("getaddrinfo", name, ns, "OK", count_addrinfo(list));
	freeaddrinfo(list);
}

static const struct addrinfo stream_hints = {
	.ai_family = AF_UNSPEC,
	.ai_socktype = SOCK_STREAM,
};

static noinline void resolve_with_getaddrinfo(const char *name)
{
	struct addrinfo *list = NULL;
	long long start = now_ns();
	int err = getaddrinfo(name, NULL, &stream_hints, &list);
	long long ns = now_ns() - start;

	note_getaddrinfo(name, ns, err, list);
}

/* The *_r functions report "not found" in two ways: a nonzero return (ERANGE when the buffer
 * is too small), or 0 with no result and the reason in h_errno */
static void note_hostent(const char *api, const char *name, long long ns, int ret,
			 const struct hostent *h, int herr)
{
	char buf[32];

	if (h)
		note_lookup(api, name, ns, "OK", count_hostent(h));
	else if (ret == ERANGE)
		note_lookup(api, name, ns, "ERANGE", 0);
	else
		note_lookup(api, name, ns, h_errno_name(herr, buf, sizeof(buf)), 0);
}

static noinline void resolve_with_gethostbyname(const char *name)
{
	long long start = now_ns();
	struct hostent *h = gethostbyname(name);
	long long ns = now_ns() - start;

	note_hostent("gethostbyname", name, ns, 0, h, h_errno);
}

static noinline void resolve_with_gethostbyname_r(const char *name)
{
	static char buf[HOSTENT_BUFFER];
	struct hostent storage, *h = NULL;
	int herr = 0;
	long long start = now_ns();
	int ret = gethostbyname_r(name, &storage, buf, sizeof(buf), &h, &herr);
	long long ns = now_ns() - start;

	note_hostent("gethostbyname_r", name, ns, ret, h, herr);
}

static noinline void resolve_with_gethostbyname2_r(const char *name)
{
	static char buf[HOSTENT_BUFFER];
	struct hostent storage, *h = NULL;
	int herr = 0;
	long long start = now_ns();
	int ret = gethostbyname2_r(name, AF_INET, &storage, buf, sizeof(buf), &h, &herr);
	long long ns = now_ns() - start;

	note_hostent("gethostbyname2_r", name, ns, ret, h, herr);
}

static noinline void resolve_with_getnameinfo(const char *ipv4)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	char host[NI_MAXHOST], buf[32];
	long long start, ns;
	int err;

	/* checked when the steps were parsed */
	inet_pton(AF_INET, ipv4, &sin.sin_addr);
	start = now_ns();
	err = getnameinfo((struct sockaddr *)&sin, sizeof(sin), host, sizeof(host), NULL, 0,
			  NI_NAMEREQD);
	ns = now_ns() - start;
	note_lookup("getnameinfo", ipv4, ns, err ? eai_name(err, buf, sizeof(buf)) : "OK", !err);
}

/*
 * A records in an answer, counted once each.  The walk stops where the buffer ends: an answer
 * longer than the buffer arrives cut short (res_query returns the length it needed), and the
 * records that did arrive are still the ones the caller got.
 */
static int count_a_records(const unsigned char *answer, int len)
{
	const unsigned char *p = answer + NS_HFIXEDSZ, *end = answer + len;
	struct address_set set = { 0 };
	int questions, records, skip;

	if (len < NS_HFIXEDSZ)
		return 0;
	questions = (answer[4] << 8) | answer[5];
	records = (answer[6] << 8) | answer[7];
	for (int i = 0; i < questions; i++) {
		skip = dn_skipname(p, end);
		if (skip < 0 || end - p < skip + NS_QFIXEDSZ)
			return 0;
		p += skip + NS_QFIXEDSZ;
	}
	for (int i = 0; i < records; i++) {
		unsigned int type, rdlen;

		skip = dn_skipname(p, end);
		if (skip < 0 || end - p < skip + NS_RRFIXEDSZ)
			break;
		p += skip;
		type = (p[0] << 8) | p[1];
		rdlen = (p[8] << 8) | p[9];
		p += NS_RRFIXEDSZ;
		if (end - p < (long)rdlen)
			break;
		if (type == ns_t_a && rdlen == NS_INADDRSZ)
			address_set_add(&set, AF_INET, p, NS_INADDRSZ);
		p += rdlen;
	}
	return set.n;
}

static noinline void resolve_with_res_query(const char *name)
{
	static unsigned char answer[ANSWER_BUFFER];
	long long start = now_ns();
	int len = res_query(name, ns_c_in, ns_t_a, answer, sizeof(answer));
	long long ns = now_ns() - start;
	char buf[32];

	if (len < 0) {
		note_lookup("res_query", name, ns, h_errno_name(h_errno, buf, sizeof(buf)), 0);
		return;
	}
	if (len > (int)sizeof(answer))
		len = sizeof(answer);
	note_lookup("res_query", name, ns, "OK", count_a_records(answer, len));
}

/* The threads of one threads:N:NAME step are let go together, so that their lookups overlap */
struct thread_lookup {
	const char *name;
	pthread_barrier_t start;
};

static noinline void *resolve_in_thread(void *arg)
{
	struct thread_lookup *t = arg;
	struct addrinfo *list = NULL;
	long long start, ns;
	int err;

	pthread_barrier_wait(&t->start);
	start = now_ns();
	err = getaddrinfo(t->name, NULL, &stream_hints, &list);
	ns = now_ns() - start;
	note_getaddrinfo(t->name, ns, err, list);
	return NULL;
}

static void resolve_in_threads(int n, const char *name)
{
	struct thread_lookup t = { .name = name };
	pthread_t threads[MAX_THREADS];

	if (pthread_barrier_init(&t.start, NULL, n))
		die("pthread_barrier_init");
	for (int i = 0; i < n; i++) {
		errno = pthread_create(&threads[i], NULL, resolve_in_thread, &t);
		if (errno)
			die("pthread_create");
	}
	for (int i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
	pthread_barrier_destroy(&t.start);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* A whole decimal number in [min, max]: "12abc" and "" are not numbers */
static bool parse_int(const char *s, int min, int max, int *value, const char **rest)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || errno || v < min || v > max || (rest ? *end != ':' : *end != '\0'))
		return false;
	*value = (int)v;
	if (rest)
		*rest = end + 1;
	return true;
}

enum step_kind {
	STEP_GETADDRINFO,
	STEP_GETHOSTBYNAME,
	STEP_GETHOSTBYNAME_R,
	STEP_GETHOSTBYNAME2_R,
	STEP_GETNAMEINFO,
	STEP_RES_QUERY,
	STEP_THREADS,
	STEP_SLEEP,
};

static const char *const step_prefixes[] = {
	[STEP_GETADDRINFO] = "getaddrinfo:",
	[STEP_GETHOSTBYNAME] = "gethostbyname:",
	[STEP_GETHOSTBYNAME_R] = "gethostbyname_r:",
	[STEP_GETHOSTBYNAME2_R] = "gethostbyname2_r:",
	[STEP_GETNAMEINFO] = "getnameinfo:",
	[STEP_RES_QUERY] = "res_query:",
	[STEP_THREADS] = "threads:",
	[STEP_SLEEP] = "sleep:",
};

struct step {
	enum step_kind kind;
	const char *arg; /* the name or address */
	int n;		 /* threads, or milliseconds */
};

/* Parses a step; false if it is malformed.  Names may contain ':' (nothing checks them: a
 * name the resolver rejects is a lookup that fails, which is worth being able to ask for) */
static bool parse_step(const char *text, struct step *s)
{
	struct in_addr addr;
	size_t k, len = 0;

	for (k = 0; k < ARRAY_SIZE(step_prefixes); k++) {
		len = strlen(step_prefixes[k]);
		if (!strncmp(text, step_prefixes[k], len))
			break;
	}
	if (k == ARRAY_SIZE(step_prefixes))
		return false;
	s->kind = (enum step_kind)k;
	s->arg = text + len;
	switch (s->kind) {
	case STEP_THREADS:
		return parse_int(s->arg, 1, MAX_THREADS, &s->n, &s->arg) && *s->arg;
	case STEP_SLEEP:
		return parse_int(s->arg, 0, INT_MAX, &s->n, NULL);
	case STEP_GETNAMEINFO:
		return inet_pton(AF_INET, s->arg, &addr) == 1;
	default:
		return *s->arg != '\0';
	}
}

static void run_step(const struct step *s)
{
	switch (s->kind) {
	case STEP_GETADDRINFO:
		resolve_with_getaddrinfo(s->arg);
		break;
	case STEP_GETHOSTBYNAME:
		resolve_with_gethostbyname(s->arg);
		break;
	case STEP_GETHOSTBYNAME_R:
		resolve_with_gethostbyname_r(s->arg);
		break;
	case STEP_GETHOSTBYNAME2_R:
		resolve_with_gethostbyname2_r(s->arg);
		break;
	case STEP_GETNAMEINFO:
		resolve_with_getnameinfo(s->arg);
		break;
	case STEP_RES_QUERY:
		resolve_with_res_query(s->arg);
		break;
	case STEP_THREADS:
		resolve_in_threads(s->n, s->arg);
		break;
	case STEP_SLEEP:
		sleep_ms(s->n);
		break;
	}
}

int main(int argc, char **argv)
{
	int first = 1, n;
	struct step *steps;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ground_truth_open("DNSWORK_LOG");
	if (argc > 1 && !strcmp(argv[1], "--wait"))
		first = 2;
	n = argc - first;
	steps = calloc(n ? n : 1, sizeof(*steps));
	if (!steps)
		die("calloc");
	/* every step is checked before the first runs: a typo must not cost a test's timeout */
	for (int i = 0; i < n; i++) {
		if (!parse_step(argv[first + i], &steps[i])) {
			fprintf(stderr, "dnswork: bad step %s (see the source)\n", argv[first + i]);
			return 2;
		}
	}
	if (first == 2 && !ready_then_wait())
		return 0;
	for (int i = 0; i < n; i++)
		run_step(&steps[i]);
	free(steps);
	return 0;
}
