/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Every place where a stallkit BPF program can lose data has a counter; userspace prints them. */
#ifndef STALLKIT_LOSS_H
#define STALLKIT_LOSS_H

enum loss_kind {
	LOSS_RINGBUF_FULL,	/* event dropped: ring buffer full */
	LOSS_AGG_MAP_FULL,	/* aggregation map full: a row or bucket not counted */
	LOSS_SLOTS_FULL,	/* more distinct keys than preallocated slots */
	LOSS_TASK_STORAGE,	/* per-thread task storage could not be created */
	LOSS_THREAD_SLOT,	/* a thread ID beyond the per-thread array (pid_max grew) */
	LOSS_STACK_MAP_FULL,	/* stack map full or hash collision */
	LOSS_STACK_READ,	/* stack could not be read */
	LOSS_ARGS_READ,		/* syscall arguments could not be read from user memory */
	LOSS_STACK_MEMO_STALE,	/* a kernel stack reused from its memo, which a recheck found
				 * outdated (the blocks since the last recheck may be misfiled) */
	LOSS_CALL_STATE,	/* a resolver call not reported: its thread's state was evicted
				 * (more threads in calls at once than the map holds) */
	LOSS_SWITCH_MISSED,	/* a block not counted: the switch that ended it went by without
				 * the program, and the kernel's record could not tell when */
	LOSS_WALL_THREADS_FULL,	/* profile --wall: a thread's time before it was first seen not
				 * counted (more traced threads than its table holds) */
	LOSS_SAMPLES_MISSED,	/* samples the CPU clock was due for that the program did not
				 * take (counted by userspace: profile) */
	LOSS_KINDS,
};

#endif
