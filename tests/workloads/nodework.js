// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// nodework: a Node.js program whose stalls are known in advance, for the tests of runtime frames.
//
//     node nodework.js STEP...   with each STEP one of
//         exec:N:MS      N child_process.execSync('sleep') of MS ms (outerExec -> middleExec -> innerExec)
//         fifo:N:MS      N fs.readFileSync of a FIFO whose writer opens it after MS ms
//                        (outerRead -> middleRead -> innerRead)
//         burn:SECONDS   CPU burned for SECONDS, 3/4 in burnHeavy, 1/4 in burnLight
//
// It prints "ready PID", waits for a line on stdin, runs the steps, prints "done" and exits.  The
// ground truth goes to $NODEWORK_LOG: "block FUNCTION NS" for each blocking call, "cpu FUNCTION
// NS" for the CPU time of each burning function.  Each line that calls on towards a stall is
// marked "// frame: FUNCTION" (the function it is in), so that the tests know each frame's line.
'use strict';
const childProcess = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const log = process.env.NODEWORK_LOG;

function note(...words) {
  if (log)
    fs.appendFileSync(log, words.join(' ') + '\n');
}

function innerExec(ms) {
  const start = process.hrtime.bigint();
  childProcess.execSync(`sleep ${ms / 1000}`); // frame: innerExec
  note('block', 'innerExec', process.hrtime.bigint() - start);
}

function middleExec(ms) {
  innerExec(ms); // frame: middleExec
}

function outerExec(ms) {
  middleExec(ms); // frame: outerExec
}

function innerRead(fifo) {
  const start = process.hrtime.bigint();
  const data = fs.readFileSync(fifo); // frame: innerRead
  note('block', 'innerRead', process.hrtime.bigint() - start);
  return data;
}

function middleRead(fifo) {
  return innerRead(fifo); // frame: middleRead
}

function outerRead(fifo) {
  return middleRead(fifo); // frame: outerRead
}

// the FIFO's writer: a child that opens it after ms and writes a line
function fifoStep(n, ms) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodework-'));
  const fifo = path.join(dir, 'fifo');
  childProcess.execFileSync('mkfifo', [fifo]);
  for (let i = 0; i < n; i++) {
    const writer = childProcess.spawn('sh', ['-c', `sleep ${ms / 1000}; echo data > ${fifo}`],
                                      { stdio: 'ignore' });
    outerRead(fifo); // frame: fifoStep
    writer.unref();
  }
  fs.rmSync(dir, { recursive: true });
}

// the main thread's own CPU time (process.cpuUsage() would add V8's compiler threads' time)
function cpuNs() {
  return BigInt(fs.readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[0]);
}

// until the monotonic clock reaches until (the main thread runs all along: its CPU time)
function burnHeavy(until) {
  let x = 0;
  while (process.hrtime.bigint() < until)
    for (let i = 0; i < 10000; i++) x = (x + i * 7) % 1000003;
  return x;
}

function burnLight(until) {
  let x = 0;
  while (process.hrtime.bigint() < until)
    for (let i = 0; i < 10000; i++) x = (x + i * 5) % 1000003;
  return x;
}

// 28 ms rounds (not a multiple of the 99 Hz samples' period): 21 in burnHeavy, 7 in burnLight;
// the CPU time of each as the main thread
// measures it
function burn(seconds) {
  const cpu = { burnHeavy: 0n, burnLight: 0n };
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    for (const [fn, ms] of [[burnHeavy, 21n], [burnLight, 7n]]) {
      const start = cpuNs();
      fn(process.hrtime.bigint() + ms * 1000000n);
      cpu[fn.name] += cpuNs() - start;
    }
  }
  for (const [name, ns] of Object.entries(cpu))
    note('cpu', name, ns);
}

function runStep(step) {
  const [kind, a, b] = step.split(':');
  if (kind === 'exec') {
    for (let i = 0; i < Number(a); i++)
      outerExec(Number(b)); // frame: runStep
  } else if (kind === 'fifo') {
    fifoStep(Number(a), Number(b)); // frame: runStep
  } else if (kind === 'burn') {
    burn(Number(a));
  } else {
    console.error(`nodework: unknown step ${step}`);
    process.exit(2);
  }
}

function main(steps) {
  process.stdout.write(`ready ${process.pid}\n`);
  const line = Buffer.alloc(1);
  while (fs.readSync(0, line, 0, 1) === 1 && line[0] !== 10) // frame: main
    ;
  for (const step of steps)
    runStep(step); // frame: main
  process.stdout.write('done\n');
}

main(process.argv.slice(2)); // frame: (anonymous)
