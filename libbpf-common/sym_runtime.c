// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The runtimes' frames in a user stack: each run of CPython frames in place of the evaluation
 * loop's frame that ran it, each JavaScript function in place of its V8 frame (the entries the
 * BPF half appended, bpf/runtime.h), and a JVM's compiled code named by the perf map it is
 * asked for.
 */
#include <string.h>
#include <time.h>
#include "jvm.h"
#include "sym_internal.h"
#include "unwind.h"
#include "util.h"

#define JVM_PERFMAP_TIMEOUT_MS 5000 /* a JVM's answer; jcmd's own is 10 s */

bool sym_runs_hotspot(struct sym_process *p)
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
const struct sym_jit *sym_jvm_code(struct symbolizer *s, struct sym_process *p, uint64_t lookup)
{
	time_t now = time(NULL);

	if (!s->jvm_perfmap || !sym_runs_hotspot(p) || now == p->perfmap_asked)
		return NULL;
	p->perfmap_asked = now;
	return jvm_perfmap_write(p->pid, JVM_PERFMAP_TIMEOUT_MS) ? NULL :
								   sym_process_jit(s, p, lookup);
}

/* Where the interpreter's frames were: the evaluation loop, once per run of them */
static bool is_python_eval(const struct sym_frame *f)
{
	return f->function && !strcmp(f->function, "_PyEval_EvalFrameDefault");
}

struct runtime_cursor sym_runtime_entries(const uint64_t *addrs, size_t n)
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
		sym_python_frame(s, p, entry, &out[written]);
		if (out[written].kind == SYM_FRAME_LOST) /* named by the interpreter's module */
			out[written].module = eval->module;
		written++;
		if (PY_FRAME_IS_ENTRY(entry))
			return written;
	}
	if (c->n && c->at[0] == PY_ENTRY_BOUNDARY) { /* the end of the run (3.12 and later) */
		c->at++;
		c->n--;
		if (!written)
			out[written++] = *eval; /* the loop had run no frame yet */
	}
	if (written)
		return written;
	if (!c->lost && max >= 2) {
		c->lost = true;
		out[written++] = (struct sym_frame){
			.addr = eval->addr, .kind = SYM_FRAME_LOST, .runtime = SYM_RUNTIME_PYTHON,
			.stop = c->n			      ? RUNTIME_NOTE_LOSS(c->at[0]) :
				p && !sym_python_supported(s, p) ? RUNTIME_LOSS_UNSUPPORTED :
								   RUNTIME_LOSS_NOT_RECORDED,
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
	size_t written = 0;

	if (c->n < 3 || RUNTIME_TAG(c->at[0]) != RUNTIME_JS_TAG ||
	    RUNTIME_TAG(c->at[1]) != RUNTIME_JS_POS_TAG ||
	    RUNTIME_TAG(c->at[2]) != RUNTIME_JS_BYTECODE_TAG || V8_FRAME_DEPTH(c->at[0]) != i ||
	    max < 2)
		return 0;
	sym_v8_frame(s, p, V8_FRAME_SFI(c->at[0]), V8_POS_OFFSET(c->at[1]),
		     V8_BYTECODE_ADDR(c->at[2]), out);
	c->at += 3;
	c->n -= 3;
	if (out[written++].kind == SYM_FRAME_LOST) {
		out[0].module = code->module;
		out[0].build_id = code->build_id;
		out[written++] = *code; /* the frame as it was, after the mark */
	}
	return written;
}

size_t sym_runtime_frames(struct symbolizer *s, struct sym_process *p, struct runtime_cursor *c,
			  size_t i, struct sym_frame *frames, size_t n, size_t max)
{
	struct sym_frame native[MAX_INLINE_DEPTH];
	size_t kept = MIN(n, MAX_INLINE_DEPTH), got;

	/* the runtime's frames are written where the native ones were: those are kept aside */
	memcpy(native, frames, kept * sizeof(*native));
	if (is_python_eval(&native[kept - 1]))
		return python_run(s, p, c, &native[kept - 1], frames, max);
	got = js_frame(s, p, c, i, native, kept, frames, max);
	return got ? got : n;
}
