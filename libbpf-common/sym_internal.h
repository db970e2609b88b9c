/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The symbolizer's parts (sym_file.c, sym_process.c, sym_kernel.c, symbolizer.c). */
#ifndef STALLKIT_SYM_INTERNAL_H
#define STALLKIT_SYM_INTERNAL_H

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <sys/stat.h>
#include "runtime_probe.h"
#include "symbolizer.h"

#define SYM_BUILD_ID_MAX 64 /* bytes; hex is twice that */
#define MAX_INLINE_DEPTH 32 /* frames of one address: a function and the calls inlined in it */
#define DEBUGINFOD_TIMEOUT_S "5" /* a fetch without progress for that long gives up */
#define DEBUGINFOD_GIVE_UP_S 2.0 /* a search this slow that found nothing ends the fetching */

struct sym_segment {
	uint64_t vaddr;
	uint64_t memsz;
	uint64_t offset;
	uint64_t filesz;
};

/* One ELF file, however many processes map it; found again by build-id. */
struct sym_file {
	char *path;	    /* as processes see it: "/usr/lib/libc.so.6", "[vdso]", "/memfd:x" */
	char *open_path;    /* where .gnu_debuglink files are looked for next to it */
	int fd;
	dev_t dev;	    /* identity when there is no build-id */
	ino_t ino;
	char build_id[2 * SYM_BUILD_ID_MAX + 1]; /* hex, "" if none */
	struct sym_segment *segs;
	size_t nsegs;
	char *debuginfo_path; /* libdwfl's search path for this file's debug info */
	Dwfl_Callbacks *dwfl_callbacks; /* libdwfl keeps a pointer to them */
	Dwfl *dwfl;	      /* loaded on first use */
	Dwfl_Module *mod;
	bool load_failed;
	bool debuginfo_sought; /* locally, then from debuginfod */
	struct sym_dwarf *dwarf;   /* its index, once sought and found */
	struct sym_symtab *symtab; /* the symbol table's index, on first use */
	struct runtime_binary runtime; /* the language runtime it carries, once probed */
	bool runtime_probed;
	char **strings; /* names this file's frames point to that libdw does not own */
	size_t nstrings;
	void *names;	/* tsearch tree of strings, so each is kept once */
	struct sym_file *next;
};

struct sym_map {
	uint64_t start;
	uint64_t end;
	uint64_t bias; /* runtime address - ELF virtual address */
	struct sym_file *file; /* NULL: anonymous memory */
	char *name;	       /* "[heap]", "[anon]", ... when there is no file */
};

struct sym_jit {
	uint64_t start;
	uint64_t size;
	const char *name; /* kept by sym_keep_string() */
};

struct sym_process {
	pid_t pid;
	pid_t nspid; /* the PID as the process sees it (names its JIT map) */
	struct sym_map *maps; /* sorted by start */
	size_t nmaps;
	struct sym_jit *jit; /* sorted by start */
	size_t njit;
	struct timespec jit_mtime;
	signed char hotspot;	/* it runs a HotSpot JVM: 1, 0, -1 not known yet */
	time_t perfmap_asked;	/* when its JVM was last asked for its perf map */
	struct sym_process *next;
};

struct sym_kernel_symbol {
	uint64_t start;
	uint64_t end;
	const char *name;
	const char *module; /* "[kernel]", "[bpf]", "[ext4]", ... */
};

/* A path given by the caller (symbolizer_file_address()), and the file it named */
struct sym_path {
	char *path;
	struct sym_file *file;
	struct sym_path *next;
};

struct symbolizer {
	char *debug_root;
	struct sym_file *files;
	struct sym_path *paths;
	struct sym_memo *memo;
	size_t nfiles;
	struct sym_process *processes; /* the most recently noted first */
	size_t nprocesses;
	void *process_index;	       /* tsearch tree of them by PID */
	struct sym_kernel_symbol *ksyms; /* sorted; loaded on first use */
	size_t nksyms;
	char *ksym_names;
	bool ksyms_loaded;
	uint64_t ksyms_loaded_ns; /* when (CLOCK_MONOTONIC) */
	bool ksyms_reloaded;	  /* since the first load, for an address it lacked */
	bool no_runtime_frames;	  /* symbolizer_opts */
	bool jvm_perfmap;
	struct sym_python *pythons; /* the CPython processes whose frames were named */
	struct sym_v8 *v8s;	    /* the V8 processes whose frames were named */
	void *names; /* tsearch tree of names kept for the symbolizer's life (sym_keep_string) */
};

/* symbolizer.c: a name (malloc'ed, taken over) kept once for the symbolizer's life, which
 * frames may point to; NULL if str is NULL or there is no memory */
const char *sym_keep_string(struct symbolizer *s, char *str);

/* sym_file.c */
struct sym_file *sym_file_open(struct symbolizer *s, int fd, const char *path,
			       const char *open_path, const char *extra_debug_dir);
void sym_file_free(struct sym_file *f);
/* frames for an ELF virtual address, innermost first; lookup is the address to look up
 * (vaddr - 1 for return addresses), report the one to report */
size_t sym_file_resolve(struct sym_file *f, uint64_t lookup, uint64_t report, uint64_t addr,
			struct sym_frame *out, size_t max);
