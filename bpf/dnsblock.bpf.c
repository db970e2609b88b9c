// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dnsblock: name lookups that threads wait on, from two sides.
 *
 * Resolver calls of a C library (getaddrinfo, gethostbyname*, getnameinfo, res_*): uprobes at
 * entry and return.  Per thread: the outermost call in progress (nested calls count once), and
 * its arguments, from which the result is read when it returns.
 *
 * DNS messages on the wire, whatever sent them (c-ares, Go, static or musl programs): cgroup
 * socket-buffer programs on the cgroup v2 root see every packet that a socket sends or
 * receives, in every network namespace.  Queries to port 53 are read where they are sent, in
 * the sending thread; responses from port 53 arrive in softirq, so a socket's sender is noted
 * with its queries.  Userspace pairs them by socket and DNS ID.
 *
 * Blocked time: threads seen in a call or sending a query are followed through sched_switch,
 * which adds up their time off-CPU; an event carries that sum, and the blocked time of a
 * lookup is the difference between its end and its start.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "dnsblock.h"
#include "filter.bpf.h"
#include "unwind.bpf.h"
#include "loss.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define AF_INET	     2
#define AF_INET6     10
#define IPPROTO_TCP  6
#define IPPROTO_UDP  17
#define DNS_QR	     0x8000
#define DNS_HDR_LEN  12
#define SKB_PASS     1
#define LIST_MAX     256 /* addresses counted in a result; more show as "256+" */

#ifndef PT_REGS_PARM6
#define PT_REGS_PARM6(x) ((x)->r9) /* libbpf before 1.2; x86-64, as the argument layouts below */
#endif

const volatile struct dns_config dns_cfg = {};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct dns_thread);
} threads SEC(".maps");

/* The thread that last sent a query on a socket, by socket cookie */
struct sock_owner {
	__u32 pid;
	__u32 tid;
	char comm[DNS_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct sock_owner);
} sock_owners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);
} events SEC(".maps");

/*
 * The reader is woken only when the buffer fills up; it drains the rest every 100 ms.  A
 * wakeup per event cost a lookup more than all the rest of the tracing
 * (docs/dnsblock-overhead.md).
 */
#define WAKEUP_BYTES (1024 * 1024)

