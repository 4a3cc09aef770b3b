/**
 * `ca init|issue|rotate`, and certificates in an offline compile: keys only with
 * `--emit-secrets`, and then mode 0600.
 */
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { nodeCertificate, parseCertificates } from '../src/identity/x509.ts';
import { runCli, tempTree } from './cli-harness.ts';
import type { LooseJson as Json } from '../src/shared/json.ts';

const dirs: string[] = [];
function temp(): string {
  const d = tempTree({});
  dirs.push(d);
  return d;
}
test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const mode = (p: string): number => statSync(p).mode & 0o777;
const read = (p: string): string => readFileSync(p, 'utf8');

function filesUnder(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) filesUnder(p, out);
    else out.push(p);
  }
  return out;
}

test('ca init: a root and a 0600 key; never replaced without --force (usage error, exit 2)', async () => {
  const ca = join(temp(), 'ca');
  const first = await runCli(['ca', 'init', ca]);
  assert.is(first.code, 0, first.stderr);
  assert.match(first.stderr, /wrote .*ca\.crt and .*ca\.key \(mode 0600\)/);
  assert.is(mode(join(ca, 'ca.key')), 0o600);
  const root = read(join(ca, 'ca.crt'));
  const again = await runCli(['ca', 'init', ca]);
  assert.is(again.code, 2);
  assert.match(again.stderr, /already holds a CA .*--force/);
  assert.is(read(join(ca, 'ca.crt')), root, 'untouched');
  const forced = await runCli(['ca', 'init', ca, '--force']);
  assert.is(forced.code, 0);
  assert.is.not(read(join(ca, 'ca.crt')), root);
});

test('ca issue: tls.crt, tls.key (0600) and ca.crt for <sa>.<ns>, as cert-manager lays them out', async () => {
  const base = temp();
  const ca = join(base, 'ca');
  await runCli(['ca', 'init', ca]);
  const out = join(base, 'bookbuyer');
  const r = await runCli(['ca', 'issue', ca, '--identity', 'bookbuyer.bookbuyer', '--out', out, '--lifetime', '2h', '--trust-domain', 'example.org']);
  assert.is(r.code, 0, r.stderr);
  assert.is(mode(join(out, 'tls.key')), 0o600);
  const leaf = nodeCertificate(parseCertificates(read(join(out, 'tls.crt')))[0]);
  assert.is(leaf.subject, 'CN=bookbuyer.bookbuyer.example.org');
  assert.is(leaf.subjectAltName, 'DNS:bookbuyer.bookbuyer.example.org, URI:spiffe://example.org/ns/bookbuyer/sa/bookbuyer');
  assert.is(Date.parse(leaf.validTo) - Date.now() <= 2 * 3600_000, true);
  assert.is(read(join(out, 'ca.crt')), read(join(ca, 'ca.crt')));

  const bad = await runCli(['ca', 'issue', ca, '--identity', 'bookbuyer', '--out', out]);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /--identity: identity "bookbuyer" is not <serviceaccount>\.<namespace>/);
  const missing = await runCli(['ca', 'issue', join(base, 'nope'), '--identity', 'a.b', '--out', out]);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /error SMI6001 certificate authority directory .*nope has no ca\.crt/);
});

test('ca rotate: both roots in what ca issue hands out; the old root still signs during the propagation window', async () => {
  const base = temp();
  const ca = join(base, 'ca');
  await runCli(['ca', 'init', ca]);
  const oldRoot = read(join(ca, 'ca.crt'));
  const r = await runCli(['ca', 'rotate', ca, '--propagation', '1h', '--overlap', '24h']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /root rotation started/);
  assert.is(read(join(ca, 'previous-ca.crt')), oldRoot);
  assert.is(mode(join(ca, 'previous-ca.key')), 0o600);
  const rotation = JSON.parse(read(join(ca, 'rotation.json')));
  assert.ok(Date.parse(rotation.trustPreviousUntil) - Date.parse(rotation.signWithCurrentFrom) === 24 * 3600_000);
  const out = join(base, 'w');
  await runCli(['ca', 'issue', ca, '--identity', 'w.ns', '--out', out]);
  assert.is(parseCertificates(read(join(out, 'ca.crt'))).length, 2);
  const leaf = nodeCertificate(parseCertificates(read(join(out, 'tls.crt')))[0]);
  assert.ok(leaf.checkIssued(nodeCertificate(parseCertificates(oldRoot)[0])), 'signed by the old root for now');
});