/* what every frame of an address of the file has: the module, the offset in it, the build-id */
struct sym_frame sym_file_base_frame(const struct sym_file *f, uint64_t report, uint64_t addr);
/* names that live as long as the file: kept once; demangled */
const char *sym_file_keep_name(struct sym_file *f, char *name);
const char *sym_file_function_name(struct sym_file *f, const char *name);
bool sym_file_vaddr_to_offset(const struct sym_file *f, uint64_t vaddr, uint64_t *offset);
/* the language runtime the file carries (runtime_probe.h), probed on first use */
const struct runtime_binary *sym_file_runtime(struct sym_file *f);
bool sym_file_offset_to_vaddr(const struct sym_file *f, uint64_t offset, uint64_t *vaddr);
uint64_t sym_file_bias(const struct sym_file *f, uint64_t map_start, uint64_t map_pgoff);

/* sym_dwarf.c: the DWARF of a file, indexed a unit at a time on first use */
struct sym_dwarf *sym_dwarf_new(struct sym_file *f, Dwarf *dw, Dwarf_Addr bias);
void sym_dwarf_free(struct sym_dwarf *d);
/* the function at lookup and its inline chain, innermost first, as sym_file_resolve();
 * 0 if the DWARF has no function there */
size_t sym_dwarf_frames(struct sym_dwarf *d, uint64_t lookup, uint64_t report,
			const struct sym_frame *base, struct sym_frame *out, size_t max);
/* the line table's file, line and column at lookup, into frame (unchanged if none) */
void sym_dwarf_line(struct sym_dwarf *d, uint64_t lookup, struct sym_frame *frame);

/* sym_symtab.c: the symbol table of a file, sorted on first use */
struct sym_symtab *sym_symtab_new(struct sym_file *f, Dwfl_Module *mod);
void sym_symtab_free(struct sym_symtab *t);
/* the name of the symbol at addr (demangled) and its start; NULL if none */
const char *sym_symtab_lookup(struct sym_symtab *t, uint64_t addr, uint64_t *start);

/* sym_memo.c: resolved addresses by file and key, within a budget of bytes */
struct sym_memo *sym_memo_new(size_t budget);
void sym_memo_free(struct sym_memo *m);
/* the frames kept for (file, key) into out (at most max), each the base frame with what was
 * kept; 0 if none */
size_t sym_memo_find(struct sym_memo *m, const struct sym_file *file, uint64_t key,
		     const struct sym_frame *base, struct sym_frame *out, size_t max);
void sym_memo_add(struct sym_memo *m, const struct sym_file *file, uint64_t key,
		  const struct sym_frame *frames, size_t n);

/* sym_process.c */
int sym_process_note(struct symbolizer *s, pid_t pid);
struct sym_process *sym_process_find(struct symbolizer *s, pid_t pid);
const struct sym_map *sym_process_map(const struct sym_process *p, uint64_t addr);
const struct sym_jit *sym_process_jit(struct symbolizer *s, struct sym_process *p, uint64_t addr);
void sym_process_free(struct sym_process *p);

/* sym_runtime.c: the runtimes' entries of a stack (bpf/runtime.h), after its native ones,
 * taken as the native frames they stand for come */
struct runtime_cursor {
	const uint64_t *at;
	size_t n;
	bool lost; /* a loss was shown: once a stack */
};
struct runtime_cursor sym_runtime_entries(const uint64_t *addrs, size_t n);
/* The n frames at frames (of the stack's entry i) with what the runtime ran in them in their
 * place, if anything: returns how many frames are there now (at most max) */
size_t sym_runtime_frames(struct symbolizer *s, struct sym_process *p, struct runtime_cursor *c,
			  size_t i, struct sym_frame *frames, size_t n, size_t max);
/* Whether p runs a HotSpot JVM */
bool sym_runs_hotspot(struct sym_process *p);
/* JVM code without a name (--jvm-perfmap): the JVM is asked for its perf map, at most once a
 * second, and the address looked up again; NULL if it has no name */
const struct sym_jit *sym_jvm_code(struct symbolizer *s, struct sym_process *p, uint64_t lookup);

/* sym_python.c: a CPython frame (bpf/runtime.h) of process p, named, or a SYM_FRAME_LOST
 * frame if its code object could not be read */
void sym_python_frame(struct symbolizer *s, const struct sym_process *p, uint64_t entry,
		      struct sym_frame *out);
void sym_python_free_all(struct symbolizer *s);
/* Whether p's CPython is one whose frames are walked */
bool sym_python_supported(struct symbolizer *s, const struct sym_process *p);

/* sym_v8.c: a JavaScript frame (bpf/runtime.h) of process p, named (with its line if it is
 * interpreted: its bytecode slot holds the function's bytecode, the offset slot where it is),
 * or a SYM_FRAME_LOST frame if its function could not be read */
void sym_v8_frame(struct symbolizer *s, const struct sym_process *p, uint64_t sfi,
		  int32_t bytecode_offset, uint64_t bytecode, struct sym_frame *out);
void sym_v8_free_all(struct symbolizer *s);

/* sym_kernel.c */
const struct sym_kernel_symbol *sym_kernel_lookup(struct symbolizer *s, uint64_t addr);
/* kallsyms read again if one of addrs is not in it and it was read over a second ago: code
 * loaded since (BPF programs, modules) */
void sym_kernel_refresh(struct symbolizer *s, const uint64_t *addrs, size_t n);
bool sym_kernel_is_tracer(const char *name);
void sym_kernel_free(struct symbolizer *s);

#endif
