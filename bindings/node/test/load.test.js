'use strict';
// How the package finds libgrazr_proc.so: GRAZR_PROC_LIB, then a copy inside the package, then
// the repository's target/release; an Error naming every place tried. Each case loads the
// package in a fresh node process, since a loaded library stays loaded.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { tempDir } = require('./helpers');

const PACKAGE_DIR = path.resolve(__dirname, '..');
const BUILT_LIB = process.env.GRAZR_PROC_LIB || path.resolve(PACKAGE_DIR, '..', '..', 'target', 'release', 'libgrazr_proc.so');

/** Requires the package at `dir` in a child node and prints its libraryPath and version. */
function load(dir, env) {
  const childEnv = { ...process.env, NODE_PATH: path.join(PACKAGE_DIR, 'node_modules'), ...env };
  for (const [key, value] of Object.entries(childEnv)) if (value === undefined) delete childEnv[key];
  const script = 'const g = require(process.argv[1]); console.log(g.libraryPath + " " + g.version());';
  return spawnSync(process.execPath, ['-e', script, dir], { env: childEnv, encoding: 'utf8', timeout: 30000 });
}

/** A copy of the package's JavaScript in a temp dir, away from any target/release. */
function copyPackage(t) {
  const dir = path.join(tempDir(t), 'grazr-proc');
  fs.mkdirSync(dir);
  fs.copyFileSync(path.join(PACKAGE_DIR, 'index.js'), path.join(dir, 'index.js'));
  fs.copyFileSync(path.join(PACKAGE_DIR, 'package.json'), path.join(dir, 'package.json'));
  return dir;
}

test('GRAZR_PROC_LIB is used when set', () => {
  const result = load(PACKAGE_DIR, { GRAZR_PROC_LIB: BUILT_LIB });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout.trim().split(' ')[0], BUILT_LIB);
});

test('a GRAZR_PROC_LIB that cannot be loaded is an error naming it, with no fallback', (t) => {
  const bogus = path.join(tempDir(t), 'libgrazr_proc.so');
  const result = load(PACKAGE_DIR, { GRAZR_PROC_LIB: bogus });
  assert.notEqual(result.status, 0);
  assert.ok(result.stderr.includes(`GRAZR_PROC_LIB=${bogus}`), result.stderr);
});

test('without GRAZR_PROC_LIB a copy inside the package wins', (t) => {
  const dir = copyPackage(t);
  fs.copyFileSync(BUILT_LIB, path.join(dir, 'libgrazr_proc.so'));
  const result = load(dir, { GRAZR_PROC_LIB: undefined });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout.trim().split(' ')[0], path.join(dir, 'libgrazr_proc.so'));
});

test('in a checkout the repository target/release is found', () => {
  const result = load(PACKAGE_DIR, { GRAZR_PROC_LIB: undefined });
  const inPackage = path.join(PACKAGE_DIR, 'libgrazr_proc.so');
  const expected = fs.existsSync(inPackage) ? inPackage : path.resolve(PACKAGE_DIR, '..', '..', 'target', 'release', 'libgrazr_proc.so');
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout.trim().split(' ')[0], expected);
});

test('nothing found: the Error names every place tried', (t) => {
  const dir = copyPackage(t);
  const result = load(dir, { GRAZR_PROC_LIB: undefined });
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /cannot find libgrazr_proc\.so/);
  assert.match(result.stderr, /GRAZR_PROC_LIB \(not set\)/);
  assert.ok(result.stderr.includes(path.join(dir, 'libgrazr_proc.so')), result.stderr);
  assert.match(result.stderr, /inside the package: not found/);
  assert.match(result.stderr, /repository's target\/release: not found/);
});
