// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The stack model: strings and frames interned, rows appended. */
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include "stallreport_stacks.h"

void stackset_init(struct stackset *s)
{
	memset(s, 0, sizeof(*s));
	s->unit = "nanoseconds";
}

static int string_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* An interned copy of str (NULL stays NULL); NULL if out of memory */
static const char *stackset_string(struct stackset *s, const char *str)
{
	char *copy, **found;

	if (!str)
		return NULL;
	found = tfind(str, &s->strings, string_cmp);
	if (found)
		return *found;
	copy = strdup(str);
	if (!copy)
		return NULL;
	found = tsearch(copy, &s->strings, string_cmp);
	if (!found) {
		free(copy);
		return NULL;
	}
	return *found;
}

/* Interned strings compare by address */
static int ptr_cmp(const void *a, const void *b)
{
	return (a > b) - (a < b);
}

struct frame_entry {
	struct stackset *set;
	size_t index;
	struct rframe f; /* during a lookup only: the frame sought */
};

static const struct rframe *entry_frame(const struct frame_entry *e)
{
	return e->index == SIZE_MAX ? &e->f : &e->set->frames[e->index];
}

static int frame_cmp(const void *a, const void *b)
{
	const struct rframe *x = entry_frame(a), *y = entry_frame(b);
	int c;

	if ((c = ptr_cmp(x->name, y->name)) || (c = ptr_cmp(x->file, y->file)) ||
	    (c = ptr_cmp(x->module, y->module)) || (c = ptr_cmp(x->build_id, y->build_id)) ||
	    (c = ptr_cmp(x->runtime, y->runtime)))
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->module_offset != y->module_offset)
		return x->module_offset < y->module_offset ? -1 : 1;
	return (x->kernel - y->kernel) * 4 + (x->inlined - y->inlined) * 2 +
	       (x->synthetic - y->synthetic);
}

static void *grow(void *array, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap * 2 : 64;
	void *p;

	if (need <= *cap)
		return array;
	while (n < need)
		n *= 2;
	p = realloc(array, n * size);
	if (p)
		*cap = n;
	return p;
}

int64_t stackset_frame(struct stackset *s, const struct rframe *f)
{
	struct frame_entry probe = { .set = s, .index = SIZE_MAX, .f = *f }, *e, **found;
	struct rframe *frames;

	probe.f.name = stackset_string(s, f->name ? f->name : "[unknown]");
	probe.f.file = stackset_string(s, f->file);
	probe.f.module = stackset_string(s, f->module);
	probe.f.build_id = stackset_string(s, f->build_id);
	probe.f.runtime = stackset_string(s, f->runtime);
	if (!probe.f.name || (f->file && !probe.f.file) || (f->module && !probe.f.module) ||
	    (f->build_id && !probe.f.build_id) || (f->runtime && !probe.f.runtime))
		return -1;
	found = tfind(&probe, &s->frame_index, frame_cmp);
	if (found)
		return (*found)->index;
	frames = grow(s->frames, &s->frames_cap, s->nframes + 1, sizeof(*frames));
	e = malloc(sizeof(*e));
	if (!frames || !e) {
		free(e);
		return -1;
	}
	s->frames = frames;
	s->frames[s->nframes] = probe.f;
	*e = (struct frame_entry){ .set = s, .index = s->nframes };
	if (!tsearch(e, &s->frame_index, frame_cmp)) {
		free(e);
		return -1;
	}
	return s->nframes++;
}

/* Rows with the same stack, IDs and labels are one row (intervals, several captures) */
struct sample_entry {
	struct stackset *set;
	size_t index;
	const struct rsample *probe; /* during a lookup only */
};

static const struct rsample *entry_sample(const struct sample_entry *e)
{
	return e->probe ? e->probe : &e->set->samples[e->index];
}

static int sample_cmp(const void *a, const void *b)
{
	const struct rsample *x = entry_sample(a), *y = entry_sample(b);
	int c;

	if (x->nframes != y->nframes)
		return x->nframes < y->nframes ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	if ((c = ptr_cmp(x->comm, y->comm)) || (c = ptr_cmp(x->state, y->state)) ||
	    (c = ptr_cmp(x->host, y->host)))
		return c;
	return memcmp(x->frames, y->frames, x->nframes * sizeof(*x->frames));
}

int stackset_add(struct stackset *s, const struct rsample *row)
{
	struct rsample r = *row;
	struct sample_entry probe = { .set = s, .probe = &r }, *e, **found;
	struct rsample *samples;

	r.comm = stackset_string(s, row->comm);
	r.state = stackset_string(s, row->state);
	r.host = stackset_string(s, row->host);
	if ((row->comm && !r.comm) || (row->state && !r.state) || (row->host && !r.host))
		return -1;
	/* a row is part of the sums: a sum that does not wrap bounds every row */
	if (s->total + row->value < s->total || s->count + row->count < s->count)
		return -2;
	s->total += row->value;
	s->count += row->count;
	found = tfind(&probe, &s->sample_index, sample_cmp);
	if (found) {
		s->samples[(*found)->index].count += row->count;
		s->samples[(*found)->index].value += row->value;
		return 0;
	}
	samples = grow(s->samples, &s->samples_cap, s->nsamples + 1, sizeof(*samples));
	if (!samples)
		return -1;
	s->samples = samples;
	r.frames = malloc((row->nframes ? row->nframes : 1) * sizeof(*r.frames));
	e = malloc(sizeof(*e));
	if (!r.frames || !e)
		goto fail;
	memcpy(r.frames, row->frames, row->nframes * sizeof(*r.frames));
	s->samples[s->nsamples] = r;
	*e = (struct sample_entry){ .set = s, .index = s->nsamples };
	if (!tsearch(e, &s->sample_index, sample_cmp))
		goto fail;
	s->nsamples++;
	return 0;
fail:
	free(r.frames);
	free(e);
	return -1;
}

void stackset_free(struct stackset *s)
{
	for (size_t i = 0; i < s->nsamples; i++)
		free(s->samples[i].frames);
	free(s->samples);
	free(s->frames);
	tdestroy(s->frame_index, free);
	tdestroy(s->sample_index, free);
	tdestroy(s->strings, free);
	free(s->title);
	stackset_init(s);
}
