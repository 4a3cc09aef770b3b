/**
 * `compile --ca [--emit-secrets]` streams: certificates are applied one proxy at a time, and the
 * tree is what the whole-list step (collect every proxy, then certify them all) wrote before.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateMesh } from '../../bench/generate-mesh.ts';
import { compilePaths, startCompile } from '../compiler/compile.ts';
import { readTree, renderProxy, renderTree, treeFiles, type OutputTree } from '../compiler/output-tree.ts';
import { withXdsTls } from '../emit/bootstrap.ts';
import type { EnvoyResource, ProxyConfig } from '../emit/types.ts';
import { BuiltinCa, CertificateError, DEFAULT_LIFETIME_MS, FakeClock, principalName, serviceCertName, type IssuedCertificate, type WorkloadIdentity } from '../identity/index.ts';
import { nodeCertificate, parseCertificates } from '../identity/x509.ts';
import { loadProvider } from './ca-command.ts';
import { runCompile, type CompileCommandOptions } from './compile-command.ts';
import { ProxyCertificates, type CompileCertificateOptions } from './compile-secrets.ts';

const root = mkdtempSync(join(tmpdir(), 'smi-compile-secrets-'));
let n = 0;
const fresh = (): string => join(root, `case-${n++}`);
const ca = join(root, 'ca');
const mode = (p: string): number => statSync(p).mode & 0o777;
const leftovers = (dir: string): string[] => readdirSync(join(dir, '..')).filter((f) => /^\..*\.(tmp|old)-\d+$/.test(f));

async function run(paths: string[], opts: Partial<CompileCommandOptions>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCompile(paths, { format: 'yaml', ...opts }, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    stdin: () => '',
    cwd: process.cwd(),
    isTTY: false,
    env: {},
  });
  return { code, stdout, stderr };
}

/**
 * The reference: `compileCertificates` and its use in `compile -o` as they were before the step
 * streamed (every proxy collected, then certified as a list, then the tree rendered with the
 * certificate files and written with their modes). Kept verbatim in substance: the streamed
 * output must be this, byte for byte, except the certificates and keys, which are new each run.
 */
