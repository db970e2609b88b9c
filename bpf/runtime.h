/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Runtime frames: the frames of an interpreter (CPython) that the native stack shows only as its
 * evaluation loop, and the JavaScript functions of V8's frames.  The BPF half walks the thread's
 * interpreter frames at the event (bpf/python.bpf.h), or notes each V8 frame's function as the
 * unwinder passes it (bpf/v8.bpf.h), and appends them to the native stack, before its mark; the
 * symbolizer puts each run of Python frames in place of the evaluation-loop frame that ran it,
 * and each JavaScript function in place of its V8 frame.
 *
 * An entry of the stack is a runtime entry when its top 4 bits are RUNTIME_FRAME_TAG or
 * RUNTIME_NOTE_TAG: no user or kernel address looks like that (x86-64 addresses are canonical).
 */
#ifndef STALLKIT_RUNTIME_H
#define STALLKIT_RUNTIME_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

enum runtime_kind {
	RUNTIME_NONE,
	RUNTIME_PYTHON,
	RUNTIME_V8,
};

/*
 * Where CPython keeps what the walk reads, in bytes, for one version (runtime_probe.c has
 * them): _PyRuntime -> interpreter -> its thread states -> the thread's current frame ->
 * previous frames; each frame's code object and last instruction.  The evaluation loop runs
 * the frames it calls inline: which frame it entered is told by a flag of that frame (3.11),
 * or by a frame of the C stack's own below it (3.12 and later).
 */
struct python_layout {
	__u16 runtime_interpreters; /* _PyRuntimeState.interpreters.head */
	__u16 interp_threads;	    /* PyInterpreterState.threads.head */
	__u16 thread_next;	    /* PyThreadState.next */
	__u16 thread_tid;	    /* PyThreadState.native_thread_id */
	__u16 thread_frame;	    /* PyThreadState.cframe (to 3.12), .current_frame (3.13) */
	__u16 cframe_frame;	    /* _PyCFrame.current_frame; PY_NONE: thread_frame is it */
	__u16 frame_code;	    /* _PyInterpreterFrame.f_code (.f_executable, 3.13) */
	__u16 frame_previous;	    /* _PyInterpreterFrame.previous */
	__u16 frame_instr;	    /* _PyInterpreterFrame.prev_instr (.instr_ptr, 3.13) */
	__u16 frame_is_entry;	    /* _PyInterpreterFrame.is_entry (3.11); PY_NONE */
	__u16 frame_owner;	    /* _PyInterpreterFrame.owner (3.12 and later); PY_NONE */
	__u16 owner_cstack;	    /* FRAME_OWNED_BY_CSTACK: the entry frame of a C call */
	__u16 code_bytecode;	    /* PyCodeObject.co_code_adaptive */
	__u16 pad[3];
};

#define PY_NONE 0xffff /* a field the version does not have */

/* Where V8 keeps a JavaScript frame's function (V8's own post-mortem metadata, v8dbg_*), in
 * bytes: slots below the frame pointer, the function's SharedFunctionInfo */
struct v8_layout {
	__s16 fp_function;	  /* v8dbg_off_fp_function: the JSFunction */
	__s16 fp_context;	  /* v8dbg_off_fp_context: a JS frame's context, or a frame marker */
	__s16 fp_bytecode_offset; /* v8dbg_off_fp_bytecode_offset: interpreted frames' (a Smi) */
	__s16 fp_bytecode_array;  /* v8dbg_off_fp_bytecode_array: interpreted frames' */
	__u16 function_shared;	  /* v8dbg_class_JSFunction__shared__SharedFunctionInfo */
	__u16 pad[3];
};

/* A process's interpreter, in its own addresses (part of struct unwind_process) */
struct unwind_runtime {
	__u32 kind; /* enum runtime_kind */
	__u32 pad;
	__u64 state; /* CPython: &_PyRuntime */
	__u64 eval_start; /* the evaluation loop: a stack without it has no frames to add */
	__u64 eval_end;
	struct python_layout python;
	struct v8_layout v8;
};

#define RUNTIME_FRAME_TAG 0xaULL
#define RUNTIME_NOTE_TAG  0xbULL
#define RUNTIME_JS_TAG	  0xcULL /* a V8 frame's function; the next two its position */
#define RUNTIME_JS_POS_TAG 0xdULL
#define RUNTIME_JS_BYTECODE_TAG 0xeULL
#define RUNTIME_TAG(e)	  ((__u64)(e) >> 60)
#define RUNTIME_IS_ENTRY(e)                                                                \
	(RUNTIME_TAG(e) >= RUNTIME_FRAME_TAG && RUNTIME_TAG(e) <= RUNTIME_JS_BYTECODE_TAG)

