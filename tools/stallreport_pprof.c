// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The stack model as a pprof profile (pprof_profile.proto, packed by protobuf-c, gzipped).
 *
 * Each row is a Sample of two values, what it counted ("blocks"/count) and what that cost
 * (off_cpu/nanoseconds), with the row's IDs and labels.  Each distinct frame is a Location
 * and its Function; a frame inlined into its caller (the next frame out, at the same
 * address) shares the caller's Location as one more Line, the innermost first, as pprof has
 * it.  Frames of a module are in that module's Mapping, kernel ones in "[kernel]" (or the
 * kernel module's); synthetic frames (states, system calls, hosts) are in none.
 *
 * We know where a frame is in its module but not where the module was loaded: mappings
 * start at 0 and a location's address is its offset in the module, which pprof takes as an
 * address needing no adjustment should it symbolize a mapping that we could not.
 */
#include <inttypes.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "pprof_profile.pb-c.h"
#include "stallreport_formats.h"

typedef Perftools__Profiles__Profile pb_profile;
typedef Perftools__Profiles__ValueType pb_value_type;
typedef Perftools__Profiles__Sample pb_sample;
typedef Perftools__Profiles__Label pb_label;
typedef Perftools__Profiles__Mapping pb_mapping;
typedef Perftools__Profiles__Location pb_location;
typedef Perftools__Profiles__Line pb_line;
typedef Perftools__Profiles__Function pb_function;

#define MAX_LABELS 5

/* How a row's value becomes the profile's second value */
enum value_kind {
	VALUE_AS_IS,	 /* in the stackset's unit */
	VALUE_BY_PERIOD, /* a count of samples, times the period: nanoseconds */
	VALUE_NONE,	 /* the value is the count: one sample type only */
};

struct location {
	pb_location msg;
	pb_line *lines;
	pb_line **line_ptrs;
};

struct sample {
	pb_sample msg;
	int64_t values[2];
	pb_label labels[MAX_LABELS];
	pb_label *label_ptrs[MAX_LABELS];
};

/* An entry of the indexes by name: two strings (either may be NULL) and what they name */
struct named {
	const char *a, *b;
	size_t index;
};

/* An entry of the index of locations: a run of a row's frames, root first */
struct frame_run {
	const uint32_t *frames;
	uint32_t n;
	size_t index;
};

struct builder {
	const struct stackset *s;
	bool failed;

	const char **strings;
	size_t nstrings, strings_cap;
	void *string_index; /* struct named, a: the string */

	pb_function *functions;
	size_t nfunctions, functions_cap;
	void *function_index; /* struct named, a: name, b: file */

	pb_mapping *mappings;
	size_t nmappings, mappings_cap;
	void *mapping_index; /* struct named, a: file name, b: build ID */

	struct location *locations;
	size_t nlocations, locations_cap;
	void *location_index; /* struct frame_run */

	struct sample *samples; /* one per row */

	enum value_kind value_kind;
	pb_value_type types[2], period_type;
	pb_value_type *type_ptrs[2];
	int64_t comment;
};

static int nullable_strcmp(const char *x, const char *y)
{
	if (!x || !y)
		return (x != NULL) - (y != NULL);
	return strcmp(x, y);
}

static int named_cmp(const void *p, const void *q)
{
	const struct named *x = p, *y = q;
	int c = nullable_strcmp(x->a, y->a);

	return c ? c : nullable_strcmp(x->b, y->b);
}

static int run_cmp(const void *p, const void *q)
{
	const struct frame_run *x = p, *y = q;

	if (x->n != y->n)
		return x->n < y->n ? -1 : 1;
	return memcmp(x->frames, y->frames, x->n * sizeof(*x->frames));
}

/* Room for one more element of an array that grows by doubling; false if out of memory */
static bool reserve(void **array, size_t *cap, size_t n, size_t size)
{
	size_t grown = *cap ? *cap * 2 : 64;
	void *p;

	if (n < *cap)
		return true;
	p = reallocarray(*array, grown, size);
	if (!p)
		return false;
	*array = p;
	*cap = grown;
	return true;
}

/*
 * Looks key up in an index; if it is not there, adds a copy of it (whose index the caller
 * set to the next one).  The entry found or added, or NULL if out of memory.
 */
