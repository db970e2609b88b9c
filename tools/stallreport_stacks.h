/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * stallreport's model of what captures saw: weighted stacks over a table of distinct frames,
 * whatever tool wrote them.  Every output format (folded, flame graph, pprof, speedscope,
 * diff) is drawn from it.
 */
#ifndef STALLREPORT_STACKS_H
#define STALLREPORT_STACKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A frame as the tool symbolized it; frames equal in every field are one entry of the table */
struct rframe {
	const char *name;      /* function, or "module+0x1f2e", or "[syscall poll]" etc.; never NULL */
	const char *file;      /* NULL if unknown */
	unsigned int line;     /* 0 if unknown */
	const char *module;    /* NULL if unknown */
	uint64_t module_offset;
	const char *build_id;  /* lower-case hex, NULL if none */
	const char *runtime;   /* "python", "js", "java": a runtime's frame; NULL: native */
	bool kernel;
	bool inlined;
	bool synthetic;	       /* not code: a state leaf ("[S]"), a syscall or host label */
};

/* One row: a stack and what was counted on it */
struct rsample {
	uint32_t *frames;  /* indexes into stackset.frames, outermost (root) first */
	uint32_t nframes;
	uint32_t pid, tid; /* tid 0: not known (rows aggregated by process) */
	const char *comm;
	const char *state; /* "S", "D", "R", "on-cpu", a syscall name...; NULL if none */
	const char *host;
	uint64_t count;	   /* blocks, samples, calls, lookups */
	uint64_t value;	   /* in stackset.unit */
};

struct stackset {
	const char *tool;
	const char *unit;	 /* "nanoseconds" or "count" */
	const char *value_type;	 /* pprof's sample type: "off_cpu", "cpu", "latency", "samples" */
	const char *count_type;	 /* "blocks", "samples", "calls", "lookups", "events" */
	uint64_t duration_ns;	 /* the sum of the captures' durations */
	uint64_t total, count;	 /* the sums of the rows' values and counts */
	uint64_t period_ns;	 /* profile: a sample's period (0 otherwise) */
	struct rframe *frames;
	size_t nframes, frames_cap;
	struct rsample *samples;
	size_t nsamples, samples_cap;
	char *title;		 /* tool, host(s), target, time window, tags: one line */
	void *strings;		 /* interned strings (tsearch), owned */
	void *frame_index;	 /* frames by value (tsearch), owned */
	void *sample_index;	 /* rows by stack, IDs and labels (tsearch), owned */
};

void stackset_init(struct stackset *s);
void stackset_free(struct stackset *s);
/* The index of a frame equal to f (its strings are interned here); -1 if out of memory */
int64_t stackset_frame(struct stackset *s, const struct rframe *f);
/* Adds a row, or its count and value to an equal row's; frames (root first) are copied.
 * -1 if out of memory, -2 if the sums would pass 64 bits (a hostile file). */
int stackset_add(struct stackset *s, const struct rsample *row);

#endif
