/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Off-CPU time by stack and by why (sleeping, uninterruptible, preempted), from sched_switch:
 * offcputime's machinery, which profile --wall shares.
 *
 * At a switch, prev leaves the CPU and next comes back to it.  prev's block begins: its start
 * time, state and stacks are noted in task storage.  Both stacks are read there, while prev is
 * the current task: its user stack cannot be read from another task, and a kernel stack taken
 * later from the sleeping task (bpf_get_task_stack) leaves out every __sched function
 * (schedule, io_schedule, the lock slow paths), which is often the answer.  next's block ends:
 * if it lasted between -m and -M, it is added to its stacks' total; an aggregation entry is
 * created only then.
 *
 * A wall-clock profile (offcpu_cfg.wall) accounts for every moment of the traced threads, so it
 * also counts the blocks the trace saw only one end of: a thread off-CPU when the trace began
 * (or created since) is added at its first switch-in, from the trace's start (or its creation),
 * and the blocks still open at the end are added by the tool's iterator
 * (offcpu_block_open_at_end()).
 *
 * Without typed task pointers (raw_tp), per-thread state is a hash by thread ID.
 */
#ifndef STALLKIT_OFFCPU_BPF_H
#define STALLKIT_OFFCPU_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kstack_memo.bpf.h"
#include "unwind.bpf.h"
#include "offcputime.h"
#include "filter.bpf.h"
#include "loss.bpf.h"

/* macros of the kernel's headers, so not in vmlinux.h */
#define TASK_UNINTERRUPTIBLE 0x0002
#define TASK_DEAD	     0x0080
#define TASK_NOLOAD	     0x0400
#define PF_KTHREAD	     0x00200000

const volatile struct offcpu_config offcpu_cfg = {};

/* Per thread, from its switch-out to its switch-in */
struct offcpu_start {
	__u64 ts;	    /* 0: not off-CPU as far as we know */
	__u64 runtime;	    /* its se.sum_exec_runtime then (task storage only) */
	__u64 arrivals;	    /* its sched_info.pcount then: how often it had been run */
	__u64 user_stack;   /* hashes into the stacks map, 0 if none */
	__u64 kernel_stack;
	__u32 state;	    /* enum offcpu_state */
	__u32 announced;    /* its process was announced to userspace (task storage only) */
	/* preemptions repeat on the way back to user mode, sleeps where the thread waits: each
	 * kind has its memo */
	struct kstack_memo memo[2];
};
volatile __u32 epoch; /* bumped by userspace per interval: see syslat.bpf.c */
__u64 inferred_ends;  /* blocks whose end the kernel's own accounting gave: see end_missed */
/* an entry of counts created and not announced in new_entries: userspace reads the map */
volatile __u32 entries_unannounced;
/* a wall-clock profile's trace: its start, set before the hooks are attached, and its end, set
 * after they are detached (CLOCK_MONOTONIC, as bpf_ktime_get_ns()) */
__u64 wall_start_ns;
__u64 wall_end_ns;

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct offcpu_start);
} starts SEC(".maps");

/* Hashes are preallocated: they are written in sched_switch, with interrupts off, where the
 * allocator of BPF_F_NO_PREALLOC maps cannot refill */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1); /* raw_tp only: set by userspace */
	__type(key, __u32);
	__type(value, struct offcpu_start);
} starts_by_tid SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct offcpu_key);
	__type(value, struct offcpu_value);
} counts SEC(".maps");

/* processes announced to userspace (announce_process) */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} new_processes SEC(".maps");

/* the keys of the entries created in counts, read by userspace once a second (no wakeup) to
 * resolve their stacks while the session runs, without reading the whole map */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} new_entries SEC(".maps");

/* The fields of a task the handler needs, read whichever way the flavour allows */
struct task_view {
	struct task_struct *task;
	__u32 pid;
	__u32 tgid;
	__u32 state;
	__u32 flags; /* of prev (and of the iterator's task) */
};