static void *index_entry(void **root, const void *key, size_t size,
			 int (*cmp)(const void *, const void *), bool *added)
{
	void **found = tfind(key, root, cmp);
	void *copy;

	*added = false;
	if (found)
		return *found;
	copy = malloc(size);
	if (!copy)
		return NULL;
	memcpy(copy, key, size);
	found = tsearch(copy, root, cmp);
	if (!found) {
		free(copy);
		return NULL;
	}
	*added = true;
	return copy;
}

/* The index of str in the string table (0 for NULL and ""), added if new */
static int64_t string_id(struct builder *b, const char *str)
{
	struct named key = { .a = str, .index = b->nstrings }, *e;
	bool added;

	if (!str || !*str)
		return 0;
	if (!reserve((void **)&b->strings, &b->strings_cap, b->nstrings, sizeof(*b->strings)))
		goto fail;
	e = index_entry(&b->string_index, &key, sizeof(key), named_cmp, &added);
	if (!e)
		goto fail;
	if (added)
		b->strings[b->nstrings++] = str;
	return e->index;
fail:
	b->failed = true;
	return 0;
}

/* uint64 values past int64's range stop at its largest */
static int64_t clamp(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

static uint64_t mul_saturating(uint64_t a, uint64_t b)
{
	return b && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

/* The function of a frame (by its name and file), added if new: its id */
static uint64_t function_id(struct builder *b, const struct rframe *f)
{
	struct named key = { .a = f->name, .b = f->file, .index = b->nfunctions }, *e;
	pb_function *fn;
	bool added;

	if (!reserve((void **)&b->functions, &b->functions_cap, b->nfunctions,
		     sizeof(*b->functions)))
		goto fail;
	e = index_entry(&b->function_index, &key, sizeof(key), named_cmp, &added);
	if (!e)
		goto fail;
	if (added) {
		fn = &b->functions[b->nfunctions++];
		*fn = (pb_function)PERFTOOLS__PROFILES__FUNCTION__INIT;
		fn->id = b->nfunctions;
		fn->name = string_id(b, f->name);
		fn->system_name = fn->name;
		fn->filename = string_id(b, f->file);
	}
	return e->index + 1;
fail:
	b->failed = true;
	return 0;
}

/* The object file a frame is in: NULL if none (synthetic, or an address in no mapping) */
static const char *mapping_file(const struct rframe *f)
{
	if (f->synthetic)
		return NULL;
	if (f->kernel)
		return f->module ? f->module : "[kernel]";
	return f->module;
}

/* The mapping of a frame's module, added if new: its id, 0 if none */
static uint64_t mapping_id(struct builder *b, const struct rframe *f)
{
	struct named key = { mapping_file(f), f->build_id, b->nmappings }, *e;
	pb_mapping *m;
	bool added;

	if (!key.a)
		return 0;
	if (!reserve((void **)&b->mappings, &b->mappings_cap, b->nmappings, sizeof(*b->mappings)))
		goto fail;
	e = index_entry(&b->mapping_index, &key, sizeof(key), named_cmp, &added);
	if (!e)
		goto fail;
	if (added) {
		m = &b->mappings[b->nmappings++];
		*m = (pb_mapping)PERFTOOLS__PROFILES__MAPPING__INIT;
		m->id = b->nmappings;
		m->filename = string_id(b, key.a);
		m->build_id = string_id(b, f->build_id);
	}
	return e->index + 1;
fail:
	b->failed = true;
	return 0;
}

/* Whether a frame's name is a function's, rather than "module+0x1f2e" or an address */
static bool has_function(const struct rframe *f)
{
	const char *base = f->module ? strrchr(f->module, '/') : NULL;
	char fallback[512];

	if (f->synthetic)
		return false;
	if (!f->module)
		return strncmp(f->name, "0x", 2) && strcmp(f->name, "[unknown]");
	snprintf(fallback, sizeof(fallback), "%s+0x%" PRIx64, base ? base + 1 : f->module,
		 f->module_offset);
	return strcmp(f->name, fallback) != 0;
}

/* What the location's frames tell of their mapping: pprof need not symbolize it again */
static void note_symbolized(pb_mapping *m, const struct rframe *f, uint32_t n)
{
	if (has_function(f))
		m->has_functions = true;
	if (f->file)
		m->has_filenames = true;
	if (f->line)
		m->has_line_numbers = true;
	if (n > 1)
		m->has_inline_frames = true;
}

/* A new location for a run of frames (root first: the caller, then what it inlined) */
static bool location_new(struct builder *b, struct location *loc, uint64_t id,
			 const uint32_t *frames, uint32_t n)
{
	const struct rframe *outer = &b->s->frames[frames[0]];

	*loc = (struct location){ .msg = PERFTOOLS__PROFILES__LOCATION__INIT };
	loc->lines = calloc(n, sizeof(*loc->lines));
	loc->line_ptrs = calloc(n, sizeof(*loc->line_ptrs));
	if (!loc->lines || !loc->line_ptrs)
		return false;
	loc->msg.id = id;
	loc->msg.mapping_id = mapping_id(b, outer);
	if (loc->msg.mapping_id)
		loc->msg.address = outer->module_offset;
	loc->msg.n_line = n;
	loc->msg.line = loc->line_ptrs;
	/* pprof's lines are the innermost first */
	for (uint32_t i = 0; i < n; i++) {
		const struct rframe *f = &b->s->frames[frames[n - 1 - i]];
		pb_line *line = &loc->lines[i];

		*line = (pb_line)PERFTOOLS__PROFILES__LINE__INIT;
		line->function_id = function_id(b, f);
		line->line = f->line;
		loc->line_ptrs[i] = line;
		if (loc->msg.mapping_id)
			note_symbolized(&b->mappings[loc->msg.mapping_id - 1], f, n);
	}
	return true;
}

/* The location of a run of frames, added if new: its id */
static uint64_t location_id(struct builder *b, const uint32_t *frames, uint32_t n)
{
	struct frame_run key = { .frames = frames, .n = n, .index = b->nlocations }, *e;
	bool added;

	if (!reserve((void **)&b->locations, &b->locations_cap, b->nlocations,
		     sizeof(*b->locations)))
		goto fail;
	e = index_entry(&b->location_index, &key, sizeof(key), run_cmp, &added);
	if (!e)
		goto fail;
	if (added) {
		/* counted even if incomplete, so that its allocations are freed */
		b->nlocations++;
		if (!location_new(b, &b->locations[e->index], e->index + 1, frames, n))
			goto fail;
	}
	return e->index + 1;
fail:
	b->failed = true;
	return 0;
}

/* Whether frame f was inlined into caller at the same address: one location for both */
static bool inlined_into(const struct rframe *f, const struct rframe *caller)
{
	return f->inlined && !f->synthetic && !caller->synthetic && f->kernel == caller->kernel &&
	       !nullable_strcmp(f->module, caller->module) &&
	       f->module_offset == caller->module_offset;
}

/* How many frames from frames[0] on make one location: it and the calls inlined into it */
static uint32_t run_length(const struct stackset *s, const uint32_t *frames, uint32_t n)
{
	uint32_t len = 1;

	while (len < n && inlined_into(&s->frames[frames[len]], &s->frames[frames[len - 1]]))
		len++;
	return len;
}

/* A row's stack as location ids, the leaf first; false if out of memory */
static bool sample_locations(struct builder *b, pb_sample *msg, const struct rsample *row)
{
	uint64_t *ids = malloc((row->nframes ? row->nframes : 1) * sizeof(*ids));
	size_t n = 0;

	if (!ids)
		return false;
	for (uint32_t i = 0, len; i < row->nframes; i += len) {
		len = run_length(b->s, row->frames + i, row->nframes - i);
		ids[n++] = location_id(b, row->frames + i, len);
	}
	for (size_t i = 0; i < n / 2; i++) {
		uint64_t t = ids[i];

		ids[i] = ids[n - 1 - i];
		ids[n - 1 - i] = t;
	}
	msg->location_id = ids;
	msg->n_location_id = n;
	return true;
}

static void label_num(struct builder *b, struct sample *smp, const char *key, int64_t num)
{
	pb_label *l = &smp->labels[smp->msg.n_label];

	*l = (pb_label)PERFTOOLS__PROFILES__LABEL__INIT;
	l->key = string_id(b, key);
	l->num = num;
	smp->label_ptrs[smp->msg.n_label++] = l;
}

static void label_str(struct builder *b, struct sample *smp, const char *key, const char *str)
{
	pb_label *l = &smp->labels[smp->msg.n_label];

	if (!str || !*str)
		return;
	*l = (pb_label)PERFTOOLS__PROFILES__LABEL__INIT;
	l->key = string_id(b, key);
	l->str = string_id(b, str);
	smp->label_ptrs[smp->msg.n_label++] = l;
}

static void sample_values(struct builder *b, struct sample *smp, const struct rsample *row)
{
	smp->values[0] = clamp(row->count);
	if (b->value_kind == VALUE_AS_IS)
		smp->values[1] = clamp(row->value);
	else if (b->value_kind == VALUE_BY_PERIOD)
		smp->values[1] = clamp(mul_saturating(row->count, b->s->period_ns));
	smp->msg.value = smp->values;
	smp->msg.n_value = b->value_kind == VALUE_NONE ? 1 : 2;
}

static void add_sample(struct builder *b, struct sample *smp, const struct rsample *row)
{
	smp->msg = (pb_sample)PERFTOOLS__PROFILES__SAMPLE__INIT;
	smp->msg.label = smp->label_ptrs;
	if (!sample_locations(b, &smp->msg, row))
		b->failed = true;
	sample_values(b, smp, row);
	label_num(b, smp, "pid", row->pid);
	if (row->tid)
		label_num(b, smp, "tid", row->tid);
	label_str(b, smp, "comm", row->comm);
	label_str(b, smp, "state", row->state);
	label_str(b, smp, "host", row->host);
}

static void value_type(struct builder *b, pb_value_type *t, const char *type, const char *unit)
{
	*t = (pb_value_type)PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
	t->type = string_id(b, type);
	t->unit = string_id(b, unit);
}

/*
 * The sample types: what the rows counted, then what that cost.  A cost counted in samples
 * of a known period is the profiler's: it becomes time (samples/count, cpu/nanoseconds, as
 * pprof's own CPU profiles are), so that pprof shows seconds.  A cost in plain counts that
 * are the count itself (tcpretrans's drops) is left out rather than repeated.
 */
static void sample_types(struct builder *b, pb_profile *p)
{
	const struct stackset *s = b->s;
	const char *count_type = s->count_type ? s->count_type : "samples";
	const char *type = s->value_type ? s->value_type : "value";
	bool counts = s->unit && !strcmp(s->unit, "count");

	b->value_kind = VALUE_AS_IS;
	if (counts && s->period_ns) {
		b->value_kind = VALUE_BY_PERIOD;
		if (!strcmp(type, count_type))
			type = "cpu";
	} else if (counts && !strcmp(type, count_type)) {
		b->value_kind = VALUE_NONE;
	}
	value_type(b, &b->types[0], count_type, "count");
	if (b->value_kind == VALUE_BY_PERIOD)
		value_type(b, &b->types[1], type, "nanoseconds");
	else
		value_type(b, &b->types[1], type, s->unit ? s->unit : "count");
	b->type_ptrs[0] = &b->types[0];
	b->type_ptrs[1] = &b->types[1];
	p->sample_type = b->type_ptrs;
	p->n_sample_type = b->value_kind == VALUE_NONE ? 1 : 2;
	p->default_sample_type = b->types[p->n_sample_type - 1].type;
	if (s->period_ns) {
		value_type(b, &b->period_type, type, "nanoseconds");
		p->period_type = &b->period_type;
		p->period = clamp(s->period_ns);
	}
}

/* Whether a mapping's file looks like a program rather than a library or the kernel */
static bool is_program(const char *file)
{
	const char *base = strrchr(file, '/');
	const char *so = strstr(base ? base + 1 : file, ".so");

	return file[0] != '[' && !(so && (so[3] == '\0' || so[3] == '.'));
}

/*
 * pprof takes the first mapping for the main program (and names it above its reports):
 * the first program met goes first, in the place of the mapping that was there.
 */
static void program_first(struct builder *b)
{
	pb_mapping first;
	size_t i = 0;

	while (i < b->nmappings && !is_program(b->strings[b->mappings[i].filename]))
		i++;
	if (!i || i == b->nmappings)
		return;
	for (size_t l = 0; l < b->nlocations; l++) {
		pb_location *loc = &b->locations[l].msg;

		if (loc->mapping_id == 1)
			loc->mapping_id = i + 1;
		else if (loc->mapping_id == i + 1)
			loc->mapping_id = 1;
	}
	first = b->mappings[0];
	b->mappings[0] = b->mappings[i];
	b->mappings[i] = first;
	b->mappings[0].id = 1;
	b->mappings[i].id = i + 1;
}

/* Pointers to n elements of the given size, each beginning with its message */
static void *pointers(void *messages, size_t n, size_t size)
{
	void **p = calloc(n ? n : 1, sizeof(*p));

	for (size_t i = 0; p && i < n; i++)
		p[i] = (char *)messages + i * size;
	return p;
}

/* The profile's tables once every sample is in; false if out of memory */
static bool fill_tables(struct builder *b, pb_profile *p)
{
	p->function = pointers(b->functions, b->nfunctions, sizeof(*b->functions));
	p->n_function = b->nfunctions;
	p->mapping = pointers(b->mappings, b->nmappings, sizeof(*b->mappings));
	p->n_mapping = b->nmappings;
	p->location = pointers(b->locations, b->nlocations, sizeof(*b->locations));
	p->n_location = b->nlocations;
	p->sample = pointers(b->samples, b->s->nsamples, sizeof(*b->samples));
	p->n_sample = b->s->nsamples;
	p->string_table = (char **)b->strings;
	p->n_string_table = b->nstrings;
	return p->function && p->mapping && p->location && p->sample;
}

static bool build(struct builder *b, pb_profile *p)
{
	const struct stackset *s = b->s;

	b->samples = calloc(s->nsamples ? s->nsamples : 1, sizeof(*b->samples));
	if (!b->samples)
		return false;
	/* index 0 is "", which string_id never adds */
	if (!reserve((void **)&b->strings, &b->strings_cap, 0, sizeof(*b->strings)))
		return false;
	b->strings[b->nstrings++] = "";
	sample_types(b, p);
	p->duration_nanos = clamp(s->duration_ns);
	if (s->title) {
		b->comment = string_id(b, s->title);
		p->comment = &b->comment;
		p->n_comment = 1;
	}
	for (size_t i = 0; i < s->nsamples && !b->failed; i++)
		add_sample(b, &b->samples[i], &s->samples[i]);
	if (b->failed)
		return false;
	program_first(b);
	return fill_tables(b, p);
}

static void builder_free(struct builder *b, pb_profile *p)
{
	for (size_t i = 0; b->samples && i < b->s->nsamples; i++)
		free(b->samples[i].msg.location_id);
	for (size_t i = 0; i < b->nlocations; i++) {
		free(b->locations[i].lines);
		free(b->locations[i].line_ptrs);
	}
	tdestroy(b->string_index, free);
	tdestroy(b->function_index, free);
	tdestroy(b->mapping_index, free);
	tdestroy(b->location_index, free);
	free(b->samples);
	free(b->locations);
	free(b->mappings);
	free(b->functions);
	free(b->strings);
	free(p->function);
	free(p->mapping);
	free(p->location);
	free(p->sample);
}

/* data, gzipped, to out; 0 or -1 */
static int write_gzipped(FILE *out, const uint8_t *data, size_t len)
{
	z_stream z = { .next_in = (Bytef *)data };
	uint8_t chunk[65536];
	int rc = Z_OK;

	/* 16 + the largest window: a gzip header and trailer rather than zlib's */
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	while (rc != Z_STREAM_END) {
		/* avail_in is narrower than size_t: fed a piece at a time */
		size_t piece = len < UINT32_MAX ? len : UINT32_MAX;

		if (!z.avail_in) {
			z.avail_in = piece;
			len -= piece;
		}
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		rc = deflate(&z, len || z.avail_in ? Z_NO_FLUSH : Z_FINISH);
		if ((rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) ||
		    fwrite(chunk, 1, sizeof(chunk) - z.avail_out, out) !=
			    sizeof(chunk) - z.avail_out) {
			deflateEnd(&z);
			return -1;
		}
	}
	deflateEnd(&z);
	return 0;
}

static int pack_and_write(FILE *out, const pb_profile *p)
{
	size_t len = perftools__profiles__profile__get_packed_size(p);
	uint8_t *buf = malloc(len ? len : 1);
	int ret;

	if (!buf) {
		fprintf(stderr, "stallreport: pprof: out of memory\n");
		return -1;
	}
	perftools__profiles__profile__pack(p, buf);
	ret = write_gzipped(out, buf, len);
	if (ret)
		fprintf(stderr, "stallreport: pprof: cannot write the compressed profile\n");
	free(buf);
	return ret;
}

int pprof_write(FILE *out, const struct stackset *s)
{
	pb_profile p = PERFTOOLS__PROFILES__PROFILE__INIT;
	struct builder b = { .s = s };
	int ret = -1;

	if (build(&b, &p))
		ret = pack_and_write(out, &p);
	else
		fprintf(stderr, "stallreport: pprof: out of memory\n");
	builder_free(&b, &p);
	return ret;
}
