// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * stallreport: reads what the tools' -o kept, and prints it again, merges it, draws it,
 * compares it, or converts it for profiling backends.  Needs no privileges; loads no BPF.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "capture.h"
#include "options.h"
#include "parse.h"
#include "stallreport_diff.h"
#include "stallreport_extract.h"
#include "stallreport_formats.h"
#include "stallreport_print.h"
#include "stallreport_prune.h"

enum format {
	FORMAT_TEXT,
	FORMAT_FOLDED,
	FORMAT_JSON,
	FORMAT_SVG,
	FORMAT_PPROF,
	FORMAT_SPEEDSCOPE,
};

static const char *const format_names[] = { "text", "folded", "json", "svg", "pprof",
					    "speedscope" };

struct report_opts {
	enum format format;
	const char *output;
	const char **tags;
	size_t ntags;
	unsigned int pid;
	const char *comm;
	size_t top;
	bool info, diff, prune;
	char **files;
	size_t nfiles;
};

enum {
	OPT_TAG = 0x100,
	OPT_COMM,
	OPT_TOP,
	OPT_INFO,
	OPT_DIFF,
	OPT_PRUNE,
};

static const struct argp_option options[] = {
	{ "format", 'f', "FORMAT", 0,
	  "text (default), folded, json, svg (a flame graph), pprof, speedscope", 0 },
	{ "output", 'o', "FILE", 0, "Write to FILE instead of stdout", 0 },
	{ "tag", OPT_TAG, "KEY=VALUE", 0,
	  "Only the captures with this tag (repeatable: all must match)", 0 },
	{ "pid", 'p', "PID", 0, "Only this process's stacks", 0 },
	{ "comm", OPT_COMM, "NAME", 0, "Only the stacks of threads with this command name", 0 },
	{ "top", OPT_TOP, "N", 0, "Only the N largest stacks (text, json; --diff: N rows)", 0 },
	{ "info", OPT_INFO, NULL, 0, "Print the captures' metadata", 0 },
	{ "diff", OPT_DIFF, NULL, 0,
	  "BASE CAPTURE: what changed from BASE to CAPTURE (text, json, svg)", 0 },
	{ "prune", OPT_PRUNE, NULL, 0,
	  "Remove the captures in the policy's capture_dir older than its retention", 0 },
	{},
};

