/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What stallkit needs of a HotSpot JVM: whether its compiled code keeps frame pointers (the
 * unwinder walks its code cache by them), and its perf map.
 *
 * The perf map (JDK 17+): /tmp/perf-PID.map, which the JVM writes when asked
 * through its attach mechanism ("jcmd PID Compiler.perfmap"), names its compiled methods for
 * the symbolizer.  The request is made here, in C, with the attach protocol: no JDK (jcmd) is
 * needed on the host, a JRE is enough.
 *
 * What a request costs the JVM: the first one starts its "Attach Listener" thread (it stays,
 * with its socket /tmp/.java_pidPID); the JVM then writes one line per method in its code
 * cache while it holds the code cache lock (no safepoint: Java threads run on, compilations
 * wait).  The map is a snapshot: methods compiled later have no name, and code freed since may
 * keep an old one.  The JVM does not remove the file.
 */
#ifndef STALLKIT_JVM_H
#define STALLKIT_JVM_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * Whether the JVM of pid was started with -XX:+PreserveFramePointer (its command line, and
 * JAVA_TOOL_OPTIONS, JDK_JAVA_OPTIONS, _JAVA_OPTIONS in its environment, the last word
 * winning as HotSpot reads them): without it, compiled Java code uses rbp as it likes.
 */
bool jvm_preserves_frame_pointers(pid_t pid);

/*
 * Asks the JVM of pid to write /tmp/perf-PID.map (jcmd PID Compiler.perfmap), as the process's
 * own user and inside its mount namespace where needed; waits at most timeout_ms.  0, or
 * -errno with a message on stderr naming the pid and the reason.
 */
int jvm_perfmap_write(pid_t pid, unsigned int timeout_ms);

#endif
