// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Every tool's JSON reports name their stacks the same way (frames as frames.c writes them,
 * innermost first); what differs is where the rows are and what they count:
 *   offcputime, profile, syslat: "stacks" arrays of aggregated rows (count, total_ns);
 *   dnsblock: a "stack" on each lookup (its latency), tcpretrans: on each drop (one).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include "stallreport_extract.h"

#define MAX_ROW_FRAMES 1024
#define ROW_INVALID    -3 /* add_row(): a row out of range (-1, -2: as stackset_add()) */

struct tool_kind {
	const char *tool;
	const char *unit, *value_type, *count_type;
	const char *rows;      /* the array of a report that holds rows; NULL: the report is one
				* if it has a "stack" */
	const char *value_key; /* NULL: each row counts one */
	const char *count_key; /* NULL: one */
	const char *type;      /* only the reports of this type (NULL: all) */
	bool text_is_stacks;   /* the text report is the stacks, nothing else */
};

static const struct tool_kind kinds[] = {
	{ "offcputime", "nanoseconds", "off_cpu", "blocks", "stacks", "total_ns", "count", NULL,
	  true },
	{ "profile", "nanoseconds", "cpu", "samples", "stacks", "total_ns", "count", NULL, true },
	{ "syslat", "nanoseconds", "latency", "calls", "stacks", "total_ns", "count", NULL, false },
	{ "dnsblock", "nanoseconds", "latency", "lookups", NULL, "latency_ns", NULL, "lookup",
	  false },
	/* the summary's drops cover the run; the intervals' would count them twice */
	{ "tcpretrans", "count", "drops", "drops", "drop_reasons", "drops", "drops", "summary",
	  false },
};

static const struct tool_kind *kind_of(const struct capture_data *d)
{
	const char *tool = capture_str(d->meta, "tool");

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kinds[i].tool, tool))
			return &kinds[i];
	return NULL;
}

/* "FILE: offset N: ..." for the record of report number report (SIZE_MAX: the metadata) */
static int error(char *err, size_t len, const struct capture_data *d, size_t report,
		 const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, len, "%s: offset %zu: ", d->name,
			 report < d->nreports ? d->report_offsets[report] : 0);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < len)
		vsnprintf(err + n, len - n, fmt, ap);
	va_end(ap);
	return -1;
}

/* A non-negative integer member, or def if absent; -1 if present but not one */
static int get_u64(const json_t *obj, const char *key, uint64_t def, uint64_t *out)
{
	const json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v)) {
		*out = def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = json_integer_value(v);
	return 0;
}

static int64_t frame_of(struct stackset *s, const json_t *f)
{
	const char *function = capture_str(f, "function");
	const char *module = capture_str(f, "module");
	const char *stop = capture_str(f, "unwind_stop");
	const char *lost = capture_str(f, "runtime_loss");
	const char *kind = capture_str(f, "kind");
	struct rframe r = {
		.file = capture_str(f, "file"),
		.module = module,
		.build_id = capture_str(f, "build_id"),
		.kernel = json_is_true(json_object_get(f, "kernel")),
		.inlined = json_is_true(json_object_get(f, "inlined")),
	};
	uint64_t line, offset;
	char buf[512];

	if (!json_is_object(f) || get_u64(f, "line", 0, &line) || line > UINT32_MAX ||
	    get_u64(f, "module_offset", 0, &offset))
		return ROW_INVALID;
	r.line = line;
	r.module_offset = offset;
	if (kind && (!strcmp(kind, "python") || !strcmp(kind, "js") || !strcmp(kind, "java")))
		r.runtime = kind;
	if (lost) {
		snprintf(buf, sizeof(buf), "[lost: %s]", lost);
		r.synthetic = true;
		r.file = NULL;
	} else if (stop) {
		snprintf(buf, sizeof(buf), "[stop: %s]", stop);
		r.synthetic = true;
		r.file = NULL;
	} else if (function) {
		snprintf(buf, sizeof(buf), "%s", function);
	} else if (module) {
		const char *base = strrchr(module, '/');

		snprintf(buf, sizeof(buf), "%s+0x%" PRIx64, base ? base + 1 : module, offset);
	} else {
		snprintf(buf, sizeof(buf), "%s", capture_str(f, "addr") ?: "[unknown]");
	}
	r.name = buf;
	return stackset_frame(s, &r);
}

static int64_t synthetic(struct stackset *s, const char *fmt, const char *a, const char *b)
{
	char buf[512];

	snprintf(buf, sizeof(buf), fmt, a, b ? b : "");
	return stackset_frame(s, &(struct rframe){ .name = buf, .synthetic = true });
}

struct row_builder {
	uint32_t frames[MAX_ROW_FRAMES];
	uint32_t n;
	bool failed; /* out of memory, or not a frame */
};

static void push(struct row_builder *b, int64_t frame)
{
	if (frame < 0)
		b->failed = true;
	else if (b->n < MAX_ROW_FRAMES)
		b->frames[b->n++] = frame;
}

/* A stack array, innermost first, pushed root first */
static void push_stack(struct stackset *s, struct row_builder *b, const json_t *stack)
{
	if (!stack || json_is_null(stack))
		return;
	if (!json_is_array(stack)) {
		b->failed = true;
		return;
	}
	for (size_t i = json_array_size(stack); i-- > 0;)
		push(b, frame_of(s, json_array_get(stack, i)));
}

static const char *origin_name(const char *origin)
{
	return !origin ? NULL : !strcmp(origin, "before_trace") ? "[before the trace]" :
				!strcmp(origin, "new_thread") ? "[new thread]" : "[origin?]";
}

