// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * syslat: per-syscall latency.  sys_enter notes the start time of the calling thread; sys_exit
 * turns it into a latency and adds it to the row of the syscall (or of the syscall and process,
 * thread or descriptor).  Everything is aggregated here; only calls slower than --min become
 * events.
 *
 * Cost matters: every syscall of the machine runs these programs.  The filters run first, the
 * start time lives in an array indexed by thread ID (an inlined lookup; no helper call, no hash
 * insert and delete, nothing that grows), and the default row is a per-CPU array slot (no hash
 * lookup, no atomics).  What only some runs need (descriptors, arguments, keyed rows) is behind
 * rodata switches that the verifier removes when they are off.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "syslat.h"
#include "current_cache.bpf.h"
#include "unwind.bpf.h"
#include "loss.bpf.h"
#include "sockinfo.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* libbpf 1.1 has no PT_REGS_PARM6_CORE_SYSCALL */
#if defined(__TARGET_ARCH_x86)
#define SYSCALL_ARG6(regs) BPF_CORE_READ(regs, r9)
#elif defined(__TARGET_ARCH_arm64)
#define SYSCALL_ARG6(regs) BPF_CORE_READ(regs, regs[5])
#endif

const volatile struct syslat_config syslat_cfg = {};

/* Rows of the default per-syscall report: slot_of[nr] is 1 + the index into slots, 0: none yet.
 * Userspace pre-assigns slots for named syscalls; others get one the first time they are seen. */
__u32 slot_of[SYSLAT_MAX_NR];
__u32 slots_used;
/* Bumped by userspace at each interval: a CPU's max_ns counts only if its max_epoch is current. */
volatile __u32 epoch;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* pid_max, set by userspace */
	__type(key, __u32);
	__type(value, __u64); /* SYSLAT_START_* packing */
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* pid_max with --per-fd */
	__type(key, __u32);
	__type(value, struct syslat_file);
} start_files SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct syslat_args);
} start_args SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1); /* set to syslat_cfg.nslots by userspace */
	__type(key, __u32);
	__type(value, struct syslat_slot);
} slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, struct syslat_key);
	__type(value, struct syslat_stats);
} rows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 262144);
	__type(key, struct syslat_bin_key);
	__type(value, __u64);
} bins SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

static __always_inline bool syscall_selected(__u32 nr)
{
	return syslat_cfg.selected[(nr / 64) % (SYSLAT_MAX_NR / 64)] & (1ULL << (nr % 64));
}

/* The descriptors of a poll set: struct pollfd is { int fd; short events, revents; } */
static __always_inline void read_pollfds(__s32 *out, __u64 ufds, __u64 nfds)
{
	__u64 pfd[SYSLAT_POLLFDS] = {};

	if (nfds > SYSLAT_POLLFDS)
		nfds = SYSLAT_POLLFDS;
	if (nfds && bpf_probe_read_user(pfd, nfds * sizeof(pfd[0]), (void *)ufds))
		loss_count(LOSS_ARGS_READ);
	for (__u32 i = 0; i < SYSLAT_POLLFDS; i++)
		out[i] = i < nfds ? (__s32)pfd[i] : SYSLAT_NO_FD;
}

/* The inode behind a descriptor of the current task */
static __always_inline void read_file(struct syslat_file *f, __s32 fd)
{
	struct file *file = current_file(fd);
	struct inode *inode;

	f->fd = fd;
	f->ino = 0;
	f->mode = 0;
	if (!file)
		return;
	inode = BPF_CORE_READ(file, f_inode);
	f->ino = BPF_CORE_READ(inode, i_ino);
	f->mode = BPF_CORE_READ(inode, i_mode) & SOCKINFO_S_IFMT;
}

