#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""pypingpong DEPTH: two processes pass a byte back and forth over two pipes, each from DEPTH
nested Python functions: every pass is a block and a wake-up, with DEPTH Python frames on the
stack.  Prints "ready PID PID" and runs until killed."""
import os
import sys


def pass_bytes(rd, wr, first):
    if first:
        os.write(wr, b"x")
    while os.read(rd, 1):
        os.write(wr, b"x")


def nest(depth, rd, wr, first):
    if depth > 1:
        return nest(depth - 1, rd, wr, first)
    return pass_bytes(rd, wr, first)


def main(depth):
    a_rd, a_wr = os.pipe()
    b_rd, b_wr = os.pipe()
    child = os.fork()
    if child == 0:
        nest(depth, a_rd, b_wr, False)
        os._exit(0)
    print("ready", os.getpid(), child, flush=True)
    nest(depth, b_rd, a_wr, True)


main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
