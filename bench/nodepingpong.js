// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// nodepingpong DEPTH: two node processes pass a byte back and forth over two FIFOs (blocking
// reads: node's own pipes are non-blocking), each from DEPTH nested JavaScript functions:
// every pass is a block and a wake-up.  Prints "ready PID PID" and runs until killed.
'use strict';
const childProcess = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

function passBytes(rd, wr, first) {
  const b = Buffer.alloc(1);
  if (first)
    fs.writeSync(wr, b);
  while (fs.readSync(rd, b, 0, 1) === 1)
    fs.writeSync(wr, b);
}

function nest(depth, rd, wr, first) {
  return depth > 1 ? nest(depth - 1, rd, wr, first) : passBytes(rd, wr, first);
}

const depth = Number(process.argv[2] || 10);
if (process.argv[3]) { // the child: FIFO DIR
  const rd = fs.openSync(path.join(process.argv[3], 'a'), 'r');
  const wr = fs.openSync(path.join(process.argv[3], 'b'), 'w');
  nest(depth, rd, wr, false);
} else {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodepingpong-'));
  childProcess.execFileSync('mkfifo', [path.join(dir, 'a'), path.join(dir, 'b')]);
  const child = childProcess.spawn(process.execPath, [__filename, String(depth), dir],
                                   { stdio: 'inherit' });
  const wr = fs.openSync(path.join(dir, 'a'), 'w');
  const rd = fs.openSync(path.join(dir, 'b'), 'r');
  fs.rmSync(dir, { recursive: true });
  process.stdout.write(`ready ${process.pid} ${child.pid}\n`);
  nest(depth, rd, wr, true);
}
