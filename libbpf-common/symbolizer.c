// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The symbolizer's public face: stacks of processes, kernel stacks, addresses of files.  Each
 * file's index (sym_dwarf.c, sym_symtab.c) answers a new address in a few binary searches; an
 * address asked again is answered by the memo (sym_memo.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <gelf.h>
#include "jvm.h"
#include "stack_stops.h"
#include "sym_internal.h"
#include "unwind.h"
#include "util.h"

#define MEMO_BUDGET	 (64u << 20) /* bytes of resolved addresses kept */
#define JVM_PERFMAP_TIMEOUT_MS 5000 /* a JVM's answer; jcmd's own is 10 s */
#define MAX_INLINE_DEPTH 32

/* Frames of an address of a file (lookup and report: ELF virtual addresses, lookup = report - 1
 * for a return address), through the memo; addr is the runtime address to give them */
static size_t resolve(struct symbolizer *s, struct sym_file *file, uint64_t lookup,
		      uint64_t report, uint64_t addr, struct sym_frame *out, size_t max)
{
	uint64_t key = lookup << 1 | (report != lookup);
	struct sym_frame base = sym_file_base_frame(file, report, addr);
	struct sym_frame all[MAX_INLINE_DEPTH];
	size_t n;

	if (!max)
		return 0;
	n = sym_memo_find(s->memo, file, key, &base, out, max);
	if (n)
		return n;
	/* the whole inline chain is kept, whatever room the caller has */
	n = sym_file_resolve(file, lookup, report, addr, all, MAX_INLINE_DEPTH);
	sym_memo_add(s->memo, file, key, all, n);
	n = MIN(n, max);
	memcpy(out, all, n * sizeof(*out));
	return n;
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(a, b);
}

const char *sym_keep_string(struct symbolizer *s, char *str)
{
	char **found;

	if (!str)
		return NULL;
	found = tsearch(str, &s->names, compare_strings);
	if (!found) {
		free(str);
		return NULL;
	}
	if (*found != str)
		free(str);
	return *found;
}

struct symbolizer *symbolizer_new(const struct symbolizer_opts *opts)
{
	struct symbolizer *s = calloc(1, sizeof(*s));

	elf_version(EV_CURRENT);
	if (!s)
		return NULL;
	/* the user's own settings win; libdebuginfod's default is 90 s */
	setenv("DEBUGINFOD_TIMEOUT", DEBUGINFOD_TIMEOUT_S, 0);
	s->debug_root = strdup(opts && opts->debug_root ? opts->debug_root : "/usr/lib/debug");
	s->no_runtime_frames = opts && opts->no_runtime_frames;
	s->jvm_perfmap = opts && opts->jvm_perfmap;
	s->memo = sym_memo_new(MEMO_BUDGET);
	if (!s->debug_root || !s->memo) {
		symbolizer_free(s);
		return NULL;
	}
	return s;
}

struct symbolizer *symbolizer_for(const struct runtime_opts *runtime)
{
	return symbolizer_new(&(struct symbolizer_opts){
		.no_runtime_frames = runtime->no_runtime_frames,
		.jvm_perfmap = runtime->jvm_perfmap,
	});
}

void symbolizer_free(struct symbolizer *s)
{
	if (!s)
		return;
	sym_memo_free(s->memo);
	sym_python_free_all(s);
	sym_v8_free_all(s);
	tdestroy(s->names, free);
	tdestroy(s->process_index, free_nothing);
	while (s->processes) {
		struct sym_process *next = s->processes->next;

		sym_process_free(s->processes);
		s->processes = next;
	}
	while (s->files) {
		struct sym_file *next = s->files->next;

		sym_file_free(s->files);
		s->files = next;
	}
	while (s->paths) {
		struct sym_path *next = s->paths->next;

		free(s->paths->path);
		free(s->paths);
		s->paths = next;
	}
	sym_kernel_free(s);
	free(s->debug_root);
	free(s);
}

int symbolizer_note_process(struct symbolizer *s, pid_t pid)
{
	return sym_process_note(s, pid);
}

int symbolizer_note_process_once(struct symbolizer *s, pid_t pid)
{
	return sym_process_find(s, pid) ? 0 : sym_process_note(s, pid);
}

/* Where a thread begins: a stack that reaches one of these is complete */
static bool is_thread_root(const char *name)
{
	static const char *const roots[] = { "start",	     "libc_start_main",
					     "libc_start_main_impl", "libc_start_call_main",
					     "start_thread",	     "clone",
					     "clone3",		     "thread_start" };

	if (!name)
		return false;
	if (!strncmp(name, "__GI_", 5))
		name += 5;
	while (*name == '_')
		name++;
	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
		if (!strcmp(name, roots[i]))
			return true;
	return false;
}

static bool runs_hotspot(struct sym_process *p)
{
	for (size_t i = 0; p->hotspot < 0 && i < p->nmaps; i++)
		if (p->maps[i].file && sym_file_runtime(p->maps[i].file)->hotspot)
			p->hotspot = 1;
	if (p->hotspot < 0)
		p->hotspot = 0;
	return p->hotspot;
}

/* Code of a JVM without a name: the JVM is asked for its perf map (at most once a second),
 * and the address looked up again */
static const struct sym_jit *jvm_code(struct symbolizer *s, struct sym_process *p,
				      uint64_t lookup)
{
	time_t now = time(NULL);

	if (!s->jvm_perfmap || !runs_hotspot(p) || now == p->perfmap_asked)
		return NULL;
	p->perfmap_asked = now;
	return jvm_perfmap_write(p->pid, JVM_PERFMAP_TIMEOUT_MS) ? NULL :
								   sym_process_jit(s, p, lookup);
}

static size_t user_frames(struct symbolizer *s, struct sym_process *p, uint64_t addr, bool leaf,
			  struct sym_frame *out, size_t max)
{
	uint64_t lookup = leaf ? addr : addr - 1;
	const struct sym_map *map = p ? sym_process_map(p, lookup) : NULL;
	const struct sym_jit *jit;
	size_t n;

	out[0] = (struct sym_frame){ .addr = addr, .kind = SYM_FRAME_UNKNOWN };
	if (map && map->file) {
		n = resolve(s, map->file, lookup - map->bias, addr - map->bias, addr, out,
				     max);
		/* a return address at a function's first byte, past the end of the one before:
		 * a signal frame's return into the trampoline (__restore_rt) */
		if (!leaf && !out[0].function && map == sym_process_map(p, addr))
			n = resolve(s, map->file, addr - map->bias, addr - map->bias, addr,
					     out, max);
		return n;
	}
	if (p && ((jit = sym_process_jit(s, p, lookup)) || (jit = jvm_code(s, p, lookup)))) {
		out[0].kind = SYM_FRAME_SYMBOL;
		out[0].runtime = runs_hotspot(p) ? SYM_RUNTIME_JAVA : SYM_RUNTIME_NATIVE;
		out[0].function = jit->name;
		out[0].function_offset = addr - jit->start;
		out[0].module = "[jit]";
		out[0].module_offset = addr - jit->start;
	} else if (map) {
		out[0].kind = SYM_FRAME_MODULE;
		out[0].module = map->name;
		out[0].module_offset = addr - map->start;
	}
	return 1;
}

/* The unwinder stopped after the frames so far: why, and in which module */
static void stop_frame(uint64_t mark, const struct sym_frame *last, struct sym_frame *out)
{
	*out = (struct sym_frame){ .addr = mark, .kind = SYM_FRAME_STOP,
				   .stop = UNWIND_MARK_STOP(mark) };
	if (last) {
		out->module = last->module;
		out->build_id = last->build_id;
	}
}

/* Where the interpreter's frames were: the evaluation loop, once per run of them */
static bool is_python_eval(const struct sym_frame *f)
{
	return f->function && !strcmp(f->function, "_PyEval_EvalFrameDefault");
}

/* The interpreter's frames after the native ones (bpf/runtime.h), taken a run at a time */
struct runtime_cursor {
	const uint64_t *at;
	size_t n;
	bool lost; /* a loss was shown: once a stack */
};

static struct runtime_cursor runtime_entries(const uint64_t *addrs, size_t n)
{
	size_t i = 0, end;

	while (i < n && !RUNTIME_IS_ENTRY(addrs[i]) && !UNWIND_IS_MARK(addrs[i]))
		i++;
	for (end = i; end < n && RUNTIME_IS_ENTRY(addrs[end]); end++)
		;
	return (struct runtime_cursor){ .at = addrs + i, .n = end - i };
}

/*
 * The run of frames the evaluation-loop frame eval ran, in its place (the frame stays, after a
 * SYM_FRAME_LOST frame, if there is none): the frames up to the one the loop entered.  Returns
 * the frames written.
 */
static size_t python_run(struct symbolizer *s, struct sym_process *p, struct runtime_cursor *c,
			 const struct sym_frame *eval, struct sym_frame *out, size_t max)
{
	size_t written = 0;

	while (c->n && RUNTIME_TAG(c->at[0]) == RUNTIME_FRAME_TAG && written < max) {
		uint64_t entry = *c->at++;

		c->n--;
		sym_python_frame(s, p, entry, &out[written++]);
		if (PY_FRAME_IS_ENTRY(entry))
			return written;
	}
	if (written)
		return written;
	if (!c->lost && max >= 2) {
		c->lost = true;
		out[written++] = (struct sym_frame){
			.addr = eval->addr, .kind = SYM_FRAME_LOST, .runtime = SYM_RUNTIME_PYTHON,
			.stop = c->n ? RUNTIME_NOTE_LOSS(c->at[0]) : RUNTIME_LOSS_NOT_RECORDED,
			.module = eval->module, .build_id = eval->build_id,
		};
	}
	out[written++] = *eval;
	return written;
}

/* A V8 frame's function in place of the native frame(s) at index i of the stack, if the BPF
 * half noted one there; returns the frames written (0: none was) */
static size_t js_frame(struct symbolizer *s, struct sym_process *p, struct runtime_cursor *c,
		       size_t i, const struct sym_frame *native, size_t nnative,
		       struct sym_frame *out, size_t max)
{
	const struct sym_frame *code = &native[nnative - 1];
	bool interpreted;
	size_t written = 0;

	if (c->n < 2 || RUNTIME_TAG(c->at[0]) != RUNTIME_JS_TAG ||
	    RUNTIME_TAG(c->at[1]) != RUNTIME_JS_POS_TAG || V8_FRAME_DEPTH(c->at[0]) != i ||
	    max < 2)
		return 0;
	/* an interpreted frame runs in the interpreter's entry builtins */
	interpreted = code->function && !strncmp(code->function, "Builtins_Interpreter", 20);
	sym_v8_frame(s, p, V8_FRAME_SFI(c->at[0]), V8_POS_OFFSET(c->at[1]), interpreted, out);
	c->at += 2;
	c->n -= 2;
	if (out[written++].kind == SYM_FRAME_LOST) {
		out[0].module = code->module;
		out[0].build_id = code->build_id;
		out[written++] = *code; /* the frame as it was, after the mark */
	}
	return written;
}

size_t symbolizer_user_stack(struct symbolizer *s, pid_t pid, const uint64_t *addrs, size_t n,
			     struct sym_frame *out, size_t max, bool *truncated)
{
	struct sym_process *p = sym_process_find(s, pid);
	struct runtime_cursor runtime = runtime_entries(addrs, n);
	bool complete = false;
	size_t written = 0;

	if (!p && sym_process_note(s, pid) == 0)
		p = sym_process_find(s, pid);
	for (size_t i = 0; i < n && written < max; i++) {
		size_t got;

		if (RUNTIME_IS_ENTRY(addrs[i]))
			continue;
		if (UNWIND_IS_MARK(addrs[i])) {
			complete = UNWIND_MARK_STOP(addrs[i]) == UNWIND_STOP_ROOT;
			if (!complete) {
				stop_frame(addrs[i], written ? &out[written - 1] : NULL,
					   &out[written]);
				written++;
			}
			break;
		}
		got = user_frames(s, p, addrs[i], i == 0, out + written, max - written);
		if (!s->no_runtime_frames && got && is_python_eval(&out[written + got - 1])) {
			struct sym_frame eval = out[written + got - 1];

			got = python_run(s, p, &runtime, &eval, out + written, max - written);
		} else if (!s->no_runtime_frames && got) {
			struct sym_frame native[MAX_INLINE_DEPTH];
			size_t js;

			memcpy(native, out + written, MIN(got, MAX_INLINE_DEPTH) * sizeof(*native));
			js = js_frame(s, p, &runtime, i, native, MIN(got, MAX_INLINE_DEPTH),
				      out + written, max - written);
			got = js ? js : got;
		}
		written += got;
	}
	/* without a mark (a frame-pointer walk), the last frame's name says */
	if (truncated)
		*truncated = !complete && (!written || out[written - 1].kind == SYM_FRAME_STOP ||
					   !is_thread_root(out[written - 1].function));
	return written;
}

size_t symbolizer_kernel_stack(struct symbolizer *s, const uint64_t *addrs, size_t n,
			       struct sym_frame *out, size_t max)
{
	size_t i = 0, written = 0;
	const struct sym_kernel_symbol *k;

	sym_kernel_refresh(s, addrs, n);
	/* the tracer's own frames, at the top only */
	while (i < n && (k = sym_kernel_lookup(s, addrs[i])) && sym_kernel_is_tracer(k->name))
		i++;
	for (; i < n && written < max; i++) {
		/* return addresses, but for the very first (the interrupted instruction) */
		uint64_t lookup = i ? addrs[i] - 1 : addrs[i];
		struct sym_frame *f = &out[written++];

		k = sym_kernel_lookup(s, lookup);
		*f = (struct sym_frame){ .addr = addrs[i], .kind = SYM_FRAME_UNKNOWN, .kernel = true };
		if (!k)
			continue;
		f->kind = SYM_FRAME_SYMBOL;
		f->function = k->name;
		f->function_offset = addrs[i] - k->start;
		f->module = k->module;
		f->module_offset = f->function_offset;
	}
	return written;
}

/* A file named by path, opened once per symbolizer (its identity read again would cost system
 * calls per address); the path is remembered even where it turned out to be a file open
 * already */
static struct sym_file *file_by_path(struct symbolizer *s, const char *path)
{
	struct sym_path *p;
	struct sym_file *f;
	int fd;

	for (p = s->paths; p; p = p->next)
		if (!strcmp(p->path, path))
			return p->file;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	errno = ENOEXEC;
	f = sym_file_open(s, fd, path, path, NULL);
	p = f ? calloc(1, sizeof(*p)) : NULL;
	if (p && (p->path = strdup(path))) {
		p->file = f;
		p->next = s->paths;
		s->paths = p;
	} else {
		free(p);
	}
	return f;
}

long symbolizer_file_address(struct symbolizer *s, const char *path, uint64_t addr,
			     bool is_file_offset, bool return_address, struct sym_frame *out,
			     size_t max)
{
	struct sym_file *f = file_by_path(s, path);
	uint64_t vaddr = addr;

	if (!f)
		return -errno;
	if (is_file_offset && !sym_file_offset_to_vaddr(f, addr, &vaddr)) {
		out[0] = (struct sym_frame){ .addr = addr, .kind = SYM_FRAME_MODULE,
					     .module = f->path, .module_offset = addr };
		return 1;
	}
	return resolve(s, f, return_address ? vaddr - 1 : vaddr, vaddr, addr, out, max);
}

const char *sym_frame_name(const struct sym_frame *f, char *buf, size_t len)
{
	const char *base;

	if (f->kind == SYM_FRAME_LOST) {
		snprintf(buf, len, "[lost: %s]", unwind_stop_what(f->stop));
		return buf;
	}
	if (f->kind == SYM_FRAME_STOP) {
		base = f->module ? strrchr(f->module, '/') : NULL;
		snprintf(buf, len, "[stop: %s%s%s]", unwind_stop_what(f->stop),
			 f->module ? " in " : "", base ? base + 1 : f->module ? f->module : "");
		return buf;
	}
	if (f->function)
		return f->function;
	if (f->module) {
		base = strrchr(f->module, '/');
		snprintf(buf, len, "%s+0x%llx", base ? base + 1 : f->module,
			 (unsigned long long)f->module_offset);
	} else {
		snprintf(buf, len, "0x%llx", (unsigned long long)f->addr);
	}
	return buf;
}