async function wholeListReference(proxies: readonly ProxyConfig[], opts: CompileCertificateOptions, format: 'yaml' | 'json') {
  const provider = await loadProvider(opts.caProvider, opts.ca);
  const bundle = provider.trustBundle().pem;
  const withTrustBundle = (secret: EnvoyResource): EnvoyResource => {
    if (!String(secret.name).startsWith('root-cert-for-mtls-')) return secret;
    const validation = (secret.validation_context ?? {}) as Record<string, unknown>;
    return { ...secret, validation_context: { trusted_ca: { inline_string: bundle }, ...validation } };
  };
  const files = new Map<string, string>();
  const modes = new Map<string, number>();
  const issued = new Map<string, IssuedCertificate>();
  const out: ProxyConfig[] = [];
  for (const proxy of proxies) {
    let secrets = proxy.resources.secrets.map(withTrustBundle);
    const identity: WorkloadIdentity | undefined = proxy.identity && { namespace: proxy.namespace, ...proxy.identity };
    const certName = identity && serviceCertName(identity);
    const abs = (f: string): string => resolve(opts.outDir ?? '.', proxy.namespace, proxy.workload, f);
    if (opts.emitSecrets && identity) {
      let cert = issued.get(principalName(identity));
      if (!cert) issued.set(principalName(identity), (cert = await provider.issue({ identity, lifetimeMs: DEFAULT_LIFETIME_MS })));
      const dir = `${proxy.namespace}/${proxy.workload}`;
      files.set(`${dir}/tls.crt`, cert.chainPem);
      files.set(`${dir}/tls.key`, cert.privateKeyPem);
      modes.set(`${dir}/tls.key`, 0o600);
      secrets = secrets.map((s) =>
        s.name === certName ? { ...s, tls_certificate: { certificate_chain: { filename: abs('tls.crt') }, private_key: { filename: abs('tls.key') } } } : s,
      );
    }
    const bootstrap = identity
      ? withXdsTls(proxy.bootstrap, {
          certificateChainFile: abs('tls.crt'),
          privateKeyFile: abs('tls.key'),
          trustedCa: bundle,
          serverSpiffeId: `spiffe://${identity.trustDomain}/ns/smi-system/sa/smi-compile`,
        })
      : proxy.bootstrap;
    out.push({ ...proxy, resources: { ...proxy.resources, secrets }, bootstrap });
  }
  await provider.close();
  const tree = new Map([...renderTree(out, format), ...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { tree: tree as OutputTree, modes, keys: modes.size };
}

/** The files of a tree, their modes, the bytes of all but tls.*, and which directories share a certificate. */
function shape(tree: OutputTree, modeOf: (file: string) => number) {
  const certOwners = new Map<string, string[]>();
  for (const [file, content] of tree) {
    if (!file.endsWith('/tls.crt')) continue;
    certOwners.set(content, [...(certOwners.get(content) ?? []), file.slice(0, -'/tls.crt'.length)]);
  }
  return {
    files: [...tree.keys()].sort().map((f) => `${f} ${modeOf(f).toString(8)}`),
    bytes: [...tree].filter(([f]) => !/\/tls\.(crt|key)$/.test(f)).sort(([a], [b]) => (a < b ? -1 : 1)),
    sharing: [...certOwners.values()].map((dirs) => dirs.sort().join(' + ')).sort(),
    subjects: [...tree].filter(([f]) => f.endsWith('/tls.crt')).map(([f, c]) => `${f}: ${nodeCertificate(parseCertificates(c)[0]).subject}`).sort(),
  };
}

/** bookstore with bookstore-v2 running as the service account `bookstore`, as v1 does: two workloads, one identity. */
function sharedAccountBookstore(): string {
  const dir = join(root, 'shared-sa');
  cpSync('fixtures/bookstore', dir, { recursive: true });
  const file = join(dir, 'bookstore-v2.yaml');
  const text = readFileSync(file, 'utf8');
  assert.ok(text.includes('serviceAccountName: bookstore-v2'));
  writeFileSync(file, text.replace('serviceAccountName: bookstore-v2', 'serviceAccountName: bookstore'));
  return dir;
}

test.before(async () => {
  await BuiltinCa.init(ca);
});

test('--ca and --emit-secrets write what the whole-list step wrote: files, modes, bytes, one certificate per service account', async () => {
  const shared = sharedAccountBookstore();
  for (const input of ['fixtures/bookstore', shared]) {
    for (const format of ['yaml', 'json'] as const) {
      for (const emitSecrets of [false, true]) {
        const out = fresh();
        const r = await run([input], { output: out, format, ca, emitSecrets });
        assert.is(r.code, 0, r.stderr);
        const reference = await wholeListReference(compilePaths([input]).proxies, { ca, caProvider: 'builtin', emitSecrets, outDir: out }, format);
        const label = `${input} ${format}${emitSecrets ? ' --emit-secrets' : ''}`;
        const written = shape(readTree(out), (f) => mode(join(out, f)));
        const plainMode = 0o666 & ~process.umask(); // what StagedTree gives a file without a mode of its own
        const expected = shape(reference.tree, (f) => reference.modes.get(f) ?? plainMode);
        assert.equal(written.files, expected.files, label);
        assert.equal(written.bytes, expected.bytes, label);
        assert.equal(written.sharing, expected.sharing, label);
        assert.equal(written.subjects, expected.subjects, label);
        if (emitSecrets) {
          assert.match(r.stderr, new RegExp(`warning SMI6009 wrote ${reference.keys} private key\\(s\\) under ${out} \\(mode 0600\\)`), label);
          assert.ok(written.files.filter((f) => f.endsWith('/tls.key 600')).length === reference.keys && reference.keys > 0, label);
        } else {
          assert.not.match(r.stderr, 'SMI6009');
          assert.not.ok(written.files.some((f) => /tls\.(crt|key)/.test(f)), label);
        }
      }
    }
  }
  // The variant really has two workloads on one certificate (so the check above means something).
  const out = fresh();
  assert.is((await run([shared], { output: out, ca, emitSecrets: true })).code, 0);
  assert.ok(shape(readTree(out), () => 0).sharing.includes('bookstore/bookstore + bookstore/bookstore-v2'));
  assert.is(readFileSync(join(out, 'bookstore/bookstore/tls.key'), 'utf8'), readFileSync(join(out, 'bookstore/bookstore-v2/tls.key'), 'utf8'));
});

test('the step shares a trust-bundle secret between proxies and keeps one certificate per identity', async () => {
  const certs = await ProxyCertificates.open({ ca, caProvider: 'builtin', emitSecrets: true, outDir: '/out' });
  const session = startCompile(generateMesh({ services: 12, permissive: true, seed: 3 }).files);
  const byName = new Map<string, Set<EnvoyResource>>();
  const chains = new Map<string, Set<string>>();
  let proxies = 0;
  for (const proxy of session.proxies('path')) {
    const { proxy: certified, files } = await certs.apply(proxy);
    proxies++;
    for (const s of certified.resources.secrets) {
      if (!String(s.name).startsWith('root-cert-for-mtls-')) continue;
      byName.set(String(s.name), (byName.get(String(s.name)) ?? new Set()).add(s));
      assert.ok(Object.isFrozen(s), 'shared, so frozen');
    }
    assert.equal(files.map((f) => [f.path, f.mode]), [
      [`${proxy.namespace}/${proxy.workload}/tls.crt`, undefined],
      [`${proxy.namespace}/${proxy.workload}/tls.key`, 0o600],
    ]);
    const id = `${proxy.namespace}/${proxy.identity!.serviceAccount}`;
    chains.set(id, (chains.get(id) ?? new Set()).add(files[0].content));
  }
  await certs.close();
  assert.ok(session.ok() && proxies > 12);
  // Every proxy calls every service: each outbound root secret is named by many proxies, and is one object.
  const outbound = [...byName].filter(([name]) => name.startsWith('root-cert-for-mtls-outbound:'));
  assert.ok(outbound.length >= 12);
  for (const [name, objects] of byName) assert.is(objects.size, 1, `${name}: ${objects.size} objects`);
  // The canaries' two workloads run as one service account: one certificate between them.
  assert.ok(proxies > chains.size, 'some service account has several workloads');
  for (const [id, pems] of chains) assert.is(pems.size, 1, id);
  assert.is(certs.keys, proxies);
});

test('the step keeps no proxy: what the caller drops can be collected', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const certs = await ProxyCertificates.open({ ca, caProvider: 'builtin', emitSecrets: true, outDir: '/out' });
  const session = startCompile(generateMesh({ services: 30, permissive: true, seed: 2 }).files);
  // Each proxy's cluster list (as emitted) and secret list (made by the step): per proxy, never shared.
  const lists: WeakRef<object>[] = [];
  let bytes = 0;
  for (const proxy of session.proxies('path')) {
    const certified = await certs.apply(proxy);
    lists.push(new WeakRef(proxy.resources.clusters), new WeakRef(certified.proxy.resources.secrets));
    for (const [, content] of renderProxy(certified.proxy, 'yaml')) bytes += content.length;
  }
  assert.ok(session.ok() && lists.length > 60 && bytes > 0);
  await new Promise((r) => setImmediate(r));
  gc();
  const alive = lists.filter((r) => r.deref() !== undefined).length;
  assert.ok(alive <= 2, `${alive} of ${lists.length} lists still reachable`);
  await certs.close();
});

test('a CA that cannot be used: its diagnostic after the compile\'s, exit 1, nothing written', async () => {
  // Missing: the load fails before anything is staged.
  const out = fresh();
  const missing = await run(['fixtures/bookstore'], { output: out, ca: join(root, 'no-ca') });
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /warning SMI3007[^]*\nerror SMI6001 certificate authority directory .*no-ca has no ca\.crt\n$/);
  assert.not.match(missing.stderr, /wrote|nothing written/);
  assert.not.ok(existsSync(out));
  assert.equal(leftovers(out), []);

  // Expired: it loads, and fails at the first certificate, mid-stream; the old tree stays.
  const expired = join(root, 'expired-ca');
  await BuiltinCa.init(expired, { clock: new FakeClock(Date.UTC(2020, 0, 1)), rootLifetimeMs: 24 * 3600_000 });
  assert.is((await run(['fixtures/bookstore'], { output: out })).code, 0);
  const before = readTree(out);
  const r = await run(['fixtures/bookstore'], { output: out, ca: expired, emitSecrets: true });
  assert.is(r.code, 1);
  assert.match(r.stderr, /warning SMI3007[^]*\nerror SMI\d+ .*the CA certificate expired at 2020-01-02T00:00:00\.000Z\n$/);
  assert.equal(readTree(out), before);
  assert.equal(leftovers(out), []);
  // Into a directory that did not exist: the failed compile leaves no trace, not even the parents it made.
  const nowhere = join(root, 'not-yet', 'there');
  assert.is((await run(['fixtures/bookstore'], { output: join(nowhere, 'out'), ca: expired, emitSecrets: true })).code, 1);
  assert.not.ok(existsSync(join(root, 'not-yet')));
  // Without --emit-secrets nothing is issued: the expired CA's bundle goes into the tree, as before.
  assert.is((await run(['fixtures/bookstore'], { output: out, ca: expired })).code, 0);
});

