// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* offcputime: time threads spend off-CPU, by stack and why (bpf/offcpu.bpf.h). */
#include "offcpu.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch_btf, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	return offcpu_switch_btf(ctx, preempt, prev, next, prev_state);
}

SEC("raw_tp/sched_switch")
int BPF_PROG(sched_switch_raw, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return offcpu_switch_raw(ctx, preempt, prev, next);
}
