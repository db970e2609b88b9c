// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Flame graphs as one SVG file with its script: the rows of the stack model merged into a tree
 * (siblings of the same name are one frame, in name order), drawn root at the bottom with
 * widths in proportion to the values, then made interactive by the script at the end (zoom,
 * search, details).  Nothing is fetched from anywhere.
 *
 * Each frame is <g class="f"> with data-name, data-value, data-count, data-x (where it starts,
 * in value units) and data-d (its depth), so that the script can lay it out again, and tests
 * can read it.  Frames narrower than MIN_WIDTH pixels are not drawn (their time is in their
 * parent's width all the same).
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "stallreport_formats.h"
#include "stallreport_print.h"

#define WIDTH	   1200.0
#define PAD	   10.0
#define FRAME_H	   16
#define TOP	   70 /* title, subtitle, controls */
#define BOTTOM	   40 /* details line, legend */
#define MIN_WIDTH  0.1
#define LABEL_CHAR_PX 7.0 /* of the 12 px monospace font, for labels that fit */

struct node {
	const struct rframe *frame; /* NULL: the root */
	uint64_t value, count;
	double base;	   /* diff: the base's value at the same path, scaled */
	struct node **kids;
	size_t nkids, cap;
};

struct tree {
	struct node root;
	unsigned int depth; /* of the deepest frame */
	bool failed;
};

static struct node *child(struct tree *t, struct node *n, const struct rframe *f)
{
	struct node **kids, *k;

	/* names are interned: one pointer per name */
	for (size_t i = n->nkids; i-- > 0;)
		if (n->kids[i]->frame->name == f->name)
			return n->kids[i];
	if (n->nkids == n->cap) {
		size_t cap = n->cap ? n->cap * 2 : 4;

		kids = realloc(n->kids, cap * sizeof(*kids));
		if (!kids) {
			t->failed = true;
			return NULL;
		}
		n->kids = kids;
		n->cap = cap;
	}
	k = calloc(1, sizeof(*k));
	if (!k) {
		t->failed = true;
		return NULL;
	}
	k->frame = f;
	n->kids[n->nkids++] = k;
	return k;
}

static void tree_add(struct tree *t, const struct stackset *s, const struct rsample *r)
{
	struct node *n = &t->root;

	n->value += r->value;
	n->count += r->count;
	for (uint32_t i = 0; i < r->nframes && n; i++) {
		n = child(t, n, &s->frames[r->frames[i]]);
		if (n) {
			n->value += r->value;
			n->count += r->count;
		}
	}
	if (r->nframes > t->depth)
		t->depth = r->nframes;
}

static int by_name(const void *a, const void *b)
{
	return strcmp((*(struct node *const *)a)->frame->name,
		      (*(struct node *const *)b)->frame->name);
}

static void sort_kids(struct node *n)
{
	if (n->nkids > 1)
		qsort(n->kids, n->nkids, sizeof(*n->kids), by_name);
	for (size_t i = 0; i < n->nkids; i++)
		sort_kids(n->kids[i]);
}

static int tree_build(struct tree *t, const struct stackset *s)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < s->nsamples && !t->failed; i++)
		tree_add(t, s, &s->samples[i]);
	sort_kids(&t->root);
	return t->failed ? -1 : 0;
}

static void node_free(struct node *n)
{
	for (size_t i = 0; i < n->nkids; i++) {
		node_free(n->kids[i]);
		free(n->kids[i]);
	}
	free(n->kids);
}

/* The base's value at each of after's paths; what base has that after has not, in *vanished */
static void tree_match(struct node *after, const struct node *base, double scale,
		       double *vanished)
{
	after->base = base ? base->value * scale : 0;
	for (size_t i = 0; i < after->nkids; i++) {
		const struct node *b = NULL;

		for (size_t k = 0; base && k < base->nkids && !b; k++)
			if (!strcmp(base->kids[k]->frame->name, after->kids[i]->frame->name))
				b = base->kids[k];
		tree_match(after->kids[i], b, scale, vanished);
	}
	for (size_t k = 0; base && k < base->nkids; k++) {
		bool found = false;

		for (size_t i = 0; i < after->nkids && !found; i++)
			found = !strcmp(base->kids[k]->frame->name, after->kids[i]->frame->name);
		if (!found)
			*vanished += base->kids[k]->value * scale;
	}
}

