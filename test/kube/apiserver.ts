/**
 * A real Kubernetes API server for tests: etcd and kube-apiserver (built from Go modules by
 * scripts/kube/build.sh) on 127.0.0.1, ephemeral ports, in a temporary directory, with a CA,
 * a serving certificate, service-account keys and an admin token made here. Nothing is faked:
 * what the tests read back went through admission, validation, defaulting and etcd.
 *
 * Where the binaries are: `KUBE_BIN_DIR` (what .ci/run exports), else the cache directory
 * build.sh would print for the pinned modules. Without them the tests skip with the command
 * that builds them, except under `CI=true`, where a missing binary is a failure.
 */
import 'reflect-metadata';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { createRoot, generateKeyPair, privateKeyPem, signingKeyOf, x509 } from '../../src/identity/x509.ts';

const REPO = new URL('../../', import.meta.url).pathname;
export const BUILD_COMMAND = 'scripts/kube/build.sh';

/** The directory holding `etcd` and `kube-apiserver`, or why there is none. */
export function kubeBinDir(): { dir: string } | { missing: string } {
  const dir = process.env.KUBE_BIN_DIR ?? defaultCacheDir();
  if (dir && existsSync(join(dir, 'kube-apiserver')) && existsSync(join(dir, 'etcd'))) return { dir };
  return { missing: `no kube-apiserver and etcd in ${dir ?? '(no Go toolchain to find the cache)'}; build them with \`${BUILD_COMMAND}\` and set KUBE_BIN_DIR to the directory it prints` };
}

/** The cache directory build.sh uses: the same key (pinned modules and Go version). */
function defaultCacheDir(): string | undefined {
  const go = spawnSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' });
  if (go.status !== 0) return undefined;
  const here = join(REPO, 'scripts/kube');
  const hash = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'etcd/go.mod', 'etcd/go.sum']) hash.update(readFileSync(join(here, f)));
  const key = `${hash.digest('hex').slice(0, 16)}-${go.stdout.trim()}`;
  return join(process.env.SMI_KUBE_CACHE ?? join(homedir(), '.cache/smi-compile/kube'), key);
}

/**
 * For a test file: the binaries, or undefined after saying why it skips. Under CI=true a missing
 * binary throws (CI builds them in .ci/run; a silent skip there would hide a broken build).
 */
export function requireKubeBinaries(): string | undefined {
  const found = kubeBinDir();
  if ('dir' in found) return found.dir;
  if (process.env.CI === 'true') throw new Error(found.missing);
  console.warn(`  (skipped: ${found.missing})`);
  return undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface ApiServer {
  /** `https://127.0.0.1:<port>` */
  readonly url: string;
  readonly dir: string;
  /** A kubeconfig file for the admin identity (system:masters). */
  readonly kubeconfig: string;
  readonly caPem: string;
  readonly adminToken: string;
  /** A kubeconfig for a service account's token (TokenRequest), to test what its RBAC allows. */
  kubeconfigFor(namespace: string, serviceAccount: string): Promise<string>;
  /** Calls the API as admin: JSON in, JSON out; throws on a status outside 2xx with the body. */
  api(method: string, path: string, body?: unknown, contentType?: string): Promise<any>;
  /** Creates (or replaces) each object of a YAML text, in order. */
  apply(yamlText: string, mutate?: (obj: any) => any): Promise<void>;
  /** Stops kube-apiserver (etcd keeps its data) and starts it again on the same port. */
  restart(): Promise<void>;
  /** Milliseconds from spawning kube-apiserver to /readyz answering ok, for each start. */
  readonly startMs: number[];
  close(): Promise<void>;
}

export interface ApiServerOptions {
  /** CRD YAML texts to install and wait for (Established). */
  crds?: readonly string[];
}

interface Pki {
  caPem: string;
  certPem: string;
  keyPem: string;
}

async function makePki(): Promise<Pki> {
  const now = Date.now();
  const notBefore = new Date(now - 60_000);
  const notAfter = new Date(now + 24 * 3600_000);
  const ca = await createRoot({ commonName: 'smi-compile test kube CA', notBefore, notAfter });
  const keys = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.create({
    subject: 'CN=kube-apiserver',
    issuer: ca.certificate.subjectName,
    publicKey: keys.publicKey,
    signingKey: signingKeyOf(ca.keys).key,
    signingAlgorithm: signingKeyOf(ca.keys).algorithm,
    notBefore,
    notAfter,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'ip', value: '127.0.0.1' },
        { type: 'dns', value: 'localhost' },
        { type: 'dns', value: 'kubernetes.default.svc' },
      ]),
    ],
  });
  return { caPem: ca.certificate.toString('pem') + '\n', certPem: cert.toString('pem') + '\n', keyPem: await privateKeyPem(keys.privateKey) };
}