/*
 * A V8 frame's JavaScript function in three entries: the native frame's index in the stack (the
 * frame of V8 code it ran in) and its SharedFunctionInfo's address (under 2^47: in old space,
 * it stays where it is, where the JSFunction of a closure moves at every scavenge); then the
 * frame's bytecode offset and bytecode array slots, which hold them if the frame is an
 * interpreted one: userspace knows it is when the slot holds the function's own bytecode.
 */
#define V8_FRAME(depth, sfi)                                                               \
	(RUNTIME_JS_TAG << 60 | (__u64)(depth) << 48 | ((sfi) & ((1ULL << 47) - 1)))
#define V8_FRAME_DEPTH(e)      ((unsigned int)((e) >> 48 & 0xfff))
#define V8_FRAME_SFI(e)	       ((e) & ((1ULL << 47) - 1))
#define V8_POS(offset)	       (RUNTIME_JS_POS_TAG << 60 | (__u32)(offset))
#define V8_POS_OFFSET(e)       ((__s32)(__u32)(e))
#define V8_POS_NONE	       (-1)
#define V8_BYTECODE(bca)       (RUNTIME_JS_BYTECODE_TAG << 60 | ((bca) & ((1ULL << 47) - 1)))
#define V8_BYTECODE_ADDR(e)    ((e) & ((1ULL << 47) - 1))

/*
 * A CPython frame in 64 bits: the tag, whether the evaluation loop entered it (the last of its
 * run), the code object's address (8-byte aligned, under 2^47) and the index of the last
 * instruction run, in code units.
 */
#define PY_FRAME_ENTRY	      (1ULL << 59)
#define PY_FRAME_CODE_SHIFT   12 /* address >> 3, in bits 15..58 */
#define PY_FRAME_LASTI_MASK   0x7fffULL
#define PY_FRAME_LASTI_NONE   0x7fffULL /* not started, or past what 15 bits hold */
#define PY_FRAME(code, lasti, entry)                                                     \
	(RUNTIME_FRAME_TAG << 60 | ((entry) ? PY_FRAME_ENTRY : 0) |                      \
	 ((__u64)(code) << PY_FRAME_CODE_SHIFT) | ((__u64)(lasti) & PY_FRAME_LASTI_MASK))
#define PY_FRAME_CODE(e)     (((e) >> 15 & ((1ULL << 44) - 1)) << 3)
#define PY_FRAME_LASTI(e)    ((unsigned int)((e) & PY_FRAME_LASTI_MASK))
#define PY_FRAME_IS_ENTRY(e) (((e) & PY_FRAME_ENTRY) != 0)

/*
 * Why a thread's interpreter frames are missing or incomplete: a note after the frames that
 * were read.  Numbered apart from the unwinder's stops (enum unwind_stop), with which the
 * reports count them.
 */
enum runtime_loss {
	RUNTIME_LOSS_FIRST = 32,
	RUNTIME_LOSS_THREAD = RUNTIME_LOSS_FIRST, /* the thread has no interpreter state */
	RUNTIME_LOSS_UNREADABLE,		  /* the interpreter's memory could not be read */
	RUNTIME_LOSS_DEPTH,			  /* more frames than the stack holds */
	RUNTIME_LOSS_UNSUPPORTED,		  /* the interpreter's version is not supported */
	RUNTIME_LOSS_NOT_RECORDED,		  /* the stack was taken without them */
	RUNTIME_LOSS_CODE,			  /* a code object that could not be read */
	RUNTIME_LOSS_JS_DEPTH,			  /* JavaScript functions past what a stack holds */
	RUNTIME_LOSS_JS_FUNCTION,		  /* a function that could not be read */
	RUNTIME_LOSS_LAST,
};

/*
 * A code object seen for the first time, sent through the unwinder's requests (whose other
 * requests are a bare process ID): userspace reads it while the process lives, so that its
 * frames are named even if the process exits before the report.
 */
struct runtime_request {
	__u32 tgid;
	__u32 kind; /* enum runtime_kind */
	__u64 object;
};

#define RUNTIME_NOTE(loss) (RUNTIME_NOTE_TAG << 60 | (loss))
/* Not a loss: the C stack's frame below the frames an evaluation loop ran (3.12 and later) */
#define PY_ENTRY_BOUNDARY RUNTIME_NOTE(0xff)
#define RUNTIME_NOTE_LOSS(e) ((unsigned int)((e) & 0xff))

#endif
