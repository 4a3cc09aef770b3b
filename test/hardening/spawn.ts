/** Runs the real bin in a child process, with a time limit, and collects what a shell would see. */
import { spawn } from 'node:child_process';

export const BIN = new URL('../../bin/smi-compile.js', import.meta.url).pathname;

export interface Spawned {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runBin(args: string[], opts: { stdin?: Buffer | string; nodeArgs?: string[]; timeoutMs?: number } = {}): Promise<Spawned> {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  // The child may stop reading stdin early (a size limit): that is not the test's error.
  child.stdin.on('error', () => {});
  child.stdin.end(opts.stdin ?? '');
  const killer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr });
    }),
  );
}

/** The complete lines a stream has written so far, kept up to date as it writes (a child's log). */
export function collectLines(stream: NodeJS.ReadableStream): string[] {
  const lines: string[] = [];
  let buf = '';
  stream.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts.filter(Boolean));
  });
  return lines;
}

/**
 * The first line of `lines` (collected from `stream` by collectLines, which listens first) that
 * `match` accepts, once the child has written it.
 */
export function lineWritten(stream: NodeJS.ReadableStream, lines: readonly string[], match: (line: string) => boolean): Promise<string> {
  return new Promise((resolve) => {
    const check = (): void => {
      const found = lines.find(match);
      if (found === undefined) return;
      stream.off('data', check);
      resolve(found);
    };
    stream.on('data', check);
    check();
  });
}
