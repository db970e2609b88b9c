// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Two captures compared: each function's time (inclusive: the rows whose stack holds it, once
 * per row) and each stack's time (by the names of its frames, whatever the process IDs), base
 * scaled to after's duration, sorted by the size of the change.
 */
#include <inttypes.h>
#include <math.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"
#include "stallreport_diff.h"
#include "stallreport_formats.h"
#include "stallreport_print.h"

struct change {
	char *key; /* a function's name, or a stack's folded names */
	double base, after;
	unsigned int rank; /* the size of the change in percent of the largest */
};

struct changes {
	void *tree;
	struct change **all;
	size_t n, cap;
	bool failed;
};

static int key_cmp(const void *a, const void *b)
{
	return strcmp(((const struct change *)a)->key, ((const struct change *)b)->key);
}

static struct change *change_of(struct changes *c, const char *key)
{
	struct change probe = { .key = (char *)key }, *e, **found;

	found = tfind(&probe, &c->tree, key_cmp);
	if (found)
		return *found;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct change **all = realloc(c->all, cap * sizeof(*all));

		if (!all)
			return NULL;
		c->all = all;
		c->cap = cap;
	}
	e = calloc(1, sizeof(*e));
	if (!e || !(e->key = strdup(key)) || !tsearch(e, &c->tree, key_cmp)) {
		if (e)
			free(e->key);
		free(e);
		return NULL;
	}
	c->all[c->n++] = e;
	return e;
}

static void add(struct changes *c, const char *key, double value, bool after)
{
	struct change *e = change_of(c, key);

	if (!e) {
		c->failed = true;
		return;
	}
	if (after)
		e->after += value;
	else
		e->base += value;
}

/* The frames of a row as one string: host labels left out, so hosts compare */
static char *folded_key(const struct stackset *s, const struct rsample *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	bool first = true;

	if (!f)
		return NULL;
	for (uint32_t i = 0; i < r->nframes; i++) {
		const struct rframe *fr = &s->frames[r->frames[i]];

		if (fr->synthetic && !strncmp(fr->name, "[host ", 6))
			continue;
		fprintf(f, "%s%s", first ? "" : ";", fr->name);
		first = false;
	}
	fclose(f);
	return buf;
}

/* Whether row r already counted frame name before position i */
static bool seen_before(const struct stackset *s, const struct rsample *r, uint32_t i)
{
	for (uint32_t k = 0; k < i; k++)
		if (!strcmp(s->frames[r->frames[k]].name, s->frames[r->frames[i]].name))
			return true;
	return false;
}

static void tally(struct changes *fns, struct changes *stacks, const struct stackset *s,
		  double scale, bool after)
{
	for (size_t i = 0; i < s->nsamples; i++) {
		const struct rsample *r = &s->samples[i];
		double v = r->value * scale;
		char *key = folded_key(s, r);

		if (!key) {
			stacks->failed = true;
			continue;
		}
		add(stacks, key, v, after);
		free(key);
		for (uint32_t f = 0; f < r->nframes; f++)
			if (!s->frames[r->frames[f]].synthetic && !seen_before(s, r, f))
				add(fns, s->frames[r->frames[f]].name, v, after);
	}
}

/* The change relative to the base (a new one: the largest) */
static double relative(const struct change *c)
{
	return c->base > 0 ? fabs(c->after - c->base) / c->base : INFINITY;
}

/*
 * Changes within a percent of the largest of each other are one size; of those, the largest
 * relative change first: the function a change is about has less other time than its callers
 * and the kernel functions every stack passes through (schedule()), whose change is the same.
 */
static int by_change(const void *a, const void *b)
{
	const struct change *x = *(struct change *const *)a, *y = *(struct change *const *)b;
	double rx = relative(x), ry = relative(y);

	if (x->rank != y->rank)
		return x->rank > y->rank ? -1 : 1;
	if (rx != ry)
		return rx > ry ? -1 : 1;
	return strcmp(x->key, y->key);
}

static void sort_changes(struct changes *c)
{
	double largest = 0;

	for (size_t i = 0; i < c->n; i++)
		largest = fmax(largest, fabs(c->all[i]->after - c->all[i]->base));
	for (size_t i = 0; i < c->n; i++)
		c->all[i]->rank = largest > 0 ? (unsigned int)lround(100 * fabs(c->all[i]->after -
									  c->all[i]->base) / largest) : 0;
	if (c->n > 1)
		qsort(c->all, c->n, sizeof(*c->all), by_change);
}

static void free_change(void *p)
{
	struct change *c = p;

	free(c->key);
	free(c);
}

static void changes_free(struct changes *c)
{
	tdestroy(c->tree, free_change);
	free(c->all);
}

