/**
 * 1,000 connect/disconnect cycles against one server: new TCP connection, ADS stream (state of
 * the world or delta), first response, then gone: cancelled politely, or the connection cut
 * under the open stream. Afterwards the server has no stream in its books, no socket or timer
 * left open, and its heap is back where it was (measured in the server's own process after
 * forced GCs; the figures print).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createServer, connect, type Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RawAdsClient } from '../../src/serve/xds/raw-client.ts';
import { CDS } from '../../src/serve/xds/type-urls.ts';

const CYCLES = Number(process.env.CHURN_CYCLES ?? 1000);
const CONCURRENCY = 10;

interface Measure {
  heap: number;
  /** The heap without compiled code: objects, strings, buffers' headers. */
  data: number;
  resources: Record<string, number>;
  streams: number;
}

function ask<T>(child: ChildProcess, msg: string): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as T));
    child.send(msg);
  });
}

/**
 * A one-connection TCP forwarder to the server, whose sockets the test can destroy: the
 * closest in-process thing to a proxy that vanishes (pod killed, network cut) without ending
 * its stream. Closing a gRPC channel would not do: grpc-js lets open calls finish first.
 */
async function cuttable(port: number): Promise<{ target: string; cut(): void }> {
  const sockets: Socket[] = [];
  const server = createServer((inbound) => {
    const outbound = connect(port, '127.0.0.1');
    sockets.push(inbound, outbound);
    inbound.pipe(outbound).pipe(inbound);
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: local } = server.address() as { port: number };
  return {
    target: `127.0.0.1:${local}`,
    cut() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** Open resources of the process by kind (sockets, timers, ...), as Node reports them. */
function resources(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  return out;
}

test(`${CYCLES} connect/disconnect cycles leak no stream, socket, timer or memory in the server`, async () => {
  const child = fork(new URL('./churn-server.ts', import.meta.url).pathname, [], { execArgv: ['--import', 'tsx', '--expose-gc'] });
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  try {
    const { port, adminPort } = await new Promise<{ port: number; adminPort: number }>((resolve) => child.once('message', (m) => resolve(m as { port: number; adminPort: number })));
    const target = `127.0.0.1:${port}`;
    const cycle = async (i: number): Promise<void> => {
      if (i % 2 === 0) {
        // A proxy that says goodbye: the stream is cancelled, then the channel closed.
        const client = new RawAdsClient(target);
        const s = client.sotw();
        s.send({ node: { id: 'ns/a' }, typeUrl: CDS });
        await s.next(5000);
        s.close();
        client.close();
      } else {
        // A proxy that vanishes: its TCP connection is cut under the open delta stream.
        const link = await cuttable(port);
        const client = new RawAdsClient(link.target);
        const d = client.delta();
        d.send({ node: { id: 'ns/a' }, typeUrl: CDS });
        await d.next(5000);
        link.cut();
        await d.ended();
        client.close();
      }
    };
    const run = async (from: number, count: number): Promise<void> => {
      for (let k = from; k < from + count; k += CONCURRENCY) await Promise.all(Array.from({ length: CONCURRENCY }, (_, j) => cycle(k + j)));
    };

    await run(0, 300); // warm-up: JIT, gRPC's lazily created structures, metric label sets
    await ask(child, 'idle');
    const before = await ask<Measure>(child, 'measure');
    const t0 = performance.now();
    await run(100, CYCLES);
    const ms = performance.now() - t0;
    // The server notices each disconnect asynchronously.
    await ask(child, 'idle');
    const after = await ask<Measure>(child, 'measure');

    const growth = after.data - before.data;
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
    const kib = (n: number) => `${n >= 0 ? '+' : ''}${(n / 1024).toFixed(0)} KiB`;
    console.log(
      `${CYCLES} cycles in ${Math.round(ms)} ms; server heap ${mib(before.heap)} → ${mib(after.heap)} (${kib(after.heap - before.heap)}), ` +
        `without compiled code ${mib(before.data)} → ${mib(after.data)} (${kib(growth)}); open resources before ${JSON.stringify(before.resources)}, after ${JSON.stringify(after.resources)}`,
    );
    assert.is(after.streams, 0, 'streams still open in the server');
    const streams = (await (await fetch(`http://127.0.0.1:${adminPort}/debug/streams`)).json()) as unknown[];
    assert.equal(streams, []);
    assert.equal(after.resources, before.resources);
    // One stream kept per cycle (its object, per-type state, call, HTTP/2 stream and logger: several
    // KiB) would be megabytes. What remains is V8 warming up, and it levels off: 10,000 cycles
    // measured +242 KiB, no more than 1,000.
    assert.ok(growth < 1024 * 1024, `server heap (without code) grew by ${kib(growth)} over ${CYCLES} cycles`);
  } finally {
    clearTimeout(killer);
    const exited = new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
    if (child.connected) child.send('close');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    child.kill('SIGKILL');
  }
});

test.run();
