/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tcpretrans: what the BPF programs and the tool share.  One kind of event per TCP
 * retransmission (tcp:tcp_retransmit_skb, tcp:tcp_retransmit_synack) and, with --drops, one
 * per TCP packet that the kernel dropped (skb:kfree_skb).  Each names the socket's owner: the
 * process that last sent or received on it, connected or listened, as noted by the programs
 * on sock:sock_send_length, sock:sock_recv_length and sock:inet_sock_set_state.
 */
#ifndef STALLKIT_TCPRETRANS_H
#define STALLKIT_TCPRETRANS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define TCPR_COMM_LEN 16

/* What a retransmission was; the first that applies */
enum tcpr_kind {
	TCPR_KIND_SYN,	  /* a SYN of a connect() */
	TCPR_KIND_SYNACK, /* a SYN-ACK of a connection being accepted */
	TCPR_KIND_TLP,	  /* a tail-loss probe: the probe timer expired */
	TCPR_KIND_RTO,	  /* in loss recovery: the retransmission timer expired */
	TCPR_KIND_FAST,	  /* in fast recovery: duplicate ACKs, SACK or RACK said lost */
	TCPR_KINDS,
};

enum tcpr_event_type {
	TCPR_EVENT_RETRANSMIT,
	TCPR_EVENT_DROP,
};

/* Both ends of a connection as its local side sees them; addresses in network order (IPv4:
 * their first 4 bytes), ports in host order */
struct tcpr_flow {
	__u16 family;
	__u16 local_port;
	__u16 remote_port;
	__u16 pad;
	__u8 local_addr[16];
	__u8 remote_addr[16];
};

/* Who holds a socket, as last seen in process context */
struct tcpr_owner {
	__u32 pid;
	__u8 passes;	 /* the process passes the tool's -p/--cgroup/--comm filter */
	__u8 flow_noted; /* its connection is in the flow_owners map too */
	__u16 pad;
	char comm[TCPR_COMM_LEN];
};

/* The connection of a dropped packet, for finding its owner: the netns tells apart equal
 * address pairs of different containers */
struct tcpr_flow_key {
	__u32 netns;
	__u32 pad;
	struct tcpr_flow flow;
};

struct tcpr_event {
	__u64 ts;
	__u32 type; /* enum tcpr_event_type */
	__u32 pid;  /* the owner; 0: not seen by BPF (see socket_inode) */
	char comm[TCPR_COMM_LEN];
	__u64 socket_inode; /* owner not seen by BPF: the inode, for /proc (0: none) */
	struct tcpr_flow flow;
	__u8 state;	/* TCP state of the socket; 0: no socket known (drops) */
	__u8 kind;	/* retransmit: enum tcpr_kind */
	__u8 incoming;	/* drop: a packet from the remote side */
	__u8 tcp_flags; /* drop: of the packet */
	__u32 seq;
	__u32 segs; /* retransmit: segments in the packet (GSO) */
	__s32 err;  /* retransmit: 0, or why it could not be sent */
	/* retransmit: the socket's state after it */
	__u32 srtt_us;
	__u32 rto_us;
	__u32 cwnd;
	__u32 total_retrans; /* segments retransmitted on this socket so far */
	/* drop */
	__u32 reason; /* enum skb_drop_reason, as this kernel numbers it */
	__u64 stack;  /* kernel stack: its key in the stacks map, 0 if none */
};

struct tcpr_config {
	__u16 family;	     /* AF_INET or AF_INET6 only (-4, -6); 0: both */
	__u8 filtered;	     /* -p, --cgroup or --comm given */
	__u8 retransmit_err; /* tcp_retransmit_skb passes its error (Linux 6.12+) */
	__u8 kfree_rx_sk;    /* kfree_skb passes the receiving socket (Linux 6.12+) */
	__u8 pad[3];
	__u32 hz; /* the kernel's CONFIG_HZ, for the RTO; 0: unknown */
};

#endif
