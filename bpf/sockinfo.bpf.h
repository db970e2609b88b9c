/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Reading struct sock_info from a file of the current task; works in raw_tp programs too
 * (probe reads only).  A dozen reads: for rare moments, not for every event. */
#ifndef STALLKIT_SOCKINFO_BPF_H
#define STALLKIT_SOCKINFO_BPF_H

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "sockinfo.h"

#define SOCKINFO_AF_INET  2
#define SOCKINFO_AF_INET6 10
#define SOCKINFO_S_IFMT	  00170000 /* macros, so not in vmlinux.h */
#define SOCKINFO_S_IFSOCK 0140000

/* The file behind a descriptor of the current task, or NULL */
static __always_inline struct file *current_file(int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds = BPF_CORE_READ(fdt, fd), *file = NULL;

	if (fd < 0 || (__u32)fd >= BPF_CORE_READ(fdt, max_fds) ||
	    bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]))
		return NULL;
	return file;
}

static __always_inline void sock_info_read(struct sock_info *info, struct sock *sk)
{
	__builtin_memset(info, 0, sizeof(*info));
	if (!sk)
		return;
	info->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	info->type = BPF_CORE_READ(sk, sk_type);
	info->protocol = BPF_CORE_READ(sk, sk_protocol);
	info->state = BPF_CORE_READ(sk, __sk_common.skc_state);
	info->local_port = BPF_CORE_READ(sk, __sk_common.skc_num);
	info->remote_port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	/* explicit sizes: BPF_CORE_READ_INTO would read sizeof(*dst), one byte of the array */
	if (info->family == SOCKINFO_AF_INET) {
		bpf_core_read(info->local_addr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(info->remote_addr, 4, &sk->__sk_common.skc_daddr);
	} else if (info->family == SOCKINFO_AF_INET6) {
		bpf_core_read(info->local_addr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(info->remote_addr, 16, &sk->__sk_common.skc_v6_daddr);
	}
}

/* A socket file's private data is its struct socket; other files give family 0 */
static __always_inline void sock_info_of_file(struct sock_info *info, struct file *file)
{
	struct socket *sock = NULL;

	if (file && (BPF_CORE_READ(file, f_inode, i_mode) & SOCKINFO_S_IFMT) == SOCKINFO_S_IFSOCK)
		sock = BPF_CORE_READ(file, private_data);
	sock_info_read(info, sock ? BPF_CORE_READ(sock, sk) : NULL);
}

#endif
