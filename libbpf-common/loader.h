/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The BPF loader: what this kernel allows (learned by loading and attaching tiny programs),
 * which flavour each tracepoint hook uses, loading and attaching, and one human sentence when
 * something fails.  libbpf's own log goes to stderr only with -v.
 */
#ifndef STALLKIT_LOADER_H
#define STALLKIT_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <bpf/libbpf.h>

enum feature {
	FEATURE_TP_BTF,
	FEATURE_RAW_TP,
	FEATURE_TRACEPOINT,
	FEATURE_FENTRY,
	FEATURE_KPROBE,
	FEATURE_UPROBE,
	FEATURE_RINGBUF,
	FEATURE_TASK_STORAGE,
	FEATURE_COUNT,
};

/* Checks privileges, routes libbpf's log; false (with a message printed) if BPF cannot work. */
bool loader_init(bool verbose);
bool loader_verbose(void);

const char *feature_name(enum feature f);
/* True if available; else prints "needs <feature> (<what for>): <why not>". */
bool feature_require(enum feature f, const char *what_for);
/* Probes once, by a real load and attach; the answer is cached. */
bool feature_available(enum feature f);
/* Why it is not available, in words (empty if it is). */
const char *feature_why_not(enum feature f);
/* Whether tracing programs may call this BPF helper here (libbpf's probe loads one). */
bool helper_available(enum bpf_func_id helper);

enum hook_flavour {
	HOOK_NONE,
	HOOK_TP_BTF,
	HOOK_RAW_TP,
	HOOK_TRACEPOINT,
};

const char *hook_flavour_name(enum hook_flavour flavour);

/*
 * A kernel tracepoint, handled by one BPF program written as SEC("raw_tp/<name>"): the loader
 * turns it into tp_btf when the kernel allows (typed arguments, same cost), keeps it raw_tp
 * otherwise, and uses the classic tracepoint program (a different context layout, so a second
 * small entry point into the same handler) only when neither works.  A handler that reads the
 * typed arguments directly (cheaper than probe reads) comes as its own SEC("tp_btf/<name>")
 * entry point, used instead of the upgrade.
 */
struct tp_hook {
	const char *category; /* "raw_syscalls" */
	const char *name;     /* "sys_enter" */
	struct bpf_program *raw;
	struct bpf_program *classic; /* may be NULL */
	struct bpf_program *btf;     /* may be NULL */
	enum hook_flavour flavour;   /* chosen by loader_prepare_hooks() */
	struct bpf_link *link;
};

/* Before load: choose each hook's flavour and set program types and autoload.  Prints a note
 * for every fallback; -1 (message printed) if a hook has no usable flavour. */
int loader_prepare_hooks(struct tp_hook *hooks, size_t n);
/* Load a skeleton's object (and map its global data); -1 with the failure explained in one
 * sentence. */
int loader_load(struct bpf_object_skeleton *skeleton);
int loader_attach_hooks(struct tp_hook *hooks, size_t n);
void loader_detach_hooks(struct tp_hook *hooks, size_t n);
/* Events the kernel did not run the hooks' programs for, because the same program was already
 * running on that CPU (an interrupt came in the middle of it): lost events */
uint64_t loader_recursion_misses(const struct tp_hook *hooks, size_t n);

/* Runs an iterator program (SEC("iter/...")) once, to its end: 0, or -1 with a message */
int loader_run_iter(struct bpf_program *prog);

/* The uprobe target of the feature probe; also lets tests call it. */
void loader_uprobe_target(void);

#endif
