// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Flame graphs as one SVG file that carries its own script (nothing is fetched): the rows of
 * the stack model merged into a tree, siblings of the same name being one frame, in name
 * order; drawn root at the bottom, each frame as wide as its value; clicks zoom, a search
 * highlights and adds up, the frame under the pointer is detailed.
 *
 * The rows are sorted by their frames' names from the root: then the rows through any frame
 * are a contiguous range, and its value a difference of prefix sums.  The tree is walked
 * from those ranges, without a node per frame, with a stack of its own (no recursion).
 *
 * Each frame drawn is a <g class="f"> with data-name, data-value, data-count, data-x (its
 * start, in value units), data-d (its depth; 0 is the root, "all") and, in a diff, data-base;
 * the script lays them out again from those, and tests read them.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "stallreport_formats.h"

#define WIDTH	1200.0 /* pixels */
#define PAD	10.0   /* left and right */
#define FRAME_H 16     /* a row of frames, pixels; the boxes are one less */
#define TOP	76     /* title, subtitle, controls */
#define BOTTOM	50     /* details line, legend */
#define CHAR_W	7.25   /* advance of the 12 px monospace font, for labels that fit */
/*
 * Frames narrower than MIN_WIDTH pixels at full width are not drawn: boxes nobody can see or
 * point at, and a large profile would be mostly these.  Nor are all but the MAX_BOXES widest
 * frames, which bounds the file (some 250 bytes a box) and the page's work.  The time of the
 * frames not drawn is in their ancestors' widths all the same, and the search adds it up:
 * they are listed, a short line each, in <metadata id="fg-hidden">.  Zooming does not draw
 * them.
 */
#define MIN_WIDTH 0.1
#define MAX_BOXES 20000

/* A row of the stack model, with its frames' names for the sort */
struct row {
	const char *const *names; /* root first */
	const struct rsample *r;
	size_t index; /* in the stack set: equal rows keep their order */
};

/* One stack set, its rows sorted by their frames' names from the root */
struct side {
	const struct stackset *s;
	struct row *rows;
	const char **names;	 /* the rows' names, end to end */
	uint64_t *value, *count; /* sums over rows[0..i) */
	size_t n, nnames;
};

/* A frame of the tree: the rows through it (all of them at the root) */
struct node {
	size_t lo, hi;	 /* after's rows (in a diff) */
	size_t blo, bhi; /* the base's rows through the same path (in a diff) */
	uint32_t depth;	 /* 0: the root */
	uint64_t x;	 /* where it starts, in value units */
};

/* What ranks a frame for drawing */
struct cut {
	uint64_t value;
	uint32_t depth;
};

struct graph {
	FILE *out;
	struct side a, b; /* the stacks drawn (after, in a diff), and the base */
	bool diff;
	double base_scale;
	double scale;	   /* pixels per value unit */
	double max_change; /* diff: the largest of a drawn frame's change, the root aside */
	double vanished;   /* diff: the base's value at paths after has not */
	struct cut *cuts;  /* the frames that could be drawn */
	size_t ncuts;
	struct cut cut; /* a frame is drawn if it is not narrower, the MAX_BOXES-th widest */
	uint32_t depth; /* of the deepest frame drawn */
	struct node *stack;
	uint32_t *name_ids; /* hidden frames' names by frame index, as they are listed */
	uint32_t nnames;
	uint64_t last_x; /* of the hidden frame listed last */
};

typedef void visit_fn(struct graph *g, const struct node *n, bool hidden);

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	uint32_t n = x->r->nframes < y->r->nframes ? x->r->nframes : y->r->nframes;
	int c;

	for (uint32_t i = 0; i < n; i++)
		if (x->names[i] != y->names[i] && (c = strcmp(x->names[i], y->names[i])))
			return c;
	if (x->r->nframes != y->r->nframes)
		return x->r->nframes < y->r->nframes ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

static void side_free(struct side *sd)
{
	free(sd->rows);
	free(sd->names);
	free(sd->value);
	free(sd->count);
}

