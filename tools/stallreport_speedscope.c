// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The stack model in speedscope's file format: the frames shared, and a "sampled" profile
 * per thread (rows without a thread ID: per process), so that speedscope's profile selector
 * goes from one to the next.  Each row is a sample, its stack root first, weighed by its
 * value.  Within a profile the rows are in the order of their stacks' names, so that the
 * "Time Order" view draws equal stacks side by side, as a flame graph does.
 */
#include <stdlib.h>
#include <string.h>
#include "json.h"
#include "stallreport_formats.h"

#define SPEEDSCOPE_SCHEMA "https://www.speedscope.app/file-format-schema.json"

static int nullable_strcmp(const char *x, const char *y)
{
	if (!x || !y)
		return (x != NULL) - (y != NULL);
	return strcmp(x, y);
}

/* Rows of one host, process and thread (or process, without thread IDs) are one profile */
static int group_cmp(const struct rsample *x, const struct rsample *y)
{
	int c = nullable_strcmp(x->host, y->host);

	if (c)
		return c;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return 0;
}

/* Stacks by their frames' names, root first */
static int stack_cmp(const struct stackset *s, const struct rsample *x, const struct rsample *y)
{
	uint32_t n = x->nframes < y->nframes ? x->nframes : y->nframes;
	int c;

	for (uint32_t i = 0; i < n; i++) {
		if (x->frames[i] == y->frames[i])
			continue;
		c = strcmp(s->frames[x->frames[i]].name, s->frames[y->frames[i]].name);
		if (c)
			return c;
		return x->frames[i] < y->frames[i] ? -1 : 1;
	}
	if (x->nframes != y->nframes)
		return x->nframes < y->nframes ? -1 : 1;
	return 0;
}

static int row_cmp(const void *p, const void *q, void *arg)
{
	const struct stackset *s = arg;
	const struct rsample *x = &s->samples[*(const size_t *)p];
	const struct rsample *y = &s->samples[*(const size_t *)q];
	int c = group_cmp(x, y);

	return c ? c : stack_cmp(s, x, y);
}

/* The rows' indexes, grouped by profile; NULL if out of memory */
static size_t *rows_in_order(const struct stackset *s)
{
	size_t *order = malloc((s->nsamples ? s->nsamples : 1) * sizeof(*order));

	if (!order)
		return NULL;
	for (size_t i = 0; i < s->nsamples; i++)
		order[i] = i;
	qsort_r(order, s->nsamples, sizeof(*order), row_cmp, (void *)s);
	return order;
}

static bool several_hosts(const struct stackset *s)
{
	for (size_t i = 1; i < s->nsamples; i++)
		if (nullable_strcmp(s->samples[i].host, s->samples[0].host))
			return true;
	return false;
}

static void write_frames(struct json *j, const struct stackset *s)
{
	json_object_begin(j, "shared");
	json_array_begin(j, "frames");
	for (size_t i = 0; i < s->nframes; i++) {
		const struct rframe *f = &s->frames[i];

		json_object_begin(j, NULL);
		json_str(j, "name", f->name);
		if (f->file)
			json_str(j, "file", f->file);
		if (f->line)
			json_u64(j, "line", f->line);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
}

/* "comm (pid)" or "comm (pid/tid)", and the host when there are several */
static void profile_name(char *buf, size_t len, const struct rsample *row, bool host)
{
	const char *comm = row->comm ? row->comm : "[unknown]";
	int n;

	if (!row->comm && !row->pid)
		n = snprintf(buf, len, "[no process]");
	else if (row->tid)
		n = snprintf(buf, len, "%s (%u/%u)", comm, row->pid, row->tid);
	else
		n = snprintf(buf, len, "%s (%u)", comm, row->pid);
	if (host && row->host && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - n, " on %s", row->host);
}

/* The total of n rows' values */
static uint64_t rows_total(const struct stackset *s, const size_t *rows, size_t n)
{
	uint64_t total = 0;

	for (size_t i = 0; i < n; i++)
		total += s->samples[rows[i]].value;
	return total;
}

/* One profile of n rows (of one group); its total */
static uint64_t write_profile(struct json *j, const struct stackset *s, const size_t *rows,
			      size_t n, bool host)
{
	uint64_t total = rows_total(s, rows, n);
	char name[512];

	profile_name(name, sizeof(name), &s->samples[rows[0]], host);
	json_object_begin(j, NULL);
	json_str(j, "type", "sampled");
	json_str(j, "name", name);
	json_str(j, "unit", s->unit && !strcmp(s->unit, "nanoseconds") ? "nanoseconds" : "none");
	json_u64(j, "startValue", 0);
	json_u64(j, "endValue", total);
	json_array_begin(j, "samples");
	for (size_t i = 0; i < n; i++) {
		const struct rsample *row = &s->samples[rows[i]];

		json_array_begin(j, NULL);
		for (uint32_t k = 0; k < row->nframes; k++)
			json_u64(j, NULL, row->frames[k]);
		json_array_end(j);
	}
	json_array_end(j);
	json_array_begin(j, "weights");
	for (size_t i = 0; i < n; i++)
		json_u64(j, NULL, s->samples[rows[i]].value);
	json_array_end(j);
	json_object_end(j);
	return total;
}

/* A profile per group of rows; the index of the heaviest, which speedscope opens first */
static size_t write_profiles(struct json *j, const struct stackset *s, const size_t *order)
{
	bool host = several_hosts(s);
	size_t profile = 0, heaviest = 0;
	uint64_t most = 0;

	json_array_begin(j, "profiles");
	for (size_t start = 0, end; start < s->nsamples; start = end, profile++) {
		const struct rsample *first = &s->samples[order[start]];
		uint64_t total;

		for (end = start + 1; end < s->nsamples; end++)
			if (group_cmp(first, &s->samples[order[end]]))
				break;
		total = write_profile(j, s, order + start, end - start, host);
		if (total > most) {
			most = total;
			heaviest = profile;
		}
	}
	json_array_end(j);
	return heaviest;
}

int speedscope_write(FILE *out, const struct stackset *s)
{
	size_t *order = rows_in_order(s);
	struct json j;

	if (!order) {
		fprintf(stderr, "stallreport: speedscope: out of memory\n");
		return -1;
	}
	json_init(&j, out);
	json_object_begin(&j, NULL);
	json_str(&j, "$schema", SPEEDSCOPE_SCHEMA);
	json_str(&j, "name", s->title ? s->title : s->tool ? s->tool : "stallkit");
	json_str(&j, "exporter", "stallkit stallreport");
	write_frames(&j, s);
	json_u64(&j, "activeProfileIndex", write_profiles(&j, s, order));
	json_object_end(&j);
	json_line_end(&j);
	free(order);
	return 0;
}