/* The descriptor a call waits on: its first argument, or the first of its poll set */
static __always_inline __s32 call_fd(__u8 fd_arg, __u64 arg0, const __s32 *pollfds)
{
	if (fd_arg == SYSLAT_FD_ARG0)
		return (__s32)arg0;
	if (fd_arg == SYSLAT_FD_POLLFDS)
		return pollfds[0];
	return SYSLAT_NO_FD;
}

static __always_inline void note_file(struct pt_regs *regs, __u32 nr, __u32 tid)
{
	__u8 fd_arg = syslat_cfg.fd_arg[nr];
	__s32 pollfds[SYSLAT_POLLFDS] = { SYSLAT_NO_FD };
	struct syslat_file *f;
	__u64 arg0 = 0;

	f = bpf_map_lookup_elem(&start_files, &tid);
	if (!f)
		return;
	if (fd_arg != SYSLAT_FD_NONE)
		arg0 = PT_REGS_PARM1_CORE_SYSCALL(regs);
	if (fd_arg == SYSLAT_FD_POLLFDS)
		read_pollfds(pollfds, arg0, PT_REGS_PARM2_CORE_SYSCALL(regs));
	read_file(f, call_fd(fd_arg, arg0, pollfds));
}

static __always_inline void note_args(struct pt_regs *regs, __u32 nr)
{
	struct syslat_args *a;

	a = bpf_task_storage_get(&start_args, bpf_get_current_task_btf(), NULL,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!a) {
		loss_count(LOSS_TASK_STORAGE);
		return;
	}
	a->args[0] = PT_REGS_PARM1_CORE_SYSCALL(regs);
	a->args[1] = PT_REGS_PARM2_CORE_SYSCALL(regs);
	a->args[2] = PT_REGS_PARM3_CORE_SYSCALL(regs);
	a->args[3] = PT_REGS_PARM4_CORE_SYSCALL(regs);
	a->args[4] = PT_REGS_PARM5_CORE_SYSCALL(regs);
	a->args[5] = SYSCALL_ARG6(regs);
	if (syslat_cfg.fd_arg[nr] == SYSLAT_FD_POLLFDS)
		read_pollfds(a->pollfds, a->args[0], a->args[1]);
	else
		__builtin_memset(a->pollfds, 0xff, sizeof(a->pollfds));
}