static __always_inline void event_submit(void *e)
{
	bpf_ringbuf_submit(e, bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > WAKEUP_BYTES ?
				      BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

/* set once a thread is followed: until then, sched_switch returns at once */
volatile __u32 following;

static __always_inline __u64 offcpu_at(const struct dns_thread *th, __u64 now)
{
	return th->offcpu_ns + (th->off_since && now > th->off_since ? now - th->off_since : 0);
}

static __always_inline struct dns_thread *thread_follow(__u32 tid)
{
	struct dns_thread *th = bpf_map_lookup_elem(&threads, &tid);
	struct dns_thread fresh = {};

	if (th)
		return th;
	following = 1;
	bpf_map_update_elem(&threads, &tid, &fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&threads, &tid);
}

static __always_inline void thread_ref_fill(struct dns_thread_ref *t, enum dns_event_kind kind,
					    __u64 pid_tgid, __u64 now, const struct dns_thread *th)
{
	t->kind = kind;
	t->pid = pid_tgid >> 32;
	t->tid = (__u32)pid_tgid;
	t->ts = now;
	t->call_seq = th && th->depth ? th->call_seq : 0;
	t->offcpu_ns = th ? offcpu_at(th, now) : 0;
	bpf_get_current_comm(t->comm, sizeof(t->comm));
}

SEC("raw_tp/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 prev_tid, next_tid;
	struct dns_thread *th;
	__u64 now;

	if (!following)
		return 0;
	prev_tid = BPF_CORE_READ(prev, pid);
	next_tid = BPF_CORE_READ(next, pid);
	now = bpf_ktime_get_ns();
	th = bpf_map_lookup_elem(&threads, &prev_tid);
	if (th)
		th->off_since = now;
	th = bpf_map_lookup_elem(&threads, &next_tid);
	if (th && th->off_since) {
		th->offcpu_ns += now - th->off_since;
		th->off_since = 0;
	}
	return 0;
}

/*
 * Resolver calls
 */

/* The arguments a call's result is read from, by API (x86-64: the seventh on the stack) */
static __always_inline void call_args_save(struct dns_thread *th, struct pt_regs *ctx, __u32 api)
{
	__u64 a[7] = { PT_REGS_PARM1(ctx), PT_REGS_PARM2(ctx), PT_REGS_PARM3(ctx),
		       PT_REGS_PARM4(ctx), PT_REGS_PARM5(ctx), PT_REGS_PARM6(ctx) };

	if (api == DNS_API_GETHOSTBYNAME2_R &&
	    bpf_probe_read_user(&a[6], sizeof(a[6]), (void *)(PT_REGS_SP(ctx) + 8)))
		loss_count(LOSS_ARGS_READ);
	__builtin_memset(th->args, 0, sizeof(th->args));
	th->qtype = 0;
	switch (api) {
	case DNS_API_GETADDRINFO:	/* node, service, hints, res */
		th->args[0] = a[0];
		th->args[1] = a[3];
		break;
	case DNS_API_GETHOSTBYNAME:	/* name [, af] */
	case DNS_API_GETHOSTBYNAME2:
		th->args[0] = a[0];
		break;
	case DNS_API_GETHOSTBYNAME_R:	/* name, ret, buf, buflen, result, h_errnop */
		th->args[0] = a[0];
		th->args[2] = a[4];
		th->args[3] = a[5];
		break;
	case DNS_API_GETHOSTBYNAME2_R:	/* name, af, ret, buf, buflen, result, h_errnop */
		th->args[0] = a[0];
		th->args[2] = a[5];
		th->args[3] = a[6];
		break;
	case DNS_API_GETNAMEINFO:	/* sa, salen, host, hostlen, serv, servlen, flags */
		th->args[1] = a[0];
		th->args[2] = a[2];
		th->args[3] = a[3];
		break;
	case DNS_API_RES_QUERY:		/* dname, class, type, answer, anslen */
	case DNS_API_RES_SEARCH:
		th->args[0] = a[0];
		th->qtype = a[2];
		th->args[1] = a[3];
		break;
	case DNS_API_RES_QUERYDOMAIN:	/* name, domain, class, type, answer, anslen */
	case DNS_API_RES_NQUERY:	/* statp, dname, class, type, answer, anslen */
	case DNS_API_RES_NSEARCH:
		th->args[0] = api == DNS_API_RES_QUERYDOMAIN ? a[0] : a[1];
		th->qtype = a[3];
		th->args[1] = a[4];
		break;
	case DNS_API_RES_NQUERYDOMAIN:	/* statp, name, domain, class, type, answer, anslen */
		th->args[0] = a[1];
		th->qtype = a[4];
		th->args[1] = a[5];
		break;
	}
}

/* The caller's stack, unwound at the call's entry; with a copy of the stack top when the
 * process's tables were not ready (its first lookup, as a short-lived curl's only one is) */
static __always_inline void stack_event_send(struct pt_regs *ctx, __u64 pid_tgid, __u64 now,
					     const struct dns_thread *th)
{
	const __u32 short_size = offsetof(struct dns_stack_event, copy);
	struct dns_stack_event *e;
	struct stack_frames *user;
	__u32 n = 0;
	bool copy;

	user = unwind_user_scratch(pid_tgid >> 32, ctx, &n);
	copy = user && unwind_wants_copy(user, n);
	e = copy ? bpf_ringbuf_reserve(&events, sizeof(*e), 0) :
		   bpf_ringbuf_reserve(&events, short_size, 0);
	if (!e) {
		loss_count(LOSS_RINGBUF_FULL);
		return;
	}
	thread_ref_fill(&e->t, DNS_EVENT_STACK, pid_tgid, now, th);
	e->frames = user ? n : 0;
	if (user)
		__builtin_memcpy(e->user_stack, user->ips, sizeof(e->user_stack));
	if (copy)
		unwind_copy_take(&e->copy, ctx);
	if (!e->frames)
		loss_count(LOSS_STACK_READ);
	event_submit(e);
}

SEC("uprobe")
int call_enter(struct pt_regs *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid(), sp = PT_REGS_SP(ctx), now;
	struct dns_thread *th;

	if (!filter_ids_pass(pid_tgid >> 32, (__u32)pid_tgid) || !filter_current_traits_pass())
		return 0;
	th = thread_follow((__u32)pid_tgid);
	if (!th) {
		loss_count(LOSS_CALL_STATE);
		return 0;
	}
	/* below the outermost call's frame: nested in it.  Above it: that call ended without
	 * its return probe (longjmp, or a thread that exited and whose ID came back) */
	if (th->depth && sp < th->entry_sp) {
		th->depth++;
		return 0;
	}
	now = bpf_ktime_get_ns();
	th->depth = 1;
	th->call_seq++;
	th->api = bpf_get_attach_cookie(ctx);
	th->entry_sp = sp;
	th->start_ns = now;
	th->start_offcpu_ns = th->offcpu_ns;
	call_args_save(th, ctx, th->api);
	if (dns_cfg.stacks)
		stack_event_send(ctx, pid_tgid, now, th);
	return 0;
}

/* The user-space structures read at return (x86-64 LP64 layouts) */
struct user_addrinfo {
	int ai_flags, ai_family, ai_socktype, ai_protocol;
	__u32 ai_addrlen;
	void *ai_addr;
	char *ai_canonname;
	struct user_addrinfo *ai_next;
};

struct user_hostent {
	char *h_name;
	char **h_aliases;
	int h_addrtype;
	int h_length;
	char **h_addr_list;
};

/* A sockaddr_in or sockaddr_in6 into addr; false for other families */
static __always_inline bool sockaddr_read(struct dns_addr *addr, const void *sa)
{
	__u16 family = 0;

	if (bpf_probe_read_user(&family, sizeof(family), sa))
		return false;
	addr->family = family;
	if (family == AF_INET)
		return !bpf_probe_read_user(addr->addr, 4, sa + 4);
	if (family == AF_INET6)
		return !bpf_probe_read_user(addr->addr, 16, sa + 8);
	return false;
}

static __always_inline bool addr_equal(const struct dns_addr *a, const struct dns_addr *b)
{
	return a->family == b->family && !__builtin_memcmp(a->addr, b->addr, 16);
}

/* getaddrinfo lists an address once per socket type: consecutive repeats count once */
static __always_inline void addrinfo_read(struct dns_call_event *e, const void *res_ptr)
{
	struct user_addrinfo ai, *next = NULL;
	struct dns_addr a;

	if (bpf_probe_read_user(&next, sizeof(next), res_ptr))
		return;
	for (int i = 0; i < LIST_MAX && next; i++) {
		if (bpf_probe_read_user(&ai, sizeof(ai), next))
			break;
		next = ai.ai_next;
		__builtin_memset(&a, 0, sizeof(a));
		if (!ai.ai_addr || !sockaddr_read(&a, ai.ai_addr))
			continue;
		if (e->naddrs && addr_equal(&a, &e->addrs[(e->naddrs - 1) & (DNS_ADDRS_MAX - 1)]))
			continue;
		if (e->naddrs < DNS_ADDRS_MAX)
			e->addrs[e->naddrs] = a;
		e->naddrs++;
	}
	e->more_addrs = next != NULL;
}

static __always_inline void hostent_read(struct dns_call_event *e, const struct user_hostent *hp)
{
	struct user_hostent h;
	char **list;

	if (bpf_probe_read_user(&h, sizeof(h), hp))
		return;
	list = h.h_addr_list;
	for (int i = 0; i < LIST_MAX + 1 && list; i++) {
		char *addr = NULL;

		if (bpf_probe_read_user(&addr, sizeof(addr), &list[i]) || !addr)
			break;
		if (i == LIST_MAX) {
			e->more_addrs = 1;
			break;
		}
		if (e->naddrs < DNS_ADDRS_MAX) {
			struct dns_addr *a = &e->addrs[e->naddrs];

			a->family = h.h_addrtype;
			if (h.h_length == 16)
				bpf_probe_read_user(a->addr, 16, addr);
			else
				bpf_probe_read_user(a->addr, 4, addr);
		}
		e->naddrs++;
	}
}

/* A res_* call's answer: its header's rcode and ANCOUNT */
static __always_inline void answer_read(struct dns_call_event *e, const void *answer, long ret)
{
	__u8 hdr[DNS_HDR_LEN];

	e->code = -1;
	if (ret < DNS_HDR_LEN || bpf_probe_read_user(hdr, sizeof(hdr), answer))
		return;
	e->code = hdr[3] & 0xf;
	e->naddrs = hdr[6] << 8 | hdr[7];
}

static __always_inline void call_result_read(struct dns_call_event *e, struct pt_regs *ctx,
					     const struct dns_thread *th)
{
	long ret = PT_REGS_RC(ctx);
	void *hp = NULL;
	int herr = -1;

	switch (th->api) {
	case DNS_API_GETADDRINFO:
		e->result_kind = DNS_RESULT_EAI;
		e->code = (int)ret;
		if (!e->code)
			addrinfo_read(e, (void *)th->args[1]);
		break;
	case DNS_API_GETHOSTBYNAME:
	case DNS_API_GETHOSTBYNAME2:
		e->result_kind = DNS_RESULT_HOSTENT;
		hp = (void *)ret;
		e->code = hp ? 0 : -1; /* h_errno is thread-local: the wire tells why */
		break;
	case DNS_API_GETHOSTBYNAME_R:
	case DNS_API_GETHOSTBYNAME2_R:
		e->result_kind = DNS_RESULT_HOSTENT;
		bpf_probe_read_user(&hp, sizeof(hp), (void *)th->args[2]);
		if (!hp && th->args[3])
			bpf_probe_read_user(&herr, sizeof(herr), (void *)th->args[3]);
		e->code = hp ? 0 : herr;
		break;
	case DNS_API_GETNAMEINFO:
		e->result_kind = DNS_RESULT_EAI;
		e->code = (int)ret;
		if (sockaddr_read(&e->addrs[0], (void *)th->args[1]))
			e->naddrs = 1;
		if (!e->code && th->args[3])
			bpf_probe_read_user_str(e->answer, sizeof(e->answer), (void *)th->args[2]);
		break;
	default:
		e->result_kind = DNS_RESULT_ANSWER;
		answer_read(e, (void *)th->args[1], ret);
		break;
	}
	if (hp)
		hostent_read(e, hp);
}

SEC("uretprobe")
int call_exit(struct pt_regs *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid(), now;
	__u32 tid = (__u32)pid_tgid;
	struct dns_call_event *e;
	struct dns_thread *th;

	/* no state: a thread the filter left out (uretprobes fire for every process), or one
	 * whose state was evicted by 16384 others in calls or sending queries since */
	th = bpf_map_lookup_elem(&threads, &tid);
	if (!th || !th->depth || --th->depth)
		return 0;
	now = bpf_ktime_get_ns();
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		loss_count(LOSS_RINGBUF_FULL);
		return 0;
	}
	thread_ref_fill(&e->t, DNS_EVENT_CALL, pid_tgid, now, th);
	e->t.call_seq = th->call_seq; /* the call that just ended */
	e->start_ns = th->start_ns;
	e->start_offcpu_ns = th->start_offcpu_ns;
	e->api = th->api;
	e->qtype = th->qtype;
	e->naddrs = 0;
	e->more_addrs = 0;
	__builtin_memset(e->addrs, 0, sizeof(e->addrs));
	e->name[0] = '\0';
	e->answer[0] = '\0';
	if (th->args[0] && bpf_probe_read_user_str(e->name, sizeof(e->name),
						   (void *)th->args[0]) < 0)
		loss_count(LOSS_ARGS_READ);
	call_result_read(e, ctx, th);
	event_submit(e);
	return 0;
}

/*
 * DNS messages
 */

/* Where a packet's DNS message starts, its server's address and port */
struct dns_packet {
	__u32 msg;	/* offset of the DNS header */
	__u16 family;
	__u8 tcp;
	__u16 port;	/* the server's port: destination of a query, source of a response */
	__u8 server[16];
};

/* A cgroup socket-buffer program sees the packet from its network header on */
static __always_inline bool dns_packet_parse(struct __sk_buff *skb, struct dns_packet *p,
					     bool response)
{
	__u32 l4, len = skb->len;
	__u8 proto, first;
	__u16 ports[2];

	if (bpf_skb_load_bytes(skb, 0, &first, 1))
		return false;
	if (first >> 4 == 4) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)))
			return false;
		p->family = AF_INET;
		proto = ip.protocol;
		l4 = (ip.ihl & 0xf) * 4;
		__builtin_memset(p->server, 0, sizeof(p->server));
		__builtin_memcpy(p->server, response ? &ip.saddr : &ip.daddr, 4);
	} else if (first >> 4 == 6) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)))
			return false;
		p->family = AF_INET6;
		proto = ip6.nexthdr;
		l4 = sizeof(ip6);
		__builtin_memcpy(p->server, response ? &ip6.saddr : &ip6.daddr, 16);
	} else {
		return false;
	}
	if ((proto != IPPROTO_UDP && proto != IPPROTO_TCP) ||
	    bpf_skb_load_bytes(skb, l4, ports, sizeof(ports)))
		return false;
	p->port = bpf_ntohs(response ? ports[0] : ports[1]);
	if (p->port != DNS_PORT)
		return false;
	p->tcp = proto == IPPROTO_TCP;
	if (p->tcp) {
		__u8 doff;

		/* data offset, in 32-bit words, is the high nibble of byte 12; then the
		 * message's two-byte length */
		if (bpf_skb_load_bytes(skb, l4 + 12, &doff, 1))
			return false;
		p->msg = l4 + (doff >> 4) * 4 + 2;
	} else {
		p->msg = l4 + 8;
	}
	return p->msg + DNS_HDR_LEN <= len;
}

