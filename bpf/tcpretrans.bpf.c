// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tcpretrans: TCP retransmissions, their kind and the socket's owner; with --drops, the TCP
 * packets the kernel dropped and why.
 *
 * Retransmissions are sent from timers and softirqs, where the current task is whoever was
 * running (often the idle task): the owner is learned instead where it shows itself, in
 * process context, when a process sends or receives on a TCP socket, connects it or listens
 * on it.  It is kept by socket, and by connection for drops, whose packets often have no
 * socket any more (a veth or a qdisc orphans them).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "tcpretrans.h"
#include "filter.bpf.h"
#include "loss.bpf.h"
#include "sockinfo.bpf.h"
#include "stacks.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* macros of the kernel's headers, so not in vmlinux.h */
#define IPPROTO_TCP	     6
#define ETH_P_IP	     0x0800
#define ETH_P_IPV6	     0x86DD
#define TCPHDR_SYN	     0x02
#define ICSK_TIME_LOSS_PROBE 5
#define IP_OFFSET	     0x1fff
#define HEADER_UNSET	     0xffff

const volatile struct tcpr_config tcpr_cfg = {};

/* Owners by socket address; a socket is forgotten when it closes */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct tcpr_owner);
} owners SEC(".maps");

/* Owners by connection, for dropped packets */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct tcpr_flow_key);
	__type(value, struct tcpr_owner);
} flow_owners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1024 * 1024);
} events SEC(".maps");

/* Drops shown to nobody: with a filter, a packet whose owner is not known cannot pass it */
volatile __u64 unattributed_drops;

static __always_inline void flow_from_sock_info(struct tcpr_flow *f, const struct sock_info *si)
{
	f->family = si->family;
	f->local_port = si->local_port;
	f->remote_port = si->remote_port;
	__builtin_memcpy(f->local_addr, si->local_addr, sizeof(f->local_addr));
	__builtin_memcpy(f->remote_addr, si->remote_addr, sizeof(f->remote_addr));
}