/* Text for XML: escaped, and without the control characters XML 1.0 does not allow */
static void xml_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&#39;", out);
			break;
		default:
			fputc((unsigned char)*s < 0x20 ? '?' : *s, out);
		}
	}
}

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Warm for user code, brown for the kernel, a colour per off-CPU state, grey for labels */
static void frame_colour(char *buf, size_t len, const struct rframe *f)
{
	static const struct {
		const char *name, *colour;
	} states[] = {
		{ "[S]", "rgb(91,140,220)" },  { "[D]", "rgb(160,100,210)" },
		{ "[R]", "rgb(225,70,70)" },   { "[on-cpu]", "rgb(90,185,95)" },
	};
	uint32_t h = name_hash(f->name);
	double v1 = (h & 0xff) / 255.0, v2 = ((h >> 8) & 0xff) / 255.0;

	if (f->synthetic) {
		for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
			if (!strcmp(f->name, states[i].name)) {
				snprintf(buf, len, "%s", states[i].colour);
				return;
			}
		snprintf(buf, len, "rgb(%d,%d,%d)", 180, 180, 190);
	} else if (f->kernel) {
		snprintf(buf, len, "rgb(%d,%d,%d)", 175 + (int)(35 * v1), 135 + (int)(30 * v2),
			 95 + (int)(20 * v1));
	} else {
		snprintf(buf, len, "rgb(%d,%d,%d)", 225 + (int)(30 * v1), 70 + (int)(150 * v2),
			 40 + (int)(30 * v1));
	}
}

/* Red as it grew, blue as it shrank, white as it stayed, by the largest change */
static void diff_colour(char *buf, size_t len, const struct node *n, double max_change)
{
	double change = n->value - n->base;
	int fade = max_change > 0 ? (int)(200 * (1 - fmin(1, fabs(change) / max_change))) : 200;

	fade += 55;
	if (change > 0)
		snprintf(buf, len, "rgb(255,%d,%d)", fade, fade);
	else if (change < 0)
		snprintf(buf, len, "rgb(%d,%d,255)", fade, fade);
	else
		snprintf(buf, len, "rgb(250,250,250)");
}

struct draw {
	FILE *out;
	const struct stackset *s;
	double scale;	   /* pixels per value unit */
	uint64_t total;	   /* the root's value */
	unsigned int depth; /* of the tree */
	bool diff;
	double max_change;
};

static void frame_title(const struct draw *d, const struct node *n)
{
	char v[32], b[32];

	xml_text(d->out, n->frame ? n->frame->name : "all");
	fprintf(d->out, " (%s, %.2f%%, %" PRIu64 " %s", format_value(v, sizeof(v), d->s, n->value),
		d->total ? 100.0 * n->value / d->total : 0.0, n->count,
		d->s->count_type ? d->s->count_type : "");
	if (n->frame && n->frame->file) {
		fputs(", ", d->out);
		xml_text(d->out, n->frame->file);
		fprintf(d->out, ":%u", n->frame->line);
	}
	if (n->frame && n->frame->module && !n->frame->file) {
		fputs(", ", d->out);
		xml_text(d->out, n->frame->module);
	}
	if (d->diff) {
		double change = n->value - n->base;

		fprintf(d->out, "; before %s, change %s%s", format_value(b, sizeof(b), d->s,
									 (uint64_t)llround(n->base)),
			change < 0 ? "-" : "+",
			format_value(v, sizeof(v), d->s, (uint64_t)llround(fabs(change))));
		if (n->base > 0)
			fprintf(d->out, " (%+.1f%%)", 100 * change / n->base);
	}
	fputc(')', d->out);
}

/* As much of the name as fits in w pixels (the script does the same as it zooms) */
static void label(FILE *out, const char *name, double w)
{
	int fit = (int)((w - 6) / LABEL_CHAR_PX), len = (int)strlen(name);
	char *part;

	if (fit < 3)
		return;
	if (len <= fit) {
		xml_text(out, name);
		return;
	}
	fit -= 2;
	while (fit > 0 && ((unsigned char)name[fit] & 0xc0) == 0x80)
		fit--; /* not in the middle of a UTF-8 sequence */
	part = strndup(name, fit);
	if (part) {
		xml_text(out, part);
		fputs("..", out);
	}
	free(part);
}

