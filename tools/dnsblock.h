/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * dnsblock: what the BPF programs and the tool share.  Three kinds of events reach userspace:
 * a resolver call of a C library that returned (from its uprobes), a DNS message that a
 * process sent to port 53 or received from it (from cgroup socket-buffer programs, whatever
 * the resolver), and, with --stacks, the caller's stack at a resolver call's entry.
 */
#ifndef STALLKIT_DNSBLOCK_H
#define STALLKIT_DNSBLOCK_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
#include "stacks.h"
#include "unwind.h"

#define DNS_COMM_LEN	 16
#define DNS_NAME_LEN	 256 /* a name as the caller gave it, NUL-terminated */
#define DNS_ADDRS_MAX	 8   /* addresses of an answer copied out */
#define DNS_QUESTION_LEN 260 /* a query's name in wire format (255) and its type and class */
#define DNS_STACK_DEPTH	 127
#define DNS_PORT	 53

/* The resolver functions of a C library; the uprobes' BPF cookie */
enum dns_api {
	DNS_API_GETADDRINFO,
	DNS_API_GETHOSTBYNAME,
	DNS_API_GETHOSTBYNAME2,
	DNS_API_GETHOSTBYNAME_R,
	DNS_API_GETHOSTBYNAME2_R,
	DNS_API_GETNAMEINFO,
	DNS_API_RES_QUERY,
	DNS_API_RES_SEARCH,
	DNS_API_RES_QUERYDOMAIN,
	DNS_API_RES_NQUERY,
	DNS_API_RES_NSEARCH,
	DNS_API_RES_NQUERYDOMAIN,
	DNS_API_COUNT,
};

/* How a resolver call's result reads */
enum dns_result_kind {
	DNS_RESULT_EAI,	    /* code: 0 or an EAI_* error (getaddrinfo, getnameinfo) */
	DNS_RESULT_HOSTENT, /* code: 0, or h_errno if known, -1 if not (gethostbyname*) */
	DNS_RESULT_ANSWER,  /* code: the rcode of the answer, -1 if the call failed (res_*) */
};

enum dns_event_kind {
	DNS_EVENT_CALL,	    /* struct dns_call_event */
	DNS_EVENT_MESSAGE,  /* struct dns_message_event */
	DNS_EVENT_STACK,    /* struct dns_stack_event */
};

struct dns_addr {
	__u16 family; /* AF_INET, AF_INET6 */
	__u8 addr[16];
};

/* The thread a resolver call or message belongs to, and its off-CPU time so far */
struct dns_thread_ref {
	__u32 kind; /* enum dns_event_kind */
	__u32 pid;
	__u32 tid;
	__u32 call_seq;	 /* the thread's resolver call in progress (0: none) */
	__u64 ts;	 /* bpf_ktime_get_ns() */
	__u64 offcpu_ns; /* the thread's off-CPU time since it was first seen, at ts */
	char comm[DNS_COMM_LEN];
};

struct dns_call_event {
	struct dns_thread_ref t; /* ts: when the call returned */
	__u64 start_ns;
	__u64 start_offcpu_ns;
	__u32 api;	   /* enum dns_api */
	__u32 result_kind; /* enum dns_result_kind */
	__s32 code;
	__u16 qtype;	   /* res_*: the type asked for */
	__u16 naddrs;	   /* addresses in the answer (the first DNS_ADDRS_MAX are copied) */
	__u16 more_addrs;  /* naddrs stopped counting: there are more */
	__u16 pad;
	struct dns_addr addrs[DNS_ADDRS_MAX];
	char name[DNS_NAME_LEN]; /* getnameinfo: empty, the address is addrs[0] */
	char answer[DNS_NAME_LEN]; /* getnameinfo: the host name found */
};

struct dns_message_event {
	struct dns_thread_ref t; /* for a response: the thread that sent on the socket */
	__u64 sock_cookie;
	__u8 response;	/* 0: a query sent, 1: a response received */
	__u8 tcp;
	__u16 family;
	__u8 server[16]; /* the DNS server's address (network order) */
	__u16 server_port;
	__u16 id;
	__u16 flags;	 /* the header's second word: QR, opcode, ..., rcode */
	__u16 answers;	 /* ANCOUNT */
	__u16 question_len;
	__u8 question[DNS_QUESTION_LEN]; /* from the first question's name on */
};

struct dns_stack_event {
	struct dns_thread_ref t; /* ts: the call's entry */
	__u32 frames;
	__u32 pad;
	__u64 user_stack[STACK_MAX_DEPTH]; /* innermost first, perhaps ending with a mark */
	struct unwind_copy copy; /* only when the tables were not ready (unwind_wants_copy) */
};

/* A thread that made a resolver call or sent a query */
struct dns_thread {
	__u64 offcpu_ns; /* off-CPU time since it was first seen */
	__u64 off_since; /* 0: on CPU */
	/* the outermost resolver call in progress */
	__u32 depth;
	__u32 call_seq;
	__u32 api;
	__u32 pad;
	__u64 entry_sp; /* a call entered below it is nested in it */
	__u64 start_ns;
	__u64 start_offcpu_ns;
	__u64 args[4];	/* the name, and where the result will be */
	__u16 qtype;
};

struct dns_config {
	__u8 stacks;	   /* --stacks: take the caller's stack at a call's entry */
	__u8 typed_tasks;  /* sched_switch is tp_btf */
};

#endif