static int side_init(struct side *sd, const struct stackset *s)
{
	size_t nnames = 0, k = 0;

	memset(sd, 0, sizeof(*sd));
	sd->s = s;
	sd->n = s->nsamples;
	for (size_t i = 0; i < sd->n; i++)
		nnames += s->samples[i].nframes;
	sd->nnames = nnames;
	sd->rows = calloc(sd->n + 1, sizeof(*sd->rows));
	sd->names = calloc(nnames + 1, sizeof(*sd->names));
	sd->value = calloc(sd->n + 1, sizeof(*sd->value));
	sd->count = calloc(sd->n + 1, sizeof(*sd->count));
	if (!sd->rows || !sd->names || !sd->value || !sd->count)
		return -1;
	for (size_t i = 0; i < sd->n; i++) {
		const struct rsample *r = &s->samples[i];

		sd->rows[i] = (struct row){ .names = sd->names + k, .r = r, .index = i };
		for (uint32_t j = 0; j < r->nframes; j++)
			sd->names[k++] = s->frames[r->frames[j]].name;
	}
	qsort(sd->rows, sd->n, sizeof(*sd->rows), row_cmp);
	for (size_t i = 0; i < sd->n; i++) {
		sd->value[i + 1] = sd->value[i] + sd->rows[i].r->value;
		sd->count[i + 1] = sd->count[i] + sd->rows[i].r->count;
	}
	return 0;
}

static uint64_t range_value(const struct side *sd, size_t lo, size_t hi)
{
	return sd->value[hi] - sd->value[lo];
}

static uint64_t node_value(const struct graph *g, const struct node *n)
{
	return range_value(&g->a, n->lo, n->hi);
}

static double node_base(const struct graph *g, const struct node *n)
{
	return g->diff ? range_value(&g->b, n->blo, n->bhi) * g->base_scale : 0;
}

/* The first row of [lo, hi) that goes deeper than depth (the rows that end there sort first) */
static size_t first_deeper(const struct side *sd, size_t lo, size_t hi, uint32_t depth)
{
	while (lo < hi && sd->rows[lo].r->nframes <= depth)
		lo++;
	return lo;
}

/* The end of the rows from lo on whose frame at depth has the name of lo's */
static size_t group_end(const struct side *sd, size_t lo, size_t hi, uint32_t depth)
{
	const char *name = sd->rows[lo].names[depth];
	size_t i = lo + 1;

	while (i < hi &&
	       (sd->rows[i].names[depth] == name || !strcmp(sd->rows[i].names[depth], name)))
		i++;
	return i;
}

/*
 * The base's rows at k's path: its groups of names from j on (in the same order) up to k's
 * name; those passed over are paths after has not.  Returns where the next match starts.
 */
static size_t match_base(struct graph *g, struct node *k, size_t j, size_t bhi, bool count_vanished)
{
	const char *name = g->a.rows[k->lo].names[k->depth - 1];

	while (j < bhi) {
		size_t end = group_end(&g->b, j, bhi, k->depth - 1);
		int c = strcmp(g->b.rows[j].names[k->depth - 1], name);

		if (c > 0)
			break;
		if (!c) {
			k->blo = j;
			k->bhi = end;
			return end;
		}
		if (count_vanished)
			g->vanished += range_value(&g->b, j, end) * g->base_scale;
		j = end;
	}
	return j;
}

/* Pushes n's children on the stack, the first on top; returns the new top */
static size_t push_children(struct graph *g, const struct node *n, size_t sp, bool count_vanished)
{
	size_t i = first_deeper(&g->a, n->lo, n->hi, n->depth), first = sp;
	size_t j = g->diff ? first_deeper(&g->b, n->blo, n->bhi, n->depth) : 0;
	uint64_t x = n->x;

	while (i < n->hi) {
		struct node k = { .lo = i, .depth = n->depth + 1, .x = x };

		k.hi = group_end(&g->a, i, n->hi, n->depth);
		if (g->diff)
			j = match_base(g, &k, j, n->bhi, count_vanished);
		g->stack[sp++] = k;
		x += range_value(&g->a, k.lo, k.hi);
		i = k.hi;
	}
	for (; g->diff && count_vanished && j < n->bhi; j = i) {
		i = group_end(&g->b, j, n->bhi, n->depth);
		g->vanished += range_value(&g->b, j, i) * g->base_scale;
	}
	for (size_t lo = first, hi = sp; hi > lo + 1; lo++, hi--) {
		struct node t = g->stack[lo];

		g->stack[lo] = g->stack[hi - 1];
		g->stack[hi - 1] = t;
	}
	return sp;
}

