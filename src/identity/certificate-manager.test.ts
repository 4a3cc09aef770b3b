import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BuiltinCa } from './builtin-ca.ts';
import { CertificateManager, renewalTime, type CertificateEvent } from './certificate-manager.ts';
import { FakeClock } from './clock.ts';
import type { WorkloadIdentity } from './identity.ts';
import type { CertificateProvider, IssuedCertificate } from './provider.ts';

const HOUR = 3600_000;
const bookbuyer: WorkloadIdentity = { namespace: 'bookbuyer', serviceAccount: 'bookbuyer', trustDomain: 'cluster.local' };

/** Lets the provider's promise (WebCrypto) settle after a timer fired. */
async function settle(manager: CertificateManager, events: CertificateEvent[], count: number): Promise<void> {
  for (let i = 0; i < 200 && events.length < count; i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(events.length >= count, `expected ${count} events, got ${events.length} (${manager.size} identities)`);
}

test('renewal at two thirds of the lifetime: 16 h into a 24 h certificate, not a millisecond before', async () => {
  const clock = new FakeClock();
  const ca = await BuiltinCa.ephemeral({ clock });
  const manager = new CertificateManager(ca, { clock });
  const events: CertificateEvent[] = [];
  manager.onChange((e) => events.push(e));
  const first = await manager.hold(bookbuyer).ready;
  assert.is(renewalTime(first) - first.issuedAt, 16 * HOUR);
  await settle(manager, events, 1);

  clock.advance(16 * HOUR - 1);
  await new Promise((r) => setTimeout(r, 30));
  assert.is(events.length, 1, 'no renewal before 16 h');
  assert.is(manager.current(bookbuyer)!.serialNumber, first.serialNumber);

  clock.advance(1);
  await settle(manager, events, 2);
  const second = manager.current(bookbuyer)!;
  assert.is.not(second.serialNumber, first.serialNumber);
  assert.equal(events[1], { kind: 'certificate', principal: 'bookbuyer.bookbuyer.cluster.local' });
  assert.is(second.issuedAt, first.issuedAt + 16 * HOUR);
  assert.ok(second.notAfter > first.notAfter, 'the new certificate is live 8 h before the old one expires');
  manager.close();
});

test('lifetime and renewal fraction are configurable: a 1 h certificate renewed at half time', async () => {
  const clock = new FakeClock();
  const manager = new CertificateManager(await BuiltinCa.ephemeral({ clock }), { clock, lifetimeMs: HOUR, renewFraction: 0.5 });
  const events: CertificateEvent[] = [];
  manager.onChange((e) => events.push(e));
  const cert = await manager.hold(bookbuyer).ready;
  assert.is(cert.notAfter.getTime() - cert.issuedAt, HOUR);
  assert.is(renewalTime(cert, 0.5) - cert.issuedAt, HOUR / 2);
  await settle(manager, events, 1);
  clock.advance(HOUR / 2);
  await settle(manager, events, 2);
  manager.close();
});

test('holders share one certificate; once released it is not renewed and is dropped at its renewal time', async () => {
  const clock = new FakeClock();
  const manager = new CertificateManager(await BuiltinCa.ephemeral({ clock }), { clock });
  const a = manager.hold(bookbuyer);
  const b = manager.hold(bookbuyer);
  assert.is((await a.ready).serialNumber, (await b.ready).serialNumber);
  a.release();
  b.release();
  assert.ok(manager.current(bookbuyer), 'kept for a proxy that reconnects soon');
  clock.advance(16 * HOUR);
  await new Promise((r) => setTimeout(r, 30));
  assert.is(manager.size, 0);
  manager.close();
});

test('a new signing CA (root rotation) replaces every held certificate at once', async () => {
  const clock = new FakeClock();
  const ca = await BuiltinCa.ephemeral({ clock, propagationMs: 60_000 });
  const manager = new CertificateManager(ca, { clock });
  const events: CertificateEvent[] = [];
  manager.onChange((e) => events.push(e));
  const before = await manager.hold(bookbuyer).ready;
  await settle(manager, events, 1);
  await ca.rotate();
  assert.equal(events[1], { kind: 'trust-bundle' });
  clock.advance(60_000);
  await settle(manager, events, 3);
  const after = manager.current(bookbuyer)!;
  assert.is.not(after.issuer, before.issuer);
  assert.is(after.issuer, ca.trustBundle().roots[0].fingerprint);
  manager.close();
  await ca.close();
});

test('a failing CA is retried and reported as SMI6006', async () => {
  const clock = new FakeClock();
  const real = await BuiltinCa.ephemeral({ clock });
  let failures = 1;
  const flaky: CertificateProvider = {
    kind: 'builtin',
    issue: (req): Promise<IssuedCertificate> => (failures-- > 0 ? Promise.reject(new Error('CA offline')) : real.issue(req)),
    trustBundle: () => real.trustBundle(),
    rotate: () => real.rotate(),
    onChange: (l) => real.onChange(l),
    close: () => real.close(),
  };
  const logged: string[] = [];
  const log = { info: () => undefined, warn: () => undefined, error: (m: string) => logged.push(m) };
  const manager = new CertificateManager(flaky, { clock, log, retryMs: 5000 });
  const events: CertificateEvent[] = [];
  manager.onChange((e) => events.push(e));
  const held = manager.hold(bookbuyer);
  await held.ready.then(
    () => assert.unreachable('the first issue fails'),
    (err: Error) => assert.match(err.message, 'CA offline'),
  );
  assert.match(logged[0], /^SMI6006 issuing a certificate for bookbuyer\.bookbuyer\.cluster\.local failed: CA offline; retrying in 5 s/);
  clock.advance(5000);
  await settle(manager, events, 1);
  assert.ok(manager.current(bookbuyer));
  manager.close();
});

test.run();