static __always_inline __u32 state_class(bool preempt, __u32 state)
{
	if (preempt || state == 0)
		return OFFCPU_R;
	if ((state & TASK_UNINTERRUPTIBLE) && !(state & TASK_NOLOAD))
		return OFFCPU_D;
	return OFFCPU_S; /* interruptible, and TASK_IDLE kernel threads */
}

static __always_inline bool threads_pass(__u32 flags)
{
	bool kthread = flags & PF_KTHREAD;

	if (offcpu_cfg.threads == OFFCPU_USER_THREADS)
		return !kthread;
	if (offcpu_cfg.threads == OFFCPU_KERNEL_THREADS)
		return kthread;
	return true;
}

static __always_inline struct offcpu_start *start_get(const struct task_view *t, bool create)
{
	struct offcpu_start *s;

	if (offcpu_cfg.typed_tasks)
		return bpf_task_storage_get(&starts, t->task, NULL,
					    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
	s = bpf_map_lookup_elem(&starts_by_tid, &t->pid);
	if (!s && create) {
		static const struct offcpu_start zero;

		/* only this thread inserts its own entry: no race to lose */
		bpf_map_update_elem(&starts_by_tid, &t->pid, &zero, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&starts_by_tid, &t->pid);
	}
	return s;
}

/*
 * The user stack of the current task t, by the unwinder's tables (bpf/unwind.bpf.h).  Without
 * typed task pointers (raw_tp, kernels before 5.5) the registers are out of reach: frame
 * pointers, as far as they go.
 */
static __always_inline __u64 user_stack(void *ctx, const struct task_view *t)
{
	struct stack_frames *s;
	__u32 n;

	if (!offcpu_cfg.typed_tasks)
		return stack_store(ctx, BPF_F_USER_STACK, 0, NULL);
	if (!t->task->mm)
		return 0; /* exiting: its user memory is gone */
	s = unwind_user_scratch(t->tgid, (struct pt_regs *)bpf_task_pt_regs(t->task), &n);
	return s ? stack_keep(s, n, 0, NULL) : 0;
}

/* Userspace notes the mappings of the processes announced, so that their stacks resolve even
 * if they exit before the report */
static __always_inline void announce_process(__u32 tgid)
{
	if (bpf_ringbuf_output(&new_processes, &tgid, sizeof(tgid), 0))
		loss_count(LOSS_RINGBUF_FULL);
}

static __always_inline void end_block(struct offcpu_start *s, const struct task_view *t,
				      __u64 delta);

/*
 * t runs, yet its last block never ended as far as this program knows: the switch that ended
 * it went by without the program (seen on 6.18, a few times a minute on a busy 2-CPU VM, with
 * no recursion miss counted).  The kernel counts a thread's arrivals on a CPU: if t arrived
 * exactly once since the block began, it has run ever since, and the CPU time it gained is
 * how long ago the block ended (to within the IRQ and steal time of that run).  Otherwise
 * the block is lost, and counted.
 */
static __always_inline void end_missed(struct offcpu_start *s, const struct task_view *t,
				       __u64 *now)
{
	struct task_struct *task = t->task;
	__u64 ran;

	if (offcpu_cfg.typed_tasks && bpf_core_field_exists(task->sched_info) &&
	    task->sched_info.pcount == s->arrivals + 1) {
		if (!*now)
			*now = bpf_ktime_get_ns();
		ran = task->se.sum_exec_runtime - s->runtime;
		if (*now - s->ts > ran) {
			__sync_fetch_and_add(&inferred_ends, 1);
			end_block(s, t, *now - s->ts - ran);
			return;
		}
	}
	s->ts = 0;
	loss_count(LOSS_SWITCH_MISSED);
}

/* Whether a wall-clock profile traces t: an ID filter only (--wall requires -p or -t), as t
 * need not be the current task */
static __always_inline bool wall_traces(const struct task_view *t)
{
	return offcpu_cfg.wall && t->pid && threads_pass(t->task->flags) &&
	       filter_ids_pass(t->tgid, t->pid);
}

/* Wall-clock profiles: the threads seen leaving or coming onto a CPU since the trace began.  A
 * preallocated hash, not task storage, which sched_switch may fail to create: a thread taken
 * for unseen twice would have the start of the trace counted twice */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1); /* --wall: set by userspace */
	__type(key, __u32);
	__type(value, __u8);
} wall_seen SEC(".maps");