/* Wider first, and then nearer the root (which keeps a frame drawn with its ancestors) */
static int cut_cmp(const struct cut *x, const struct cut *y)
{
	if (x->value != y->value)
		return x->value > y->value ? -1 : 1;
	return (x->depth > y->depth) - (x->depth < y->depth);
}

static bool too_narrow(const struct graph *g, const struct node *n)
{
	struct cut c = { node_value(g, n), n->depth };

	return n->depth && (c.value * g->scale < MIN_WIDTH || cut_cmp(&c, &g->cut) > 0);
}

/*
 * Visits the frames root first, each before its children, children in name order: those too
 * narrow to draw too if all; if tally, the base's paths after has not add up in vanished.
 * The stack never holds more than a node per row: its nodes' rows are disjoint, and not none.
 */
static void walk(struct graph *g, bool all, bool tally, visit_fn *visit)
{
	size_t sp = 0;

	g->stack[sp++] = (struct node){ .hi = g->a.n, .bhi = g->diff ? g->b.n : 0 };
	while (sp) {
		struct node n = g->stack[--sp];
		bool hidden = too_narrow(g, &n);

		visit(g, &n, hidden);
		if (!hidden || all)
			sp = push_children(g, &n, sp, tally);
	}
}

/* The length of the UTF-8 character at s if XML allows it, else 0 */
static int xml_char_len(const unsigned char *s)
{
	uint32_t c;
	int n;

	if (s[0] < 0x80)
		return s[0] >= 0x20;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff) || c >= 0xfffe))
		return 0;
	if (n == 4 && (c < 0x10000 || c > 0x10ffff))
		return 0;
	return n;
}

/*
 * At most max characters of s as XML text or attribute value: escaped, and a '?' for each
 * byte that is not part of a character XML allows (control characters, invalid UTF-8).
 * Returns the characters written.
 */
static size_t xml_text_max(FILE *out, const char *str, size_t max)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t chars = 0;

	for (; *s && chars < max; chars++) {
		int n = xml_char_len(s);

		if (!n)
			putc('?', out);
		else if (*s == '&')
			fputs("&amp;", out);
		else if (*s == '<')
			fputs("&lt;", out);
		else if (*s == '>')
			fputs("&gt;", out);
		else if (*s == '"')
			fputs("&quot;", out);
		else
			fwrite(s, 1, n, out);
		s += n ? n : 1;
	}
	return chars;
}

static void xml_text(FILE *out, const char *s)
{
	xml_text_max(out, s, SIZE_MAX);
}

/* The characters in s, as xml_text_max() counts them */
static size_t text_chars(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t chars = 0;

	for (; *s; chars++) {
		int n = xml_char_len(s);

		s += n ? n : 1;
	}
	return chars;
}

static bool is_time(const struct stackset *s)
{
	return s->unit && !strcmp(s->unit, "nanoseconds");
}

static const char *count_name(const struct stackset *s)
{
	return s->count_type ? s->count_type : "";
}

/* "1.23 s", "45.6 ms", "7.8 µs", "90 ns", or "12 samples" */
static char *format_value(char *buf, size_t len, const struct stackset *s, double v)
{
	double a = fabs(v);

	if (!is_time(s))
		snprintf(buf, len, "%.0f%s%s", v, *count_name(s) ? " " : "", count_name(s));
	else if (a >= 1e9)
		snprintf(buf, len, "%.2f s", v / 1e9);
	else if (a >= 1e6)
		snprintf(buf, len, "%.1f ms", v / 1e6);
	else if (a >= 1e3)
		snprintf(buf, len, "%.1f \xc2\xb5s", v / 1e3);
	else
		snprintf(buf, len, "%.0f ns", v);
	return buf;
}

static uint64_t root_value(const struct graph *g)
{
	return g->a.value[g->a.n];
}

/* Percent of the whole */
static double share(const struct graph *g, double value)
{
	return root_value(g) ? 100.0 * value / root_value(g) : 0.0;
}

