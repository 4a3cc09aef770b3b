#!/usr/bin/env node
// Runs every `*.test.ts` beside the code it tests (src/, test/, bench/) with uvu under tsx, one
// process per file so that one suite's servers or timers cannot leak into another, and prints
// the plain closing line `N passed, N failed` that CI reads.
//
// Unit files run two at a time (this project's machines have two cores); end-to-end, hardening,
// Envoy (Envoy on every core) and kube (a real API server and etcd) files measure time, memory
// and traffic, so they run alone afterwards.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOTS = ['src', 'test', 'bench'];
const SERIAL = /^test\/(e2e|hardening|envoy|kube)\//;
const JOBS = Math.max(1, Number(process.env.TEST_JOBS ?? 2));
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

function runFile(file) {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], { env: { ...process.env, FORCE_COLOR: '0' } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (status) => {
      const num = (label) => Number((out.match(new RegExp(`${label}:\\s+(\\d+)`)) ?? [])[1] ?? 0);
      const total = num('Total');
      const passed = num('Passed');
      const skipped = num('Skipped');
      // Every test must have passed or skipped itself (no Envoy on a laptop: Total 0, Skipped N).
      // uvu exits 0 when a `before` hook throws, running none of the suite's tests: that is a failure.
      const ok = status === 0 && (total > 0 || skipped > 0) && passed + skipped >= total;
      const failed = ok ? 0 : Math.max(1, total - passed - skipped);
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      console.log(`${ok ? 'ok  ' : 'FAIL'} ${relative('.', file)} (${passed}/${total}, ${secs}s)`);
      resolve({ file, out, ok, passed, failed, skipped });
    });
  });
}

async function pool(files, jobs) {
  const results = [];
  let next = 0;
  const worker = async () => {
    while (next < files.length) results.push(await runFile(files[next++]));
  };
  await Promise.all(Array.from({ length: Math.min(jobs, files.length) }, worker));
  return results;
}

const files = ROOTS.flatMap((r) => collect(r, [])).filter((f) => !filter || filter.test(f));
const t0 = Date.now();
const results = [
  ...(await pool(files.filter((f) => !SERIAL.test(f)), JOBS)),
  ...(await pool(files.filter((f) => SERIAL.test(f)), 1)),
];
const sum = (k) => results.reduce((n, r) => n + r[k], 0);
for (const r of results.filter((x) => !x.ok)) console.log(`\n──── ${r.file} ────\n${r.out.trim()}`);
console.log(`\n${files.length} files in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
console.log(`${sum('passed')} passed, ${sum('failed')} failed${sum('skipped') ? `, ${sum('skipped')} skipped` : ''}`);
process.exit(sum('failed') > 0 || files.length === 0 ? 1 : 0);
