'use strict';
// The synchronous API with real processes (sleep, sh).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const grazr = require('..');
const { tempDir, alive, pgidOf, eventually, waitGone, Guard } = require('./helpers');

const SLEEP = ['sleep', '30'];

test('version, result names, and the package version follow the library', () => {
  assert.match(grazr.version(), /^\d+\.\d+\.\d+$/);
  assert.equal(require('../package.json').version, grazr.version());
  assert.equal(grazr.resultName(0), 'GRAZR_OK');
  assert.equal(grazr.resultName(-2), 'GRAZR_ERR_SPAWN');
  assert.equal(grazr.resultName(12345), 'GRAZR_ERR_UNKNOWN');
  if (process.env.GRAZR_PROC_LIB) assert.equal(grazr.libraryPath, process.env.GRAZR_PROC_LIB);
});

test('start, status, pid, info, list and stop a real sleep', async (t) => {
  const dir = tempDir(t);
  const guard = new Guard(t);
  const id = guard.id('node-api-sleep');
  const logFile = path.join(dir, 'logs', 'sleep.log');
  const before = Date.now();
  grazr.start(id, SLEEP, { logFile, startupWindowMs: 0 });
  const pid = guard.track(grazr.pid(id));
  assert.ok(Number.isInteger(pid) && pid > 0);
  assert.equal(grazr.status(id), 'running');
  assert.ok(alive(pid));
  assert.equal(pgidOf(pid), pid, 'the child leads its own process group');
  assert.equal(grazr.pidAlive(pid), true);
  assert.equal(grazr.pidAlive(process.pid), false, 'never the host');

  grazr.start(id, SLEEP, { logFile }); // already running: nothing is spawned
  assert.equal(grazr.pid(id), pid);

  const info = grazr.info(id);
  assert.equal(info.status, 'running');
  assert.equal(info.state, 'running');
  assert.equal(info.pid, pid);
  assert.equal(info.childPid, pid);
  assert.equal(info.pgid, pid);
  assert.deepEqual(info.argv, SLEEP);
  assert.equal(info.logFile, logFile);
  assert.equal(info.pidFile, null);
  assert.equal(info.exitCode, null);
  assert.ok(info.startTime instanceof Date);
  assert.ok(Math.abs(info.startTime.getTime() - before) < 60000);
  assert.ok(grazr.list().includes(id));

  grazr.stop(id);
  assert.equal(grazr.status(id), 'stopped');
  assert.equal(grazr.pid(id), null);
  assert.ok(await waitGone(pid));
  assert.ok(!grazr.list().includes(id));
  assert.ok(fs.existsSync(logFile));
});

test('an unknown id is stopped; stopping it is fine; signalling it is NotRunning', () => {
  const id = 'node-api-never-started';
  assert.equal(grazr.status(id), 'stopped');
  assert.equal(grazr.pid(id), null);
  grazr.stop(id);
  const info = grazr.info(id);
  assert.equal(info.state, 'stopped');
  assert.deepEqual(info.argv, []);
  assert.throws(() => grazr.signal(id, 'SIGHUP'), (err) => {
    assert.ok(err instanceof grazr.NotRunning);
    assert.equal(err.code, 'GRAZR_ERR_NOT_RUNNING');
    assert.equal(err.errno, -7);
    assert.match(err.message, /not running/);
    return true;
  });
});

test('a missing program throws SpawnFailed with code, errno and the message', (t) => {
  const dir = tempDir(t);
  const id = 'node-api-missing';
  const program = path.join(dir, 'no-such-program');
  assert.throws(() => grazr.start(id, [program]), (err) => {
    assert.ok(err instanceof grazr.SpawnFailed);
    assert.ok(err instanceof grazr.GrazrError);
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'SpawnFailed');
    assert.equal(err.code, 'GRAZR_ERR_SPAWN');
    assert.equal(err.errno, -2);
    assert.ok(err.message.includes(program), err.message);
    assert.ok(err.message.includes(id), err.message);
    return true;
  });
  assert.equal(grazr.status(id), 'stopped');
});