/* A box drawn for several frames of one name shows what they have in common */
enum sameness { SAME_FRAME, SAME_FILE, SAME_MODULE, SAME_NAME };

/* The frame of n (not the root): its first row's, and how much its other rows' agree */
static const struct rframe *node_frame(const struct graph *g, const struct node *n,
				       enum sameness *same)
{
	const struct side *sd = &g->a;
	uint32_t first = sd->rows[n->lo].r->frames[n->depth - 1];
	const struct rframe *f = &sd->s->frames[first];

	*same = SAME_FRAME;
	for (size_t i = n->lo + 1; i < n->hi && *same != SAME_NAME; i++) {
		uint32_t k = sd->rows[i].r->frames[n->depth - 1];
		const struct rframe *o = &sd->s->frames[k];
		enum sameness now = SAME_NAME;

		if (k == first)
			continue;
		if (o->file == f->file && o->module == f->module && f->file)
			now = SAME_FILE;
		else if (o->module == f->module && f->module)
			now = SAME_MODULE;
		if (now > *same)
			*same = now;
	}
	return f;
}

/* " at file.c:12 in module", as far as the frames of the box agree */
static void frame_where(FILE *out, const struct rframe *f, enum sameness same)
{
	if (f->file && same <= SAME_FILE) {
		fputs(" at ", out);
		xml_text(out, f->file);
		if (f->line && same == SAME_FRAME)
			fprintf(out, ":%u", f->line);
	}
	if (f->module && same <= SAME_MODULE) {
		fputs(" in ", out);
		xml_text(out, f->module);
	}
	if (f->kernel && !(f->module && same <= SAME_MODULE))
		fputs(" [kernel]", out);
	if (f->inlined && same == SAME_FRAME)
		fputs(" [inlined]", out);
}

/* ", 12 blocks", unless the values are the counts */
static void frame_count(FILE *out, const struct stackset *s, uint64_t value, uint64_t count)
{
	if (is_time(s) || value != count) {
		fprintf(out, ", %" PRIu64 "%s", count, *count_name(s) ? " " : "");
		xml_text(out, count_name(s));
	}
}

/* "name (45.6 ms, 12.34%, 89 blocks) at file.c:12 in module" */
static void frame_title(const struct graph *g, const struct node *n, const struct rframe *f,
			enum sameness same)
{
	uint64_t value = node_value(g, n), count = g->a.count[n->hi] - g->a.count[n->lo];
	char v[48];

	xml_text(g->out, f ? f->name : "all");
	fputs(" (", g->out);
	xml_text(g->out, format_value(v, sizeof(v), g->a.s, value));
	fprintf(g->out, ", %.2f%%", share(g, value));
	frame_count(g->out, g->a.s, value, count);
	fputc(')', g->out);
	if (f)
		frame_where(g->out, f, same);
}

/* "name: after 45.6 ms (12.34%), before 40.1 ms (normalised), change +5.5 ms (+13.7%)" */
static void diff_title(const struct graph *g, const struct node *n, const struct rframe *f,
		       enum sameness same)
{
	uint64_t value = node_value(g, n), count = g->a.count[n->hi] - g->a.count[n->lo];
	double base = node_base(g, n), change = value - base;
	char v[48];

	xml_text(g->out, f ? f->name : "all");
	fputs(": after ", g->out);
	xml_text(g->out, format_value(v, sizeof(v), g->a.s, value));
	fprintf(g->out, " (%.2f%%), before ", share(g, value));
	xml_text(g->out, format_value(v, sizeof(v), g->a.s, base));
	fprintf(g->out, " (normalised), change %s", change < 0 ? "-" : "+");
	xml_text(g->out, format_value(v, sizeof(v), g->a.s, fabs(change)));
	if (base > 0)
		fprintf(g->out, " (%+.1f%%)", 100 * change / base);
	else if (value)
		fputs(" (new)", g->out);
	frame_count(g->out, g->a.s, value, count);
	if (f)
		frame_where(g->out, f, same);
}

struct rgb {
	int r, g, b;
};

