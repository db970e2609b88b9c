/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The kernel stack of a task that blocks where it blocked before, without walking it again.
 *
 * A kernel stack walk (ORC) costs microseconds; the words it reads are return addresses in the
 * task's kernel stack, and the same walk reads the same words in the same places.  So a memo
 * notes, for a stack a task repeats, where each of its return addresses lies and what it is; at
 * the next switch-out one read of the stack and a compare of those words tell whether the stack
 * is the same: a few hundred nanoseconds.
 *
 * "The same places" needs an anchor.  Each syscall shifts the stack below its entry function
 * (do_syscall_64 and the 32-bit ones) by a random amount, up to 1 KiB
 * (CONFIG_RANDOMIZE_KSTACK_OFFSET): the frames up to the return address into the entry function
 * move together, the frames above stay.  The program's context is on the moving part: a
 * tracepoint passes its arguments in an array on the stack of the task that hit it.  So the
 * moving words are placed relative to the context, the others relative to the top of the stack.
 *
 * The stack also holds stale copies of return addresses, left by earlier calls, which a search
 * for a word can find instead of the word.  So the places are searched (innermost first) in two
 * samples of the same stack taken at different shifts, and kept only when both give the same
 * places: a stale copy left by another syscall does not move with this one's shift.
 *
 * A memo is built only for a stack that repeats (each thread keeps one for its sleeps and one
 * for its preemptions), so stacks that never repeat cost no search.  Every MEMO_RECHECK-th
 * reuse is walked too and compared; a mismatch is counted (LOSS_STACK_MEMO_STALE) and drops
 * the memo.  Needs typed task pointers (bpf_task_pt_regs) and bpf_loop() (Linux 5.17: the
 * search changes state at data-dependent steps, which the verifier checks as a callback).
 */
#ifndef STALLKIT_KSTACK_MEMO_BPF_H
#define STALLKIT_KSTACK_MEMO_BPF_H

#include "kstack_memo.h"
#include "stacks.bpf.h"

#define MEMO_FRAMES    32   /* words noted at most: deeper stacks are walked (a power of two) */
#define MEMO_SPAN      4096 /* bytes from the base to the top at most: deeper stacks are walked */
#define MEMO_WORDS     (MEMO_SPAN / 8)
#define MEMO_BELOW_CTX 256  /* the base: the tracer's frames just below the context are noted too */
#define MEMO_RECHECK   64

const volatile struct memo_config memo_cfg = {};

struct kstack_memo {
	__u64 hash;	 /* the stack the noted words stand for; 0: no memo */
	__u64 last_walk; /* the last walk's stack: a repeat samples it */
	__u64 sample;	 /* the stack of the first sample, awaiting a second */
	__u32 reuses;
	__u16 span;	 /* bytes from the base to the top, when the memo was built */
	__u16 sample_span;
	__u16 nslots;	 /* words noted: the walk's frames but the first (in the BPF program) */
	__u16 nmoving;	 /* the first nmoving words move with the syscall's shift */
	/* where each word is: bytes above the base if it moves, else bytes below the top */
	__u16 pos[MEMO_FRAMES];
	__u16 sample_pos[MEMO_FRAMES];
	__u64 ip[MEMO_FRAMES];
};

/*
 * Per CPU: the stack read from the base to the top, and a search's state.  The search's
 * counters live here, not on the BPF stack: values read from a map are unknown to the
 * verifier, which then checks the code after a loop once, not once per count it could end with.
 */
struct memo_region {
	__u64 words[MEMO_WORDS];
	__u16 found[MEMO_FRAMES]; /* where the search found each word, bytes above the base */
	__u32 next;		  /* the frame the search looks for next, innermost first */
	__u32 frames;		  /* the walk's frames */
	__u32 moving;		  /* of which move with the syscall's shift */
	__u32 mismatch;		  /* a second sample disagrees with the first */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct memo_region);
} memo_scratch SEC(".maps");

/* Reads the stack from below the context to the top of the kernel stack (its user registers
 * are saved right below the top).  Returns the bytes read, 0 if the stack is too deep. */
static __always_inline __u32 memo_read(struct memo_region *r, void *ctx, struct task_struct *task)
{
	__u64 top = bpf_task_pt_regs(task) + bpf_core_type_size(struct pt_regs);
	__u64 base = (__u64)ctx - MEMO_BELOW_CTX;
	__u32 span;

	if (top <= base || top - base > MEMO_SPAN)
		return 0;
	span = top - base;
	asm volatile("" : "+r"(span)); /* one register from the check to the read, for the verifier */
	if (span > MEMO_SPAN || bpf_probe_read_kernel(r->words, span, (void *)base))
		return 0;
	return span;
}

/* The index in r->words of noted word k, for a stack read of span bytes */
static __always_inline __u32 memo_index(const struct kstack_memo *m, __u32 k, __u32 span)
{
	__u32 pos = m->pos[k & (MEMO_FRAMES - 1)];

	if (k < m->nmoving)
		return pos / 8;
	return pos <= span ? (span - pos) / 8 : MEMO_WORDS;
}

__noinline int memo_matches(const struct kstack_memo *m, const struct memo_region *r, __u32 span)
{
	/* a stack that does not move must be where it was */
	if (!m || !r || (!m->nmoving && span != m->span))
		return false;
	for (__u32 k = 0; k < MEMO_FRAMES; k++) {
		__u32 i;

		if (k >= m->nslots)
			break;
		i = memo_index(m, k, span);
		if (i * 8 >= span || i >= MEMO_WORDS || r->words[i] != m->ip[k])
			return false;
	}
	return true;
}