test('an early exit throws ExitedEarly with the log tail; status is error until a stop', (t) => {
  const dir = tempDir(t);
  const guard = new Guard(t);
  const id = guard.id('node-api-early-exit');
  assert.throws(
    () => grazr.start(id, ['sh', '-c', 'echo node-boom-line >&2; exit 7'], { logFile: path.join(dir, 'early.log'), startupWindowMs: 2000 }),
    (err) => {
      assert.ok(err instanceof grazr.ExitedEarly);
      assert.equal(err.errno, -3);
      assert.match(err.message, /node-boom-line/);
      assert.match(err.message, /7/);
      return true;
    }
  );
  assert.equal(grazr.status(id), 'error');
  const info = grazr.info(id);
  assert.equal(info.state, 'failed');
  assert.equal(info.exitCode, 7);
  grazr.stop(id);
  assert.equal(grazr.status(id), 'stopped');
});

test('invalid arguments: InvalidArgument from the library or before the call; TypeError for wrong types', () => {
  const isInvalid = (err) => err instanceof grazr.InvalidArgument && err.errno === -1 && err.code === 'GRAZR_ERR_INVALID_ARGUMENT';
  assert.throws(() => grazr.start('', SLEEP), isInvalid);
  assert.throws(() => grazr.start('node-api-invalid', []), isInvalid);
  assert.throws(() => grazr.start('node-api-\0invalid', SLEEP), (err) => isInvalid(err) && /NUL/.test(err.message));
  assert.throws(() => grazr.start('node-api-invalid', ['sleep', '3\u00000']), isInvalid);
  assert.throws(() => grazr.start('node-api-invalid', SLEEP, { env: { 'A=B': 'x' } }), isInvalid);
  assert.throws(() => grazr.start('node-api-invalid', SLEEP, { startupWindowMs: -1 }), isInvalid);
  assert.throws(() => grazr.stop('node-api-invalid', { signal: 65 }), isInvalid);
  assert.throws(() => grazr.stop('node-api-invalid', { signal: 'SIGNOPE' }), isInvalid);
  assert.throws(() => grazr.signal('node-api-invalid', 0), isInvalid);
  assert.throws(() => grazr.registerService({ idPattern: 'node-tpl-{a}', pidFileTemplate: '/tmp/{b}.pid' }), isInvalid);
  assert.throws(() => grazr.registerService({ idPattern: 'node-x', neverKill: true, stopTimeoutMs: 5 }), isInvalid);
  assert.throws(() => grazr.start(42, SLEEP), TypeError);
  assert.throws(() => grazr.start('node-api-invalid', 'sleep 30'), TypeError);
  assert.throws(() => grazr.pidAlive('1'), TypeError);
  assert.equal(grazr.status('node-api-invalid'), 'stopped', 'nothing was started');
});

test('signal reaches the process; a death by a signal the library did not send is error', async (t) => {
  const guard = new Guard(t);
  const id = guard.id('node-api-signal');
  grazr.start(id, SLEEP, { startupWindowMs: 0 });
  const pid = guard.track(grazr.pid(id));
  grazr.signal(id, 'SIGUSR1'); // sleep's default action: die
  assert.ok(await eventually(() => grazr.status(id) === 'error'));
  const info = grazr.info(id);
  assert.equal(info.state, 'killed');
  assert.equal(info.termSignal, os.constants.signals.SIGUSR1);
  assert.ok(await waitGone(pid));
});

test('env object sets and removes, cwd applies, clearEnv starts from nothing', async (t) => {
  const dir = tempDir(t);
  const guard = new Guard(t);
  process.env.GRAZR_NODE_HOST_ONLY = 'from-host';
  t.after(() => delete process.env.GRAZR_NODE_HOST_ONLY);
  const id = guard.id('node-api-env');
  grazr.start(
    id,
    ['sh', '-c', 'printf "%s|%s|%s" "$GRAZR_NODE_SET" "${GRAZR_NODE_HOST_ONLY-unset}" "$(pwd)" > env.out; exec sleep 30'],
    { cwd: dir, env: { GRAZR_NODE_SET: 'a value', GRAZR_NODE_HOST_ONLY: null }, startupWindowMs: 0 }
  );
  guard.track(grazr.pid(id));
  const out = path.join(dir, 'env.out');
  assert.ok(await eventually(() => fs.existsSync(out) && fs.readFileSync(out, 'utf8').includes('|')));
  assert.equal(fs.readFileSync(out, 'utf8'), `a value|unset|${fs.realpathSync(dir)}`);
  grazr.stop(id);

  const id2 = guard.id('node-api-clear-env');
  grazr.start(id2, ['/bin/sh', '-c', '/usr/bin/env > clear.out; exec /bin/sleep 30'], {
    cwd: dir,
    clearEnv: true,
    env: { ONLY: '1' },
    startupWindowMs: 0,
  });
  guard.track(grazr.pid(id2));
  const clear = path.join(dir, 'clear.out');
  assert.ok(await eventually(() => fs.existsSync(clear) && fs.readFileSync(clear, 'utf8').includes('ONLY=1')));
  assert.doesNotMatch(fs.readFileSync(clear, 'utf8'), /GRAZR_NODE_HOST_ONLY|HOME=/);
  grazr.stop(id2);
});