/* The off-CPU states' leaves, in the legend's order */
static const struct state_colour {
	const char *name, *legend;
	struct rgb c;
} states[] = {
	{ "[on-cpu]", "on CPU", { 80, 180, 90 } },
	{ "[R]", "R runnable", { 195, 30, 60 } },
	{ "[S]", "S sleeping", { 75, 135, 225 } },
	{ "[D]", "D uninterruptible", { 150, 95, 210 } },
};

#define NSTATES (sizeof(states) / sizeof(states[0]))

static const struct rgb root_colour = { 215, 215, 215 };
static const struct rgb label_colour = { 178, 178, 186 }; /* other synthetic frames */
static const struct rgb match_colour = { 224, 32, 224 };  /* as the style sheet's */
static const struct rgb grew_colour = { 225, 40, 40 }, shrank_colour = { 40, 40, 225 };
static const struct rgb same_colour = { 235, 235, 235 };
static const struct rgb user_legend = { 240, 150, 55 }, kernel_legend = { 188, 132, 90 };
static const struct rgb runtime_legend = { 80, 190, 190 };

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The state a synthetic frame names, or NULL */
static const struct state_colour *state_of(const struct rframe *f)
{
	for (size_t i = 0; f->synthetic && i < NSTATES; i++)
		if (!strcmp(f->name, states[i].name))
			return &states[i];
	return NULL;
}

/* Warm for user code, brown for the kernel, teal for interpreted code (by the name: a
 * function keeps its colour) */
static struct rgb frame_colour(const struct rframe *f)
{
	const struct state_colour *st = state_of(f);
	uint32_t h = name_hash(f->name);
	double a = (h & 0xff) / 255.0, b = (h >> 8 & 0xff) / 255.0, c = (h >> 16 & 0xff) / 255.0;

	if (st)
		return st->c;
	if (f->synthetic)
		return label_colour;
	if (f->kernel)
		return (struct rgb){ 175 + (int)(25 * a), 118 + (int)(27 * b), 78 + (int)(22 * c) };
	if (f->runtime) /* teal: the application's own functions in an interpreter */
		return (struct rgb){ 60 + (int)(40 * a), 170 + (int)(40 * b), 170 + (int)(40 * c) };
	return (struct rgb){ 225 + (int)(30 * a), 100 + (int)(120 * b), 35 + (int)(35 * c) };
}

/* Red as it grew, blue as it shrank, pale grey as it stayed: deeper with the change */
static struct rgb diff_colour(const struct graph *g, const struct node *n)
{
	double change = node_value(g, n) - node_base(g, n), t;
	int deep, pale;

	if (fabs(change) < 0.5 || !(g->max_change > 0))
		return same_colour;
	t = sqrt(fmin(1, fabs(change) / g->max_change));
	deep = (int)lround(235 - 195 * t);
	pale = (int)lround(245 - 20 * t);
	return change > 0 ? (struct rgb){ pale, deep, deep } : (struct rgb){ deep, deep, pale };
}

static struct rgb box_colour(const struct graph *g, const struct node *n, const struct rframe *f)
{
	if (g->diff)
		return diff_colour(g, n);
	return f ? frame_colour(f) : root_colour;
}

/*
 * The name if it fits in w pixels, else its first 3 or more characters and "..", else nothing
 * (the script does the same as it zooms)
 */
static void draw_label(FILE *out, const char *name, double x, double y, double w)
{
	double fit = floor((w - 6) / CHAR_W);
	size_t len = text_chars(name);

	if (len > fit && fit < 5)
		return;
	fprintf(out, "<text x=\"%.2f\" y=\"%.1f\">", x + 3, y + 11.5);
	if (len <= fit) {
		xml_text(out, name);
	} else {
		xml_text_max(out, name, (size_t)fit - 2);
		fputs("..", out);
	}
	fputs("</text>", out);
}

