// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "table.h"
#include "units.h"

void table_init(struct table *t, const char *spec)
{
	char *save = NULL;

	memset(t, 0, sizeof(*t));
	t->spec = strdup(spec);
	for (char *name = strtok_r(t->spec, " ", &save); name && t->ncols < TABLE_MAX_COLS;
	     name = strtok_r(NULL, " ", &save)) {
		t->left[t->ncols] = name[0] == '<';
		t->names[t->ncols++] = name + (name[0] == '<');
	}
}

void table_cell(struct table *t, const char *fmt, ...)
{
	char **grown;
	va_list ap;

	if (!t->ncols)
		return;
	grown = realloc(t->cells, (t->ncells + 1) * sizeof(*t->cells));
	if (!grown)
		return;
	t->cells = grown;
	va_start(ap, fmt);
	if (vasprintf(&t->cells[t->ncells], fmt, ap) < 0)
		t->cells[t->ncells] = NULL;
	va_end(ap);
	t->ncells++;
}

static void print_cell(FILE *out, const char *s, size_t width, bool left, bool last)
{
	size_t pad = width - text_width(s);

	if (!left)
		fprintf(out, "%*s", (int)pad, "");
	fputs(s ? s : "", out);
	if (left && !last)
		fprintf(out, "%*s", (int)pad, "");
}

void table_print(const struct table *t, FILE *out)
{
	size_t width[TABLE_MAX_COLS];

	for (size_t c = 0; c < t->ncols; c++)
		width[c] = text_width(t->names[c]);
	for (size_t i = 0; i < t->ncells; i++) {
		size_t w = text_width(t->cells[i]);

		if (w > width[i % t->ncols])
			width[i % t->ncols] = w;
	}
	for (size_t c = 0; c < t->ncols; c++) {
		if (c)
			fputs("  ", out);
		print_cell(out, t->names[c], width[c], t->left[c], c + 1 == t->ncols);
	}
	fputc('\n', out);
	for (size_t i = 0; i < t->ncells; i++) {
		size_t c = i % t->ncols;

		if (c)
			fputs("  ", out);
		print_cell(out, t->cells[i], width[c], t->left[c], c + 1 == t->ncols);
		if (c + 1 == t->ncols || i + 1 == t->ncells)
			fputc('\n', out);
	}
}

void table_free(struct table *t)
{
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->spec);
	memset(t, 0, sizeof(*t));
}
