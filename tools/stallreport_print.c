// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"
#include "stallreport_print.h"

static const char *str_or(const json_t *obj, const char *key, const char *def)
{
	const char *s = capture_str(obj, key);

	return s ? s : def;
}

static void print_targets(FILE *out, const json_t *meta)
{
	const json_t *targets = json_object_get(meta, "targets");
	size_t i;
	json_t *t;

	if (!json_array_size(targets))
		fprintf(out, "  targets:   every process%s%s%s%s\n",
			capture_str(meta, "comm_filter") ? ", --comm " : "",
			str_or(meta, "comm_filter", ""),
			capture_str(meta, "cgroup_filter") ? ", --cgroup " : "",
			str_or(meta, "cgroup_filter", ""));
	json_array_foreach(targets, i, t) {
		json_int_t id = json_integer_value(json_object_get(t, json_object_get(t, "pid") ?
								     "pid" : "tid"));

		fprintf(out, "  target:    %s %" JSON_INTEGER_FORMAT " (%s): %s\n",
			json_object_get(t, "pid") ? "pid" : "tid", id, str_or(t, "comm", "?"),
			str_or(t, "cmdline", "exited"));
	}
}

void print_info(FILE *out, const struct capture_data *d)
{
	const json_t *m = d->meta, *argv = json_object_get(m, "argv"), *v;
	const char *key;
	size_t i;

	fprintf(out, "%s\n", d->name);
	fprintf(out, "  tool:      %s (stallkit %s, capture format %s)\n", str_or(m, "tool", "?"),
		str_or(m, "stallkit_version", "?"), str_or(m, "version", "?"));
	fprintf(out, "  command:  ");
	json_array_foreach(argv, i, v)
		fprintf(out, " %s", json_string_value(v) ? json_string_value(v) : "?");
	fprintf(out, "\n  host:      %s (kernel %s, boot %s)\n", str_or(m, "host", "?"),
		str_or(m, "kernel", "?"), str_or(m, "boot_id", "?"));
	fprintf(out, "  user:      %s\n", str_or(m, "user", "?"));
	fprintf(out, "  reason:    %s\n", str_or(m, "reason", "(none given)"));
	json_object_foreach((json_t *)json_object_get(m, "tags"), key, v)
		fprintf(out, "  tag:       %s=%s\n", key, json_string_value(v) ?: "");
	print_targets(out, m);
	fprintf(out, "  start:     %s\n", str_or(m, "start_time", "?"));
	fprintf(out, "  end:       %s (%s)\n", str_or(d->end, "end_time", "?"),
		str_or(d->end, "end_reason", "?"));
	fprintf(out, "  reports:   %zu, %zu bytes of text", d->nreports, d->text_len);
	if (d->unknown)
		fprintf(out, ", %zu records of sections this version does not know", d->unknown);
	fputs("\n", out);
}

char *capture_title(const struct capture_data *d)
{
	const json_t *m = d->meta, *targets = json_object_get(m, "targets"), *t, *v;
	char *buf = NULL;
	size_t len = 0, i;
	const char *key;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fprintf(f, "%s on %s", str_or(m, "tool", "?"), str_or(m, "host", "?"));
	json_array_foreach(targets, i, t)
		fprintf(f, ", %s %" JSON_INTEGER_FORMAT " (%s)",
			json_object_get(t, "pid") ? "pid" : "tid",
			json_integer_value(json_object_get(t, json_object_get(t, "pid") ? "pid" :
									      "tid")),
			str_or(t, "comm", "?"));
	fprintf(f, ", %s to %s", str_or(m, "start_time", "?"), str_or(d->end, "end_time", "?"));
	json_object_foreach((json_t *)json_object_get(m, "tags"), key, v)
		fprintf(f, ", %s=%s", key, json_string_value(v) ?: "");
	fclose(f);
	return buf;
}

char *format_value(char *buf, size_t len, const struct stackset *s, uint64_t value)
{
	if (strcmp(s->unit, "nanoseconds"))
		snprintf(buf, len, "%" PRIu64 " %s", value, s->count_type);
	else if (value >= 1000000000)
		snprintf(buf, len, "%.2f s", value / 1e9);
	else if (value >= 1000000)
		snprintf(buf, len, "%.1f ms", value / 1e6);
	else
		snprintf(buf, len, "%" PRIu64 " us", value / 1000);
	return buf;
}

static int by_value(const void *a, const void *b)
{
	const struct rsample *x = *(const struct rsample *const *)a;
	const struct rsample *y = *(const struct rsample *const *)b;

	if (x->value != y->value)
		return x->value > y->value ? -1 : 1;
	return (x->nframes < y->nframes) - (x->nframes > y->nframes);
}

/* The rows of s, the largest value first (ties: the more frames first); free() the array */
static size_t rows_by_value(const struct stackset *s, const struct rsample ***out)
{
	const struct rsample **rows = calloc(s->nsamples + 1, sizeof(*rows));

	*out = rows;
	if (!rows)
		return 0;
	for (size_t i = 0; i < s->nsamples; i++)
		rows[i] = &s->samples[i];
	qsort(rows, s->nsamples, sizeof(*rows), by_value);
	return s->nsamples;
}