test('--ca with a proto failure (SMI9001): the compile\'s errors, not the CA\'s; --check --ca compares the streamed tree', async () => {
  const broken = join(root, 'broken');
  cpSync('fixtures/bookstore', broken, { recursive: true });
  const access = join(broken, 'traffic-access-v1.yaml');
  writeFileSync(access, readFileSync(access, 'utf8').replace('"client-app": "bookbuyer"', '"client-app": "book\\uD800buyer"'));
  for (const caDir of [ca, join(root, 'no-ca')]) {
    const out = fresh();
    const r = await run([broken], { output: out, ca: caDir, emitSecrets: true });
    assert.is(r.code, 1);
    assert.match(r.stderr, /2 errors, \d+ warnings; nothing written\n$/);
    assert.not.match(r.stderr, /SMI600\d/);
    assert.equal(treeFiles(out), []);
    assert.equal(leftovers(out), []);
  }

  const golden = fresh();
  assert.is((await run(['fixtures/bookstore'], { output: golden, ca })).code, 0);
  const same = await run(['fixtures/bookstore'], { check: golden, ca });
  assert.is(same.code, 0, same.stderr);
  assert.match(same.stderr, /up to date \(36 files, 6 proxies, 4 warnings\)/);
  const plain = await run(['fixtures/bookstore'], { check: golden });
  assert.is(plain.code, 1, 'without --ca the root secrets have no trust bundle');
  assert.match(plain.stderr, /\d+ files differ \(changed\)/);
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