/* Whether t is seen for the first time (and notes it); a thread that finds no room counts as
 * seen, its time before that as lost */
static __always_inline bool wall_first_sight(__u32 tid)
{
	__u8 one = 1;
	long err;

	if (bpf_map_lookup_elem(&wall_seen, &tid))
		return false;
	err = bpf_map_update_elem(&wall_seen, &tid, &one, BPF_NOEXIST);
	if (err && err != -EEXIST)
		loss_count(LOSS_WALL_THREADS_FULL);
	return !err;
}

/* prev leaves the CPU: its block begins (prev is the current task) */
static __always_inline void block_begins(void *ctx, bool preempt, const struct task_view *prev,
					 __u64 *now)
{
	struct task_struct *task = prev->task;
	struct offcpu_start *s;
	bool begins;
	__u32 state;

	if (!prev->pid || !threads_pass(prev->flags) || !filter_ids_pass(prev->tgid, prev->pid))
		return;
	if (offcpu_cfg.wall)
		wall_first_sight(prev->pid);
	state = state_class(preempt, prev->state);
	begins = prev->state != TASK_DEAD && (offcpu_cfg.states & state) &&
		 filter_current_traits_pass();
	s = start_get(prev, begins);
	if (s && s->ts)
		end_missed(s, prev, now);
	if (!begins)
		return;
	if (!s) {
		loss_count(LOSS_TASK_STORAGE);
		return;
	}
	/* with task storage, each thread announces its process at its first block: the
	 * process may be gone when the block ends */
	if (offcpu_cfg.typed_tasks && !s->announced) {
		s->announced = 1;
		announce_process(prev->tgid);
	}
	s->state = state;
	s->user_stack = offcpu_cfg.user_stacks && !(prev->flags & PF_KTHREAD) ?
				user_stack(ctx, prev) : 0;
	/* the kernel stack last: the memo builds on the walk left in stack_scratch */
	s->kernel_stack = offcpu_cfg.kernel_stacks ?
				  kstack_memoized(ctx, task, &s->memo[state == OFFCPU_R],
						  offcpu_cfg.kstack_memo) :
				  0;
	if (offcpu_cfg.typed_tasks && bpf_core_field_exists(task->sched_info)) {
		s->runtime = task->se.sum_exec_runtime;
		s->arrivals = task->sched_info.pcount;
	}
	if (!*now)
		*now = bpf_ktime_get_ns();
	s->ts = *now;
}

/*
 * CO-RE reads start from the task itself: through t->task they would also relocate
 * struct task_view, a type of ours the kernel does not have, and looking for it in module BTF
 * needs CAP_SYS_ADMIN (BPF_BTF_GET_NEXT_ID), which the tools do not keep.
 */
static __always_inline void note_comm(struct offcpu_value *v, const struct task_view *t)
{
	struct task_struct *task = t->task;

	if (offcpu_cfg.typed_tasks && offcpu_cfg.per_thread)
		__builtin_memcpy(v->comm, task->comm, sizeof(v->comm));
	else if (offcpu_cfg.typed_tasks)
		__builtin_memcpy(v->comm, task->group_leader->comm, sizeof(v->comm));
	else if (offcpu_cfg.per_thread)
		BPF_CORE_READ_STR_INTO(&v->comm, task, comm);
	else
		BPF_CORE_READ_STR_INTO(&v->comm, task, group_leader, comm);
}

