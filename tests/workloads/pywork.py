#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""pywork: a Python program whose stalls are known in advance, for the tests of runtime frames.

    pywork.py STEP...   with each STEP one of
        sleep:N:MS           N sleeps of MS ms       (outer_sleep -> middle_sleep -> inner_sleep)
        socket:N:MS          N socket reads answered after MS ms by a child process
                                                     (ask_peer -> wait_reply -> read_reply)
        getaddrinfo:N:NAME   N lookups of NAME       (lookup_host -> resolve_name)
        burn:SECONDS         CPU burned for SECONDS, 3/4 in burn_heavy, 1/4 in burn_light

It prints "ready PID", waits for a line on stdin, runs the steps, prints "done" and exits.  The
ground truth goes to $PYWORK_LOG: "block FUNCTION NS" for each blocking call, "cpu FUNCTION NS"
for the CPU time of each burning function.  Every line that calls on towards a stall is marked
"# frame: FUNCTION" (the function it is in), so that the tests know each Python frame's line.
"""
import os
import socket
import sys
import time

LOG = open(os.environ.get("PYWORK_LOG", os.devnull), "a")


def log(*words):
    print(*words, file=LOG, flush=True)


def inner_sleep(ms):
    start = time.monotonic_ns()
    time.sleep(ms / 1000)  # frame: inner_sleep
    log("block", "inner_sleep", time.monotonic_ns() - start)


def middle_sleep(ms):
    inner_sleep(ms)  # frame: middle_sleep


def outer_sleep(ms):
    middle_sleep(ms)  # frame: outer_sleep


def read_reply(sock):
    start = time.monotonic_ns()
    reply = sock.recv(1)  # frame: read_reply
    log("block", "read_reply", time.monotonic_ns() - start)
    return reply


def wait_reply(sock):
    return read_reply(sock)  # frame: wait_reply


def ask_peer(sock):
    sock.send(b"?")
    return wait_reply(sock)  # frame: ask_peer


def resolve_name(name):
    start = time.monotonic_ns()
    addresses = socket.getaddrinfo(name, 80, socket.AF_INET)  # frame: resolve_name
    log("block", "resolve_name", time.monotonic_ns() - start)
    return addresses


def lookup_host(name):
    return resolve_name(name)  # frame: lookup_host


def burn_heavy(until):
    x = 0
    while time.thread_time_ns() < until:
        x += 1
    return x


def burn_light(until):
    x = 0
    while time.thread_time_ns() < until:
        x += 1
    return x


def burn(seconds):
    """28 ms rounds (not a multiple of the 99 Hz samples' period): 21 in burn_heavy, 7 in
    burn_light, CPU time as the thread measures it"""
    cpu = {"burn_heavy": 0, "burn_light": 0}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for function, ms in ((burn_heavy, 21), (burn_light, 7)):
            start = time.thread_time_ns()
            function(start + ms * 1_000_000)
            cpu[function.__name__] += time.thread_time_ns() - start
    for function, ns in cpu.items():
        log("cpu", function, ns)


def peer(sock, ms):
    """The child: answers each request after ms"""
    while sock.recv(1):
        time.sleep(ms / 1000)
        sock.send(b"!")
    os._exit(0)


def socket_step(n, ms):
    mine, theirs = socket.socketpair()
    child = os.fork()
    if child == 0:
        mine.close()
        peer(theirs, ms)
    theirs.close()
    for _ in range(n):
        ask_peer(mine)  # frame: socket_step
    mine.close()
    os.waitpid(child, 0)


def run_step(step):
    kind, arg1, arg2 = (step.split(":") + [""])[:3]
    if kind == "sleep":
        for _ in range(int(arg1)):
            outer_sleep(int(arg2))  # frame: run_step
    elif kind == "socket":
        socket_step(int(arg1), int(arg2))  # frame: run_step
    elif kind == "getaddrinfo":
        for _ in range(int(arg1)):
            lookup_host(arg2)  # frame: run_step
    elif kind == "burn":
        burn(float(arg1))
    else:
        sys.exit(f"pywork: unknown step {step!r}")


def wait_for_go():
    sys.stdin.readline()  # frame: wait_for_go


def main(steps):
    print("ready", os.getpid(), flush=True)
    wait_for_go()  # frame: main
    for step in steps:
        run_step(step)  # frame: main
    print("done", flush=True)


main(sys.argv[1:])  # frame: <module>
