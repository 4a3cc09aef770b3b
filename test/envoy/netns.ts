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

const BRIDGE = fileURLToPath(new URL('./netns-bridge.mjs', import.meta.url));

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
    const m = /^smi-e2e-(\d+)-\d+$/.exec(ns);
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
  static async start(opts: { name: string; netns: string; dir: string; envoyBin: string; bootstrap: string; xdsPort: number; xdsSocket: string; adminPort?: number }): Promise<EnvoyPod> {
    ip('netns', 'add', opts.netns);
    const pod = new EnvoyPod(opts.name, opts.netns, opts.dir);
    try {
      ip('-n', opts.netns, 'link', 'set', 'lo', 'up');
      const spec = {
        forward: [{ listen: `127.0.0.1:${opts.xdsPort}`, unix: opts.xdsSocket }],
        expose: [{ unix: pod.adminSocket, connect: `127.0.0.1:${opts.adminPort ?? 15000}` }],
      };
      pod.bridge = spawn('ip', ['netns', 'exec', opts.netns, process.execPath, BRIDGE, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
      await started(pod.bridge, `bridge of ${opts.name}`);
      pod.envoy = spawn(
        'ip',
        ['netns', 'exec', opts.netns, opts.envoyBin, '-c', opts.bootstrap, '--concurrency', '1', '--use-dynamic-base-id', '-l', 'warning', '--log-format', '[%Y-%m-%d %T.%e][%l][%n] %v'],
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

  async stop(): Promise<void> {
    for (const child of [this.envoy, this.bridge]) {
      if (!child || child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    spawnSync('ip', ['netns', 'del', this.netns]);
  }
}
