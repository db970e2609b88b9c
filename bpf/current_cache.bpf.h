/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Who the current task is and whether the filter passes it, without a helper call when the
 * CPU runs the same task as last time.
 *
 * Every helper call costs a return, and on CPUs with return-stack mitigations (AMD's SRSO
 * "safe RET") a return costs about 12 ns: more than the rest of a filtered-out syscall hook.
 * Syscall tracepoints give the task's pt_regs, which sit at the top of its kernel stack: the
 * address is constant for the life of the task and unique among live tasks.  So each CPU keeps
 * the pt_regs address it saw last with that task's IDs and filter verdict; a hit costs a
 * per-CPU array load (inlined) and two compares.
 *
 * The address can only come to mean another task when a new task is created (a freed stack is
 * reused), and a thread's ID changes only in exec (a non-leader exec takes the leader's ID).
 * Both bump a generation that makes every cached entry stale.  Filters on the command name or
 * the cgroup can change without either, so with those the cache is not used.
 *
 * The tool attaches current_cache_task_new and current_cache_exec next to its syscall hooks.
 * BPF programs on tracepoints run with preemption disabled, so a CPU's entry does not change
 * while a program reads it.
 */
#ifndef STALLKIT_CURRENT_CACHE_BPF_H
#define STALLKIT_CURRENT_CACHE_BPF_H

#include "filter.bpf.h"

struct current_id {
	__u64 regs;
	__u64 generation;
	__u32 tgid;
	__u32 tid;
	__u32 pass; /* the filter's verdict */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct current_id);
} current_cache SEC(".maps");

volatile __u64 current_generation;

SEC("raw_tp/task_newtask")
int BPF_PROG(current_cache_task_new)
{
	__sync_fetch_and_add(&current_generation, 1);
	return 0;
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(current_cache_exec)
{
	__sync_fetch_and_add(&current_generation, 1);
	return 0;
}

static __always_inline bool current_cache_usable(void)
{
	return !filter_cfg.comm_len && !filter_cfg.cgroup_id;
}

/*
 * The current task's IDs and filter verdict.  check_all: apply the whole filter on a miss (at
 * syscall entry); else only the ID filter (at exit, where a start time proves the rest).
 */
static __always_inline bool current_pass(void *regs, bool check_all, __u32 *tgid, __u32 *tid)
{
	__u64 generation = current_generation, pid_tgid;
	struct current_id *c = NULL;
	__u32 zero = 0;
	bool pass;

	if (current_cache_usable()) {
		c = bpf_map_lookup_elem(&current_cache, &zero);
		if (c && c->regs == (__u64)regs && c->generation == generation) {
			*tgid = c->tgid;
			*tid = c->tid;
			return c->pass;
		}
	}
	pid_tgid = bpf_get_current_pid_tgid();
	*tgid = pid_tgid >> 32;
	*tid = (__u32)pid_tgid;
	pass = check_all ? filter_current_pass() : filter_ids_pass(*tgid, *tid);
	if (c) {
		c->regs = (__u64)regs;
		c->generation = generation;
		c->tgid = *tgid;
		c->tid = *tid;
		c->pass = pass;
	}
	return pass;
}

#endif
