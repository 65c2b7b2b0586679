'use strict';
// The Promise API: the C call runs on a worker thread, so the event loop keeps turning while a
// start or stop blocks, and a failure carries the message of that call (written into a buffer
// by the worker thread), not whatever the main thread's thread-local message says.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const grazr = require('..');
const { tempDir, alive, cmdline, eventually, waitGone, Guard } = require('./helpers');

/** Counts setInterval ticks and the longest gap between two, while `promise` runs. */
async function whileTicking(promise) {
  let ticks = 0;
  let last = Date.now();
  let maxGap = 0;
  const timer = setInterval(() => {
    const now = Date.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
    ticks++;
  }, 20);
  const started = Date.now();
  try {
    const value = await promise;
    return { value, ticks, maxGap: Math.max(maxGap, Date.now() - last), elapsed: Date.now() - started };
  } finally {
    clearInterval(timer);
  }
}

test('stopAsync of a TERM-ignoring child waits for SIGKILL without blocking the event loop', async (t) => {
  const guard = new Guard(t);
  const id = guard.id('node-async-ignore-term');
  grazr.start(id, ['sh', '-c', "trap '' TERM; exec sleep 30"], { startupWindowMs: 0 });
  const pid = guard.track(grazr.pid(id));
  assert.ok(await eventually(() => cmdline(pid).startsWith('sleep')), 'sleep runs with TERM ignored');

  const { ticks, maxGap, elapsed } = await whileTicking(grazr.stopAsync(id, { timeoutMs: 1500 }));
  // The stop had to wait out the 1.5 s timeout, then SIGKILL.
  assert.ok(elapsed >= 1400, `stop took ${elapsed} ms`);
  // A blocking call would give one gap as long as the whole stop and a handful of ticks.
  assert.ok(ticks >= 10, `${ticks} ticks during ${elapsed} ms`);
  assert.ok(maxGap < 1000, `the event loop stalled for ${maxGap} ms`);
  assert.ok(await waitGone(pid));
  assert.equal(grazr.status(id), 'stopped');
});

test('a failing startAsync rejects with its own message, not the main thread\'s', async (t) => {
  const dir = tempDir(t);
  // Leave a different message in the main thread's last error first.
  assert.throws(() => grazr.start('node-async-main-thread', [path.join(dir, 'main-thread-program')]), grazr.SpawnFailed);
  const program = path.join(dir, 'worker-program');
  await assert.rejects(grazr.startAsync('node-async-missing', [program]), (err) => {
    assert.ok(err instanceof grazr.SpawnFailed);
    assert.equal(err.code, 'GRAZR_ERR_SPAWN');
    assert.equal(err.errno, -2);
    assert.ok(err.message.includes(program), err.message);
    assert.ok(err.message.includes('node-async-missing'), err.message);
    assert.ok(!err.message.includes('main-thread'), err.message);
    return true;
  });
});

test('concurrent failing starts each reject with their own message', async (t) => {
  const dir = tempDir(t);
  const names = ['a', 'b', 'c', 'd', 'e', 'f'];
  const results = await Promise.allSettled(
    names.map((n) => grazr.startAsync(`node-async-many-${n}`, [path.join(dir, `missing-${n}`)]))
  );
  results.forEach((result, i) => {
    assert.equal(result.status, 'rejected');
    assert.ok(result.reason instanceof grazr.SpawnFailed);
    assert.ok(result.reason.message.includes(`missing-${names[i]}`), result.reason.message);
    assert.ok(result.reason.message.includes(`node-async-many-${names[i]}`), result.reason.message);
  });
});

test('startAsync with a pid file: exit during startup rejects ExitedEarly with the log tail', async (t) => {
  const dir = tempDir(t);
  const guard = new Guard(t);
  const id = guard.id('node-async-exits');
  await assert.rejects(
    grazr.startAsync(id, ['sh', '-c', 'echo node-async-boom >&2; exit 4'], {
      pidFile: path.join(dir, 'never.pid'),
      logFile: path.join(dir, 'exits.log'),
    }),
    (err) => {
      assert.ok(err instanceof grazr.ExitedEarly);
      assert.equal(err.errno, -3);
      assert.match(err.message, /node-async-boom/);
      assert.ok(err.message.includes(id), err.message);
      return true;
    }
  );
  assert.equal(grazr.status(id), 'error');
});

test('startAsync waits for a late pid file while the event loop runs', async (t) => {
  const dir = tempDir(t);
  const guard = new Guard(t);
  const id = guard.id('node-async-late-pidfile');
  const pidFile = path.join(dir, 'late.pid');
  const { ticks, elapsed } = await whileTicking(
    grazr.startAsync(id, ['sh', '-c', 'sleep 0.6; echo $$ > "$0"; exec sleep 30', pidFile], { pidFile, pidFileTimeoutMs: 5000 })
  );
  const pid = guard.track(grazr.pid(id));
  assert.ok(elapsed >= 500, `start returned after ${elapsed} ms, before the pid file was written`);
  assert.ok(ticks >= 5, `${ticks} ticks during ${elapsed} ms`);
  assert.equal(grazr.readPidFile(pidFile), pid);
  assert.equal(grazr.status(id), 'running');
  await grazr.stopAsync(id);
  assert.ok(await waitGone(pid));
});

test('stopAsync with neverKill rejects StopTimeout and leaves the process running', async (t) => {
  const guard = new Guard(t);
  const id = guard.id('node-async-never-kill');
  grazr.start(id, ['sh', '-c', "trap '' TERM; exec sleep 30"], { startupWindowMs: 0 });
  const pid = guard.track(grazr.pid(id));
  assert.ok(await eventually(() => cmdline(pid).startsWith('sleep')));
  await assert.rejects(grazr.stopAsync(id, { neverKill: true, timeoutMs: 300 }), (err) => {
    assert.ok(err instanceof grazr.StopTimeout);
    assert.equal(err.code, 'GRAZR_ERR_TIMEOUT');
    assert.ok(err.message.includes(id), err.message);
    return true;
  });
  assert.ok(alive(pid));
  await grazr.stopAsync(id, { timeoutMs: 0 });
  assert.ok(await waitGone(pid));
});

test('stopAllAsync stops every registered instance in parallel; stopAsync of an unknown id resolves', async (t) => {
  const dir = tempDir(t);
  const guard = new Guard(t);
  grazr.registerService({ idPattern: 'node-async-tpl-{n}', pidFileTemplate: path.join(dir, '{n}.pid') });
  const pids = [];
  for (const n of ['1', '2', '3']) {
    const id = guard.id(`node-async-tpl-${n}`);
    await grazr.startAsync(id, ['sh', '-c', 'echo $$ > "$0"; exec sleep 30', path.join(dir, `${n}.pid`)]);
    pids.push(guard.track(grazr.pid(id)));
  }
  assert.ok(pids.every((pid) => pid > 0 && alive(pid)));
  await grazr.stopAllAsync();
  for (const pid of pids) assert.ok(await waitGone(pid));
  await grazr.stopAsync('node-async-never-started');
});

test('invalid options reject instead of throwing synchronously', async () => {
  await assert.rejects(grazr.startAsync('node-async-bad', ['sleep', '1'], { startupWindowMs: -5 }), grazr.InvalidArgument);
  await assert.rejects(grazr.stopAsync('', {}), grazr.InvalidArgument);
});
