/**
 * `smi-compile graph`: the bookstore fixture as JSON, Mermaid, DOT and SVG. The DOT parses with
 * Graphviz's own parser (the `dot` binary when installed, else the WebAssembly build the SVG uses);
 * the SVG is valid, names every workload, and Debian's headless Chromium renders it without error
 * (skipped without chromium, failed under CI=true, where .ci/run installs it).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { XMLValidator } from 'fast-xml-parser';
import { runCli } from './cli-harness.ts';

const WORKLOADS = ['bookbuyer', 'bookstore', 'bookstore-v2', 'bookthief', 'bookwarehouse', 'mysql'];

function which(bin: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

test('json: workloads and services, calls labelled with routes, the split with weights, the workloads nothing may call', async () => {
  const r = await runCli(['graph', 'fixtures/bookstore', '--format', 'json']);
  assert.is(r.code, 0, r.stderr);
  const g = JSON.parse(r.stdout);
  assert.equal(g.nodes.filter((n: { kind: string }) => n.kind === 'workload').map((n: { name: string }) => n.name).sort(), WORKLOADS);
  assert.equal(g.nodes.filter((n: { deniedByDefault?: boolean }) => n.deniedByDefault).map((n: { id: string }) => n.id), ['workload:bookbuyer/bookbuyer', 'workload:bookthief/bookthief']);
  const calls = g.edges.filter((e: { kind: string }) => e.kind === 'calls').map((e: { from: string; to: string; label: string[] }) => `${e.from} → ${e.to}: ${e.label.join(' | ')}`);
  assert.equal(calls, [
    'workload:bookbuyer/bookbuyer → service:bookstore/bookstore: GET .*a-book.*new | GET /books-bought {user-agent: .*-http-client/*.*, client-app: bookbuyer}',
    'workload:bookbuyer/bookbuyer → service:bookstore/bookstore-v1: GET .*a-book.*new | GET /books-bought {user-agent: .*-http-client/*.*, client-app: bookbuyer}',
    'workload:bookbuyer/bookbuyer → service:bookstore/bookstore-v2: GET .*a-book.*new | GET /books-bought {user-agent: .*-http-client/*.*, client-app: bookbuyer}',
    'workload:bookstore/bookstore → service:bookwarehouse/bookwarehouse: POST .*',
    'workload:bookwarehouse/bookwarehouse → service:bookwarehouse/mysql: tcp:3306',
  ]);
  assert.equal(g.edges.filter((e: { kind: string }) => e.kind === 'splits').map((e: { to: string; label: string[] }) => `${e.to} ${e.label}`), [
    'service:bookstore/bookstore-v1 weight 50 (50%)',
    'service:bookstore/bookstore-v2 weight 50 (50%)',
  ]);
});

test('--namespace keeps what touches the namespace', async () => {
  const r = await runCli(['graph', 'fixtures/bookstore', '--format', 'json', '--namespace', 'bookwarehouse']);
  const g = JSON.parse(r.stdout);
  assert.equal(g.nodes.map((n: { id: string }) => n.id), [
    'service:bookwarehouse/bookwarehouse',
    'service:bookwarehouse/mysql',
    'workload:bookstore/bookstore',
    'workload:bookwarehouse/bookwarehouse',
    'workload:bookwarehouse/mysql',
  ]);
});

test('mermaid (the default, the README example)', async () => {
  const r = await runCli(['graph', 'fixtures/bookstore']);
  assert.is(r.code, 0, r.stderr);
  console.log(r.stdout.replace(/^/gm, '  '));
  assert.match(r.stdout, /^flowchart LR\n/);
  assert.match(r.stdout, 'n5["bookbuyer<br>nothing may call"]');
  assert.match(r.stdout, 'n0 ==>|"weight 50 (50%)"| n1');
  assert.match(r.stdout, 'class n5,n8 denied');
});

test("dot parses with Graphviz's own parser", async () => {
  const r = await runCli(['graph', 'fixtures/bookstore', '--format', 'dot']);
  assert.is(r.code, 0, r.stderr);
  const dot = which('dot');
  if (dot) {
    const p = spawnSync(dot, ['-Tcanon'], { input: r.stdout, encoding: 'utf8' });
    assert.is(p.status, 0, p.stderr);
    assert.is(p.stderr, '', 'no warning either');
  } else {
    const { Graphviz } = await import('@hpcc-js/wasm-graphviz');
    const graphviz = await Graphviz.load();
    const canon = graphviz.layout(r.stdout, 'canon', 'dot');
    assert.match(canon, /^digraph mesh \{/);
    assert.throws(() => graphviz.layout(`${r.stdout.slice(0, -3)} -> ;}`, 'canon', 'dot'), undefined, 'the parser does refuse broken DOT');
  }
});

let svg = '';
test('svg: valid XML, an <svg> root, every workload named in a <text>', async () => {
  const r = await runCli(['graph', 'fixtures/bookstore', '--format', 'svg']);
  assert.is(r.code, 0, r.stderr);
  svg = r.stdout;
  assert.is(XMLValidator.validate(svg), true);
  assert.match(svg, /<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  // Graphviz writes `-` as &#45;.
  const texts = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1].replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n))));
  for (const w of WORKLOADS) assert.ok(texts.includes(w), `${w} in ${texts.join(', ')}`);
});

const chromium = which('chromium');
test('svg: headless Chromium renders it without error', async () => {
  if (!chromium) {
    if (process.env.CI === 'true') assert.unreachable('CI=true and no chromium (apt-get install chromium)');
    console.log('  (skipped: no chromium; apt-get install chromium)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'smi-graph-'));
  try {
    writeFileSync(join(dir, 'graph.svg'), svg);
    // An <img> load fails for an SVG the browser cannot parse or draw; the page records which happened.
    writeFileSync(
      join(dir, 'page.html'),
      '<!doctype html><body><img id="g" src="graph.svg"><script>const g = document.getElementById("g");' +
        'g.onload = () => document.body.dataset.result = `loaded ${g.naturalWidth}x${g.naturalHeight}`;' +
        'g.onerror = () => document.body.dataset.result = "error";</script></body>',
    );
    const run = (url: string) =>
      spawnSync(
        chromium,
        ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--user-data-dir=${join(dir, 'profile')}`, '--allow-file-access-from-files', '--virtual-time-budget=5000', '--dump-dom', url],
        { encoding: 'utf8', timeout: 120_000 },
      );
    const page = run(`file://${join(dir, 'page.html')}`);
    assert.is(page.status, 0, page.stderr);
    assert.match(page.stdout, /data-result="loaded \d+x\d+"/, page.stdout);
    // Opened as a document, a parse error would show as <parsererror>; the text is all there.
    const doc = run(`file://${join(dir, 'graph.svg')}`);
    assert.is(doc.status, 0, doc.stderr);
    assert.not.match(doc.stdout, 'parsererror');
    for (const w of WORKLOADS) assert.match(doc.stdout, `>${w}</text>`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('past SVG_INLINE_LABEL_EDGES edges, labels become tooltips (inline labels cost Graphviz minutes on 250 services)', async () => {
  const { meshGraph, toDot, SVG_INLINE_LABEL_EDGES } = await import('../src/review/graph.ts');
  const { compilePaths } = await import('../src/compiler/compile.ts');
  const g = meshGraph(compilePaths(['fixtures/bookstore'], { analyseOnly: true }).mesh as never);
  assert.ok(g.edges.length <= SVG_INLINE_LABEL_EDGES);
  const tooltips = toDot(g, 'tooltip');
  assert.not.match(tooltips, / -> [^\n]*label=/);
  assert.match(tooltips, '"workload:bookwarehouse/bookwarehouse" -> "service:bookwarehouse/mysql" [color="#1e8449", tooltip="tcp:3306"];');
});

test('manifests with errors exit 1; an unknown format exits 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'smi-graph-'));
  try {
    writeFileSync(join(dir, 's.yaml'), 'apiVersion: split.smi-spec.io/v1alpha2\nkind: TrafficSplit\nmetadata: {name: s, namespace: a}\nspec:\n  service: nope\n  backends: [{service: x, weight: 1}]\n');
    assert.is((await runCli(['graph', dir])).code, 1);
    assert.is((await runCli(['graph', 'fixtures/bookstore', '--format', 'png'])).code, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
