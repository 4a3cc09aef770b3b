/**
 * An xDS server in its own process, for xds-churn.test.ts: the heap it reports is the
 * server's alone, not mixed with the clients' (grpc-js keeps client-side channel structures
 * around for a while after they close). Answers IPC messages: 'idle' → once no stream is open; 'measure' → heap after forced
 * GCs (all of it, and without compiled code), open resources, streams in the server's books; 'close' → stops and exits.
 */
import { getHeapSpaceStatistics } from 'node:v8';
import { simpleProxy, testServer } from '../../src/serve/testing.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc || !process.send) throw new Error('run with --expose-gc, as a forked child');

const srv = await testServer([simpleProxy('ns/a', { 'ns/x|80': 100 })], { debugEndpoints: true });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function measure(): Promise<Record<string, unknown>> {
  // One log record per stream open and close would be the only thing growing: drop them.
  srv.logger.records.length = 0;
  for (let i = 0; i < 4; i++) {
    gc!();
    await sleep(25);
  }
  const resources: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) resources[r] = (resources[r] ?? 0) + 1;
  const open = await openStreams();
  // Compiled code is kept apart: V8 keeps optimising (and de-optimising) hot paths for a while,
  // which grows code space without anything being leaked.
  const code = getHeapSpaceStatistics()
    .filter((s) => s.space_name.startsWith('code'))
    .reduce((n, s) => n + s.space_used_size, 0);
  const heap = process.memoryUsage().heapUsed;
  return { heap, data: heap - code, resources, streams: open };
}

const openStreams = async (): Promise<number> => (await srv.handle.metrics.streams.get()).values.reduce((n, v) => n + v.value, 0);

/**
 * Resolves once the server has no stream left in its books (it notices each disconnect
 * asynchronously): each close is logged after the stream leaves the books, so each wait is for
 * the next close. Gives up after `ms`, for measure() to report what is still open.
 */
async function idle(ms = 10_000): Promise<void> {
  const giveUp = Date.now() + ms;
  for (;;) {
    const from = srv.logger.records.length;
    if ((await openStreams()) === 0 || Date.now() >= giveUp) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([srv.logger.waitFor((r) => r.msg === 'stream closed', from), new Promise((r) => (timer = setTimeout(r, giveUp - Date.now())))]);
    clearTimeout(timer);
  }
}

process.on('message', (msg: string) => {
  if (msg === 'idle') void idle().then(() => process.send!('idle'));
  if (msg === 'measure') void measure().then((m) => process.send!(m));
  if (msg === 'close') void srv.close().then(() => process.exit(0));
});
process.send({ port: srv.handle.port, adminPort: srv.handle.adminPort });
