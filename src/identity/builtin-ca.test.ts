import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BuiltinCa, CaExistsError } from './builtin-ca.ts';
import { FakeClock } from './clock.ts';
import type { WorkloadIdentity } from './identity.ts';
import { CertificateError, type ProviderChange } from './provider.ts';
import { nodeCertificate, parseCertificates, x509 } from './x509.ts';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const bookbuyer: WorkloadIdentity = { namespace: 'bookbuyer', serviceAccount: 'bookbuyer', trustDomain: 'cluster.local' };

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'smi-ca-'));
  dirs.push(d);
  return d;
}
test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('the CA never issues for an identity that reads as a host name (issue 15): ServiceAccount smi-compile.smi-system in svc', async () => {
  const ca = await BuiltinCa.ephemeral({ clock: new FakeClock(Date.UTC(2030, 0, 1, 12)) });
  const impostor: WorkloadIdentity = { namespace: 'svc', serviceAccount: 'smi-compile.smi-system', trustDomain: 'cluster.local' };
  let error: unknown;
  await ca.issue({ identity: impostor, lifetimeMs: DAY }).catch((e) => (error = e));
  assert.match(String(error), /cannot issue for smi-compile\.smi-system\.svc\.cluster\.local: .*has the form of a Kubernetes host name/);
});

