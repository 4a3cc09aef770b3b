/**
 * Envoy sidecars in network namespaces, one per pod, as a cluster runs them: each binds its
 * shipped listener addresses (0.0.0.0:15001, 0.0.0.0:15003, admin 127.0.0.1:15000) inside its own
 * namespace, so several run on one host without clashing and without touching the host's ports,
 * and the bootstrap `compile` wrote is used unchanged.
 *
 * The namespace reaches the xDS server on the host's 127.0.0.1 through netns-bridge.mjs: inside,
 * 127.0.0.1:<xDS port> forwards to a Unix socket the host side (`UnixToTcp`) relays to the
 * server; Envoy's admin is exposed the other way, on a Unix socket the test queries. Needs root
 * (`ip netns add`).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENVOY_UID } from '../../src/inject/constants.ts';
import { iptablesRestoreInput, type Exclusions } from '../../src/inject/iptables.ts';

const BRIDGE = fileURLToPath(new URL('./netns-bridge.mjs', import.meta.url));
const APP = fileURLToPath(new URL('./pod-app.mjs', import.meta.url));

/** Runs a command inside a namespace; throws with its output when it fails. */
export function inNetns(netns: string, ...cmd: string[]): string {
  const r = spawnSync('ip', ['netns', 'exec', netns, ...cmd], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip netns exec ${netns} ${cmd.join(' ')}: ${r.error?.message ?? r.stderr.trim()}`);
  return r.stdout;
}

/**
 * The redirection OSM's init container (osm-init) installs in every pod: the very text the injector
 * puts into osm-init's command (src/inject/iptables.ts), fed to `iptables-restore --noflush` as
 * osm-init does, so the namespaces run the rules an injected pod runs.
 */
export function osmIptables(netns: string, proxyUid = ENVOY_UID, exclusions: Exclusions = {}): void {
  const r = spawnSync('ip', ['netns', 'exec', netns, 'iptables-restore', '--noflush'], { input: iptablesRestoreInput(exclusions, proxyUid), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`iptables-restore in ${netns}: ${r.error?.message ?? r.stderr.trim()}`);
}

/** Why iptables NAT cannot be used in a namespace here, or undefined when it can. */
export function iptablesUnavailable(): string | undefined {
  const name = `smi-probe-ipt-${process.pid}`;
  const add = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
  if (add.status !== 0) return `\`ip netns add\` failed: ${add.stderr.trim()}`;
  try {
    const r = spawnSync('ip', ['netns', 'exec', name, 'iptables', '-t', 'nat', '-N', 'PROBE'], { encoding: 'utf8' });
    if (r.error || r.status !== 0) return `\`iptables -t nat -N\` in a network namespace failed: ${r.error?.message ?? r.stderr.trim()} (apt-get install iptables)`;
    return undefined;
  } finally {
    spawnSync('ip', ['netns', 'del', name]);
  }
}

/**
 * A pod network: a router namespace holding a bridge (the "node"), and each pod's eth0 a veth
 * into it, on a private subnet made inside the sandbox. The pods' default route is the bridge.
 */
export class PodNetwork {
  private constructor(
    readonly router: string,
    readonly gateway: string,
    private readonly prefix: number,
  ) {}

  static create(router: string, gateway: string, prefix = 24): PodNetwork {
    ip('netns', 'add', router);
    ip('-n', router, 'link', 'set', 'lo', 'up');
    ip('-n', router, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', router, 'addr', 'add', `${gateway}/${prefix}`, 'dev', 'br0');
    ip('-n', router, 'link', 'set', 'br0', 'up');
    return new PodNetwork(router, gateway, prefix);
  }

  /** Gives `netns` an eth0 with `address` on the bridge, and a default route through it. */
  attach(netns: string, address: string, index: number): void {
    const peer = `veth${index}`;
    ip('link', 'add', peer, 'netns', this.router, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns);
    ip('-n', this.router, 'link', 'set', peer, 'master', 'br0');
    ip('-n', this.router, 'link', 'set', peer, 'up');
    ip('-n', netns, 'addr', 'add', `${address}/${this.prefix}`, 'dev', 'eth0');
    ip('-n', netns, 'link', 'set', 'eth0', 'up');
    ip('-n', netns, 'route', 'add', 'default', 'via', this.gateway);
  }

  remove(): void {
    spawnSync('ip', ['netns', 'del', this.router]);
  }
}

/** Why network namespaces cannot be made here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (ip netns add needs CAP_SYS_ADMIN)';
  const name = `smi-probe-${process.pid}`;
  const add = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
  if (add.error || add.status !== 0) return `\`ip netns add\` failed: ${add.error?.message ?? add.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', name]);
  return undefined;
}

/** The prefix of the namespaces this process makes: `<prefix><n>`. */
export function namespacePrefix(): string {
  return `smi-e2e-${process.pid}-`;
}

/**
 * A test run killed outright (SIGKILL, a CI timeout) leaves its namespaces and the Envoys and
 * bridges in them: those of runs whose process is gone are removed, their processes ended.
 */
export function removeStaleNamespaces(): void {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  for (const ns of list.split('\n').map((l) => l.split(' ')[0])) {
    const m = /^smi-e2e-(\d+)-[a-z0-9]+$/.exec(ns);
    if (!m || alive(Number(m[1]))) continue;
    const pids = (spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '').split('\n').filter(Boolean).map(Number);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
}

/** A host-side relay: a Unix socket whose connections go to 127.0.0.1:port. */
export class UnixToTcp {
  private readonly sockets = new Set<Socket>();
  private constructor(private readonly server: Server) {}
  static async start(path: string, port: number): Promise<UnixToTcp> {
    const relay: UnixToTcp = new UnixToTcp(
      createServer((a) => {
        const b = connect(port, '127.0.0.1');
        for (const s of [a, b]) {
          relay.sockets.add(s);
          s.on('close', () => relay.sockets.delete(s));
          s.on('error', () => undefined);
        }
        a.pipe(b);
        b.pipe(a);
        a.on('close', () => b.destroy());
        b.on('close', () => a.destroy());
      }),
    );
    await new Promise<void>((resolve) => relay.server.listen(path, resolve));
    return relay;
  }
  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function started(child: ChildProcess, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
      if (out.includes('ready\n')) resolve();
    });
    child.stderr?.on('data', (d) => (out += d));
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}): ${out}`)));
  });
}

/** One pod: a network namespace holding an Envoy started from `bootstrap`. */
export class EnvoyPod {
  private envoy?: ChildProcess;
  private bridge?: ChildProcess;
  private readonly apps: ChildProcess[] = [];
  private log = '';
  readonly adminSocket: string;

  private constructor(
    readonly name: string,
    readonly netns: string,
    private readonly dir: string,
  ) {
    this.adminSocket = join(dir, 'admin.sock');
  }

  /**
   * Makes the namespace, the bridge (xDS at 127.0.0.1:xdsPort inside → `xdsSocket` on the host;
   * the admin port inside → `adminSocket`), and starts Envoy in it.
   */
  static async start(opts: {
    name: string;
    netns: string;
    dir: string;
    envoyBin: string;
    bootstrap: string;
    xdsPort: number;
    xdsSocket: string;
    adminPort?: number;
    /** Run Envoy as this uid (and gid), as a sidecar container does (OSM: 1500, which its iptables rules exclude). */
    uid?: number;
    /** Called with the namespace once its loopback is up, before anything runs in it (addresses, routes, iptables). */
    prepare?: (netns: string) => void;
  }): Promise<EnvoyPod> {
    ip('netns', 'add', opts.netns);
    const pod = new EnvoyPod(opts.name, opts.netns, opts.dir);
    try {
      ip('-n', opts.netns, 'link', 'set', 'lo', 'up');
      opts.prepare?.(opts.netns);
      const spec = {
        forward: [{ listen: `127.0.0.1:${opts.xdsPort}`, unix: opts.xdsSocket }],
        expose: [{ unix: pod.adminSocket, connect: `127.0.0.1:${opts.adminPort ?? 15000}` }],
      };
      pod.bridge = spawn('ip', ['netns', 'exec', opts.netns, process.execPath, BRIDGE, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
      await started(pod.bridge, `bridge of ${opts.name}`);
      pod.envoy = spawn(
        'ip',
        ['netns', 'exec', opts.netns, ...(opts.uid === undefined ? [] : ['setpriv', `--reuid=${opts.uid}`, `--regid=${opts.uid}`, '--clear-groups']), opts.envoyBin, '-c', opts.bootstrap, '--concurrency', '1', '--disable-hot-restart', '-l', 'warning', '--log-format', '[%Y-%m-%d %T.%e][%l][%n] %v'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const keep = (d: Buffer): void => {
        if (pod.log.length < 256 * 1024) pod.log += d.toString();
      };
      pod.envoy.stdout?.on('data', keep);
      pod.envoy.stderr?.on('data', keep);
      return pod;
    } catch (err) {
      await pod.stop();
      throw err;
    }
  }

  get envoyLog(): string {
    return this.log;
  }

  get running(): boolean {
    return this.envoy !== undefined && this.envoy.exitCode === null && this.envoy.signalCode === null;
  }

  /** GET on Envoy's admin; undefined while it does not answer yet. */
  admin(path: string): Promise<string | undefined> {
    if (!existsSync(this.adminSocket)) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const req = request({ socketPath: this.adminSocket, path, method: 'GET' }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(res.statusCode === 200 ? body : undefined));
        res.on('error', () => resolve(undefined));
      });
      req.on('error', () => resolve(undefined));
      req.end();
    });
  }

  /** Envoy's counters and gauges, `name → value`. */
  async stats(): Promise<Map<string, number> | undefined> {
    const text = await this.admin('/stats');
    if (text === undefined) return undefined;
    const out = new Map<string, number>();
    for (const line of text.split('\n')) {
      const m = /^(.+): (\d+)$/.exec(line);
      if (m) out.set(m[1], Number(m[2]));
    }
    return out;
  }

  /** Starts the pod's application (pod-app.mjs) in its namespace; resolves once it listens. */
  async startApp(spec: Record<string, unknown>): Promise<void> {
    const app = spawn('ip', ['netns', 'exec', this.netns, process.execPath, APP, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.apps.push(app);
    await started(app, `app of ${this.name}`);
  }

  async stop(): Promise<void> {
    for (const child of [this.envoy, this.bridge, ...this.apps]) {
      if (!child || child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    spawnSync('ip', ['netns', 'del', this.netns]);
  }
}
