/**
 * The Envoy the tests run (src/envoy/find-envoy.ts). Without one, a test that needs it is
 * skipped with one line saying how to install it, so `npm test` stays green on a laptop without
 * Python; under `CI=true` it fails instead, so CI never passes by skipping Envoy.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { findEnvoy, INSTALL_ENVOY_HINT } from '../../src/envoy/find-envoy.ts';

export const envoy: string | undefined = findEnvoy()?.path;

let told = false;

/** `test(name, fn)` with the Envoy binary's path; skipped (or, under CI=true, failed) without one. */
export function envoyTest(name: string, fn: (envoyBin: string) => void | Promise<void>): void {
  if (envoy) {
    test(name, () => fn(envoy));
    return;
  }
  if (process.env.CI === 'true') {
    test(name, () => assert.unreachable(`CI=true and no Envoy binary: install it with ${INSTALL_ENVOY_HINT}`));
    return;
  }
  if (!told) console.log(`  (skipped: no Envoy binary; install it with ${INSTALL_ENVOY_HINT})`);
  told = true;
  test.skip(name, () => undefined);
}