test('a workload certificate: CN and DNS SAN <sa>.<ns>.<td>, SPIFFE URI SAN, both TLS usages, not a CA, 24 h', async () => {
  const clock = new FakeClock(Date.UTC(2030, 0, 1, 12));
  const ca = await BuiltinCa.ephemeral({ clock });
  const issued = await ca.issue({ identity: bookbuyer, lifetimeMs: DAY });
  const [leaf, ...rest] = parseCertificates(issued.chainPem);
  assert.is(rest.length, 0, 'the built-in root signs leaves directly: no intermediate to present');
  assert.is(leaf.subject, 'CN=bookbuyer.bookbuyer.cluster.local');
  const node = nodeCertificate(leaf);
  assert.is(node.subjectAltName, 'DNS:bookbuyer.bookbuyer.cluster.local, URI:spiffe://cluster.local/ns/bookbuyer/sa/bookbuyer');
  assert.equal(node.keyUsage?.sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'], 'extended key usage: serverAuth and clientAuth');
  assert.is(node.ca, false);
  const ku = leaf.getExtension(x509.KeyUsagesExtension)!;
  assert.ok(ku.critical);
  assert.is(ku.usages, x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment);
  const bc = leaf.getExtension(x509.BasicConstraintsExtension)!;
  assert.ok(bc.critical && !bc.ca);
  assert.is(issued.notAfter.getTime() - issued.issuedAt, DAY, 'lifetime: exactly 24 h from issue');
  assert.is(issued.issuedAt - issued.notBefore.getTime(), 60_000, 'notBefore a minute early, for clock skew');
  assert.is(leaf.notAfter.getTime(), issued.notAfter.getTime());
  const root = nodeCertificate(parseCertificates(ca.trustBundle().pem)[0]);
  assert.ok(node.checkIssued(root) && node.verify(root.publicKey), 'signed by the root');
  assert.ok(node.checkPrivateKey((await import('node:crypto')).createPrivateKey(issued.privateKeyPem)), 'the key is the certificate\'s');
  assert.match(issued.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.is((leaf.publicKey.algorithm as EcKeyAlgorithm).namedCurve, 'P-256');
});

test('the root: CA, keyCertSign, path length 0, ten years', async () => {
  const clock = new FakeClock();
  const ca = await BuiltinCa.ephemeral({ clock });
  const root = parseCertificates(ca.trustBundle().pem)[0];
  const bc = root.getExtension(x509.BasicConstraintsExtension)!;
  assert.ok(bc.ca && bc.critical);
  assert.is(bc.pathLength, 0);
  assert.is(root.getExtension(x509.KeyUsagesExtension)!.usages, x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
  assert.ok(root.notAfter.getTime() - clock.now() >= 3650 * DAY - 1000);
});

test('a leaf never outlives the CA that signed it', async () => {
  const clock = new FakeClock();
  const ca = await BuiltinCa.ephemeral({ clock, rootLifetimeMs: 10 * HOUR });
  const issued = await ca.issue({ identity: bookbuyer, lifetimeMs: DAY });
  assert.ok(issued.notAfter.getTime() <= clock.now() + 10 * HOUR);
});

test('a mutual TLS handshake between two issued identities succeeds, and each side sees the other\'s SPIFFE ID', async () => {
  const ca = await BuiltinCa.ephemeral();
  const server = await ca.issue({ identity: { namespace: 'bookstore', serviceAccount: 'bookstore', trustDomain: 'cluster.local' }, lifetimeMs: HOUR });
  const client = await ca.issue({ identity: bookbuyer, lifetimeMs: HOUR });
  const bundle = ca.trustBundle().pem;
  const seen = await new Promise<string>((resolve, reject) => {
    const srv = createServer({ cert: server.chainPem, key: server.privateKeyPem, ca: bundle, requestCert: true, rejectUnauthorized: true }, (s: TLSSocket) => {
      resolve(s.getPeerCertificate().subjectaltname ?? '');
      s.end();
    });
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      const c = connect({ host: '127.0.0.1', port, cert: client.chainPem, key: client.privateKeyPem, ca: bundle, checkServerIdentity: () => undefined });
      c.on('error', reject);
      c.on('close', () => srv.close());
      c.resume();
    });
  });
  assert.match(seen, 'URI:spiffe://cluster.local/ns/bookbuyer/sa/bookbuyer');
});

test('ca init writes the root and a 0600 key, and refuses to overwrite without force', async () => {
  const dir = tempDir();
  const ca = await BuiltinCa.init(dir);
  assert.is(statSync(join(dir, 'ca.key')).mode & 0o777, 0o600);
  assert.is(readFileSync(join(dir, 'ca.crt'), 'utf8'), ca.rootPem());
  try {
    await BuiltinCa.init(dir);
    assert.unreachable('must refuse');
  } catch (err) {
    assert.instance(err, CaExistsError);
    assert.match(String(err), /--force/);
  }
  const replaced = await BuiltinCa.init(dir, { force: true });
  assert.is.not(replaced.rootPem(), ca.rootPem());
  const loaded = await BuiltinCa.load(dir);
  assert.is(loaded.rootPem(), replaced.rootPem());
});

test('load reports missing and broken files as SMI6001 and SMI6002', async () => {
  const dir = tempDir();
  try {
    await BuiltinCa.load(dir);
    assert.unreachable();
  } catch (err) {
    assert.instance(err, CertificateError);
    assert.is((err as CertificateError).diagnostic.code, 'SMI6001');
  }
  await BuiltinCa.init(dir);
  const other = await BuiltinCa.ephemeral();
  const otherIssued = await other.issue({ identity: bookbuyer, lifetimeMs: HOUR });
  writeFileSync(join(dir, 'ca.key'), otherIssued.privateKeyPem);
  try {
    await BuiltinCa.load(dir);
    assert.unreachable();
  } catch (err) {
    assert.is((err as CertificateError).diagnostic.code, 'SMI6002');
    assert.match((err as Error).message, /not the key of ca\.crt/);
  }
});

test('root rotation: both roots trusted at once, signing switches after the propagation delay, the old root retires after the overlap', async () => {
  const clock = new FakeClock();
  const dir = tempDir();
  const opts = { clock, propagationMs: 15 * 60_000, overlapMs: DAY };
  const ca = await BuiltinCa.init(dir, opts);
  const oldRoot = ca.trustBundle().roots[0].fingerprint;
  const changes: ProviderChange[] = [];
  ca.onChange((c) => changes.push(c));

  await ca.rotate();
  const during = ca.trustBundle();
  assert.is(during.roots.length, 2, 'old and new root trusted');
  assert.is(during.roots[1].fingerprint, oldRoot);
  assert.equal(changes.map((c) => [c.trustBundle, c.signer]), [[true, false]]);
  const early = await ca.issue({ identity: bookbuyer, lifetimeMs: DAY });
  assert.is(early.issuer, oldRoot, 'still signed by the old root while the new bundle spreads');

  // Another reader of the directory (a second replica, a restart) agrees on every step.
  const replica = await BuiltinCa.load(dir, { clock });
  assert.equal(replica.trustBundle().roots.map((r) => r.fingerprint), during.roots.map((r) => r.fingerprint));

  clock.advance(15 * 60_000);
  assert.equal(changes.map((c) => [c.trustBundle, c.signer]), [[true, false], [false, true]]);
  const late = await ca.issue({ identity: bookbuyer, lifetimeMs: DAY });
  assert.is(late.issuer, during.roots[0].fingerprint, 'signed by the new root');
  assert.is((await replica.issue({ identity: bookbuyer, lifetimeMs: DAY })).issuer, late.issuer);
  assert.is(ca.trustBundle().roots.length, 2);

  clock.advance(DAY - 1);
  assert.is(ca.trustBundle().roots.length, 2, 'certificates signed by the old root may live until now');
  clock.advance(1);
  assert.is(ca.trustBundle().roots.length, 1, 'then the old root retires');
  assert.equal(changes.map((c) => [c.trustBundle, c.signer]), [[true, false], [false, true], [true, false]]);
  await Promise.all([ca.close(), replica.close()]);
});

test('a running CA picks up a rotation done by another process (ca rotate) from its directory', async () => {
  const dir = tempDir();
  const ca = await BuiltinCa.init(dir, { watch: true, pollMs: 50 });
  const changed = new Promise<ProviderChange>((resolve) => ca.onChange(resolve));
  const cli = await BuiltinCa.load(dir);
  await cli.rotate();
  // The watcher's timers are unref'd (they never keep a process alive); this one does, and bounds the wait.
  let guard: NodeJS.Timeout | undefined;
  const change = await Promise.race([changed, new Promise<never>((_, reject) => (guard = setTimeout(() => reject(new Error('no reload within 5 s')), 5000)))]);
  clearTimeout(guard);
  assert.ok(change.trustBundle);
  assert.is(ca.trustBundle().roots.length, 2);
  await ca.close();
});

test.run();
