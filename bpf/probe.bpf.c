// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Tiny programs the loader loads and attaches, one at a time, to learn what this kernel really
 * allows (a name in a file proves nothing: a lockdown or a missing config turns up only when a
 * program is loaded or attached).  The hooks are quiet ones: a new task, an fsync.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tp_btf/task_newtask")
int BPF_PROG(probe_tp_btf)
{
	return 0;
}

SEC("raw_tp/task_newtask")
int BPF_PROG(probe_raw_tp)
{
	return 0;
}

SEC("tracepoint/task/task_newtask")
int probe_tracepoint(void *ctx)
{
	return 0;
}

SEC("fentry/vfs_fsync")
int BPF_PROG(probe_fentry)
{
	return 0;
}

SEC("kprobe/vfs_fsync")
int BPF_KPROBE(probe_kprobe)
{
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(probe_uprobe)
{
	return 0;
}

/* task storage from a raw tracepoint: what syslat keeps its per-thread state in */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} probe_task_storage SEC(".maps");

SEC("raw_tp/task_newtask")
int BPF_PROG(probe_task_storage_prog)
{
	bpf_task_storage_get(&probe_task_storage, bpf_get_current_task_btf(), NULL, 0);
	return 0;
}