static void draw_box(struct graph *g, const struct node *n)
{
	enum sameness same = SAME_FRAME;
	const struct rframe *f = n->depth ? node_frame(g, n, &same) : NULL;
	const char *name = f ? f->name : "all";
	uint64_t value = node_value(g, n), count = g->a.count[n->hi] - g->a.count[n->lo];
	double x = PAD + n->x * g->scale, w = n->depth ? value * g->scale : WIDTH - 2 * PAD;
	double y = TOP + (double)(g->depth - n->depth) * FRAME_H;
	struct rgb c = box_colour(g, n, f);

	fputs("<g class=\"f\" data-name=\"", g->out);
	xml_text(g->out, name);
	fprintf(g->out,
		"\" data-value=\"%" PRIu64 "\" data-count=\"%" PRIu64 "\" data-x=\"%" PRIu64
		"\" data-d=\"%" PRIu32 "\"",
		value, count, n->x, n->depth);
	if (g->diff)
		fprintf(g->out, " data-base=\"%.0f\"", node_base(g, n));
	fputs("><title>", g->out);
	if (g->diff)
		diff_title(g, n, f, same);
	else
		frame_title(g, n, f, same);
	fprintf(g->out,
		"</title><rect x=\"%.2f\" y=\"%.0f\" width=\"%.3f\" height=\"%d\" "
		"fill=\"#%02x%02x%02x\"/>",
		x, y, w, FRAME_H - 1, c.r, c.g, c.b);
	draw_label(g->out, name, x, y, w);
	fputs("</g>\n", g->out);
}

static void draw_frame(struct graph *g, const struct node *n, bool hidden)
{
	if (!hidden)
		draw_box(g, n);
}

static void put_base36(FILE *out, uint64_t v)
{
	char buf[16];
	int i = sizeof(buf) - 1;

	buf[i] = '\0';
	do
		buf[--i] = "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36];
	while (v /= 36);
	fputs(buf + i, out);
}

/*
 * A frame not drawn, for the search: "dx value name-number" in base 36, dx from the x of the
 * one before (never less, root first), its name listed first as "=name"
 */
static void list_hidden(struct graph *g, const struct node *n, bool hidden)
{
	uint32_t frame, *id;

	if (!hidden)
		return;
	frame = g->a.rows[n->lo].r->frames[n->depth - 1];
	id = &g->name_ids[frame];
	if (*id == UINT32_MAX) {
		*id = g->nnames++;
		putc('=', g->out);
		xml_text(g->out, g->a.s->frames[frame].name);
		putc('\n', g->out);
	}
	put_base36(g->out, n->x - g->last_x);
	g->last_x = n->x;
	putc(' ', g->out);
	put_base36(g->out, node_value(g, n));
	putc(' ', g->out);
	put_base36(g->out, *id);
	putc('\n', g->out);
}

static void collect_cut(struct graph *g, const struct node *n, bool hidden)
{
	if (!hidden && n->depth)
		g->cuts[g->ncuts++] = (struct cut){ node_value(g, n), n->depth };
}

static int cut_sort(const void *a, const void *b)
{
	return cut_cmp(a, b);
}

static void deepest_drawn(struct graph *g, const struct node *n, bool hidden)
{
	if (!hidden && n->depth > g->depth)
		g->depth = n->depth;
}

/* Draws at most MAX_BOXES frames (a few more if tied), the widest */
static void choose_boxes(struct graph *g)
{
	g->cut = (struct cut){ 0, UINT32_MAX };
	walk(g, false, false, collect_cut);
	if (g->ncuts > MAX_BOXES) {
		qsort(g->cuts, g->ncuts, sizeof(*g->cuts), cut_sort);
		g->cut = g->cuts[MAX_BOXES - 1];
	}
	walk(g, false, false, deepest_drawn);
}

static void tally_change(struct graph *g, const struct node *n, bool hidden)
{
	if (!hidden && n->depth)
		g->max_change = fmax(g->max_change, fabs(node_value(g, n) - node_base(g, n)));
}

static const char style[] =
	"text{font-family:monospace;font-size:12px;fill:#000}"
	".title{font-family:sans-serif;font-size:17px;font-weight:bold;text-anchor:middle}"
	".sub{font-family:sans-serif;fill:#555;text-anchor:middle}"
	".ctl{font-family:sans-serif;fill:#1b4f9c;cursor:pointer}"
	"#fg-matched{fill:#a000a0;font-weight:bold}"
	"g.f{cursor:pointer}g.f text{pointer-events:none}"
	"g.f rect{stroke:rgba(0,0,0,.18);stroke-width:.5}.diff g.f rect{stroke:#aaa}"
	"g.f:hover rect{stroke:#000;stroke-width:1}g.f.dim{opacity:.55}"
	"g.f.match rect{fill:#e020e0}";

