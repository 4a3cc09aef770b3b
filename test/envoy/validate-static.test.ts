/**
 * Every output, loaded by Envoy: the static bootstrap of every workload of every fixture, and of
 * the 250-service generated mesh (restrictive and permissive), goes through `envoy --mode
 * validate` (src/cli/verify-envoy.ts, the code `compile --verify-envoy` runs) with zero
 * rejections.
 *
 * The generated mesh is sampled by default (every 10th restrictive workload, 2 permissive ones):
 * on two cores Envoy validates all 275 restrictive workloads in ≈ 40 s, and one permissive
 * workload in ≈ 5 s (its static bootstrap is ≈ 23 MB of JSON: every outbound HTTP filter chain
 * carries its port's route configuration inline), ≈ 12 minutes for all of them. The permissive
 * proxies share their outbound side (one list for all), so two of them cover it.
 * `ENVOY_VALIDATE_ALL=1` validates every workload.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import { generateMesh, writeMesh } from '../../bench/generate-mesh.ts';
import { main } from '../../src/cli/main.ts';
import { EnvoyVerifier } from '../../src/cli/verify-envoy.ts';
import { startCompilePaths } from '../../src/compiler/compile.ts';
import { formatDiagnostic } from '../../src/diagnostics/diagnostic.ts';
import { envoyVersion } from '../../src/envoy/validate.ts';
import { envoyTest } from './support.ts';

const ALL = process.env.ENVOY_VALIDATE_ALL === '1';
const root = mkdtempSync(join(tmpdir(), 'smi-envoy-validate-'));
const fixtures = readdirSync('fixtures').filter((f) => statSync(join('fixtures', f)).isDirectory()).sort();

for (const fixture of fixtures) {
  envoyTest(`Envoy accepts every workload of ${fixture} (compile --verify-envoy)`, async (envoyBin) => {
    let stderr = '';
    const code = await main([join('fixtures', fixture), '--verify-envoy'], {
      stdout: () => undefined,
      stderr: (t) => (stderr += t),
      stdin: () => '',
      cwd: process.cwd(),
      isTTY: false,
      env: { ENVOY_BIN: envoyBin },
    });
    assert.is(code, 0, stderr);
    const compiled = Number(/compiled (\d+) prox/.exec(stderr)?.[1]);
    assert.ok(compiled > 0, stderr);
    assert.match(stderr, new RegExp(`accepts all ${compiled} workload`));
  });
}

/** Validates every `stride`-th proxy of a compile (all with ENVOY_VALIDATE_ALL=1); returns how many. */
async function validateMesh(envoyBin: string, dir: string, stride: number): Promise<{ validated: number; proxies: number }> {
  const session = startCompilePaths([dir], {});
  assert.ok(session.ok(), session.result().diagnostics.filter((d) => d.level === 'error').map(formatDiagnostic).join('\n'));
  const verifier = await EnvoyVerifier.open(envoyBin, envoyVersion(envoyBin));
  let i = 0;
  let validated = 0;
  try {
    for (const proxy of session.proxies('path')) {
      if (i++ % (ALL ? 1 : stride) !== 0) continue;
      await verifier.add(proxy);
      validated++;
    }
    const rejected = await verifier.finish();
    assert.equal(rejected.map(formatDiagnostic), []);
    assert.is(verifier.accepted, validated);
  } finally {
    await verifier.close();
  }
  return { validated, proxies: i };
}

for (const [permissive, stride] of [[false, 10], [true, 138]] as const) {
  envoyTest(`Envoy accepts the 250-service generated mesh, ${permissive ? 'permissive' : 'restrictive'} (${ALL ? 'every' : `every ${stride}th`} workload)`, async (envoyBin) => {
    const dir = join(root, permissive ? 'permissive' : 'restrictive');
    writeMesh(generateMesh({ services: 250, permissive }), dir);
    const { validated, proxies } = await validateMesh(envoyBin, dir, stride);
    assert.is(proxies, 275);
    assert.ok(validated >= Math.floor(275 / stride), `${validated} validated`);
    console.log(`  (Envoy validated ${validated} of ${proxies} workloads of the ${permissive ? 'permissive' : 'restrictive'} 250-service mesh)`);
  });
}

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
