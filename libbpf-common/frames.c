// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <string.h>
#include "frames.h"
#include "stack_stops.h"

static const char *basename_of(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? slash + 1 : path;
}

const char *frame_kind(const struct sym_frame *f)
{
	if (f->kind == SYM_FRAME_STOP || f->kind == SYM_FRAME_LOST)
		return f->kind == SYM_FRAME_STOP ? "stop" : "lost";
	switch (f->runtime) {
	case SYM_RUNTIME_PYTHON:
		return "python";
	case SYM_RUNTIME_JAVA:
		return "java";
	case SYM_RUNTIME_JS:
		return "js";
	default:
		return f->kernel ? "kernel" : "native";
	}
}

char *frame_format(const struct sym_frame *f, char *buf, size_t len)
{
	int n = 0;

#define APPEND(...)                                                                  \
	do {                                                                         \
		if (n >= 0 && n < (int)len)                                          \
			n += snprintf(buf + n, len - n, __VA_ARGS__);                \
	} while (0)

	if (f->kind == SYM_FRAME_STOP) {
		APPEND("[unwinding stopped: %s", unwind_stop_what(f->stop));
		if (f->module)
			APPEND(" in %s", f->module);
		APPEND("]");
	} else if (f->kind == SYM_FRAME_LOST) {
		APPEND("[runtime frames lost: %s]", unwind_stop_what(f->stop));
	} else if (f->runtime != SYM_RUNTIME_NATIVE) {
		APPEND("%s", f->function ? f->function : "??");
		if (f->file && f->line)
			APPEND(" at %s:%u", f->file, f->line);
		else if (f->file)
			APPEND(" at %s", f->file);
		APPEND(" [%s]", frame_kind(f));
	} else if (f->function || f->file) {
		APPEND("%s", f->function ? f->function : "??");
		if (!f->file && f->function_offset)
			APPEND("+0x%llx", (unsigned long long)f->function_offset);
		if (f->file)
			APPEND(" at %s:%u", f->file, f->line);
		if (f->file && f->column)
			APPEND(":%u", f->column);
		if (f->inlined)
			APPEND(" (inlined)");
		else if (f->kernel && f->module && strcmp(f->module, "[kernel]"))
			APPEND(" %s", f->module); /* [bpf], [ext4] */
		else if (f->module && !f->kernel)
			APPEND(" [%s+0x%llx]", basename_of(f->module),
			       (unsigned long long)f->module_offset);
	} else if (f->module) {
		APPEND("%s+0x%llx", basename_of(f->module), (unsigned long long)f->module_offset);
		if (f->build_id)
			APPEND(" [build-id %s]", f->build_id);
	} else {
		APPEND("0x%llx (%s)", (unsigned long long)f->addr,
		       f->kernel ? "no kernel symbol" : "not in any mapping");
	}
#undef APPEND
	return buf;
}

void frame_json(struct json *j, const struct sym_frame *f)
{
	char addr[24];

	snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)f->addr);
	json_object_begin(j, NULL);
	json_str(j, "kind", frame_kind(f));
	json_str(j, "addr", addr);
	json_str(j, "function", f->function);
	json_u64(j, "offset", f->function_offset);
	json_str(j, "file", f->file);
	json_u64(j, "line", f->line);
	json_u64(j, "column", f->column);
	json_bool(j, "inlined", f->inlined);
	json_bool(j, "kernel", f->kernel);
	json_str(j, "module", f->module);
	json_u64(j, "module_offset", f->module_offset);
	json_str(j, "build_id", f->build_id);
	if (f->kind == SYM_FRAME_STOP)
		json_str(j, "unwind_stop", unwind_stop_key(f->stop));
	if (f->kind == SYM_FRAME_LOST)
		json_str(j, "runtime_loss", unwind_stop_key(f->stop));
	json_object_end(j);
}
