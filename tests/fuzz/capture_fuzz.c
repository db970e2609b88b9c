// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: the capture reader and everything stallreport draws from what it read.
 * An input is read twice: as a file (gzip and all), and as the records of a capture (this
 * target compresses them first, so that the fuzzer's mutations reach the records instead of
 * failing gzip's checksum).  Whatever the input, no crash, no hang, no leak, bounded memory.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>
#include "capture.h"
#include "stallreport_diff.h"
#include "stallreport_extract.h"
#include "stallreport_formats.h"
#include "stallreport_print.h"

static FILE *sink;

static void draw(const struct capture_data *d)
{
	struct stackset s;
	char err[512];

	print_info(sink, d);
	stackset_init(&s);
	if (!extract_stacks(&s, d, &(struct extract_filter){ .host_frames = true }, err,
			    sizeof(err))) {
		print_stack_blocks(sink, &s, 0);
		print_folded(sink, &s);
		print_json(sink, &s, d, 1, 3);
		flamegraph_svg(sink, &s);
		flamegraph_svg_diff(sink, &s, 0.5, &s);
		speedscope_write(sink, &s);
		pprof_write(sink, &s);
		diff_report(sink, DIFF_TEXT, &s, &s, 0);
	}
	stackset_free(&s);
}

static void read_and_draw(const void *buf, size_t len)
{
	struct capture_data d;
	char err[512];

	if (!capture_read_mem("fuzz", buf, len, &d, err, sizeof(err))) {
		draw(&d);
		capture_data_free(&d);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uLongf zlen = compressBound(size) + 32;
	unsigned char *z = malloc(zlen);
	z_stream zs = { 0 };

	if (!sink)
		sink = fopen("/dev/null", "we");
	read_and_draw(data, size);
	if (z && deflateInit2(&zs, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK) {
		zs.next_in = (unsigned char *)data;
		zs.avail_in = size;
		zs.next_out = z;
		zs.avail_out = zlen;
		if (deflate(&zs, Z_FINISH) == Z_STREAM_END)
			read_and_draw(z, zs.total_out);
		deflateEnd(&zs);
	}
	free(z);
	return 0;
}