static void draw_node(const struct draw *d, const struct node *n, unsigned int depth,
		      uint64_t x)
{
	double px = PAD + x * d->scale, w = n->value * d->scale;
	double y = TOP + (double)(d->depth - depth) * FRAME_H;
	char colour[32];
	uint64_t kx = x;

	if (w < MIN_WIDTH)
		return;
	if (d->diff)
		diff_colour(colour, sizeof(colour), n, d->max_change);
	else if (n->frame)
		frame_colour(colour, sizeof(colour), n->frame);
	else
		snprintf(colour, sizeof(colour), "rgb(230,230,230)");
	fputs("<g class=\"f\" data-name=\"", d->out);
	xml_text(d->out, n->frame ? n->frame->name : "all");
	fprintf(d->out, "\" data-value=\"%" PRIu64 "\" data-count=\"%" PRIu64 "\" data-x=\"%" PRIu64
		"\" data-d=\"%u\"", n->value, n->count, x, depth);
	if (d->diff)
		fprintf(d->out, " data-base=\"%.0f\"", n->base);
	fputs("><title>", d->out);
	frame_title(d, n);
	fprintf(d->out, "</title><rect x=\"%.2f\" y=\"%.1f\" width=\"%.3f\" height=\"%d\" "
		"fill=\"%s\" rx=\"2\"/><text x=\"%.2f\" y=\"%.1f\">", px, y, w, FRAME_H - 1,
		colour, px + 3, y + FRAME_H - 4.5);
	label(d->out, n->frame ? n->frame->name : "all", w);
	fputs("</text></g>\n", d->out);
	for (size_t i = 0; i < n->nkids; i++) {
		draw_node(d, n->kids[i], depth + 1, kx);
		kx += n->kids[i]->value;
	}
}

static double largest_change(const struct node *n)
{
	double max = fabs(n->value - n->base);

	for (size_t i = 0; i < n->nkids; i++)
		max = fmax(max, largest_change(n->kids[i]));
	return max;
}

static const char script[] =
#include "stallreport_svg.js.h"
	;

static void header(FILE *out, const struct stackset *s, unsigned int depth, const char *subtitle)
{
	double height = TOP + (depth + 1) * FRAME_H + BOTTOM;

	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
		"<svg id=\"flamegraph\" version=\"1.1\" width=\"%.0f\" height=\"%.0f\" "
		"viewBox=\"0 0 %.0f %.0f\" xmlns=\"http://www.w3.org/2000/svg\" "
		"data-unit=\"%s\" data-count-type=\"%s\" data-total=\"%" PRIu64 "\">\n",
		WIDTH, height, WIDTH, height, s->unit, s->count_type ? s->count_type : "",
		s->total);
	fputs("<style>text{font:12px monospace;fill:#000;pointer-events:none}"
	      "g.f rect{stroke:#fff;stroke-width:0.5;cursor:pointer}"
	      "g.f:hover rect{stroke:#000;stroke-width:0.8}g.f.dim rect{opacity:0.45}"
	      "g.f.match rect{fill:rgb(230,0,230)}.ctl{cursor:pointer;fill:#225}"
	      ".title{font:bold 16px sans-serif}.sub{font:12px sans-serif;fill:#444}</style>\n",
	      out);
	fprintf(out, "<rect width=\"100%%\" height=\"100%%\" fill=\"rgb(250,250,245)\"/>\n"
		"<text class=\"title\" x=\"%.0f\" y=\"22\" text-anchor=\"middle\">", WIDTH / 2);
	xml_text(out, s->title ? s->title : "Flame graph");
	fprintf(out, "</text>\n<text class=\"sub\" x=\"%.0f\" y=\"40\" text-anchor=\"middle\">",
		WIDTH / 2);
	xml_text(out, subtitle);
	fprintf(out, "</text>\n<text id=\"reset\" class=\"ctl\" x=\"%.0f\" y=\"60\" "
		"visibility=\"hidden\">Reset zoom</text>\n<text id=\"search\" class=\"ctl\" "
		"x=\"%.0f\" y=\"60\" text-anchor=\"end\">Search (Ctrl-F)</text>\n<text "
		"id=\"matched\" x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\"></text>\n<text "
		"id=\"details\" x=\"%.0f\" y=\"%.0f\"> </text>\n", PAD, WIDTH - PAD, WIDTH - PAD,
		height - 24, PAD, height - 24);
}

