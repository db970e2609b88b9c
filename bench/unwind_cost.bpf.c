// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The cost of one user stack at sched_switch, by each way of taking it: the loader
 * (bench/unwind_cost.c) loads one of these programs, for the blocks of one thread alone.
 *
 *   cost_none    the hook and the filter: the floor under both walks
 *   cost_fp      bpf_get_stackid(BPF_F_USER_STACK): the kernel's frame-pointer walk, stored
 *                in a stack map (what libbpf-tools' offcputime does)
 *   cost_unwind  stallkit's unwinder by call frame information (unwind_user), stored with
 *                stack_keep() (what offcputime does)
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "stacks.bpf.h"
#include "unwind.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile pid_t target_tid;

/* 127 frames: at most kernel.perf_event_max_stack, which defaults to 127 */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 1024);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, (STACK_MAX_DEPTH - 1) * sizeof(__u64));
} fp_stacks SEC(".maps");

/* [0]: stacks taken, [1]: stacks that failed */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

/* The ring buffer that userspace polls, which carries the unwinder's requests too */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

static __always_inline void count(bool ok)
{
	__u32 key = !ok;
	__u64 *c = bpf_map_lookup_elem(&counts, &key);

	if (c)
		(*c)++;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(cost_none, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	if (prev->pid != target_tid)
		return 0;
	count(true);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(cost_fp, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	if (prev->pid != target_tid)
		return 0;
	count(bpf_get_stackid(ctx, &fp_stacks, BPF_F_USER_STACK) >= 0);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(cost_unwind, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct stack_frames *s;
	__u32 n = 0;

	if (prev->pid != target_tid)
		return 0;
	s = unwind_user_scratch(prev->tgid, (struct pt_regs *)bpf_task_pt_regs(prev), &n);
	count(s && stack_keep(s, n, 0, NULL));
	return 0;
}
