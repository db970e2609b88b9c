// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The floor of syscall tracing: an empty program pair on the hooks syslat uses (tp_btf
 * raw_syscalls sys_enter / sys_exit).  Attaching anything there moves every syscall onto the
 * kernel's slow path; what these programs cost is what any tracer on these hooks pays at least.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tp_btf/sys_enter")
int BPF_PROG(floor_enter, struct pt_regs *regs, long id)
{
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(floor_exit, struct pt_regs *regs, long ret)
{
	return 0;
}