test('compile without flags writes no key and no trust bundle: secrets.yaml as in the goldens', async () => {
  const out = join(temp(), 'out');
  const r = await runCli(['fixtures/bookstore', '-o', out]);
  assert.is(r.code, 0, r.stderr);
  assert.is(read(join(out, 'bookbuyer/bookbuyer/secrets.yaml')), read('golden/bookstore/bookbuyer/bookbuyer/secrets.yaml'));
  assert.equal(filesUnder(out).filter((f) => /tls\.(crt|key)$/.test(f)), []);
});

test('compile --ca: trust bundles in the root secrets, still no private key', async () => {
  const base = temp();
  const ca = join(base, 'ca');
  await runCli(['ca', 'init', ca]);
  const out = join(base, 'out');
  const r = await runCli(['fixtures/bookstore', '-o', out, '--ca', ca]);
  assert.is(r.code, 0, r.stderr);
  const secrets = parse(read(join(out, 'bookbuyer/bookbuyer/secrets.yaml'))) as Json[];
  const root = secrets.find((s) => s.name === 'root-cert-for-mtls-outbound:bookstore/bookstore-v1')!;
  assert.is(root.validation_context.trusted_ca.inline_string, read(join(ca, 'ca.crt')));
  assert.ok(root.validation_context.match_typed_subject_alt_names, 'SAN pinning kept');
  assert.equal(secrets.find((s) => s.name === 'service-cert:bookbuyer/bookbuyer'), { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret', name: 'service-cert:bookbuyer/bookbuyer' });
  assert.not.match(filesUnder(out).map(read).join('\n'), 'PRIVATE KEY');
});

test('compile --emit-secrets: a certificate and a 0600 key per workload, referenced by file name, and a warning', async () => {
  const base = temp();
  const ca = join(base, 'ca');
  await runCli(['ca', 'init', ca]);
  const out = join(base, 'out');
  assert.is((await runCli(['fixtures/bookstore', '-o', out, '--emit-secrets'])).code, 2, '--emit-secrets needs --ca');
  assert.is((await runCli(['fixtures/bookstore', '--check', 'golden/bookstore', '--ca', ca, '--emit-secrets'])).code, 2, 'not with --check');

  const r = await runCli(['fixtures/bookstore', '-o', out, '--ca', ca, '--emit-secrets']);
  assert.is(r.code, 0, r.stderr);
  // Six: bookthief has no TLS context of its own, but its xDS connection needs a certificate.
  assert.match(r.stderr, /warning SMI6009 wrote 6 private key\(s\) under .*out \(mode 0600\)/);
  const key = join(out, 'bookbuyer/bookbuyer/tls.key');
  assert.is(mode(key), 0o600);
  const secrets = parse(read(join(out, 'bookbuyer/bookbuyer/secrets.yaml'))) as Json[];
  const cert = secrets.find((s) => s.name === 'service-cert:bookbuyer/bookbuyer')!;
  assert.equal(cert.tls_certificate, { certificate_chain: { filename: join(out, 'bookbuyer/bookbuyer/tls.crt') }, private_key: { filename: key } });
  assert.not.match(read(join(out, 'bookbuyer/bookbuyer/secrets.yaml')), 'PRIVATE KEY');
  assert.is(nodeCertificate(parseCertificates(read(join(out, 'bookbuyer/bookbuyer/tls.crt')))[0]).subject, 'CN=bookbuyer.bookbuyer.cluster.local');
  // The tree is still smi-compile's own: the next compile replaces it (and drops the keys).
  const again = await runCli(['fixtures/bookstore', '-o', out]);
  assert.is(again.code, 0, again.stderr);
  assert.not.ok(existsSync(key));
});

/**
 * Before issue 15 a key went through `.<name>.<pid>.tmp`, opened with a plain write: whoever
 * pre-created that name (with a hard link kept elsewhere) read the key. Now the temporary name is
 * random and created exclusively; the predictable file is left as it was.
 */
function trap(dir: string, name: string): string {
  mkdirSync(dir, { recursive: true });
  const predictable = join(dir, `.${name}.${process.pid}.tmp`);
  writeFileSync(predictable, '', { mode: 0o666 });
  const capture = join(dir, `..${name}-capture`);
  linkSync(predictable, capture);
  return capture;
}

test('ca init, ca rotate, ca issue: a pre-created temporary file cannot capture a key; every key 0600, no temporary file left', async () => {
  const base = temp();
  const ca = join(base, 'ca');
  const captures = [trap(ca, 'ca.key'), trap(ca, 'previous-ca.key')];
  assert.is((await runCli(['ca', 'init', ca])).code, 0);
  assert.is((await runCli(['ca', 'rotate', ca])).code, 0);
  const out = join(base, 'issued');
  captures.push(trap(out, 'tls.key'));
  const issued = await runCli(['ca', 'issue', ca, '--identity', 'web.shop', '--out', out]);
  assert.is(issued.code, 0, issued.stderr);
  for (const c of captures) assert.is(read(c), '', `${c} captured nothing`);
  for (const key of [join(ca, 'ca.key'), join(ca, 'previous-ca.key'), join(out, 'tls.key')]) {
    assert.is(mode(key), 0o600, key);
    assert.match(read(key), 'PRIVATE KEY');
  }
  const temporary = [...readdirSync(ca), ...readdirSync(out)].filter((f) => /\.tmp$/.test(f) && !f.includes(`.${process.pid}.`));
  assert.equal(temporary, []);
});

test('a key that cannot be written is SMI6013, exit 1, not an internal error', async () => {
  const base = temp();
  const ca = join(base, 'ca');
  assert.is((await runCli(['ca', 'init', ca])).code, 0);
  writeFileSync(join(base, 'file'), '');
  const r = await runCli(['ca', 'issue', ca, '--identity', 'web.shop', '--out', join(base, 'file', 'out')]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /error SMI6013 cannot write .*tls\.key: ENOTDIR/);
  assert.not.match(r.stderr, /internal error/);
});

test('compile --ca needs only the CA\'s certificates: no ca.key for the trust bundle (CI), the key for --emit-secrets', async () => {
  const base = temp();
  const ca = join(base, 'ca');
  assert.is((await runCli(['ca', 'init', ca])).code, 0);
  assert.is((await runCli(['ca', 'rotate', ca])).code, 0);
  const publicOnly = join(base, 'public');
  mkdirSync(publicOnly);
  for (const f of ['ca.crt', 'previous-ca.crt', 'rotation.json']) writeFileSync(join(publicOnly, f), read(join(ca, f)));
  const out = join(base, 'out');
  const r = await runCli(['fixtures/bookstore', '-o', out, '--ca', publicOnly]);
  assert.is(r.code, 0, r.stderr);
  const secrets = parse(read(join(out, 'bookbuyer/bookbuyer/secrets.yaml'))) as Json[];
  const root = secrets.find((s) => s.name === 'root-cert-for-mtls-outbound:bookstore/bookstore-v1')!;
  assert.is(root.validation_context.trusted_ca.inline_string, `${read(join(ca, 'ca.crt'))}${read(join(ca, 'previous-ca.crt'))}`, 'both roots during the rotation');
  // The same bundle as with the key at hand.
  const withKey = join(base, 'with-key');
  assert.is((await runCli(['fixtures/bookstore', '-o', withKey, '--ca', ca])).code, 0);
  assert.is(read(join(withKey, 'bookbuyer/bookbuyer/secrets.yaml')), read(join(out, 'bookbuyer/bookbuyer/secrets.yaml')));
  const secretsToo = await runCli(['fixtures/bookstore', '-o', join(base, 'keys'), '--ca', publicOnly, '--emit-secrets']);
  assert.is(secretsToo.code, 1);
  assert.match(secretsToo.stderr, /error SMI6001 certificate authority directory .* has no ca\.key/);
  const noCert = await runCli(['fixtures/bookstore', '--ca', join(base, 'nothing')]);
  assert.is(noCert.code, 1);
  assert.match(noCert.stderr, /SMI6001 .* has no ca\.crt/);
  // The file provider: ca.crt alone is enough too.
  const fileCa = join(base, 'file-ca');
  mkdirSync(fileCa);
  writeFileSync(join(fileCa, 'ca.crt'), read(join(ca, 'ca.crt')));
  assert.is((await runCli(['fixtures/bookstore', '--ca', fileCa, '--ca-provider', 'file'])).code, 0);
});

test('serve --ca-provider file without --ca is a usage error', async () => {
  const r = await runCli(['serve', 'fixtures/bookstore', '--ca-provider', 'file']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /--ca-provider file needs --ca DIR/);
});

test.run();
