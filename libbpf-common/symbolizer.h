/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The symbolizer: from an address to what an engineer needs to find the line of code.
 *
 * Built on elfutils (libdwfl finds and opens the debug information, libdw reads it).  User
 * addresses are resolved in a process noted beforehand (its mappings, the files behind them
 * opened through /proc/PID/map_files or /proc/PID/root, its vDSO and JIT map), so deleted,
 * memfd and container binaries resolve, and a process that has exited since still does.  Each
 * ELF file is loaded once, by build-id, and shared by every process that maps it; its DWARF
 * and symbol table are indexed as they are first used (a compilation unit at a time), so that
 * an address costs a few binary searches however many are asked.  Kernel addresses come from
 * /proc/kallsyms.
 *
 * The frames returned point into the symbolizer's memory and stay valid until it is freed.
 */
#ifndef STALLKIT_SYMBOLIZER_H
#define STALLKIT_SYMBOLIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "options.h"

struct symbolizer;

struct symbolizer_opts {
	/* where separate debug files are looked for: a build-id directory and the global
	 * directory of .gnu_debuglink files; NULL: /usr/lib/debug */
	const char *debug_root;
	/* interpreters' frames (bpf/runtime.h) are left out: the native stack as it was */
	bool no_runtime_frames;
	/* a HotSpot JVM's code without a name is named by the perf map it is asked for
	 * (jvm.h), at most once a second per process */
	bool jvm_perfmap;
};

enum sym_frame_kind {
	SYM_FRAME_SOURCE,	/* a function, with its source file and line when known */
	SYM_FRAME_SYMBOL,	/* a function from the symbol table, without a source line */
	SYM_FRAME_MODULE,	/* only the module and the offset in it */
	SYM_FRAME_UNKNOWN,	/* not in any mapping */
	SYM_FRAME_STOP,		/* not a frame: where and why the unwinder stopped */
	SYM_FRAME_LOST,		/* not a frame: an interpreter's frames that could not be read,
				 * and why (stop: enum runtime_loss) */
};

/* Whose frame it is: the machine's, or an interpreter's or a JIT compiler's */
enum sym_frame_runtime {
	SYM_RUNTIME_NATIVE,
	SYM_RUNTIME_PYTHON, /* a CPython function: file is its script, line its line */
	SYM_RUNTIME_JAVA,   /* a method the JVM compiled, named by its perf map */
	SYM_RUNTIME_JS,	    /* a JavaScript function: file is its script, line its line (when the
			     * frame is interpreted) */
};

struct sym_frame {
	uint64_t addr;		  /* the address given */
	enum sym_frame_kind kind;
	const char *function;	  /* demangled; NULL if unknown */
	uint64_t function_offset; /* addr - the function's start, when known from a symbol */
	const char *file;	  /* source file, NULL if unknown */
	unsigned int line;	  /* 0 if unknown */
	unsigned int column;
	bool inlined;		  /* inlined into the next frame, which has the same addr */
	bool kernel;		  /* a kernel address */
	const char *module;	  /* path as the process sees it, "[vdso]", "[jit]", "[kernel]" */
	uint64_t module_offset;	  /* file offset (user), offset from the module start (kernel) */
	const char *build_id;	  /* lower-case hex, NULL if the module has none */
	unsigned int stop;	  /* SYM_FRAME_STOP: why (enum unwind_stop); module: where */
	enum sym_frame_runtime runtime;
};

struct symbolizer *symbolizer_new(const struct symbolizer_opts *opts);
/* A tool's symbolizer, as its options about runtimes say */
struct symbolizer *symbolizer_for(const struct runtime_opts *runtime);
void symbolizer_free(struct symbolizer *s);

/*
 * Notes what resolving pid's addresses needs (mappings, files, JIT map), so that they still
 * resolve after it exits.  Noting it again refreshes the notes.  0 or -errno.
 */
int symbolizer_note_process(struct symbolizer *s, pid_t pid);
/* The same, unless the process is noted already: for a tracer that sees a process many times */
int symbolizer_note_process_once(struct symbolizer *s, pid_t pid);
/* Reads a CPython code object of pid (bpf/runtime.h) now, while the process lives */
void symbolizer_note_python_code(struct symbolizer *s, pid_t pid, uint64_t code);
/* Reads a V8 SharedFunctionInfo of pid (bpf/runtime.h) now, while the process lives */
void symbolizer_note_v8_function(struct symbolizer *s, pid_t pid, uint64_t sfi);

/*
 * A user stack of pid, innermost first: addrs[0] is where the thread was, the others are
 * return addresses (looked up at addr - 1, reported as given).  Inlined calls become frames of
 * their own; the unwinder's mark (bpf/unwind.h) becomes a SYM_FRAME_STOP frame, or none where
 * it says the stack is complete.  An interpreter's frames (bpf/runtime.h) take the place of
 * the evaluation-loop frame that ran them; where they could not be read, a SYM_FRAME_LOST
 * frame before it says why.  Returns the number of frames written (at most max).
 * *truncated, if given, tells whether the stack ends before the thread's start (by the mark;
 * without one, by the last frame's name: _start, start_thread, clone).
 */
size_t symbolizer_user_stack(struct symbolizer *s, pid_t pid, const uint64_t *addrs, size_t n,
			     struct sym_frame *out, size_t max, bool *truncated);

/* A kernel stack, innermost first, without the tracer's own frames at the top (BPF programs,
 * the tracepoint glue that ran them). */
size_t symbolizer_kernel_stack(struct symbolizer *s, const uint64_t *addrs, size_t n,
			       struct sym_frame *out, size_t max);

/*
 * One address of an ELF file (stallsym -e): a virtual address as the file's program headers
 * lay it out, or a file offset.  return_address: look up at addr - 1.  Returns frames written,
 * or -errno (the file cannot be read, or is not ELF).
 */
long symbolizer_file_address(struct symbolizer *s, const char *path, uint64_t addr,
			     bool is_file_offset, bool return_address, struct sym_frame *out,
			     size_t max);

/* Where a function of the kernel itself (not a module) lies, from kallsyms: [*start, *end).
 * false if kallsyms does not list it (or hides addresses: no privileges). */
bool symbolizer_kernel_function(struct symbolizer *s, const char *name, uint64_t *start,
				uint64_t *end);

/* "poll", "module+0x1f2e", "0x7f3a..." : a frame in one short word, for folded stacks */
const char *sym_frame_name(const struct sym_frame *f, char *buf, size_t len);

#endif
