/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* offcputime: what offcputime.bpf.c and offcputime.c share. */
#ifndef STALLKIT_OFFCPUTIME_H
#define STALLKIT_OFFCPUTIME_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
#include "filter.h" /* the skeleton's rodata holds a filter_config and a memo_config */
#include "kstack_memo.h"
#include "stacks.h"

#define OFFCPU_COMM_LEN 16

/* Why a thread was off-CPU (bits, for --state) */
enum offcpu_state {
	OFFCPU_S = 1, /* interruptible sleep (and idle kernel threads, TASK_IDLE) */
	OFFCPU_D = 2, /* uninterruptible: I/O, page faults, vfork, some locks */
	OFFCPU_R = 4, /* preempted while runnable: run-queue time, not blocking */
	OFFCPU_ON_CPU = 8, /* not a block: profile's samples of a running thread */
};

/* Where a block's stacks come from (a wall-clock profile sees blocks that began unseen) */
enum offcpu_origin {
	OFFCPU_SEEN,	     /* its switch-out: both stacks */
	OFFCPU_BEFORE_TRACE, /* off-CPU since before the trace: the kernel stack at its end */
	OFFCPU_NEW_THREAD,   /* a thread created during the trace, before its first run */
};

enum offcpu_threads {
	OFFCPU_ALL_THREADS,
	OFFCPU_USER_THREADS,   /* -u */
	OFFCPU_KERNEL_THREADS, /* -k */
};

struct offcpu_config {
	__u64 min_ns; /* -m */
	__u64 max_ns; /* -M */
	__u32 states; /* enum offcpu_state bits */
	__u32 threads; /* enum offcpu_threads */
	__u8 per_thread;
	__u8 user_stacks;   /* not -K */
	__u8 kernel_stacks; /* not -U */
	/* tp_btf: per-thread state in task storage; raw_tp (no typed task pointers): in a hash of
	 * threads */
	__u8 typed_tasks;
	__u8 kstack_memo; /* bpf/kstack_memo.bpf.h: tp_btf, bpf_loop() and bpf_task_pt_regs() */
	__u8 wall; /* profile --wall: every moment of the traced threads (typed tasks only) */
};

struct offcpu_key {
	__u32 tgid;
	__u32 tid; /* 0 unless --per-thread */
	__u64 user_stack;
	__u64 kernel_stack;
	__u32 state;  /* enum offcpu_state */
	__u32 origin; /* enum offcpu_origin */
};

struct offcpu_value {
	__u64 count;
	__u64 total_ns;
	__u64 max_ns;	 /* in the current epoch (see syslat for the scheme) */
	__u32 max_epoch;
	__u32 pad;
	char comm[OFFCPU_COMM_LEN]; /* noted when the entry began: the process may be gone */
};

#endif