/* The leaf that says what the row counts: a state, a system call, a lookup, a drop */
static int64_t leaf_of(struct stackset *s, const struct tool_kind *k, const json_t *row,
		       bool wall)
{
	const char *state = capture_str(row, "state");

	if (!strcmp(k->tool, "offcputime") || (wall && state))
		return synthetic(s, "[%s]%s", state ?: "?", NULL);
	if (!strcmp(k->tool, "syslat"))
		return synthetic(s, "[%s]%s", capture_str(row, "name") ?: "?", NULL);
	if (!strcmp(k->tool, "dnsblock"))
		return synthetic(s, "[%s %s]", capture_str(row, "via") ?: "lookup",
				 capture_str(row, "name"));
	if (!strcmp(k->tool, "tcpretrans"))
		return synthetic(s, "[drop: %s]%s", capture_str(row, "reason") ?: "?",
				 NULL);
	return INT64_MAX; /* none */
}

static bool keep(const struct extract_filter *f, uint64_t pid, const char *comm)
{
	return (!f->pid || f->pid == pid) && (!f->comm || (comm && !strcmp(f->comm, comm)));
}

static int add_row(struct stackset *s, const struct tool_kind *k, const json_t *row,
		   const struct capture_data *d, const struct extract_filter *f, bool wall)
{
	const char *comm = capture_str(row, "comm");
	const char *host = extract_host(d);
	struct row_builder b = { .n = 0 };
	uint64_t pid, tid, count, value;
	int64_t leaf;

	if (!json_is_object(row) || get_u64(row, "pid", 0, &pid) || get_u64(row, "tid", 0, &tid) ||
	    pid > UINT32_MAX || tid > UINT32_MAX ||
	    get_u64(row, k->count_key ? k->count_key : "", 1, &count) ||
	    get_u64(row, k->value_key ? k->value_key : "", 1, &value))
		return ROW_INVALID;
	if (!keep(f, pid, comm))
		return 0;
	if (f->host_frames)
		push(&b, synthetic(s, "[host %s]%s", host ?: "?", NULL));
	if (comm)
		push(&b, synthetic(s, "%s%s", comm, NULL));
	if (capture_str(row, "origin"))
		push(&b, synthetic(s, "%s%s", origin_name(capture_str(row, "origin")),
				   NULL));
	push_stack(s, &b, json_object_get(row, "user_stack"));
	push_stack(s, &b, json_object_get(row, "kernel_stack"));
	push_stack(s, &b, json_object_get(row, "stack"));
	leaf = leaf_of(s, k, row, wall);
	if (leaf != INT64_MAX)
		push(&b, leaf);
	if (b.failed)
		return ROW_INVALID;
	return stackset_add(s, &(struct rsample){
		.frames = b.frames, .nframes = b.n, .pid = pid, .tid = tid, .comm = comm,
		.state = capture_str(row, "state"), .host = host,
		.count = count, .value = value });
}

/* Adds a, refusing to wrap */
static int add_checked(uint64_t *sum, uint64_t a)
{
	if (*sum + a < *sum)
		return -1;
	*sum += a;
	return 0;
}

static int take_kind(struct stackset *s, const struct tool_kind *k, const struct capture_data *d,
		     char *err, size_t errlen)
{
	if (s->tool && strcmp(s->tool, k->tool))
		return error(err, errlen, d, SIZE_MAX, "a capture of %s cannot be merged with %s's",
			     k->tool, s->tool);
	s->tool = k->tool;
	s->unit = k->unit;
	s->value_type = k->value_type;
	s->count_type = k->count_type;
	return 0;
}

int extract_stacks(struct stackset *s, const struct capture_data *d,
		   const struct extract_filter *f, char *err, size_t errlen)
{
	const struct tool_kind *k = kind_of(d);
	uint64_t duration;

	if (!k)
		return error(err, errlen, d, SIZE_MAX, "a capture of an unknown tool (%s)",
			     capture_str(d->meta, "tool"));
	if (take_kind(s, k, d, err, errlen))
		return -1;
	for (size_t r = 0; r < d->nreports; r++) {
		const json_t *rep = d->reports[r];
		const char *type = capture_str(rep, "type");
		const json_t *rows = k->rows ? json_object_get(rep, k->rows) : NULL;
		bool wall = json_object_get(rep, "threads") != NULL;
		int rc = 0;

		if (get_u64(rep, "duration_ns", 0, &duration) || add_checked(&s->duration_ns, duration))
			return error(err, errlen, d, r, "a duration out of range");
		if (k->type && (!type || strcmp(type, k->type)))
			continue;
		if (rows && !json_is_array(rows))
			return error(err, errlen, d, r, "\"%s\" is not an array", k->rows);
		if (wall)
			s->value_type = "wall";
		for (size_t i = 0; rows && i < json_array_size(rows) && !rc; i++)
			rc = add_row(s, k, json_array_get(rows, i), d, f, wall);
		if (!k->rows && json_object_get(rep, "stack"))
			rc = add_row(s, k, rep, d, f, false);
		if (rc == ROW_INVALID)
			return error(err, errlen, d, r, "a stack row with a value, an ID or a frame "
				     "out of range");
		if (rc == -2)
			return error(err, errlen, d, r, "values so large that their sum overflows");
		if (rc)
			return error(err, errlen, d, r, "out of memory");
	}
	/* the profiler's rows are samples: what one is worth */
	if (!strcmp(s->tool, "profile") && !strcmp(s->value_type, "cpu") && s->count)
		s->period_ns = s->total / s->count;
	return 0;
}

bool extract_text_is_stacks(const struct capture_data *d)
{
	const struct tool_kind *k = kind_of(d);

	return k && k->text_is_stacks;
}

const char *extract_host(const struct capture_data *d)
{
	const char *tag = capture_str(json_object_get(d->meta, "tags"), "host");

	return tag && *tag ? tag : capture_str(d->meta, "host");
}
