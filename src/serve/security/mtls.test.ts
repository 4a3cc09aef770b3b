/**
 * `serve --ca`: the xDS port takes only mesh certificates, a certificate may only ask as its
 * own workload, SDS hands each proxy its own certificate and nothing else, and renewals and
 * root rotations reach connected proxies on the streams they already have.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, type ChannelCredentials } from '@grpc/grpc-js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BuiltinCa } from '../../identity/builtin-ca.ts';
import { FakeClock } from '../../identity/clock.ts';
import type { WorkloadIdentity } from '../../identity/identity.ts';
import { nodeCertificate, parseCertificates } from '../../identity/x509.ts';
import { memoryLogger } from '../ops/logger.ts';
import { decodeAny, RawAdsClient } from '../xds/raw-client.ts';
import { startServer, type ServerHandle } from '../server.ts';
import { CDS, SDS } from '../xds/type-urls.ts';
import type { LooseJson as Json } from '../../shared/json.ts';

const HOUR = 3600_000;
const td = 'cluster.local';
const bookbuyer: WorkloadIdentity = { namespace: 'bookbuyer', serviceAccount: 'bookbuyer', trustDomain: td };

let dir: string;
let ca: BuiltinCa;
let server: ServerHandle;
const clock = new FakeClock(Date.now()); // real time: TLS checks validity against the wall clock
const logger = memoryLogger('debug');
const clients: RawAdsClient[] = [];

async function tlsAs(identity: WorkloadIdentity, issuer: BuiltinCa = ca): Promise<ChannelCredentials> {
  const cert = await issuer.issue({ identity, lifetimeMs: HOUR });
  return credentials.createSsl(Buffer.from(ca.trustBundle().pem), Buffer.from(cert.privateKeyPem), Buffer.from(cert.chainPem));
}

function client(creds: ChannelCredentials): RawAdsClient {
  const c = new RawAdsClient(`localhost:${server.port}`, creds);
  clients.push(c);
  return c;
}

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'smi-mtls-'));
  ca = await BuiltinCa.init(dir);
  server = await startServer({
    paths: ['fixtures/bookstore'],
    port: 0,
    adminPort: 0,
    logger,
    processMetrics: false,
    ca: { provider: 'builtin', dir, clock, pollMs: 50 },
  });
});

test.after(async () => {
  for (const c of clients) c.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a plaintext xDS client is refused: no stream, UNAVAILABLE', async () => {
  const s = client(credentials.createInsecure()).sotw();
  s.send({ node: { id: 'bookbuyer/bookbuyer' }, typeUrl: CDS });
  const ended = await s.ended();
  assert.is(ended?.code, 14, `got ${ended?.code} ${ended?.details}`);
});

test('a TLS client without a certificate, or with one from another CA, is refused in the handshake', async () => {
  const noCert = client(credentials.createSsl(Buffer.from(ca.trustBundle().pem))).sotw();
  noCert.send({ node: { id: 'bookbuyer/bookbuyer' }, typeUrl: CDS });
  assert.is((await noCert.ended())?.code, 14);
  const foreign = client(await tlsAs(bookbuyer, await BuiltinCa.ephemeral())).sotw();
  foreign.send({ node: { id: 'bookbuyer/bookbuyer' }, typeUrl: CDS });
  assert.is((await foreign.ended())?.code, 14);
});

test('a client presenting bookbuyer asking as bookstore/bookstore is refused with PERMISSION_DENIED', async () => {
  const s = client(await tlsAs(bookbuyer)).sotw();
  s.send({ node: { id: 'bookstore/bookstore' }, typeUrl: SDS, resourceNames: ['service-cert:bookstore/bookstore'] });
  const ended = await s.ended();
  assert.is(ended?.code, 7, `got ${ended?.code} ${ended?.details}`);
  assert.match(ended!.details, 'xDS client presenting spiffe://cluster.local/ns/bookbuyer/sa/bookbuyer may not ask as bookstore/bookstore (service account bookstore.bookstore.cluster.local)');
  assert.ok(logger.records.some((r) => r.code === 'SMI6008'));
  assert.is(await s.maybeNext(0), undefined, 'nothing was sent before the stream ended');
});

test('SDS: the proxy gets its own certificate with its key, and trust anchors with the roots and the upstream SANs', async () => {
  const s = client(await tlsAs(bookbuyer)).sotw();
  const names = ['root-cert-for-mtls-outbound:bookstore/bookstore-v1', 'service-cert:bookbuyer/bookbuyer'];
  s.send({ node: { id: 'bookbuyer/bookbuyer', userAgentName: 'envoy' }, typeUrl: SDS, resourceNames: names });
  let res = await s.next();
  // The certificate is issued when the stream attaches; a first answer may precede it.
  while (res.resources.length < 2) {
    s.send({ typeUrl: SDS, resourceNames: names, responseNonce: res.nonce, versionInfo: res.versionInfo });
    res = await s.next();
  }
  const byName = new Map(res.resources.map((a) => [String(decodeAny(a).name), decodeAny(a) as Json]));
  const cert = byName.get('service-cert:bookbuyer/bookbuyer')!;
  const leaf = nodeCertificate(parseCertificates(cert.tlsCertificate.certificateChain.inlineString)[0]);
  assert.is(leaf.subject, 'CN=bookbuyer.bookbuyer.cluster.local');
  assert.match(cert.tlsCertificate.privateKey.inlineString, /^-----BEGIN PRIVATE KEY-----/);
  const root = byName.get('root-cert-for-mtls-outbound:bookstore/bookstore-v1')!;
  assert.is(root.validationContext.trustedCa.inlineString, ca.trustBundle().pem);
  assert.equal(root.validationContext.matchTypedSubjectAltNames, [{ sanType: 'DNS', matcher: { exact: 'bookstore.bookstore.cluster.local' } }]);
  s.close();
});

test("a request for another identity's service-cert is answered with nothing (SotW and delta)", async () => {
  const s = client(await tlsAs(bookbuyer)).sotw();
  s.send({ node: { id: 'bookbuyer/bookbuyer', userAgentName: 'envoy' }, typeUrl: SDS, resourceNames: ['service-cert:bookstore/bookstore'] });
  const res = await s.next();
  assert.is(res.resources.length, 0);
  s.close();
  const d = client(await tlsAs(bookbuyer)).delta();
  d.send({ node: { id: 'bookbuyer/bookbuyer', userAgentName: 'envoy' }, typeUrl: SDS, resourceNamesSubscribe: ['service-cert:bookstore/bookstore', 'service-cert:bookbuyer/bookbuyer'] });
  let got = await d.next();
  const seen = new Set(got.resources.map((r) => r.name));
  while (!seen.has('service-cert:bookbuyer/bookbuyer')) {
    d.send({ typeUrl: SDS, responseNonce: got.nonce });
    got = await d.next();
    for (const r of got.resources) seen.add(r.name);
  }
  assert.not.ok(seen.has('service-cert:bookstore/bookstore'));
  d.close();
});

test('proxyless clusters name the gRPC certificate provider instead of SDS, and pin the upstream identities', async () => {
  const s = client(await tlsAs(bookbuyer)).sotw();
  s.send({ node: { id: 'bookbuyer/bookbuyer', userAgentName: 'gRPC Node Pure JS' }, typeUrl: CDS, resourceNames: ['bookstore/bookstore-v1|14001'] });
  const cluster = decodeAny((await s.next()).resources[0]) as Json;
  const ctx = cluster.transportSocket.typedConfig.commonTlsContext;
  assert.equal(ctx.tlsCertificateProviderInstance, { instanceName: 'mesh' });
  assert.equal(ctx.validationContext, { caCertificateProviderInstance: { instanceName: 'mesh' }, matchSubjectAltNames: [{ exact: 'bookstore.bookstore.cluster.local' }] });
  assert.is(JSON.stringify(cluster).includes('sds'), false);
  s.close();
});

// Last: it moves the server's clock 16 h ahead, so its own renewed certificate is not valid yet by the wall clock.
test('renewal at 16 h and a root rotation are pushed on the open stream: no reconnect', async () => {
  const s = client(await tlsAs(bookbuyer)).sotw();
  const names = ['root-cert-for-mtls-outbound:bookstore/bookstore-v1', 'service-cert:bookbuyer/bookbuyer'];
  s.send({ node: { id: 'bookbuyer/bookbuyer', userAgentName: 'envoy' }, typeUrl: SDS, resourceNames: names });
  let res = await s.next();
  const ack = (): void => s.send({ typeUrl: SDS, resourceNames: names, responseNonce: res.nonce, versionInfo: res.versionInfo });
  while (res.resources.length < 2) {
    ack();
    res = await s.next();
  }
  const serial = (r: typeof res): string =>
    nodeCertificate(parseCertificates((r.resources.map((a) => decodeAny(a) as Json).find((x) => x.name.startsWith('service-cert')) as Json).tlsCertificate.certificateChain.inlineString)[0]).serialNumber;
  const first = serial(res);
  ack();
  clock.advance(16 * HOUR);
  res = await s.next(3000);
  assert.is.not(serial(res), first, 'a new certificate, pushed on the same stream');

  ack();
  await (await BuiltinCa.load(dir)).rotate(); // what `smi-compile ca rotate DIR` does, from another process
  res = await s.next(5000);
  const root = res.resources.map((a) => decodeAny(a) as Json).find((x) => x.name.startsWith('root-cert'))!;
  assert.is(parseCertificates(root.validationContext.trustedCa.inlineString).length, 2, 'old and new root during the rotation');
  s.close();
});

test.run();