static __always_inline __u32 sock_netns(const struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

static __always_inline bool family_wanted(__u16 family)
{
	if (tcpr_cfg.family)
		return family == tcpr_cfg.family;
	return family == SOCKINFO_AF_INET || family == SOCKINFO_AF_INET6;
}

/*
 * Owners
 */

/* The current task holds sk: note it, unless noted already (the common case: one lookup).
 * A listener is noted by its local end only: it owns what arrives for connections it has not
 * handed to accept() yet. */
static __always_inline void owner_note(struct sock *sk, bool listening)
{
	struct tcpr_owner owner = {}, *known;
	__u64 key = (__u64)sk;
	struct sock_info si;
	__u32 pid;

	if (!sk || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return;
	pid = bpf_get_current_pid_tgid() >> 32;
	owner.pid = pid;
	known = bpf_map_lookup_elem(&owners, &key);
	if (known && known->pid == pid && known->flow_noted)
		return;
	owner.passes = filter_current_pass();
	bpf_get_current_comm(owner.comm, sizeof(owner.comm));
	sock_info_read(&si, sk);
	if (si.local_port && (si.remote_port || listening) && family_wanted(si.family)) {
		struct tcpr_flow_key fk = { .netns = sock_netns(sk) };

		flow_from_sock_info(&fk.flow, &si);
		owner.flow_noted = 1;
		bpf_map_update_elem(&flow_owners, &fk, &owner, BPF_ANY);
	}
	bpf_map_update_elem(&owners, &key, &owner, BPF_ANY);
}

static __always_inline void owner_forget(struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct tcpr_owner *known = bpf_map_lookup_elem(&owners, &key);

	if (!known)
		return;
	if (known->flow_noted) {
		struct tcpr_flow_key fk = { .netns = sock_netns(sk) };
		struct sock_info si;

		sock_info_read(&si, sk);
		flow_from_sock_info(&fk.flow, &si);
		bpf_map_delete_elem(&flow_owners, &fk);
	}
	bpf_map_delete_elem(&owners, &key);
}

static __always_inline void state_change(struct sock *sk, int newstate)
{
	/* connect() and listen() run in the owner's context; the other changes may not */
	if (newstate == TCP_SYN_SENT || newstate == TCP_LISTEN)
		owner_note(sk, newstate == TCP_LISTEN);
	else if (newstate == TCP_CLOSE && BPF_CORE_READ(sk, sk_protocol) == IPPROTO_TCP)
		owner_forget(sk);
}

SEC("raw_tp/sock_send_length")
int BPF_PROG(send_length, struct sock *sk)
{
	owner_note(sk, false);
	return 0;
}

SEC("tracepoint/sock/sock_send_length")
int send_length_classic(struct trace_event_raw_sock_msg_length *ctx)
{
	owner_note(ctx->sk, false);
	return 0;
}

SEC("raw_tp/sock_recv_length")
int BPF_PROG(recv_length, struct sock *sk)
{
	owner_note(sk, false);
	return 0;
}

SEC("tracepoint/sock/sock_recv_length")
int recv_length_classic(struct trace_event_raw_sock_msg_length *ctx)
{
	owner_note(ctx->sk, false);
	return 0;
}

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(set_state, struct sock *sk, int oldstate, int newstate)
{
	state_change(sk, newstate);
	return 0;
}

SEC("tracepoint/sock/inet_sock_set_state")
int set_state_classic(struct trace_event_raw_inet_sock_set_state *ctx)
{
	state_change((struct sock *)ctx->skaddr, ctx->newstate);
	return 0;
}

/*
 * Events
 */

/* The owner of sk into e; false if the owner does not pass the filter */
static __always_inline bool event_owner(struct tcpr_event *e, const struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct tcpr_owner *owner = bpf_map_lookup_elem(&owners, &key);

	if (owner) {
		e->pid = owner->pid;
		__builtin_memcpy(e->comm, owner->comm, sizeof(e->comm));
		return owner->passes;
	}
	/* userspace looks for the process with this socket open */
	e->socket_inode = BPF_CORE_READ(sk, sk_socket, file, f_inode, i_ino);
	return true;
}

/* Events are made on the stack, and copied out only once they have passed the filter */
static __always_inline void event_init(struct tcpr_event *e, __u32 type)
{
	__builtin_memset(e, 0, sizeof(*e));
	e->ts = bpf_ktime_get_ns();
	e->type = type;
}

static __always_inline void event_send(struct tcpr_event *e)
{
	if (bpf_ringbuf_output(&events, e, sizeof(*e), 0))
		loss_count(LOSS_RINGBUF_FULL);
}

static __always_inline __u32 jiffies_to_us(__u64 j)
{
	return tcpr_cfg.hz ? j * 1000000 / tcpr_cfg.hz : 0;
}

/* Why a full socket retransmits now: the first of its SYN flag, an expired probe timer, loss
 * recovery (entered when the retransmission timer expired) and fast recovery */
static __always_inline __u8 retransmit_kind(const struct sock *sk, __u8 state, __u8 tcp_flags)
{
	const struct inet_connection_sock *icsk = (const void *)sk;

	__u8 ca_state;

	if (tcp_flags & TCPHDR_SYN)
		return state == TCP_SYN_SENT ? TCPR_KIND_SYN : TCPR_KIND_SYNACK;
	ca_state = BPF_CORE_READ_BITFIELD_PROBED(icsk, icsk_ca_state);
	/* The probe timer stays pending while its handler sends the probe.  The kernel probes only
	 * in the Open and CWR states: an ACK that enters fast recovery retransmits before it rearms
	 * the timer, so when the probe timer has expired but not yet run (a stalled CPU), that
	 * retransmission is still a fast one. */
	if ((ca_state == TCP_CA_Open || ca_state == TCP_CA_CWR) &&
	    BPF_CORE_READ(icsk, icsk_pending) == ICSK_TIME_LOSS_PROBE &&
	    (__s64)(bpf_jiffies64() - BPF_CORE_READ(icsk, icsk_retransmit_timer.expires)) >= 0)
		return TCPR_KIND_TLP;
	if (ca_state == TCP_CA_Loss)
		return TCPR_KIND_RTO;
	return TCPR_KIND_FAST;
}

static __always_inline int retransmit_skb(const struct sock *sk, const struct sk_buff *skb, int err)
{
	const struct tcp_skb_cb *cb = (const void *)skb->cb;
	const struct tcp_sock *tp = (const void *)sk;
	struct tcpr_event ev, *e = &ev;
	struct sock_info si;

	sock_info_read(&si, (struct sock *)sk);
	if (!family_wanted(si.family))
		return 0;
	event_init(e, TCPR_EVENT_RETRANSMIT);
	if (!event_owner(e, sk))
		return 0;
	flow_from_sock_info(&e->flow, &si);
	e->state = si.state;
	e->kind = retransmit_kind(sk, si.state, BPF_CORE_READ(cb, tcp_flags));
	e->seq = BPF_CORE_READ(cb, seq);
	e->segs = BPF_CORE_READ(cb, tcp_gso_segs) ?: 1;
	e->err = err;
	e->srtt_us = BPF_CORE_READ(tp, srtt_us) >> 3;
	e->rto_us = jiffies_to_us(BPF_CORE_READ(&tp->inet_conn, icsk_rto));
	e->cwnd = BPF_CORE_READ(tp, snd_cwnd);
	e->total_retrans = BPF_CORE_READ(tp, total_retrans);
	event_send(e);
	return 0;
}

SEC("raw_tp/tcp_retransmit_skb")
int BPF_PROG(retransmit, const struct sock *sk, const struct sk_buff *skb)
{
	return retransmit_skb(sk, skb, tcpr_cfg.retransmit_err ? (int)ctx[2] : 0);
}

SEC("tracepoint/tcp/tcp_retransmit_skb")
int retransmit_classic(struct trace_event_raw_tcp_retransmit_skb *ctx)
{
	int err = 0;

	if (bpf_core_field_exists(ctx->err))
		err = BPF_CORE_READ(ctx, err);
	return retransmit_skb(ctx->skaddr, ctx->skbaddr, err);
}

/* A SYN-ACK of a connection not yet accepted: the listener's owner is the owner */
static __always_inline int retransmit_synack(const struct sock *listener,
					     const struct request_sock *req)
{
	struct tcpr_event ev, *e = &ev;
	struct sock_info si;

	sock_info_read(&si, (struct sock *)req); /* a request sock begins with a sock_common */
	if (!family_wanted(si.family))
		return 0;
	event_init(e, TCPR_EVENT_RETRANSMIT);
	if (!event_owner(e, listener))
		return 0;
	flow_from_sock_info(&e->flow, &si);
	e->state = si.state;
	e->kind = TCPR_KIND_SYNACK;
	e->seq = BPF_CORE_READ((const struct tcp_request_sock *)req, snt_isn);
	e->segs = 1;
	e->rto_us = jiffies_to_us(BPF_CORE_READ(req, timeout));
	e->total_retrans = BPF_CORE_READ(req, num_retrans) + 1;
	event_send(e);
	return 0;
}

SEC("raw_tp/tcp_retransmit_synack")
int BPF_PROG(retransmit_synack_raw, const struct sock *sk, const struct request_sock *req)
{
	return retransmit_synack(sk, req);
}

SEC("tracepoint/tcp/tcp_retransmit_synack")
int retransmit_synack_classic(struct trace_event_raw_tcp_retransmit_synack *ctx)
{
	return retransmit_synack(ctx->skaddr, ctx->req);
}

/*
 * Drops
 */

/* The connection of a TCP packet from its headers, as its receiver sees it; false if the
 * packet is not TCP (or its headers are not there yet) */
static __always_inline bool packet_flow(const struct sk_buff *skb, struct tcpr_flow *f, __u32 *seq,
					__u8 *tcp_flags)
{
	__u16 protocol = bpf_ntohs(BPF_CORE_READ(skb, protocol));
	__u16 nh = BPF_CORE_READ(skb, network_header);
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u8 th[14]; /* ports, sequence, ack, offset, flags */
	__u32 th_off;

	if (nh == HEADER_UNSET)
		return false;
	if (protocol == ETH_P_IP) {
		struct iphdr ip;

		if (bpf_probe_read_kernel(&ip, sizeof(ip), head + nh) ||
		    ip.protocol != IPPROTO_TCP || (bpf_ntohs(ip.frag_off) & IP_OFFSET))
			return false;
		f->family = SOCKINFO_AF_INET;
		__builtin_memcpy(f->remote_addr, &ip.saddr, 4);
		__builtin_memcpy(f->local_addr, &ip.daddr, 4);
		th_off = nh + ip.ihl * 4;
	} else if (protocol == ETH_P_IPV6) {
		struct ipv6hdr ip6;

		/* extension headers before TCP are not followed */
		if (bpf_probe_read_kernel(&ip6, sizeof(ip6), head + nh) ||
		    ip6.nexthdr != IPPROTO_TCP)
			return false;
		f->family = SOCKINFO_AF_INET6;
		__builtin_memcpy(f->remote_addr, &ip6.saddr, 16);
		__builtin_memcpy(f->local_addr, &ip6.daddr, 16);
		th_off = nh + sizeof(ip6);
	} else {
		return false;
	}
	if (bpf_probe_read_kernel(th, sizeof(th), head + th_off))
		return false;
	f->remote_port = (th[0] << 8) | th[1];
	f->local_port = (th[2] << 8) | th[3];
	*seq = ((__u32)th[4] << 24) | ((__u32)th[5] << 16) | ((__u32)th[6] << 8) | th[7];
	*tcp_flags = th[13];
	return true;
}

static __always_inline void flow_reverse(struct tcpr_flow *f)
{
	struct tcpr_flow r = { .family = f->family };

	r.local_port = f->remote_port;
	r.remote_port = f->local_port;
	__builtin_memcpy(r.local_addr, f->remote_addr, sizeof(r.local_addr));
	__builtin_memcpy(r.remote_addr, f->local_addr, sizeof(r.remote_addr));
	*f = r;
}

/* The owner of the listener a packet arrived for (on its address, else on any): the process
 * that will accept the connection */
static __always_inline struct tcpr_owner *listener_of(struct tcpr_flow_key *fk,
						      const struct tcpr_flow *incoming)
{
	struct tcpr_owner *owner;

	fk->flow = *incoming;
	fk->flow.remote_port = 0;
	__builtin_memset(fk->flow.remote_addr, 0, sizeof(fk->flow.remote_addr));
	owner = bpf_map_lookup_elem(&flow_owners, fk);
	if (owner)
		return owner;
	__builtin_memset(fk->flow.local_addr, 0, sizeof(fk->flow.local_addr));
	return bpf_map_lookup_elem(&flow_owners, fk);
}

/* Fills the flow (as its local side sees it), owner and direction of a dropped packet */
static __always_inline bool drop_owner(struct tcpr_event *e, const struct sk_buff *skb,
				       const struct sock *sk)
{
	struct net_device *dev = BPF_CORE_READ(skb, dev);
	struct tcpr_flow_key fk = {};
	struct tcpr_owner *owner;

	fk.netns = dev ? BPF_CORE_READ(dev, nd_net.net, ns.inum) : sk ? sock_netns(sk) : 0;
	fk.flow = e->flow;
	owner = bpf_map_lookup_elem(&flow_owners, &fk);
	if (!owner) {
		flow_reverse(&fk.flow);
		owner = bpf_map_lookup_elem(&flow_owners, &fk);
		if (owner || (sk && BPF_CORE_READ(sk, __sk_common.skc_num) != e->flow.local_port)) {
			e->incoming = 0;
			e->flow = fk.flow;
		}
	}
	if (sk)
		e->state = BPF_CORE_READ(sk, __sk_common.skc_state);
	if (!owner && sk) {
		__u64 key = (__u64)sk;

		owner = bpf_map_lookup_elem(&owners, &key);
		/* a socket with a file: userspace looks for its owner in /proc too */
		if (!owner)
			e->socket_inode = BPF_CORE_READ(sk, sk_socket, file, f_inode, i_ino);
	}
	/* no socket, or one not accepted or read from yet (early demux gave the packet to it) */
	if (!owner && e->incoming)
		owner = listener_of(&fk, &e->flow);
	if (owner) {
		e->pid = owner->pid;
		__builtin_memcpy(e->comm, owner->comm, sizeof(e->comm));
		return owner->passes;
	}
	if (tcpr_cfg.filtered && !e->socket_inode) {
		__sync_fetch_and_add(&unattributed_drops, 1);
		return false;
	}
	return true;
}

static __always_inline int drop(void *ctx, const struct sk_buff *skb, __u32 reason,
				const struct sock *rx_sk)
{
	const struct sock *sk = rx_sk ?: BPF_CORE_READ(skb, sk);
	struct tcpr_event ev, *e = &ev;
	struct tcpr_flow f = {};
	__u8 tcp_flags;
	__u32 seq;

	/* kernels before 6.1 trace consumed packets here too */
	if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_CONSUMED) &&
	    reason == bpf_core_enum_value(enum skb_drop_reason, SKB_CONSUMED))
		return 0;
	if (!packet_flow(skb, &f, &seq, &tcp_flags) || !family_wanted(f.family))
		return 0;
	event_init(e, TCPR_EVENT_DROP);
	e->flow = f;
	e->incoming = 1;
	if (!drop_owner(e, skb, sk))
		return 0;
	e->seq = seq;
	e->tcp_flags = tcp_flags;
	e->reason = reason;
	e->stack = stack_store(ctx, 0, 0, NULL);
	event_send(e);
	return 0;
}

SEC("raw_tp/kfree_skb")
int BPF_PROG(kfree_skb, const struct sk_buff *skb, void *location, int reason)
{
	return drop(ctx, skb, reason, tcpr_cfg.kfree_rx_sk ? (const void *)ctx[3] : NULL);
}

SEC("tracepoint/skb/kfree_skb")
int kfree_skb_classic(struct trace_event_raw_kfree_skb *ctx)
{
	const struct sock *rx_sk = NULL;

	if (bpf_core_field_exists(ctx->rx_sk))
		rx_sk = BPF_CORE_READ(ctx, rx_sk);
	return drop(ctx, ctx->skbaddr, ctx->reason, rx_sk);
}