static __always_inline void add_block(const struct offcpu_key *key, const struct task_view *t,
				      __u64 delta)
{
	struct offcpu_value *v = bpf_map_lookup_elem(&counts, key);
	__u32 now_epoch = epoch;

	if (!v) {
		struct offcpu_value init = { .max_epoch = now_epoch };

		long err;

		note_comm(&init, t);
		err = bpf_map_update_elem(&counts, key, &init, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&counts, key);
		if (!v || (err && err != -EEXIST)) {
			loss_count(LOSS_AGG_MAP_FULL);
			return;
		}
		if (!err && bpf_ringbuf_output(&new_entries, (void *)key, sizeof(*key),
					       BPF_RB_NO_WAKEUP))
			entries_unannounced = 1;
		if (!err && !offcpu_cfg.typed_tasks)
			announce_process(key->tgid);
	}
	__sync_fetch_and_add(&v->count, 1);
	__sync_fetch_and_add(&v->total_ns, delta);
	/* a racing maximum only loses to a larger value written at the same moment */
	if (v->max_epoch != now_epoch) {
		v->max_epoch = now_epoch;
		v->max_ns = delta;
	} else if (delta > v->max_ns) {
		v->max_ns = delta;
	}
}

/* A block of t's is over: it is added to its stacks' total if it lasted between -m and -M */
static __always_inline void end_block(struct offcpu_start *s, const struct task_view *t,
				      __u64 delta)
{
	struct offcpu_key key = {
		.tgid = t->tgid,
		.tid = offcpu_cfg.per_thread ? t->pid : 0,
		.user_stack = s->user_stack,
		.kernel_stack = s->kernel_stack,
		.state = s->state,
	};

	s->ts = 0;
	if (delta >= offcpu_cfg.min_ns && delta <= offcpu_cfg.max_ns)
		add_block(&key, t, delta);
}

/* The key of a block of t's whose switch-out the trace did not see: its kernel stack read from
 * the task (without the __sched functions), its user stack unknown; it began at the trace's
 * start, or at the thread's creation during the trace (*begin) */
static __always_inline struct offcpu_key unseen_block_key(const struct task_view *t,
							  __u32 state, __u64 *begin)
{
	struct offcpu_key key = {
		.tgid = t->tgid,
		.tid = offcpu_cfg.per_thread ? t->pid : 0,
		.state = state,
		.origin = OFFCPU_BEFORE_TRACE,
	};

	*begin = wall_start_ns;
	if (t->task->start_time > *begin) {
		*begin = t->task->start_time;
		key.origin = OFFCPU_NEW_THREAD;
	}
	if (offcpu_cfg.kernel_stacks)
		key.kernel_stack = stack_store_task(t->task, 0);
	return key;
}

/* The clock of the run queue next is coming from (the per-CPU runqueues are out of reach
 * without KALLSYMS_ALL); 0 if unknown */
static __always_inline __u64 run_queue_clock(struct task_struct *next)
{
	struct cfs_rq *cfs_rq = next->se.cfs_rq;

	if (!bpf_core_field_exists(cfs_rq->rq) || !cfs_rq)
		return 0;
	return cfs_rq->rq->clock;
}

/*
 * next comes onto a CPU unseen since the trace began (wall-clock profiles): it was off-CPU all
 * along.  Its state reads running now either way, but the scheduler noted when it became
 * runnable (sched_info.last_queued, by the run queue's clock): runnable for all of the block
 * means preempted (R); else it slept, and whether that counted towards the load says D or S.
 */