static __always_inline void message_send(struct __sk_buff *skb, const struct dns_packet *p,
					 bool response, const struct sock_owner *owner)
{
	__u64 pid_tgid = (__u64)owner->pid << 32 | owner->tid, now = bpf_ktime_get_ns();
	struct dns_message_event *e;
	struct dns_thread *th;
	__u8 hdr[DNS_HDR_LEN];
	__u32 qlen;

	if (bpf_skb_load_bytes(skb, p->msg, hdr, sizeof(hdr)))
		return;
	/* a query on its way out, or a response coming in */
	if (!(hdr[2] & 0x80) != !response)
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		loss_count(LOSS_RINGBUF_FULL);
		return;
	}
	th = response ? bpf_map_lookup_elem(&threads, &owner->tid) : thread_follow(owner->tid);
	thread_ref_fill(&e->t, DNS_EVENT_MESSAGE, pid_tgid, now, th);
	if (response) /* softirq: the current task is not the owner */
		__builtin_memcpy(e->t.comm, owner->comm, sizeof(e->t.comm));
	e->sock_cookie = bpf_get_socket_cookie(skb);
	e->response = response;
	e->tcp = p->tcp;
	e->family = p->family;
	__builtin_memcpy(e->server, p->server, sizeof(e->server));
	e->server_port = p->port;
	e->id = hdr[0] << 8 | hdr[1];
	e->flags = hdr[2] << 8 | hdr[3];
	e->answers = hdr[6] << 8 | hdr[7];
	qlen = skb->len - p->msg - DNS_HDR_LEN;
	if (qlen > DNS_QUESTION_LEN)
		qlen = DNS_QUESTION_LEN;
	e->question_len = 0;
	if (qlen > 0 && !bpf_skb_load_bytes(skb, p->msg + DNS_HDR_LEN, e->question, qlen))
		e->question_len = qlen;
	event_submit(e);
}

