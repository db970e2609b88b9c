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
#include <unistd.h>
#include <gelf.h>
#include "stack_stops.h"
#include "sym_internal.h"
#include "unwind.h"
#include "util.h"

#define MEMO_BUDGET	 (64u << 20) /* bytes of resolved addresses kept */

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
	if (p && ((jit = sym_process_jit(s, p, lookup)) || (jit = sym_jvm_code(s, p, lookup)))) {
		out[0].kind = SYM_FRAME_SYMBOL;
		out[0].runtime = sym_runs_hotspot(p) ? SYM_RUNTIME_JAVA : SYM_RUNTIME_NATIVE;
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

size_t symbolizer_user_stack(struct symbolizer *s, pid_t pid, const uint64_t *addrs, size_t n,
			     struct sym_frame *out, size_t max, bool *truncated)
{
	struct sym_process *p = sym_process_find(s, pid);
	struct runtime_cursor runtime = sym_runtime_entries(addrs, n);
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
		if (!s->no_runtime_frames && got)
			got = sym_runtime_frames(s, p, &runtime, i, out + written, got,
						 max - written);
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