static double scale_of(const struct stackset *base, const struct stackset *after)
{
	uint64_t bt = base->total, at = after->total;

	if (base->duration_ns && after->duration_ns)
		return (double)after->duration_ns / base->duration_ns;
	return bt && at ? (double)at / bt : 1.0;
}

static char *signed_value(char *buf, size_t len, const struct stackset *s, double v)
{
	buf[0] = v < 0 ? '-' : '+';
	format_value(buf + 1, len - 1, s, (uint64_t)llround(fabs(v)));
	return buf;
}

static void text_list(FILE *out, const struct stackset *s, const struct changes *c,
		      size_t top, const char *what)
{
	char b[32], a[32], d[32], pct[16];

	fprintf(out, "%s, by the size of the change:\n", what);
	fprintf(out, "%12s %12s %12s %8s\n", "BASE", "CAPTURE", "CHANGE", "");
	for (size_t i = 0; i < c->n && (!top || i < top); i++) {
		const struct change *e = c->all[i];

		if (e->base > 0)
			snprintf(pct, sizeof(pct), "%+.0f%%", 100 * (e->after - e->base) / e->base);
		else
			snprintf(pct, sizeof(pct), "new");
		fprintf(out, "%12s %12s %12s %8s  %s\n",
			format_value(b, sizeof(b), s, (uint64_t)llround(e->base)),
			format_value(a, sizeof(a), s, (uint64_t)llround(e->after)),
			signed_value(d, sizeof(d), s, e->after - e->base), pct, e->key);
	}
	fputc('\n', out);
}

static void json_list(struct json *j, const char *key, const struct changes *c, size_t top)
{
	json_array_begin(j, key);
	for (size_t i = 0; i < c->n && (!top || i < top); i++) {
		json_object_begin(j, NULL);
		json_str(j, "name", c->all[i]->key);
		json_double(j, "base", c->all[i]->base);
		json_double(j, "capture", c->all[i]->after);
		json_double(j, "change", c->all[i]->after - c->all[i]->base);
		json_object_end(j);
	}
	json_array_end(j);
}

static void diff_text(FILE *out, const struct stackset *base, const struct stackset *after,
		      double scale, struct changes *fns, struct changes *stacks, size_t top)
{
	char b[32], a[32];

	fprintf(out, "BASE:    %s\n         %s in %.2f s\n", base->title ? base->title : "?",
		format_value(b, sizeof(b), base, base->total), base->duration_ns / 1e9);
	fprintf(out, "CAPTURE: %s\n         %s in %.2f s\n", after->title ? after->title : "?",
		format_value(a, sizeof(a), after, after->total), after->duration_ns / 1e9);
	fprintf(out, "BASE's values are scaled by %.3f to CAPTURE's %s.\n\n", scale,
		base->duration_ns && after->duration_ns ? "duration" : "total");
	text_list(out, after, stacks, top ? top : 10, "Stacks");
	text_list(out, after, fns, top ? top : 20, "Functions (inclusive time)");
}

static void diff_json(FILE *out, const struct stackset *base, const struct stackset *after,
		      double scale, struct changes *fns, struct changes *stacks, size_t top)
{
	struct json j;

	json_init(&j, out);
	json_object_begin(&j, NULL);
	json_str(&j, "tool", after->tool);
	json_str(&j, "unit", after->unit);
	json_str(&j, "base", base->title);
	json_str(&j, "capture", after->title);
	json_u64(&j, "base_duration_ns", base->duration_ns);
	json_u64(&j, "capture_duration_ns", after->duration_ns);
	json_double(&j, "scale", scale);
	json_list(&j, "functions", fns, top);
	json_list(&j, "stacks", stacks, top);
	json_object_end(&j);
	json_line_end(&j);
}

int diff_report(FILE *out, enum diff_format fmt, const struct stackset *base,
		const struct stackset *after, size_t top)
{
	struct changes fns = { 0 }, stacks = { 0 };
	double scale = scale_of(base, after);
	int ret = 0;

	if (fmt == DIFF_SVG)
		return flamegraph_svg_diff(out, base, scale, after);
	tally(&fns, &stacks, base, scale, false);
	tally(&fns, &stacks, after, 1.0, true);
	if (fns.failed || stacks.failed) {
		fprintf(stderr, "stallreport: out of memory\n");
		ret = -1;
		goto out;
	}
	sort_changes(&fns);
	sort_changes(&stacks);
	if (fmt == DIFF_JSON)
		diff_json(out, base, after, scale, &fns, &stacks, top);
	else
		diff_text(out, base, after, scale, &fns, &stacks, top);
out:
	changes_free(&fns);
	changes_free(&stacks);
	return ret;
}