static __always_inline void unseen_block_ends(const struct task_view *next, __u64 *now)
{
	struct task_struct *task = next->task;
	__u64 queued = task->sched_info.last_queued, rq_clock = run_queue_clock(task), begin;
	struct offcpu_key key;
	__u32 state;

	announce_process(next->tgid);
	*now = bpf_ktime_get_ns();
	if (queued && rq_clock > queued && rq_clock - queued >= *now - wall_start_ns)
		state = OFFCPU_R;
	else
		state = BPF_CORE_READ_BITFIELD(task, sched_contributes_to_load) ? OFFCPU_D : OFFCPU_S;
	key = unseen_block_key(next, state, &begin);
	if (*now > begin)
		add_block(&key, next, *now - begin);
}

/* next comes back to the CPU: its block ends */
static __always_inline void block_ends(void *ctx, const struct task_view *next, __u64 *now)
{
	struct offcpu_start *s;

	if (!next->pid)
		return;
	s = start_get(next, false);
	if (offcpu_cfg.typed_tasks && wall_traces(next) && wall_first_sight(next->pid))
		unseen_block_ends(next, now);
	if (!s || !s->ts)
		return;
	*now = bpf_ktime_get_ns();
	end_block(s, next, *now - s->ts);
	if (!offcpu_cfg.typed_tasks)
		bpf_map_delete_elem(&starts_by_tid, &next->pid);
}

/*
 * The trace has ended (wall-clock profiles, from the tool's task iterator): task's block still
 * open is added up to the end; a traced thread that never left or came onto a CPU during the
 * trace either ran all along (its samples say so) or was off-CPU all along.
 */
static __always_inline void offcpu_block_open_at_end(struct task_struct *task)
{
	struct task_view t = {
		.task = task, .pid = task->pid, .tgid = task->tgid, .flags = task->flags,
	};
	struct offcpu_start *s;
	struct offcpu_key key;
	__u64 begin;

	if (!wall_traces(&t))
		return;
	if (bpf_map_lookup_elem(&wall_seen, &t.pid)) {
		s = bpf_task_storage_get(&starts, task, NULL, 0);
		if (s && s->ts && wall_end_ns > s->ts)
			end_block(s, &t, wall_end_ns - s->ts);
		return;
	}
	if (task->on_cpu)
		return;
	key = unseen_block_key(&t, state_class(false, task->__state), &begin);
	announce_process(t.tgid);
	if (wall_end_ns > begin)
		add_block(&key, &t, wall_end_ns - begin);
}

static __always_inline int on_switch(void *ctx, bool preempt, const struct task_view *prev,
				     const struct task_view *next)
{
	__u64 now = 0; /* read once, and only if a block begins or ends here */

	block_ends(ctx, next, &now);
	block_begins(ctx, preempt, prev, &now);
	return 0;
}

/* tp_btf: typed task pointers, read directly */
static __always_inline int offcpu_switch_btf(void *ctx, bool preempt, struct task_struct *prev,
					     struct task_struct *next, unsigned int prev_state)
{
	struct task_view p = {
		.task = prev, .pid = prev->pid, .tgid = prev->tgid, .state = prev_state,
		.flags = prev->flags,
	};
	struct task_view n = { .task = next, .pid = next->pid, .tgid = next->tgid };

	return on_switch(ctx, preempt, &p, &n);
}

/* raw_tp: the same through probe reads, and the state from the task (CO-RE: __state, or
 * state on kernels before 5.14) */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

static __always_inline __u32 task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ((struct task_struct___pre514 *)t, state);
}

static __always_inline int offcpu_switch_raw(void *ctx, bool preempt, struct task_struct *prev,
					     struct task_struct *next)
{
	struct task_view p = {
		.task = prev, .pid = BPF_CORE_READ(prev, pid), .tgid = BPF_CORE_READ(prev, tgid),
		.state = task_state(prev), .flags = BPF_CORE_READ(prev, flags),
	};
	struct task_view n = {
		.task = next, .pid = BPF_CORE_READ(next, pid), .tgid = BPF_CORE_READ(next, tgid),
	};

	return on_switch(ctx, preempt, &p, &n);
}

#endif
