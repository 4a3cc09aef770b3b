/**
 * The Envoy the tests run (src/envoy/find-envoy.ts). Without one, a test that needs it is
 * skipped with one line saying how to install it, so `npm test` stays green on a laptop without
 * Python; under `CI=true` it fails instead, so CI never passes by skipping Envoy.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { findEnvoy, INSTALL_ENVOY_HINT } from '../../src/envoy/find-envoy.ts';

export const envoy: string | undefined = findEnvoy()?.path;

const told = new Set<string>();

function skipLine(reason: string): void {
  if (!told.has(reason)) console.log(`  (skipped: ${reason})`);
  told.add(reason);
}

/**
 * `test(name, fn)` with the Envoy binary's path; skipped (or, under CI=true, failed) without one,
 * or when `unavailable` gives a reason (no root for network namespaces).
 */
export function envoyTest(name: string, fn: (envoyBin: string) => void | Promise<void>, unavailable?: string): void {
  if (envoy && unavailable) {
    if (process.env.CI === 'true') {
      test(name, () => assert.unreachable(`CI=true and ${unavailable}`));
      return;
    }
    skipLine(unavailable);
    test.skip(name, () => undefined);
    return;
  }
  if (envoy) {
    test(name, () => fn(envoy));
    return;
  }
  if (process.env.CI === 'true') {
    test(name, () => assert.unreachable(`CI=true and no Envoy binary: install it with ${INSTALL_ENVOY_HINT}`));
    return;
  }
  skipLine(`no Envoy binary; install it with ${INSTALL_ENVOY_HINT}`);
  test.skip(name, () => undefined);
}

/**
 * Polls `probe` until it gives a value (a string is the reason it has none yet), at most `polls`
 * times `everyMs` apart; throws with the last reason otherwise. No time is asserted: the bound
 * only ends a test whose condition never comes.
 */
export async function poll<T>(what: string, probe: () => Promise<T | string>, polls: number, everyMs = 50): Promise<T> {
  let last: T | string = '';
  for (let i = 0; i < polls; i++) {
    last = await probe();
    if (typeof last !== 'string') return last;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`${what}: still ${last} after ${polls} polls`);
}