static const char doc[] =
	"Prints, merges, draws and compares the captures that syslat, offcputime, profile, "
	"dnsblock and tcpretrans write with -o FILE.\v"
	"Examples:\n"
	"  stallreport a.cap                      the report the tool printed\n"
	"  stallreport -f svg -o a.svg a.cap      an interactive flame graph\n"
	"  stallreport --info *.cap               who traced what, when and why\n"
	"  stallreport -f svg -o f.svg web-*.cap  one flame graph, a branch per host\n"
	"  stallreport --diff before.cap a.cap    what changed after the fix\n"
	"  stallreport -f pprof -o a.pb.gz a.cap  for go tool pprof, Pyroscope, Parca\n"
	"  stallreport --prune                    the retention of stallkit-policy(5)";

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct report_opts *o = state->input;
	uint64_t v;

	switch (key) {
	case 'f':
		for (v = 0; v < sizeof(format_names) / sizeof(format_names[0]); v++)
			if (!strcmp(arg, format_names[v]))
				break;
		if (v == sizeof(format_names) / sizeof(format_names[0]))
			argp_error(state, "unknown format '%s': text, folded, json, svg, pprof or "
				   "speedscope", arg);
		o->format = v;
		break;
	case 'o':
		o->output = arg;
		break;
	case OPT_TAG: {
		const char **tags = realloc(o->tags, (o->ntags + 1) * sizeof(*tags));

		if (!strchr(arg, '=') || *arg == '=')
			argp_error(state, "--tag '%s': expected KEY=VALUE", arg);
		if (!tags)
			argp_failure(state, EXIT_RUNTIME, ENOMEM, "--tag");
		tags[o->ntags++] = arg;
		o->tags = tags;
		break;
	}
	case 'p':
		if (parse_u64(arg, &v) || !v || v > INT32_MAX)
			argp_error(state, "invalid PID '%s'", arg);
		o->pid = v;
		break;
	case OPT_COMM:
		o->comm = arg;
		break;
	case OPT_TOP:
		if (parse_u64(arg, &v) || !v || v > 1000000)
			argp_error(state, "--top '%s': a number from 1 to 1000000", arg);
		o->top = v;
		break;
	case OPT_INFO:
		o->info = true;
		break;
	case OPT_DIFF:
		o->diff = true;
		break;
	case OPT_PRUNE:
		o->prune = true;
		break;
	case ARGP_KEY_ARGS:
		o->files = state->argv + state->next;
		o->nfiles = state->argc - state->next;
		break;
	case ARGP_KEY_END:
		if (o->prune && o->nfiles)
			argp_error(state, "--prune takes no capture: it prunes the policy's capture_dir");
		if (o->prune)
			break;
		if (!o->nfiles)
			argp_error(state, "no capture given");
		if (o->diff && o->nfiles != 2)
			argp_error(state, "--diff compares two captures: BASE CAPTURE");
		if (o->diff && o->format != FORMAT_TEXT && o->format != FORMAT_JSON &&
		    o->format != FORMAT_SVG)
			argp_error(state, "--diff prints text, json or svg");
		if (o->diff && (o->pid || o->comm))
			argp_error(state, "--diff compares whole captures: no --pid or --comm");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp argp = { options, parse_opt, "CAPTURE...", doc, NULL, NULL, NULL };

static bool has_tags(const struct capture_data *d, const struct report_opts *o)
{
	const json_t *tags = json_object_get(d->meta, "tags");

	for (size_t i = 0; i < o->ntags; i++) {
		const char *eq = strchr(o->tags[i], '=');
		char key[256];
		const char *value;

		snprintf(key, sizeof(key), "%.*s", (int)(eq - o->tags[i]), o->tags[i]);
		value = json_string_value(json_object_get(tags, key));
		if (!value || strcmp(value, eq + 1))
			return false;
	}
	return true;
}

/* Reads the captures given, keeps those with the tags asked for: how many, or -1 */
static ssize_t read_captures(const struct report_opts *o, struct capture_data *caps)
{
	char err[512];
	size_t n = 0;

	for (size_t i = 0; i < o->nfiles; i++) {
		if (capture_read(o->files[i], &caps[n], err, sizeof(err))) {
			fprintf(stderr, "stallreport: %s\n", err);
			for (size_t k = 0; k < n; k++)
				capture_data_free(&caps[k]);
			return -1;
		}
		if (caps[n].unknown)
			fprintf(stderr, "stallreport: %s: written by a newer stallkit (format %s): "
				"%zu records it does not know were left out\n", o->files[i],
				capture_str(caps[n].meta, "version"), caps[n].unknown);
		if (has_tags(&caps[n], o))
			n++;
		else
			capture_data_free(&caps[n]);
	}
	if (!n)
		fprintf(stderr, "stallreport: no capture has the tags asked for\n");
	return n ? (ssize_t)n : -1;
}

static bool several_hosts(const struct capture_data *caps, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (strcmp(extract_host(&caps[i]) ?: "", extract_host(&caps[0]) ?: ""))
			return true;
	return false;
}

/* The title of a merge: each capture's, joined */
static char *merged_title(const struct capture_data *caps, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char *t = capture_title(&caps[i]);

		fprintf(f, "%s%s", i ? " + " : "", t ? t : "?");
		free(t);
	}
	fclose(f);
	return buf;
}

static int build_stacks(struct stackset *s, const struct capture_data *caps, size_t n,
			const struct report_opts *o)
{
	struct extract_filter f = { .pid = o->pid, .comm = o->comm,
				    .host_frames = several_hosts(caps, n) };
	char err[512];

	stackset_init(s);
	s->title = merged_title(caps, n);
	for (size_t i = 0; i < n; i++) {
		if (extract_stacks(s, &caps[i], &f, err, sizeof(err))) {
			fprintf(stderr, "stallreport: %s\n", err);
			return -1;
		}
	}
	return 0;
}