static void legend(FILE *out, const struct stackset *s, unsigned int depth, bool diff)
{
	static const char *const items[][2] = {
		{ "on-CPU", "rgb(90,185,95)" },	 { "S sleeping", "rgb(91,140,220)" },
		{ "D uninterruptible", "rgb(160,100,210)" }, { "R runnable", "rgb(225,70,70)" },
		{ "kernel", "rgb(192,150,105)" }, { "user", "rgb(240,150,55)" },
	};
	static const char *const diff_items[][2] = {
		{ "grew", "rgb(255,55,55)" }, { "shrank", "rgb(55,55,255)" },
		{ "no change", "rgb(250,250,250)" },
	};
	double y = TOP + (depth + 1) * FRAME_H + BOTTOM - 8, x = PAD;
	size_t n = diff ? 3 : 6;

	(void)s;
	for (size_t i = 0; i < n; i++) {
		const char *const *item = diff ? diff_items[i] : items[i];

		fprintf(out, "<rect x=\"%.0f\" y=\"%.0f\" width=\"10\" height=\"10\" fill=\"%s\" "
			"stroke=\"#888\"/><text x=\"%.0f\" y=\"%.0f\">%s</text>\n", x, y - 9,
			item[1], x + 14, y, item[0]);
		x += 30 + LABEL_CHAR_PX * strlen(item[0]);
	}
}

static int finish(FILE *out)
{
	fprintf(out, "<script type=\"text/ecmascript\"><![CDATA[\n%s]]></script>\n</svg>\n",
		script);
	if (fflush(out) || ferror(out)) {
		fprintf(stderr, "stallreport: writing the flame graph failed\n");
		return -1;
	}
	return 0;
}

static int draw(FILE *out, const struct stackset *s, struct tree *t, bool diff,
		const char *subtitle)
{
	struct draw d = { .out = out, .s = s, .depth = t->depth, .diff = diff };

	d.total = t->root.value;
	d.scale = d.total ? (WIDTH - 2 * PAD) / d.total : 0;
	if (diff)
		d.max_change = largest_change(&t->root);
	header(out, s, t->depth, subtitle);
	fputs("<g id=\"frames\">\n", out);
	draw_node(&d, &t->root, 0, 0);
	fputs("</g>\n", out);
	legend(out, s, t->depth, diff);
	return finish(out);
}

int flamegraph_svg(FILE *out, const struct stackset *s)
{
	struct tree t;
	char total[32], sub[128];
	int ret = -1;

	if (tree_build(&t, s))
		fprintf(stderr, "stallreport: out of memory\n");
	else {
		snprintf(sub, sizeof(sub), "%s in %" PRIu64 " %s, %.2f s traced",
			 format_value(total, sizeof(total), s, t.root.value), t.root.count,
			 s->count_type ? s->count_type : "", s->duration_ns / 1e9);
		ret = draw(out, s, &t, false, sub);
	}
	node_free(&t.root);
	return ret;
}

int flamegraph_svg_diff(FILE *out, const struct stackset *base, double base_scale,
			const struct stackset *after)
{
	struct tree b, a;
	double vanished = 0;
	char total[32], gone[32], sub[160];
	int ret = -1;

	if (tree_build(&b, base) || tree_build(&a, after)) {
		fprintf(stderr, "stallreport: out of memory\n");
	} else {
		tree_match(&a.root, &b.root, base_scale, &vanished);
		snprintf(sub, sizeof(sub), "widths: %s of the capture; colours: the change from the "
			 "base (x%.3f); %s of the base's stacks are gone", format_value(total,
			 sizeof(total), after, a.root.value), base_scale,
			 format_value(gone, sizeof(gone), after, (uint64_t)llround(vanished)));
		ret = draw(out, after, &a, true, sub);
	}
	node_free(&b.root);
	node_free(&a.root);
	return ret;
}
