// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdlib.h>
#include <string.h>
#include "stack_stops.h"
#include "units.h"
#include "unwind.h"

static const struct {
	const char *what;
	const char *key;
} stops[UNWIND_STOPS] = {
	[UNWIND_STOP_ROOT] = { "the thread's first frame", "root" },
	[UNWIND_STOP_NO_INFO] = { "no unwind info", "no_unwind_info" },
	[UNWIND_STOP_UNREADABLE] = { "stack not readable", "stack_not_readable" },
	[UNWIND_STOP_DEPTH] = { "depth limit", "depth_limit" },
	[UNWIND_STOP_NOT_MAPPED] = { "return address in no executable mapping", "not_mapped" },
	[UNWIND_STOP_JIT] = { "code of no file (JIT)", "jit" },
	[UNWIND_STOP_NOT_READY] = { "unwind table not ready yet", "table_not_ready" },
	[UNWIND_STOP_UNSUPPORTED] = { "unwind rule not supported", "rule_not_supported" },
	[UNWIND_STOP_TABLE_FULL] = { "unwind table storage full", "table_storage_full" },
	[UNWIND_STOP_BAD_FRAME] = { "caller's frame below the frame", "bad_frame" },
};

static const struct {
	const char *what;
	const char *key;
} runtime_losses[RUNTIME_LOSS_LAST - RUNTIME_LOSS_FIRST] = {
	[RUNTIME_LOSS_THREAD - RUNTIME_LOSS_FIRST] = { "python: no interpreter state for the thread",
						       "python_thread_not_found" },
	[RUNTIME_LOSS_UNREADABLE - RUNTIME_LOSS_FIRST] = { "python: interpreter memory not readable",
							   "python_not_readable" },
	[RUNTIME_LOSS_DEPTH - RUNTIME_LOSS_FIRST] = { "python: more frames than a stack holds",
						      "python_depth_limit" },
	[RUNTIME_LOSS_UNSUPPORTED - RUNTIME_LOSS_FIRST] = { "python: version not supported",
							    "python_unsupported" },
	[RUNTIME_LOSS_NOT_RECORDED - RUNTIME_LOSS_FIRST] = { "python: not recorded with the stack",
							     "python_not_recorded" },
	[RUNTIME_LOSS_CODE - RUNTIME_LOSS_FIRST] = { "python: code object not readable",
						     "python_code_not_readable" },
	[RUNTIME_LOSS_JS_DEPTH - RUNTIME_LOSS_FIRST] = { "javascript: more functions than a stack holds",
							 "js_depth_limit" },
	[RUNTIME_LOSS_JS_FUNCTION - RUNTIME_LOSS_FIRST] = { "javascript: function not readable",
							    "js_function_not_readable" },
};

const char *unwind_stop_what(unsigned int stop)
{
	if (stop >= RUNTIME_LOSS_FIRST && stop < RUNTIME_LOSS_LAST)
		return runtime_losses[stop - RUNTIME_LOSS_FIRST].what;
	return stop < UNWIND_STOPS ? stops[stop].what : "unknown reason";
}

const char *unwind_stop_key(unsigned int stop)
{
	if (stop >= RUNTIME_LOSS_FIRST && stop < RUNTIME_LOSS_LAST)
		return runtime_losses[stop - RUNTIME_LOSS_FIRST].key;
	return stop < UNWIND_STOPS ? stops[stop].key : "unknown";
}

static bool same_module(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* One stack's stop or loss (a frame of kind SYM_FRAME_STOP or SYM_FRAME_LOST) */
static void add_one(struct stack_stops *t, const struct sym_frame *mark, uint64_t events,
		    uint64_t total_ns)
{
	struct stack_stop *s = NULL;

	for (size_t i = 0; i < t->n && !s; i++)
		if (t->at[i].stop == mark->stop && same_module(t->at[i].module, mark->module))
			s = &t->at[i];
	if (!s) {
		if (t->n == t->cap) {
			size_t cap = t->cap ? 2 * t->cap : 8;
			struct stack_stop *at = realloc(t->at, cap * sizeof(*at));

			if (!at)
				return;
			t->at = at;
			t->cap = cap;
		}
		s = &t->at[t->n++];
		*s = (struct stack_stop){ .stop = mark->stop,
					  .module = mark->module ? strdup(mark->module) : NULL };
	}
	s->stacks += events;
	s->total_ns += total_ns;
}

void stack_stops_add(struct stack_stops *t, const struct sym_frame *frames, size_t n,
		     uint64_t events, uint64_t total_ns)
{
	unsigned int counted = 0; /* a stack counts once for each reason, by its bit */

	for (size_t i = 0; i < n; i++) {
		unsigned int bit = 1u << (frames[i].stop & 31);

		if (frames[i].kind == SYM_FRAME_LOST && !(counted & bit)) {
			counted |= bit;
			add_one(t, &frames[i], events, total_ns);
		}
	}
	if (n && frames[n - 1].kind == SYM_FRAME_STOP)
		add_one(t, &frames[n - 1], events, total_ns);
}

void stack_stops_clear(struct stack_stops *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->at[i].module);
	free(t->at);
	*t = (struct stack_stops){ 0 };
}

void stack_stops_print(FILE *out, const struct stack_stops *t)
{
	char d[16];

	for (size_t i = 0; i < t->n; i++) {
		const struct stack_stop *s = &t->at[i];

		fprintf(out, "%s: %llu stack%s",
			s->stop >= RUNTIME_LOSS_FIRST ? "runtime frames lost" : "unwind stopped",
			(unsigned long long)s->stacks, s->stacks == 1 ? "" : "s");
		if (s->total_ns)
			fprintf(out, " (%s)", format_duration(d, sizeof(d), s->total_ns));
		fprintf(out, ": %s%s%s\n", unwind_stop_what(s->stop), s->module ? " in " : "",
			s->module ? s->module : "");
	}
}

void stack_stops_json(struct json *j, const struct stack_stops *t)
{
	json_array_begin(j, "unwind_stops");
	for (size_t i = 0; i < t->n; i++) {
		json_object_begin(j, NULL);
		json_str(j, "reason", unwind_stop_key(t->at[i].stop));
		json_str(j, "module", t->at[i].module);
		json_u64(j, "stacks", t->at[i].stacks);
		json_u64(j, "total_ns", t->at[i].total_ns);
		json_object_end(j);
	}
	json_array_end(j);
}