/* text: what the tool printed; merged, or filtered, the stacks in the tools' own layout */
static int print_text(FILE *out, const struct stackset *s, const struct capture_data *caps,
		      size_t n, const struct report_opts *o)
{
	if (n == 1 && !o->pid && !o->comm && !o->top) {
		fwrite(caps[0].text, 1, caps[0].text_len, out);
		return 0;
	}
	if (extract_text_is_stacks(&caps[0])) {
		fprintf(out, "%s\n\n", s->title ? s->title : "");
		print_stack_blocks(out, s, o->top);
		return 0;
	}
	if (o->pid || o->comm || o->top) {
		fprintf(stderr, "stallreport: with text, --pid, --comm and --top select the stacks "
			"of offcputime and profile; for %s's stacks use --format folded, json or "
			"svg\n", s->tool);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char *t = capture_title(&caps[i]);

		fprintf(out, "%s==> %s <==\n", i ? "\n" : "", t ? t : caps[i].name);
		fwrite(caps[i].text, 1, caps[i].text_len, out);
		free(t);
	}
	return 0;
}

static int write_report(FILE *out, const struct report_opts *o, const struct capture_data *caps,
			size_t n)
{
	struct stackset s, base;
	int ret = -1;

	stackset_init(&s);
	stackset_init(&base);
	if (o->info) {
		for (size_t i = 0; i < n; i++)
			print_info(out, &caps[i]);
		return 0;
	}
	if (o->diff) {
		if (build_stacks(&base, caps, 1, o) || build_stacks(&s, caps + 1, 1, o))
			goto out;
		ret = diff_report(out, o->format == FORMAT_JSON ? DIFF_JSON :
				       o->format == FORMAT_SVG	? DIFF_SVG : DIFF_TEXT,
				  &base, &s, o->top);
		goto out;
	}
	if (build_stacks(&s, caps, n, o))
		goto out;
	if (o->format != FORMAT_TEXT && o->format != FORMAT_JSON && !s.nsamples) {
		fprintf(stderr, "stallreport: no stacks to draw%s\n",
			o->pid || o->comm ? " for that process" :
				": the session was not asked for them (--stacks)");
		goto out;
	}
	switch (o->format) {
	case FORMAT_TEXT:
		ret = print_text(out, &s, caps, n, o);
		break;
	case FORMAT_FOLDED:
		print_folded(out, &s);
		ret = 0;
		break;
	case FORMAT_JSON:
		print_json(out, &s, caps, n, o->top);
		ret = 0;
		break;
	case FORMAT_SVG:
		ret = flamegraph_svg(out, &s);
		break;
	case FORMAT_PPROF:
		ret = pprof_write(out, &s);
		break;
	case FORMAT_SPEEDSCOPE:
		ret = speedscope_write(out, &s);
		break;
	}
out:
	stackset_free(&s);
	stackset_free(&base);
	return ret;
}

int main(int argc, char **argv)
{
	struct report_opts o = { .format = FORMAT_TEXT };
	struct capture_data *caps;
	ssize_t n = 0;
	FILE *out = stdout;
	int ret = EXIT_RUNTIME;

	options_init();
	argp_parse(&argp, argc, argv, 0, NULL, &o);
	if (o.prune)
		return prune_captures();
	if (o.format == FORMAT_PPROF && !o.output && isatty(STDOUT_FILENO))
		usage_error("pprof is binary: give -o FILE");
	caps = calloc(o.nfiles, sizeof(*caps));
	if (!caps || (n = read_captures(&o, caps)) < 0)
		goto out;
	if (o.output && !(out = fopen(o.output, "we"))) {
		fprintf(stderr, "stallreport: %s: %s\n", o.output, strerror(errno));
		goto free;
	}
	if (!write_report(out, &o, caps, n))
		ret = 0;
	if ((fflush(out) || ferror(out)) && ret == 0) {
		fprintf(stderr, "stallreport: writing %s: %s\n", o.output ? o.output : "stdout",
			strerror(errno));
		ret = EXIT_RUNTIME;
	}
	if (out != stdout && fclose(out) && ret == 0) {
		fprintf(stderr, "stallreport: writing %s: %s\n", o.output, strerror(errno));
		ret = EXIT_RUNTIME;
	}
free:
	for (ssize_t i = 0; i < n; i++)
		capture_data_free(&caps[i]);
out:
	free(caps);
	free(o.tags);
	return ret;
}
