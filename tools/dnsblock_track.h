/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * From events to lookups: a resolver call and the queries it sent are one lookup; queries that
 * no call sent are grouped by process and name into lookups of their own (wire lookups).
 * Queries and responses pair by socket and DNS ID; a query that gets no response within the
 * timeout has timed out.  A lookup is handed to the reporter when it completes: its call
 * returned, or none of its queries is waiting any more.
 */
#ifndef STALLKIT_DNSBLOCK_TRACK_H
#define STALLKIT_DNSBLOCK_TRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "dnsblock.h"
#include "symbolizer.h"
#include "unwinder.h"

#define DNS_API_WIRE	(-1)
#define DNS_NO_ANSWER	(-1) /* a query's rcode while it has none */
#define BLOCKED_UNKNOWN UINT64_MAX

struct dns_query {
	uint16_t type;
	uint16_t id;
	bool tcp;
	uint16_t family;
	uint8_t server[16];
	uint64_t sock_cookie;
	uint64_t sent_ns;
	uint64_t answered_ns; /* 0: no answer */
	int rcode;	      /* DNS_NO_ANSWER: none (yet) */
	uint16_t answers;
};

struct dns_lookup {
	uint32_t pid, tid;
	char comm[DNS_COMM_LEN];
	uint32_t call_seq; /* the thread's resolver call; 0 for a wire lookup */
	int api;	   /* enum dns_api, or DNS_API_WIRE */
	char name[DNS_NAME_LEN];
	uint64_t start_ns, end_ns;
	uint64_t start_offcpu_ns;
	uint64_t blocked_ns; /* BLOCKED_UNKNOWN if the thread was not followed throughout */
	/* the call's result (resolver calls) */
	uint32_t result_kind;
	int code;
	uint16_t qtype;
	uint32_t naddrs;
	bool more_addrs; /* more than naddrs */
	struct dns_addr addrs[DNS_ADDRS_MAX];
	char answer[DNS_NAME_LEN];
	/* the queries it sent */
	struct dns_query *queries;
	size_t nqueries, queries_cap;
	size_t waiting; /* queries without a response */
	/* with --stacks: the caller's user stack, completed */
	uint64_t *stack;
	size_t stack_frames;
};

typedef void (*lookup_done_fn)(void *ctx, const struct dns_lookup *l);

struct dns_tracker {
	struct dns_lookup **open;
	size_t nopen, cap;
	uint64_t timeout_ns;
	struct symbolizer *sym; /* NULL: no stacks */
	struct unwinder *unw;	/* finishes the stacks the BPF half could not (set after init) */
	lookup_done_fn done;
	void *ctx;
	uint64_t late_responses;   /* after their query timed out or their call returned */
	uint64_t abandoned_calls;  /* calls whose return was never seen (longjmp, killed) */
	uint64_t unreadable;	   /* messages whose question could not be decoded */
};

void tracker_init(struct dns_tracker *t, uint64_t timeout_ns, struct symbolizer *sym,
		  lookup_done_fn done, void *ctx);
/* A ring buffer callback: takes one event */
int tracker_event(void *tracker, void *data, size_t size);
/* Wire lookups whose queries all timed out by now complete */
void tracker_expire(struct dns_tracker *t, uint64_t now_ns);
/* Wire lookups still waiting (at the end of the session); calls in progress are known to
 * the BPF side */
size_t tracker_wire_in_progress(const struct dns_tracker *t);
void tracker_free(struct dns_tracker *t);

#endif
