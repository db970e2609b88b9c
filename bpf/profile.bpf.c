// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * profile: samples of what threads run, from a CPU-clock perf event on every CPU, counted by
 * user and kernel stack in offcputime's rows (state OFFCPU_ON_CPU, each sample weighing one
 * period).  With --wall, offcputime's sched_switch program runs too (bpf/offcpu.bpf.h), so
 * that every moment of the traced threads is in one set of stacks: on a CPU, or off it and why.
 */
#include "offcpu.bpf.h"
#include "profile.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile struct profile_config profile_cfg = {};

/* How often the program ran on each CPU: a sample the clock was due for but the kernel did not
 * run the program for (another BPF program was running there) is a loss */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sample_runs SEC(".maps");

static __always_inline bool sampled_in_user_mode(const struct bpf_perf_event_data *ctx)
{
#if defined(__TARGET_ARCH_x86)
	/* the context allows reads of whole words only; cs shares one with padding */
	__u64 cs = *(const volatile __u64 *)&ctx->regs.cs;

	return (cs & 3) == 3;
#else
	return false;
#endif
}

SEC("perf_event")
int cpu_sample(struct bpf_perf_event_data *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct task_view t = {
		.task = task, .pid = task->pid, .tgid = task->tgid, .flags = task->flags,
	};
	struct offcpu_key key = {
		.tgid = t.tgid,
		.tid = offcpu_cfg.per_thread ? t.pid : 0,
		.state = OFFCPU_ON_CPU,
	};
	struct stack_frames *s;
	__u64 *runs;
	__u32 zero = 0, n;

	runs = bpf_map_lookup_elem(&sample_runs, &zero);
	if (runs)
		(*runs)++;
	if ((!t.pid && !profile_cfg.idle) || !threads_pass(t.flags) ||
	    !filter_ids_pass(t.tgid, t.pid) || !filter_current_traits_pass())
		return 0;
	/* the user registers of a thread in the kernel are where it entered: a system call or an
	 * interrupt; those of a thread sampled in user mode, where the sample's interrupt came */
	if (offcpu_cfg.user_stacks && !(t.flags & PF_KTHREAD) && task->mm) {
		s = unwind_user_scratch(t.tgid, (struct pt_regs *)bpf_task_pt_regs(task), &n);
		key.user_stack = s ? stack_keep(s, n, 0, NULL) : 0;
	}
	if (offcpu_cfg.kernel_stacks && !sampled_in_user_mode(ctx))
		key.kernel_stack = stack_store(ctx, 0, 0, NULL);
	add_block(&key, &t, profile_cfg.period_ns);
	return 0;
}

/* --wall: the off-CPU half */
SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	return offcpu_switch_btf(ctx, preempt, prev, next, prev_state);
}

/* --wall, once at the end: the blocks still open */
SEC("iter/task")
int open_blocks(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task; /* read once: checked, then used */

	if (task)
		offcpu_block_open_at_end(task);
	return 0;
}
