import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FileProvider } from './file-provider.ts';
import type { WorkloadIdentity } from './identity.ts';
import { CertificateError, type ProviderChange } from './provider.ts';
import { testPki, type TestPki } from './testing.ts';
import { fingerprint, nodeCertificate, parseCertificates } from './x509.ts';

const HOUR = 3600_000;
const bookbuyer: WorkloadIdentity = { namespace: 'bookbuyer', serviceAccount: 'bookbuyer', trustDomain: 'cluster.local' };

const dirs: string[] = [];
function caDir(pki: TestPki, files: { crt?: string; key?: string; ca?: string | null } = {}): string {
  const d = mkdtempSync(join(tmpdir(), 'smi-fileca-'));
  dirs.push(d);
  writeCa(d, pki, files);
  return d;
}
function writeCa(d: string, pki: TestPki, files: { crt?: string; key?: string; ca?: string | null } = {}): void {
  writeFileSync(join(d, 'tls.crt'), files.crt ?? pki.intermediatePem);
  writeFileSync(join(d, 'tls.key'), files.key ?? pki.intermediateKeyPem);
  if (files.ca !== null) writeFileSync(join(d, 'ca.crt'), files.ca ?? pki.rootPem);
}
test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function loadError(dir: string): Promise<CertificateError> {
  try {
    await FileProvider.load(dir, { watch: false });
  } catch (err) {
    assert.instance(err, CertificateError);
    return err as CertificateError;
  }
  throw new Error('loaded, but should not have');
}

for (const keyType of ['ec', 'rsa'] as const) {
  test(`an operator's intermediate (${keyType === 'ec' ? 'ECDSA, SEC1 key' : 'RSA, PKCS#1 key'}) signs workload certificates that chain to the operator's root`, async () => {
    const pki = await testPki({ keyType });
    const provider = await FileProvider.load(caDir(pki), { watch: false });
    const issued = await provider.issue({ identity: bookbuyer, lifetimeMs: 24 * HOUR });
    const [leaf, intermediate, ...more] = parseCertificates(issued.chainPem);
    assert.is(more.length, 0, 'leaf and intermediate, never the root');
    assert.is(fingerprint(intermediate), fingerprint(pki.intermediate));
    assert.is(leaf.subject, 'CN=bookbuyer.bookbuyer.cluster.local');
    const l = nodeCertificate(leaf);
    const i = nodeCertificate(pki.intermediate);
    assert.ok(l.checkIssued(i) && l.verify(i.publicKey), 'leaf signed by the intermediate');
    assert.ok(i.verify(nodeCertificate(pki.root).publicKey), 'intermediate signed by the root');
    assert.is(provider.trustBundle().pem, pki.rootPem, 'peers trust exactly ca.crt');
    assert.is((leaf.publicKey.algorithm as EcKeyAlgorithm).namedCurve, 'P-256', 'workload keys stay P-256 whatever the CA key');
    await provider.close();
  });
}

test('missing files are SMI6001; a non-CA tls.crt, a foreign key are SMI6002; a CA outside ca.crt is SMI6003', async () => {
  const pki = await testPki();
  const empty = mkdtempSync(join(tmpdir(), 'smi-fileca-'));
  dirs.push(empty);
  let e = await loadError(empty);
  assert.is(e.diagnostic.code, 'SMI6001');
  assert.match(e.message, /has no tls\.crt/);

  e = await loadError(caDir(pki, { ca: null }));
  assert.is(e.diagnostic.code, 'SMI6001', 'ca.crt is needed unless tls.crt is a self-signed root');
  assert.match(e.message, /has no ca\.crt/);

  const leafOnly = await testPki({ intermediateIsCa: false });
  e = await loadError(caDir(leafOnly));
  assert.is(e.diagnostic.code, 'SMI6002');
  assert.match(e.message, /not a CA certificate.*isCA: true/);

  const other = await testPki({ name: 'Other' });
  e = await loadError(caDir(pki, { key: other.intermediateKeyPem }));
  assert.is(e.diagnostic.code, 'SMI6002');
  assert.match(e.message, /tls\.key: it is not the key of tls\.crt/);

  e = await loadError(caDir(pki, { ca: other.rootPem }));
  assert.is(e.diagnostic.code, 'SMI6003');
});

test('tls.crt may carry its chain; ca.crt may carry old and new roots (a root rotation)', async () => {
  const pki = await testPki();
  const next = await testPki({ name: 'Example Corp 2031' });
  const provider = await FileProvider.load(caDir(pki, { crt: pki.intermediatePem + pki.rootPem, ca: pki.rootPem + next.rootPem }), { watch: false });
  assert.is(provider.trustBundle().roots.length, 2);
  const chain = parseCertificates((await provider.issue({ identity: bookbuyer, lifetimeMs: HOUR })).chainPem);
  assert.is(chain.length, 2, 'the root in tls.crt is not presented');
  await provider.close();
});

test('changed files are reloaded: a new intermediate signs from then on; broken files are reported (SMI6004) and ignored', async () => {
  const pki = await testPki();
  const dir = caDir(pki);
  const logged: string[] = [];
  const log = { info: () => undefined, warn: (m: string) => logged.push(m), error: (m: string) => logged.push(m) };
  const provider = await FileProvider.load(dir, { log, pollMs: 50 });
  const nextChange = (): Promise<ProviderChange> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no reload within 5 s')), 5000);
      const off = provider.onChange((c) => {
        clearTimeout(timer);
        off();
        resolve(c);
      });
    });

  const renewed = await testPki();
  let change = nextChange();
  writeCa(dir, renewed);
  assert.equal(await change, { trustBundle: true, signer: true, reason: `${dir} changed` });
  assert.is((await provider.issue({ identity: bookbuyer, lifetimeMs: HOUR })).issuer, fingerprint(renewed.intermediate));

  writeFileSync(join(dir, 'tls.key'), 'not a key');
  const until = Date.now() + 5000;
  while (!logged.some((m) => m.startsWith('SMI6004')) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  assert.ok(logged.some((m) => m.startsWith('SMI6002')), logged.join('\n'));
  assert.ok(logged.some((m) => /^SMI6004 reloading the CA from .* failed: .*; still using the CA loaded at/.test(m)), logged.join('\n'));
  assert.is((await provider.issue({ identity: bookbuyer, lifetimeMs: HOUR })).issuer, fingerprint(renewed.intermediate), 'still issuing with the last good CA');

  change = nextChange();
  writeFileSync(join(dir, 'tls.key'), renewed.intermediateKeyPem);
  writeFileSync(join(dir, 'ca.crt'), renewed.rootPem + pki.rootPem);
  assert.equal(await change, { trustBundle: true, signer: false, reason: `${dir} changed` });
  await provider.close();
});

test.run();