function kubeconfigText(url: string, caPem: string, user: string, token: string): string {
  const ca = Buffer.from(caPem).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: test\n  cluster:\n    server: ${url}\n    certificate-authority-data: ${ca}`,
    'users:',
    `- name: ${user}\n  user:\n    token: ${token}`,
    'contexts:',
    `- name: test\n  context:\n    cluster: test\n    user: ${user}`,
    'current-context: test',
    '',
  ].join('\n');
}

/** Waits until `check` resolves true, polling every `everyMs`; rejects after `timeoutMs` with `what`. */
export async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited(child);
  clearTimeout(timer);
}

export async function startApiServer(binDir: string, options: ApiServerOptions = {}): Promise<ApiServer> {
  const dir = mkdtempSync(join(tmpdir(), 'smi-kube-'));
  const pki = await makePki();
  const sa = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const adminToken = randomBytes(24).toString('hex');
  writeFileSync(join(dir, 'ca.crt'), pki.caPem);
  writeFileSync(join(dir, 'apiserver.crt'), pki.certPem);
  writeFileSync(join(dir, 'apiserver.key'), pki.keyPem, { mode: 0o600 });
  writeFileSync(join(dir, 'sa.key'), sa.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(join(dir, 'sa.pub'), sa.publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(join(dir, 'tokens.csv'), `${adminToken},admin,admin,"system:masters"\n`, { mode: 0o600 });

  const [etcdClient, etcdPeer, port] = [await freePort(), await freePort(), await freePort()];
  const url = `https://127.0.0.1:${port}`;
  const kubeconfig = join(dir, 'admin.kubeconfig');
  writeFileSync(kubeconfig, kubeconfigText(url, pki.caPem, 'admin', adminToken), { mode: 0o600 });

  const etcd = spawn(
    join(binDir, 'etcd'),
    [
      '--name=test',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=test=http://127.0.0.1:${etcdPeer}`,
      // A test's data need not survive a power cut; fsync on a shared CI disk is most of etcd's latency.
      '--unsafe-no-fsync',
      '--log-level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const etcdLog = join(dir, 'etcd.log');
  const etcdOut = createWriteStream(etcdLog);
  etcd.stderr?.pipe(etcdOut);

  let apiserver: ChildProcess | undefined;
  const startMs: number[] = [];
  const apiserverLog = join(dir, 'kube-apiserver.log');

  const get = (path: string): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = request(`${url}${path}`, { ca: pki.caPem, headers: { authorization: `Bearer ${adminToken}` } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.setTimeout(5_000, () => req.destroy(new Error('timeout')));
      req.end();
    });

  const api = (method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<any> =>
    new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
      const req = request(
        `${url}${path}`,
        { method, ca: pki.caPem, headers: { authorization: `Bearer ${adminToken}`, accept: 'application/json', ...(data ? { 'content-type': contentType } : {}) } },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status < 200 || status >= 300) reject(Object.assign(new Error(`${method} ${path}: ${status} ${text}`), { status }));
            else resolve(text ? JSON.parse(text) : undefined);
          });
        },
      );
      req.on('error', reject);
      req.end(data);
    });

  async function startApiserver(): Promise<void> {
    const t0 = Date.now();
    const log = createWriteStream(apiserverLog, { flags: 'a' });
    apiserver = spawn(
      join(binDir, 'kube-apiserver'),
      [
        `--etcd-servers=http://127.0.0.1:${etcdClient}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${port}`,
        `--cert-dir=${join(dir, 'certs')}`,
        `--tls-cert-file=${join(dir, 'apiserver.crt')}`,
        `--tls-private-key-file=${join(dir, 'apiserver.key')}`,
        `--token-auth-file=${join(dir, 'tokens.csv')}`,
        '--authorization-mode=RBAC',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${join(dir, 'sa.pub')}`,
        `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
        '--service-cluster-ip-range=10.96.0.0/16',
        // No controller manager runs: nothing would create a namespace's `default` service account.
        '--disable-admission-plugins=ServiceAccount',
        '--profiling=false',
        '--v=0',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    apiserver.stdout?.pipe(log);
    apiserver.stderr?.pipe(log);
    const child = apiserver;
    await until(
      `kube-apiserver /readyz on ${url} (log: ${apiserverLog})`,
      async () => {
        if (child.exitCode !== null) throw new Error(`kube-apiserver exited with ${child.exitCode}:\n${tail(apiserverLog)}`);
        return (await get('/readyz')).status === 200;
      },
      120_000,
      100,
    );
    startMs.push(Date.now() - t0);
  }

  async function apply(yamlText: string, mutate: (obj: any) => any = (o) => o): Promise<void> {
    for (const doc of parseAllDocuments(yamlText)) {
      const raw = doc.toJS();
      if (!raw || typeof raw !== 'object') continue;
      const obj = mutate(raw);
      if (!obj) continue;
      const path = await collectionPath(obj.apiVersion, obj.kind, obj.metadata?.namespace);
      try {
        await api('POST', path, obj);
      } catch (err) {
        if ((err as { status?: number }).status !== 409) throw err;
        const existing = await api('GET', `${path}/${obj.metadata.name}`);
        await api('PUT', `${path}/${obj.metadata.name}`, { ...obj, metadata: { ...obj.metadata, resourceVersion: existing.metadata.resourceVersion } });
      }
    }
  }

  /** The REST collection of a kind, from discovery (so CRDs work as built-ins do). */
  async function collectionPath(apiVersion: string, kind: string, namespace: string | undefined): Promise<string> {
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const list = await api('GET', base);
    const resource = (list.resources as { name: string; kind: string; namespaced: boolean }[]).find((r) => r.kind === kind && !r.name.includes('/'));
    if (!resource) throw new Error(`${apiVersion} ${kind} is not served`);
    return resource.namespaced ? `${base}/namespaces/${namespace ?? 'default'}/${resource.name}` : `${base}/${resource.name}`;
  }

  async function kubeconfigFor(namespace: string, serviceAccount: string): Promise<string> {
    const reply = await api('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}/token`, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 3600 },
    });
    const file = join(dir, `${namespace}-${serviceAccount}.kubeconfig`);
    writeFileSync(file, kubeconfigText(url, pki.caPem, `${namespace}-${serviceAccount}`, reply.status.token), { mode: 0o600 });
    return file;
  }

  async function close(): Promise<void> {
    await stop(apiserver);
    await stop(etcd);
    etcdOut.end();
    if (!process.env.KEEP_KUBE_DIR) rmSync(dir, { recursive: true, force: true });
  }

  try {
    await startApiserver();
    for (const crds of options.crds ?? []) await apply(crds);
    const names = (options.crds ?? []).flatMap((text) => parseAllDocuments(text).map((d) => d.toJS()?.metadata?.name).filter(Boolean));
    for (const name of names) {
      await until(`CRD ${name} established`, async () => {
        const crd = await api('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
        return (crd.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Established' && c.status === 'True');
      });
    }
  } catch (err) {
    await close();
    throw new Error(`${(err as Error).message}\netcd log:\n${tail(etcdLog, 10)}`);
  }

  return {
    url,
    dir,
    kubeconfig,
    caPem: pki.caPem,
    adminToken,
    kubeconfigFor,
    api,
    apply,
    startMs,
    async restart() {
      await stop(apiserver);
      await startApiserver();
    },
    close,
  };
}

/** The CRDs the Kubernetes source reads, from the repository (schemas/crds and test/kube/crds). */
export function meshCrds(opts: { serveEveryVersion?: boolean } = {}): string[] {
  const files = [
    'schemas/crds/smi/access.yaml',
    'schemas/crds/smi/httproutegroup.yaml',
    'schemas/crds/smi/split.yaml',
    'schemas/crds/smi/tcproute.yaml',
    'schemas/crds/smi/udproute.yaml',
    'schemas/crds/osm/config_meshconfig.yaml',
    'test/kube/crds/config_mesh_root_certificate.yaml',
  ];
  return files.map((f) => {
    const text = readFileSync(join(REPO, f), 'utf8');
    // As a cluster that still serves the older SMI versions (OSM's adapters did) would.
    return opts.serveEveryVersion ? text.replace(/served: false/g, 'served: true') : text;
  });
}