static __always_inline bool in_syscall_entry(__u64 ip)
{
	for (__u32 i = 0; i < MEMO_ENTRIES; i++)
		if (ip >= memo_cfg.entry_start[i] && ip < memo_cfg.entry_end[i])
			return true;
	return false;
}

struct memo_search {
	struct memo_region *r;
	const struct stack_frames *walked;
	const struct kstack_memo *m;
	__u32 words; /* read */
	__u32 span;
};

/* bpf_loop() callback: frame i of the walk */
static int memo_count_frame(__u32 i, void *arg)
{
	struct memo_search *s = arg;

	if (i >= STACK_MAX_DEPTH || !s->walked->ips[i])
		return 1;
	s->r->frames = i + 1;
	/* the words up to the return address into the syscall entry move */
	if (i && i <= MEMO_FRAMES && in_syscall_entry(s->walked->ips[i]))
		s->r->moving = i;
	return 0;
}

/* bpf_loop() callback: word i, from the base up */
static int memo_search_word(__u32 i, void *arg)
{
	struct memo_search *s = arg;
	__u32 k = s->r->next;

	if (k >= s->r->frames || k >= STACK_MAX_DEPTH || i >= s->words || i >= MEMO_WORDS)
		return 1;
	if (s->r->words[i] == s->walked->ips[k]) {
		s->r->found[(k - 1) & (MEMO_FRAMES - 1)] = i * 8;
		s->r->next = k + 1;
	}
	return 0;
}

/* bpf_loop() callback: noted word k's place as noted (a moving word from the base, the others
 * from the top), and whether it agrees with the first sample's */
static int memo_place_word(__u32 k, void *arg)
{
	struct memo_search *s = arg;
	struct memo_region *r = s->r;
	__u16 pos;

	if (k >= MEMO_FRAMES)
		return 1;
	pos = k < r->moving ? r->found[k] : s->span - r->found[k];
	if (k + 1 < r->frames && pos != s->m->sample_pos[k])
		r->mismatch = 1;
	r->found[k] = pos;
	return 0;
}

/* A walk repeated the previous one: search its words in the stack read (span bytes), and note
 * them when a second sample agrees with the first */
__noinline int memo_sample(struct kstack_memo *m, __u64 hash, const struct stack_frames *walked,
			   struct memo_region *r, __u32 span)
{
	struct memo_search s = { .r = r, .walked = walked, .m = m, .words = span / 8, .span = span };
	__u32 n, moving;

	if (!m || !walked || !r)
		return 0;
	r->frames = 0;
	r->moving = 0;
	bpf_loop(STACK_MAX_DEPTH, memo_count_frame, &s, 0);
	n = r->frames;
	moving = r->moving;
	/* ips[0] is where the walk began, in the BPF program: not a word on the stack */
	if (n < 2 || n - 1 > MEMO_FRAMES)
		return 0;
	r->next = 1;
	bpf_loop(MEMO_WORDS, memo_search_word, &s, 0);
	if (*(volatile __u32 *)&r->next != n)
		return 0; /* a word not found */
	r->mismatch = m->sample != hash || (moving && span == m->sample_span);
	bpf_loop(MEMO_FRAMES, memo_place_word, &s, 0);
	m->nslots = n - 1;
	m->nmoving = moving;
	if (*(volatile __u32 *)&r->mismatch) {
		/* the first sample (a stale copy found at the same shift could not be told from
		 * the word): wait for a second */
		__builtin_memcpy(m->sample_pos, r->found, sizeof(m->sample_pos));
		m->sample_span = span;
		m->sample = hash;
		return 0;
	}
	__builtin_memcpy(m->pos, r->found, sizeof(m->pos));
	/* the frames past the walk's last are zeros */
	__builtin_memcpy(m->ip, &walked->ips[1], sizeof(m->ip));
	m->span = span;
	m->hash = hash;
	m->sample = 0;
	return 0;
}

/*
 * The kernel stack of the current task (task), from the memo when its words are unchanged,
 * else walked (and sampled for a memo when the walk repeats the previous one).
 */
static __always_inline __u64 kstack_memoized(void *ctx, struct task_struct *task,
					     struct kstack_memo *m, bool usable)
{
	__u32 zero = 0, span;
	struct memo_region *r = bpf_map_lookup_elem(&memo_scratch, &zero);
	struct stack_frames *walked;
	bool recheck = false;
	__u64 h;

	if (!usable || !r)
		return stack_store(ctx, 0, 0, NULL);
	span = memo_read(r, ctx, task);
	if (m->hash && span && memo_matches(m, r, span)) {
		if (++m->reuses % MEMO_RECHECK)
			return m->hash;
		recheck = true;
	}
	h = stack_store(ctx, 0, 0, NULL);
	if (recheck && h != m->hash) {
		loss_count(LOSS_STACK_MEMO_STALE);
		m->hash = 0;
	}
	walked = bpf_map_lookup_elem(&stack_scratch, &zero);
	if (h && span && h == m->last_walk && h != m->hash && walked)
		memo_sample(m, h, walked, r, span);
	m->last_walk = h;
	return h;
}

#endif
