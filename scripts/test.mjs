#!/usr/bin/env node
// Runs every `*.test.ts` beside the code it tests (src/, test/, bench/) with uvu under tsx,
// one file per process group so that one suite's servers or timers cannot leak into another,
// and prints the plain closing line `N passed, N failed` that CI reads.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOTS = ['src', 'test', 'bench'];
const filter = process.argv[2] ? new RegExp(process.argv[2]) : null;

function collect(dir, out) {
  let entries;
  try { entries = readdirSync(dir); } catch { return out; }
  for (const name of entries.sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) collect(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const files = ROOTS.flatMap((r) => collect(r, [])).filter((f) => !filter || filter.test(f));
let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
for (const file of files) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
  const out = (r.stdout ?? '') + (r.stderr ?? '');
  const num = (label) => Number((out.match(new RegExp(`${label}:\\s+(\\d+)`)) ?? [])[1] ?? 0);
  const total = num('Total');
  const p = num('Passed');
  const s = num('Skipped');
  const ok = r.status === 0 && total > 0;
  passed += p;
  skipped += s;
  failed += ok ? 0 : Math.max(1, total - p - s);
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${relative('.', file)} (${p}/${total}, ${secs}s)`);
  if (!ok) failures.push({ file, out });
}
for (const f of failures) {
  console.log(`\n──── ${f.file} ────\n${f.out.trim()}`);
}
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || files.length === 0 ? 1 : 0);