SEC("cgroup_skb/egress")
int dns_egress(struct __sk_buff *skb)
{
	struct sock_owner owner;
	struct dns_packet p;
	__u64 pid_tgid, cookie;

	if (!dns_packet_parse(skb, &p, false))
		return SKB_PASS;
	/* queries leave in the sending thread's context */
	pid_tgid = bpf_get_current_pid_tgid();
	if (!filter_ids_pass(pid_tgid >> 32, (__u32)pid_tgid) || !filter_current_traits_pass())
		return SKB_PASS;
	owner.pid = pid_tgid >> 32;
	owner.tid = (__u32)pid_tgid;
	bpf_get_current_comm(owner.comm, sizeof(owner.comm));
	cookie = bpf_get_socket_cookie(skb);
	bpf_map_update_elem(&sock_owners, &cookie, &owner, BPF_ANY);
	message_send(skb, &p, false, &owner);
	return SKB_PASS;
}

SEC("cgroup_skb/ingress")
int dns_ingress(struct __sk_buff *skb)
{
	struct sock_owner *owner;
	struct dns_packet p;
	__u64 cookie;

	if (!dns_packet_parse(skb, &p, true))
		return SKB_PASS;
	/* only sockets that a traced thread sent a query on */
	cookie = bpf_get_socket_cookie(skb);
	owner = bpf_map_lookup_elem(&sock_owners, &cookie);
	if (owner)
		message_send(skb, &p, true, owner);
	return SKB_PASS;
}
