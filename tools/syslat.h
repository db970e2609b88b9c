/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* syslat: what syslat.bpf.c and syslat.c share. */
#ifndef STALLKIT_SYSLAT_H
#define STALLKIT_SYSLAT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
#include "filter.h" /* the skeleton's rodata holds a filter_config */
#include "histogram.h"
#include "stacks.h"
#include "unwind.h"
#include "sockinfo.h"

#define SYSLAT_MAX_NR	  512 /* syscall numbers are below this on every supported arch
			       * (a power of two: masks keep the verifier sure of bounds) */
#define SYSLAT_NO_FD	  (-1)
#define SYSLAT_POLLFDS	  4   /* descriptors of a poll set recorded for events */
#define SYSLAT_BIN_ERRNO  0x80000000U /* a bins key: errno count, not a histogram bucket */
#define SYSLAT_COMM_LEN	  16
#define SYSLAT_STACK_DEPTH 64	/* frames kept of each stack */

/* What a row is keyed by, besides the syscall (flags). */
enum syslat_key_by {
	SYSLAT_BY_PID = 1,
	SYSLAT_BY_TID = 2,
	SYSLAT_BY_FD = 4,
};

/* Where a syscall's descriptor is, for --per-fd and events. */
enum syslat_fd_arg {
	SYSLAT_FD_NONE,
	SYSLAT_FD_ARG0,	   /* the first argument is the descriptor */
	SYSLAT_FD_POLLFDS, /* the first argument is a struct pollfd array */
};

struct syslat_config {
	__u64 min_ns;	     /* --min: an event for every call at least this slow; 0: none */
	__u64 time_base_ns;  /* start times are kept relative to this (see SYSLAT_START_*) */
	__u32 key_by;	     /* enum syslat_key_by flags; 0: one row per syscall */
	__u32 nslots;	     /* rows of the per-syscall array */
	__s32 errno_only;    /* -e: only calls failing with this errno */
	__u8 failed_only;    /* -x: only failed calls */
	__u8 need_fd;	     /* find the descriptor at entry */
	__u8 need_args;	     /* keep the arguments at entry (events) */
	__u8 need_stacks;    /* events carry stacks (--stacks) */
	/* traced syscalls; never exit and exit_group, which do not return */
	__u64 selected[SYSLAT_MAX_NR / 64];
	__u8 fd_arg[SYSLAT_MAX_NR]; /* enum syslat_fd_arg */
};

/*
 * Per thread, the syscall it is in, in one word of an array indexed by thread ID (sized to
 * pid_max): the start time in ns since time_base_ns, shifted left, and the syscall number.
 * 0 when the thread is not inside a traced syscall.  An inlined array lookup instead of a
 * task storage helper call saves about 45 ns per syscall (see docs/overhead.md).
 */
#define SYSLAT_START_NR_BITS 10
#define SYSLAT_START_NR_MASK ((1U << SYSLAT_START_NR_BITS) - 1)

/* Per thread, for events only (task storage): the arguments of the call it is in. */
struct syslat_args {
	__u64 args[6];
	__s32 pollfds[SYSLAT_POLLFDS];
};

/* Per row and CPU. */
struct syslat_stats {
	__u64 count;
	__u64 total_ns;
	__u64 errors;
	__u64 max_ns;	 /* largest latency seen since max_epoch began */
	__u64 min_ns;	 /* smallest, likewise: percentiles are clamped to [min, max] */
	__u32 max_epoch;
	__u32 pad;
	/* keyed rows: noted on the CPU that created the row, so that a process or socket gone
	 * by the report can still be named */
	char comm[SYSLAT_COMM_LEN];
	struct sock_info sock;
};

/* One row per syscall (the default): stats and dense histogram, per CPU. */
struct syslat_slot {
	struct syslat_stats stats;
	__u32 buckets[HIST_BUCKETS]; /* wrap-around safe: userspace accumulates deltas */
};

/* The file a descriptor referred to when a call began (--per-fd): the same descriptor number
 * may name other files later in the trace, and a closed file can still be described. */
struct syslat_file {
	__u64 ino;
	__u32 mode; /* S_IFMT bits: pipe, socket, ... */
	__s32 fd;
};

struct syslat_key {
	__u32 pid;
	__u32 tid;
	__u32 nr;
	__u32 pad;
	struct syslat_file file; /* fd SYSLAT_NO_FD (and zeros) unless --per-fd */
};

/* Sparse counters of a row: a histogram bucket, or (SYSLAT_BIN_ERRNO | errno) */
struct syslat_bin_key {
	struct syslat_key row;
	__u32 bin;
	__u32 pad; /* named, so that initializers zero it: the key is hashed whole */
};

struct syslat_event {
	__u64 end_ns; /* CLOCK_MONOTONIC */
	__u64 latency_ns;
	__s64 ret;
	__u64 args[6];
	__s32 pollfds[SYSLAT_POLLFDS];
	struct syslat_file file; /* the file behind the descriptor when the call ended */
	struct sock_info sock;	 /* and the socket, if it is one */
	__u32 pid;
	__u32 tid;
	__u32 nr;
	__u32 pad;
	char comm[SYSLAT_COMM_LEN];
};

/* --stacks: a slow call's event with its stacks after it */
struct syslat_stack_event {
	struct syslat_event call;
	__u32 user_frames; /* 0 if the stack could not be read */
	__u32 kernel_frames;
	__u64 user_stack[STACK_MAX_DEPTH]; /* innermost first, perhaps ending with a mark */
	__u64 kernel_stack[SYSLAT_STACK_DEPTH];
	struct unwind_copy copy; /* only when the tables were not ready (unwind_wants_copy) */
};

#endif