test('pid file: start waits for it, readPidFile verifies it, stop removes it', async (t) => {
  const dir = tempDir(t);
  const guard = new Guard(t);
  const id = guard.id('node-api-pidfile');
  const pidFile = path.join(dir, 'run', 'svc.pid');
  grazr.start(id, ['sh', '-c', 'echo $$ > "$0"; exec sleep 30', pidFile], { pidFile, pidFileTimeoutMs: 5000 });
  const pid = guard.track(grazr.pid(id));
  assert.ok(pid > 0);
  assert.equal(grazr.readPidFile(pidFile), pid);
  assert.equal(grazr.info(id).pidFile, pidFile);
  assert.equal(grazr.readPidFile(path.join(dir, 'missing.pid')), null);
  grazr.stop(id);
  assert.ok(await waitGone(pid));
  assert.equal(fs.existsSync(pidFile), false);
});

test('neverKill stop throws StopTimeout and leaves the process running', async (t) => {
  const guard = new Guard(t);
  const id = guard.id('node-api-never-kill');
  grazr.start(id, ['sh', '-c', "trap '' TERM; exec sleep 30"], { startupWindowMs: 0 });
  const pid = guard.track(grazr.pid(id));
  assert.ok(await eventually(() => require('./helpers').cmdline(pid).startsWith('sleep')));
  assert.throws(() => grazr.stop(id, { neverKill: true, timeoutMs: 300 }), (err) => {
    assert.ok(err instanceof grazr.StopTimeout);
    assert.equal(err.errno, -4);
    assert.ok(err.message.includes(id));
    return true;
  });
  assert.ok(alive(pid));
  assert.equal(grazr.status(id), 'running');
  grazr.stop(id, { timeoutMs: 0 });
  assert.ok(await waitGone(pid));
});

test('registered template: start derives the pid file; stopAll stops every instance', async (t) => {
  const dir = tempDir(t);
  const guard = new Guard(t);
  grazr.registerService({ idPattern: 'node-tpl-{n}', pidFileTemplate: path.join(dir, '{n}.pid'), stopTimeoutMs: 2000 });
  const pids = [];
  for (const n of ['1', '2']) {
    const id = guard.id(`node-tpl-${n}`);
    const pidFile = path.join(dir, `${n}.pid`);
    grazr.start(id, ['sh', '-c', 'echo $$ > "$0"; exec sleep 30', pidFile]); // no pidFile option
    const pid = guard.track(grazr.pid(id));
    assert.equal(grazr.readPidFile(pidFile), pid);
    assert.equal(grazr.info(id).pidFile, pidFile);
    pids.push(pid);
  }
  grazr.stopAll();
  for (const pid of pids) assert.ok(await waitGone(pid));
  assert.equal(grazr.status('node-tpl-1'), 'stopped');
  assert.equal(grazr.status('node-tpl-2'), 'stopped');
});

test('shutdown forgets; a registered exact id is adopted again through its pid file', async (t) => {
  const dir = tempDir(t);
  const guard = new Guard(t);
  const id = guard.id('node-api-adopt');
  const pidFile = path.join(dir, 'adopt.pid');
  grazr.registerService({ idPattern: id, pidFileTemplate: pidFile, program: 'sleep', stopSignal: 'SIGTERM' });
  grazr.start(id, ['sh', '-c', 'echo $$ > "$0"; exec sleep 30', pidFile]);
  const pid = guard.track(grazr.pid(id));
  grazr.shutdown();
  assert.ok(!grazr.list().includes(id));
  assert.ok(alive(pid));
  assert.equal(grazr.status(id), 'running');
  assert.equal(grazr.pid(id), pid);
  assert.deepEqual(grazr.info(id).argv, []);
  grazr.stop(id);
  assert.ok(await waitGone(pid));
});
