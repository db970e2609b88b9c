/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Stacks as every tool shows them: completed, and each frame as one line of text or a JSON
 * object. */
#ifndef STALLKIT_FRAMES_H
#define STALLKIT_FRAMES_H

#include <stddef.h>
#include <linux/types.h>
#include "json.h"
#include "symbolizer.h"

/* "native", "kernel", "python", "java"; "stop" and "lost" for what is not a frame */
const char *frame_kind(const struct sym_frame *f);

/* "poll_empty_pipe at stallwork.c:93:9 [stallwork+0x1234]", " (inlined)" when inlined;
 * "libfoo.so+0x1f2e [build-id 3f1a...]" when only the module is known; "inner at w.py:2
 * [python]" for an interpreter's frame.  Returns buf. */
char *frame_format(const struct sym_frame *f, char *buf, size_t len);

/* {"addr":..,"function":..,"offset":..,"file":..,"line":..,"column":..,"inlined":..,
 *  "module":..,"module_offset":..,"build_id":..} */
void frame_json(struct json *j, const struct sym_frame *f);

#endif