static double image_height(const struct graph *g)
{
	return TOP + (g->depth + 1.0) * FRAME_H + BOTTOM;
}

static void header(struct graph *g, const char *title, const char *subtitle)
{
	FILE *out = g->out;
	double h = image_height(g);

	fprintf(out,
		"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
		"<svg id=\"flamegraph\" version=\"1.1\" width=\"%.0f\" height=\"%.0f\" "
		"viewBox=\"0 0 %.0f %.0f\" xmlns=\"http://www.w3.org/2000/svg\"%s data-unit=\"",
		WIDTH, h, WIDTH, h, g->diff ? " class=\"diff\"" : "");
	xml_text(out, g->a.s->unit ? g->a.s->unit : "count");
	fputs("\" data-count-type=\"", out);
	xml_text(out, count_name(g->a.s));
	fprintf(out, "\" data-total=\"%" PRIu64 "\">\n<style>%s</style>\n", root_value(g), style);
	fputs("<rect width=\"100%\" height=\"100%\" fill=\"#f7f7f2\"/>\n", out);
	fprintf(out, "<text class=\"title\" x=\"%.0f\" y=\"24\">", WIDTH / 2);
	xml_text(out, title);
	fprintf(out, "</text>\n<text class=\"sub\" x=\"%.0f\" y=\"44\">", WIDTH / 2);
	xml_text(out, subtitle);
	fprintf(out,
		"</text>\n<text id=\"fg-reset\" class=\"ctl\" x=\"%.0f\" y=\"64\" "
		"visibility=\"hidden\">Reset zoom</text>\n<text id=\"fg-matched\" class=\"ctl\" "
		"x=\"%.0f\" y=\"64\" text-anchor=\"end\"></text>\n<text id=\"fg-search\" "
		"class=\"ctl\" x=\"%.0f\" y=\"64\" text-anchor=\"end\">Search</text>\n",
		PAD, WIDTH - PAD - 70, WIDTH - PAD);
}

static void legend_item(FILE *out, double *x, double y, const char *name, struct rgb c)
{
	fprintf(out,
		"<rect x=\"%.0f\" y=\"%.0f\" width=\"11\" height=\"11\" "
		"fill=\"#%02x%02x%02x\" stroke=\"#999\"/><text x=\"%.0f\" y=\"%.0f\">%s</text>\n",
		*x, y - 10, c.r, c.g, c.b, *x + 15, y, name);
	*x += 15 + CHAR_W * strlen(name) + 18;
}

/* Which kinds of frame the stacks have, for the legend */
struct kinds {
	bool state[NSTATES], user, kernel, label, runtime;
};

static void kinds_of(const struct stackset *s, struct kinds *k)
{
	memset(k, 0, sizeof(*k));
	for (size_t i = 0; i < s->nframes; i++) {
		const struct state_colour *st = state_of(&s->frames[i]);

		if (st)
			k->state[st - states] = true;
		else if (s->frames[i].synthetic)
			k->label = true;
		else if (s->frames[i].kernel)
			k->kernel = true;
		else if (s->frames[i].runtime)
			k->runtime = true;
		else
			k->user = true;
	}
}

/* The details line (the script fills it in), and what the colours say */
static void legend(struct graph *g)
{
	double x = PAD, y = image_height(g) - 10;
	struct kinds k;

	fprintf(g->out, "<text id=\"fg-details\" x=\"%.0f\" y=\"%.0f\"> </text>\n", PAD, y - 22);
	if (g->diff) {
		legend_item(g->out, &x, y, "grew", grew_colour);
		legend_item(g->out, &x, y, "shrank", shrank_colour);
		legend_item(g->out, &x, y, "no change", same_colour);
	} else {
		kinds_of(g->a.s, &k);
		if (k.user)
			legend_item(g->out, &x, y, "user", user_legend);
		if (k.kernel)
			legend_item(g->out, &x, y, "kernel", kernel_legend);
		if (k.runtime)
			legend_item(g->out, &x, y, "interpreted", runtime_legend);
		for (size_t i = 0; i < NSTATES; i++)
			if (k.state[i])
				legend_item(g->out, &x, y, states[i].legend, states[i].c);
		if (k.label)
			legend_item(g->out, &x, y, "other label", label_colour);
	}
	legend_item(g->out, &x, y, "search match", match_colour);
}