static void print_frame(FILE *out, const struct rframe *f)
{
	const char *base = f->module ? strrchr(f->module, '/') : NULL;

	fprintf(out, "    %s", f->name);
	if (f->file)
		fprintf(out, " at %s:%u", f->file, f->line);
	if (f->inlined)
		fputs(" (inlined)", out);
	else if (f->module && !f->kernel && f->file)
		fprintf(out, " [%s+0x%" PRIx64 "]", base ? base + 1 : f->module, f->module_offset);
	fputc('\n', out);
}

void print_stack_blocks(FILE *out, const struct stackset *s, size_t top)
{
	const struct rsample **rows;
	size_t n = rows_by_value(s, &rows);
	char v[32];

	if (top && top < n)
		n = top;
	for (size_t i = 0; i < n; i++) {
		const struct rsample *r = rows[i];

		/* innermost first, the synthetic frames (host, comm, state) on the label line */
		for (uint32_t f = r->nframes; f-- > 0;)
			if (!s->frames[r->frames[f]].synthetic)
				print_frame(out, &s->frames[r->frames[f]]);
		fprintf(out, "    -                %s (%u", r->comm ? r->comm : "?", r->pid);
		if (r->tid)
			fprintf(out, "/%u", r->tid);
		fprintf(out, ")%s%s\n", r->host ? " on " : "", r->host ? r->host : "");
		fprintf(out, "        %s%s%s in %" PRIu64 " %s\n\n", r->state ? r->state : "",
			r->state ? " " : "", format_value(v, sizeof(v), s, r->value), r->count,
			s->count_type);
	}
	if (!s->nsamples)
		fprintf(out, "No stacks.\n");
	fprintf(out, "Total: %s in %zu rows\n", format_value(v, sizeof(v), s, s->total),
		s->nsamples);
	free(rows);
}

/* As the tools' -f: microseconds, or the profiler's samples, or counts */
static uint64_t folded_value(const struct stackset *s, const struct rsample *r)
{
	if (strcmp(s->unit, "nanoseconds"))
		return r->value;
	return strcmp(s->value_type, "cpu") ? r->value / 1000 : r->count;
}

void print_folded(FILE *out, const struct stackset *s)
{
	for (size_t i = 0; i < s->nsamples; i++) {
		const struct rsample *r = &s->samples[i];

		for (uint32_t f = 0; f < r->nframes; f++) {
			if (f)
				fputc(';', out);
			for (const char *p = s->frames[r->frames[f]].name; *p; p++)
				fputc(*p == ';' ? ':' : *p, out);
		}
		fprintf(out, " %" PRIu64 "\n", folded_value(s, r));
	}
}

static void json_frame(struct json *j, const struct rframe *f)
{
	json_object_begin(j, NULL);
	json_str(j, "name", f->name);
	json_str(j, "file", f->file);
	json_u64(j, "line", f->line);
	json_str(j, "module", f->module);
	json_u64(j, "module_offset", f->module_offset);
	json_str(j, "build_id", f->build_id);
	json_str(j, "kind", f->runtime	 ? f->runtime :
			    f->synthetic ? "label" :
			    f->kernel	 ? "kernel" :
					   "native");
	json_bool(j, "kernel", f->kernel);
	json_bool(j, "inlined", f->inlined);
	json_bool(j, "synthetic", f->synthetic);
	json_object_end(j);
}

/* A jansson value through our writer (the captures' own reports) */
static void json_value(struct json *j, const char *key, json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	json_raw(j, key, text ? text : "null");
	free(text);
}

void print_json(FILE *out, const struct stackset *s, const struct capture_data *caps,
		size_t ncaps, size_t top)
{
	const struct rsample **rows;
	size_t n = rows_by_value(s, &rows);
	struct json j;

	if (top && top < n)
		n = top;
	json_init(&j, out);
	json_object_begin(&j, NULL);
	json_str(&j, "tool", s->tool);
	json_array_begin(&j, "captures");
	for (size_t c = 0; c < ncaps; c++) {
		json_object_begin(&j, NULL);
		json_str(&j, "file", caps[c].name);
		json_value(&j, "meta", caps[c].meta);
		json_value(&j, "end", caps[c].end);
		json_array_begin(&j, "reports");
		for (size_t r = 0; r < caps[c].nreports; r++)
			json_value(&j, NULL, caps[c].reports[r]);
		json_array_end(&j);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_str(&j, "unit", s->unit);
	json_str(&j, "value_type", s->value_type);
	json_str(&j, "count_type", s->count_type);
	json_u64(&j, "duration_ns", s->duration_ns);
	json_u64(&j, "total", s->total);
	json_array_begin(&j, "stacks");
	for (size_t i = 0; i < n; i++) {
		json_object_begin(&j, NULL);
		json_u64(&j, "pid", rows[i]->pid);
		if (rows[i]->tid)
			json_u64(&j, "tid", rows[i]->tid);
		json_str(&j, "comm", rows[i]->comm);
		json_str(&j, "state", rows[i]->state);
		json_str(&j, "host", rows[i]->host);
		json_u64(&j, "count", rows[i]->count);
		json_u64(&j, "value", rows[i]->value);
		json_array_begin(&j, "frames");
		for (uint32_t f = 0; f < rows[i]->nframes; f++)
			json_frame(&j, &s->frames[rows[i]->frames[f]]);
		json_array_end(&j);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
	json_line_end(&j);
	free(rows);
}
