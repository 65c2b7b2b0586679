'use strict';
// Shared by the tests: a temp dir per test, and a guard that stops every process a test started
// (through the library, by id) and kills the process group of any PID still alive afterwards,
// also when the test failed half-way.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const grazr = require('..');

function tempDir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grazr-node-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The one-letter state from /proc/PID/stat ('R', 'S', 'Z', ...), or null when there is none. */
function procState(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return null;
  }
}

/**
 * True while `pid` is a running process. A zombie counts as gone: Node cannot reap, and a child
 * the library spawned but then forgot (grazr.shutdown) stays a zombie of this process until it
 * exits.
 */
function alive(pid) {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (err.code !== 'EPERM') return false;
  }
  return procState(pid) !== 'Z';
}

/** The process group of `pid` from /proc, or null. */
function pgidOf(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[2]);
  } catch {
    return null;
  }
}

function cmdline(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(condition, limitMs = 5000) {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    if (condition()) return true;
    await sleep(10);
  }
  return condition();
}

async function waitGone(pid, limitMs = 5000) {
  return eventually(() => !alive(pid), limitMs);
}

class Guard {
  constructor(t) {
    this.ids = new Set();
    this.pids = new Set();
    t.after(() => this.cleanup());
  }

  /** Names an id for cleanup; returns it. */
  id(id) {
    this.ids.add(id);
    return id;
  }

  /** Records a PID whose group is killed at cleanup if the library did not stop it. */
  track(pid) {
    if (pid) this.pids.add(pid);
    return pid;
  }

  cleanup() {
    for (const id of this.ids) {
      try {
        grazr.stop(id, { timeoutMs: 0 });
      } catch (err) {
        console.log(`cleanup: stop ${id}: ${err.message}`);
      }
    }
    for (const pid of this.pids) {
      // Only a process that still leads its own group: a recycled PID is left alone.
      if (alive(pid) && pgidOf(pid) === pid) {
        console.log(`cleanup: killing process group ${pid}`);
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  }
}

module.exports = { tempDir, alive, pgidOf, cmdline, sleep, eventually, waitGone, Guard };
