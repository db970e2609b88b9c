/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the running kernel's own type information (/sys/kernel/btf/vmlinux) says: the names of
 * an enum's values, and how many arguments a tracepoint passes.  Numbers that change between
 * kernels (drop reasons) are named from here, never from a table built into the tool.
 */
#ifndef STALLKIT_KERNEL_BTF_H
#define STALLKIT_KERNEL_BTF_H

#include <stdbool.h>
#include <stdint.h>

/* Whether the kernel's BTF could be loaded (libbpf also looks beyond /sys/kernel/btf) */
bool kernel_btf_available(void);

/* The name of value in enum enum_name (e.g. "skb_drop_reason"), or NULL if the kernel's BTF
 * has no such enum or value.  The BTF is loaded once. */
const char *kernel_enum_name(const char *enum_name, int64_t value);

/* The value of name in enum enum_name: 0, or -1 if the kernel has no such value */
int kernel_enum_value(const char *enum_name, const char *name, int64_t *value);

/* The number of arguments tracepoint name ("tcp_retransmit_skb") passes its programs on this
 * kernel, from the btf_trace_<name> type; -1 if it has none (with kernel BTF, the tracepoint
 * itself is missing) or there is no kernel BTF. */
int kernel_tracepoint_args(const char *name);

/* Frees the loaded BTF (for leak checkers). */
void kernel_btf_free(void);

#endif