static const char script[] =
#include "stallreport_svg.js.h"
	;

static int finish(struct graph *g)
{
	g->nnames = 0;
	g->last_x = 0;
	fputs("<metadata id=\"fg-hidden\">\n", g->out);
	walk(g, true, false, list_hidden);
	fprintf(g->out,
		"</metadata>\n<script type=\"text/ecmascript\"><![CDATA[\n%s]]></script>\n"
		"</svg>\n",
		script);
	if (fflush(g->out) || ferror(g->out)) {
		fprintf(stderr, "stallreport: cannot write the flame graph\n");
		return -1;
	}
	return 0;
}

static void graph_free(struct graph *g)
{
	side_free(&g->a);
	side_free(&g->b);
	free(g->stack);
	free(g->cuts);
	free(g->name_ids);
}

static int graph_init(struct graph *g, FILE *out, const struct stackset *s,
		      const struct stackset *base, double base_scale)
{
	memset(g, 0, sizeof(*g));
	g->out = out;
	g->diff = base != NULL;
	g->base_scale = isfinite(base_scale) && base_scale >= 0 ? base_scale : 1;
	if (side_init(&g->a, s) || (base && side_init(&g->b, base)))
		goto oom;
	g->stack = calloc(g->a.n + 1, sizeof(*g->stack));
	g->cuts = calloc(g->a.nnames + 1, sizeof(*g->cuts));
	g->name_ids = malloc((s->nframes + 1) * sizeof(*g->name_ids));
	if (!g->stack || !g->cuts || !g->name_ids)
		goto oom;
	memset(g->name_ids, 0xff, (s->nframes + 1) * sizeof(*g->name_ids));
	g->scale = root_value(g) ? (WIDTH - 2 * PAD) / root_value(g) : 0;
	choose_boxes(g);
	return 0;
oom:
	fprintf(stderr, "stallreport: out of memory for the flame graph\n");
	return -1;
}

/* printf to the end of the string in buf */
static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

static int draw(struct graph *g, const char *title, const char *subtitle)
{
	header(g, title, subtitle);
	fputs("<g id=\"fg-frames\">\n", g->out);
	walk(g, false, false, draw_frame);
	fputs("</g>\n", g->out);
	legend(g);
	return finish(g);
}

int flamegraph_svg(FILE *out, const struct stackset *s)
{
	struct graph g;
	char sub[256] = "", v[48];
	int ret = -1;

	if (!graph_init(&g, out, s, NULL, 1)) {
		append(sub, sizeof(sub), "Total %s", format_value(v, sizeof(v), s, root_value(&g)));
		if (s->value_type && is_time(s))
			append(sub, sizeof(sub), " %s", s->value_type);
		if (is_time(s) || s->count != root_value(&g))
			append(sub, sizeof(sub), " in %" PRIu64 " %s", s->count, count_name(s));
		if (s->duration_ns)
			append(sub, sizeof(sub), ", %.1f s traced", s->duration_ns / 1e9);
		ret = draw(&g, s->title ? s->title : "Flame graph", sub);
	}
	graph_free(&g);
	return ret;
}

int flamegraph_svg_diff(FILE *out, const struct stackset *base, double base_scale,
			const struct stackset *after)
{
	struct graph g;
	char sub[320], total[48], gone[48];
	int ret = -1;

	if (!graph_init(&g, out, after, base, base_scale)) {
		walk(&g, true, true, tally_change);
		format_value(total, sizeof(total), after, root_value(&g));
		format_value(gone, sizeof(gone), after, g.vanished);
		snprintf(sub, sizeof(sub),
			 "Differential: widths are the %s after, colours the change from the base "
			 "(\xc3\x97%.4g): red grew, blue shrank; %s of the base is at paths gone "
			 "after (not drawn)",
			 total, g.base_scale, gone);
		ret = draw(&g, after->title ? after->title : "Differential flame graph", sub);
	}
	graph_free(&g);
	return ret;
}