SEC("raw_tp/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long id)
{
	__u32 nr = id, tgid, tid;
	__u64 *start;

	if (nr >= SYSLAT_MAX_NR || !syscall_selected(nr) || !current_pass(regs, true, &tgid, &tid))
		return 0;
	start = bpf_map_lookup_elem(&starts, &tid);
	if (!start) {
		loss_count(LOSS_THREAD_SLOT);
		return 0;
	}
	if (syslat_cfg.need_fd)
		note_file(regs, nr, tid);
	if (syslat_cfg.need_args)
		note_args(regs, nr);
	if (syslat_cfg.need_stacks)
		unwind_prepare(tgid);
	*start = (bpf_ktime_get_ns() - syslat_cfg.time_base_ns) << SYSLAT_START_NR_BITS | nr;
	return 0;
}

static __always_inline void stats_add(struct syslat_stats *st, __u64 latency, long ret)
{
	__u32 now_epoch = epoch;

	st->count++;
	st->total_ns += latency;
	if (ret < 0)
		st->errors++;
	if (st->max_epoch != now_epoch) {
		st->max_epoch = now_epoch;
		st->max_ns = latency;
		st->min_ns = latency;
	} else if (latency > st->max_ns) {
		st->max_ns = latency;
	} else if (latency < st->min_ns) {
		st->min_ns = latency;
	}
}

static __always_inline void bin_add(struct syslat_key *row, __u32 bin)
{
	struct syslat_bin_key key = { .row = *row, .bin = bin };
	__u64 one = 1, *count;

	count = bpf_map_lookup_elem(&bins, &key);
	if (!count) {
		long err = bpf_map_update_elem(&bins, &key, &one, BPF_NOEXIST);

		if (!err)
			return;
		/* -EEXIST: another CPU inserted it meanwhile; add to it */
		count = err == -EEXIST ? bpf_map_lookup_elem(&bins, &key) : NULL;
		if (!count) {
			loss_count(LOSS_AGG_MAP_FULL);
			return;
		}
	}
	(*count)++;
}

static __always_inline __u32 slot_assign(__u32 nr)
{
	__u32 slot, old;

	if (slots_used >= syslat_cfg.nslots) {
		loss_count(LOSS_SLOTS_FULL);
		return 0;
	}
	slot = __sync_fetch_and_add(&slots_used, 1) + 1;
	if (slot > syslat_cfg.nslots) {
		loss_count(LOSS_SLOTS_FULL);
		return 0;
	}
	old = __sync_val_compare_and_swap(&slot_of[nr], 0, slot);
	return old ? old : slot;
}

static __always_inline void record_by_syscall(__u32 nr, __u64 latency, long ret)
{
	struct syslat_slot *row;
	__u32 slot, index, bucket;

	nr &= SYSLAT_MAX_NR - 1; /* for the verifier: nr is below SYSLAT_MAX_NR already */
	slot = slot_of[nr];
	if (!slot) {
		slot = slot_assign(nr);
		if (!slot)
			return;
	}
	index = slot - 1;
	row = bpf_map_lookup_elem(&slots, &index);
	if (!row)
		return;
	stats_add(&row->stats, latency, ret);
	bucket = hist_bucket(latency);
	if (bucket < HIST_BUCKETS)
		row->buckets[bucket]++;
}

static __always_inline void record_by_key(struct syslat_key *key, __u64 latency, long ret)
{
	struct syslat_stats *st;

	st = bpf_map_lookup_elem(&rows, key);
	if (!st) {
		struct syslat_stats init = {};

		/* a new row: what the report needs to name it, while it can be known */
		if (key->tid) {
			bpf_get_current_comm(init.comm, sizeof(init.comm));
		} else {
			struct task_struct *task = (void *)bpf_get_current_task();

			BPF_CORE_READ_STR_INTO(&init.comm, task, group_leader, comm);
		}
		if (key->file.mode == SOCKINFO_S_IFSOCK)
			sock_info_of_file(&init.sock, current_file(key->file.fd));
		bpf_map_update_elem(&rows, key, &init, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&rows, key);
		if (!st) {
			loss_count(LOSS_AGG_MAP_FULL);
			return;
		}
	}
	stats_add(st, latency, ret);
	bin_add(key, hist_bucket(latency));
}

/* Where the call came from: both stacks (the user stack by the unwinder, already in user;
 * with a copy of the stack top when the process's tables were not ready) */
static __always_inline void note_stacks(void *ctx, struct pt_regs *regs,
					const struct stack_frames *user, __u32 n, bool copy,
					struct syslat_stack_event *se)
{
	long k;

	se->user_frames = user ? n : 0;
	if (user)
		__builtin_memcpy(se->user_stack, user->ips, sizeof(se->user_stack));
	if (copy)
		unwind_copy_take(&se->copy, regs);
	k = bpf_get_stack(ctx, se->kernel_stack, sizeof(se->kernel_stack), 0);
	se->kernel_frames = k > 0 ? k / sizeof(__u64) : 0;
	if (!se->user_frames || !se->kernel_frames)
		loss_count(LOSS_STACK_READ);
}

static __always_inline void emit_event(void *ctx, struct pt_regs *regs, __u32 nr, __u64 now,
				       __u64 latency, long ret, __u32 tgid, __u32 tid)
{
	__u8 fd_arg = syslat_cfg.fd_arg[nr & (SYSLAT_MAX_NR - 1)];
	const __u32 stack_size = offsetof(struct syslat_stack_event, copy);
	struct stack_frames *user = NULL;
	struct syslat_event *e;
	struct syslat_args *a;
	bool copy = false;
	__u32 n = 0;

	if (syslat_cfg.need_stacks) {
		user = unwind_user_scratch(tgid, regs, &n);
		copy = user && unwind_wants_copy(user, n);
	}
	/* each call site one constant size, as the verifier wants (rodata decides the second) */
	if (copy)
		e = bpf_ringbuf_reserve(&events, sizeof(struct syslat_stack_event), 0);
	else
		e = bpf_ringbuf_reserve(&events, syslat_cfg.need_stacks ? stack_size : sizeof(*e),
					0);
	if (!e) {
		loss_count(LOSS_RINGBUF_FULL);
		return;
	}
	if (syslat_cfg.need_stacks)
		note_stacks(ctx, regs, user, n, copy, (struct syslat_stack_event *)e);
	a = bpf_task_storage_get(&start_args, bpf_get_current_task_btf(), NULL, 0);
	if (a) {
		__builtin_memcpy(e->args, a->args, sizeof(e->args));
		__builtin_memcpy(e->pollfds, a->pollfds, sizeof(e->pollfds));
		/* after the call: a reused descriptor is caught by userspace comparing inodes */
		read_file(&e->file, call_fd(fd_arg, a->args[0], a->pollfds));
		sock_info_of_file(&e->sock, current_file(e->file.fd));
	} else {
		__builtin_memset(e->args, 0, sizeof(e->args));
		__builtin_memset(e->pollfds, 0xff, sizeof(e->pollfds));
		read_file(&e->file, SYSLAT_NO_FD);
		sock_info_read(&e->sock, NULL);
	}
	e->end_ns = now;
	e->latency_ns = latency;
	e->ret = ret;
	e->pid = tgid;
	e->tid = tid;
	e->nr = nr;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
}

SEC("raw_tp/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	__u64 *start, packed, now, latency;
	__u32 tgid, tid, nr;

	/* Only the ID filter again: it rejects other processes before any lookup; the rest of
	 * the filter was applied at entry, which is why there is a start time at all. */
	if (!current_pass(regs, false, &tgid, &tid))
		return 0;
	start = bpf_map_lookup_elem(&starts, &tid);
	if (!start || !*start)
		return 0;
	packed = *start;
	*start = 0;
	now = bpf_ktime_get_ns();
	latency = now - syslat_cfg.time_base_ns - (packed >> SYSLAT_START_NR_BITS);
	nr = packed & SYSLAT_START_NR_MASK;
	if (nr >= SYSLAT_MAX_NR)
		return 0;
	if (syslat_cfg.failed_only && ret >= 0)
		return 0;
	if (syslat_cfg.errno_only && ret != -syslat_cfg.errno_only)
		return 0;

	if (syslat_cfg.key_by) {
		struct syslat_key key = {
			.pid = syslat_cfg.key_by & (SYSLAT_BY_PID | SYSLAT_BY_FD) ? tgid : 0,
			.tid = syslat_cfg.key_by & SYSLAT_BY_TID ? tid : 0,
			.nr = nr,
			.file.fd = SYSLAT_NO_FD,
		};

		if (syslat_cfg.need_fd) {
			struct syslat_file *f = bpf_map_lookup_elem(&start_files, &tid);

			if (f)
				key.file = *f;
		}
		record_by_key(&key, latency, ret);
		if (ret < 0)
			bin_add(&key, SYSLAT_BIN_ERRNO | (__u32)-ret);
	} else {
		record_by_syscall(nr, latency, ret);
		if (ret < 0) {
			struct syslat_key key = { .nr = nr, .file.fd = SYSLAT_NO_FD };

			bin_add(&key, SYSLAT_BIN_ERRNO | (__u32)-ret);
		}
	}
	if (syslat_cfg.min_ns && latency >= syslat_cfg.min_ns)
		emit_event(ctx, regs, nr, now, latency, ret, tgid, tid);
	return 0;
}
