/** `smi-compile serve` in a child process (optionally as user nobody), with its JSON logs and admin port at hand. */
import { spawn } from 'node:child_process';
import { BIN } from './spawn.ts';

export interface ServeChild {
  readonly pid: number;
  /** The xDS port. */
  readonly port: number;
  logs(): string;
  waitForLog(text: string, ms?: number): Promise<void>;
  admin(path: string): Promise<Response>;
  snapshotVersion(): Promise<string>;
  stop(): Promise<number | null>;
}

const NOBODY = 65534;

export async function runServeChild(args: string[], opts: { asNobody?: boolean; nodeArgs?: string[] } = {}): Promise<ServeChild> {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), BIN, 'serve', ...args, '--port', '0', '--admin-port', '0', '--log-format', 'json'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    ...(opts.asNobody ? { uid: NOBODY, gid: NOBODY } : {}),
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  let stderr = '';
  const waiters: (() => void)[] = [];
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
    for (const w of waiters.splice(0)) w();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  const waitForLog = (text: string, ms = 8000): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no log line with ${text} within ${ms} ms:\n${stderr}`)), ms);
      const check = (): void => {
        if (stderr.includes(text)) {
          clearTimeout(timer);
          resolve();
        } else waiters.push(check);
      };
      check();
      void exited.then(() => {
        clearTimeout(timer);
        if (!stderr.includes(text)) reject(new Error(`serve exited:\n${stderr}`));
      });
    });

  await waitForLog('"xDS server listening"', 20_000);
  const listening = stderr.split('\n').find((l) => l.includes('"xDS server listening"'))!;
  const { adminPort, port } = JSON.parse(listening) as { adminPort: number; port: number };
  const admin = (path: string): Promise<Response> => fetch(`http://127.0.0.1:${adminPort}${path}`);

  return {
    pid: child.pid!,
    port,
    logs: () => stderr,
    waitForLog,
    admin,
    snapshotVersion: async () => ((await (await admin('/debug/snapshot')).json()) as { version: string }).version,
    async stop() {
      child.kill('SIGTERM');
      const code = await exited;
      clearTimeout(killer);
      return code;
    },
  };
}
