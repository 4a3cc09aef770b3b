/**
 * The admin port's exposure: it binds loopback unless told otherwise, whatever the xDS port's
 * address; `/debug/*` (every proxy's configuration) answers 404 unless `debugEndpoints` is on;
 * probes and metrics answer either way. Other loopback addresses (127.0.0.2, 127.0.0.3) stand in
 * for a public one: tests bind nothing but loopback.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { debugRefusal, isLoopback } from './admin.ts';
import { simpleProxy, testServer } from './testing.ts';

const PROXY = simpleProxy('ns/a', { 'ns/x|80': 100 });

/** The status of GET `url`, or the error code when nothing listens there. */
async function statusOf(url: string): Promise<number | string> {
  try {
    return (await fetch(url)).status;
  } catch (err) {
    return String((err as { cause?: { code?: string } }).cause?.code ?? err);
  }
}

test('by default the admin port binds 127.0.0.1, not the xDS address, and /debug/* is 404 while probes and metrics answer', async () => {
  const srv = await testServer([PROXY], { address: '127.0.0.2' });
  try {
    assert.is(srv.handle.address, '127.0.0.2');
    assert.is(srv.handle.adminAddress, '127.0.0.1');
    const admin = `http://127.0.0.1:${srv.handle.adminPort}`;
    for (const path of ['/healthz', '/readyz', '/metrics']) assert.is(await statusOf(`${admin}${path}`), 200, path);
    for (const path of ['/debug/config?node=ns/a', '/debug/streams', '/debug/snapshot']) {
      const res = await fetch(`${admin}${path}`);
      assert.is(res.status, 404, path);
      assert.not.match(await res.text(), 'ns/x');
    }
    assert.is(await statusOf(`http://127.0.0.2:${srv.handle.adminPort}/healthz`), 'ECONNREFUSED');
  } finally {
    await srv.close();
  }
});

test('debugEndpoints serves /debug/*; adminAddress binds the admin port where it says', async () => {
  const srv = await testServer([PROXY], { debugEndpoints: true, adminAddress: '127.0.0.3' });
  try {
    const admin = `http://127.0.0.3:${srv.handle.adminPort}`;
    const res = await fetch(`${admin}/debug/config?node=ns/a`);
    assert.is(res.status, 200);
    assert.match(await res.text(), 'ns/x|80');
    assert.is(await statusOf(`${admin}/debug/streams`), 200);
    assert.is(await statusOf(`http://127.0.0.1:${srv.handle.adminPort}/healthz`), 'ECONNREFUSED');
  } finally {
    await srv.close();
  }
});

test('which addresses count as this host alone; /debug answers loopback clients only, and only when on', () => {
  for (const a of ['127.0.0.1', '127.0.0.3', '::1', 'localhost', '::ffff:127.0.0.1']) assert.ok(isLoopback(a), a);
  for (const a of ['0.0.0.0', '::', '10.0.0.7', '192.168.1.2', '127.0.0.1.example.com', '::ffff:10.0.0.7', '']) assert.not.ok(isLoopback(a), a);
  assert.is(debugRefusal(false, '127.0.0.1')?.status, 404);
  assert.is(debugRefusal(true, '10.244.1.7')?.status, 403);
  assert.is(debugRefusal(true, '::ffff:10.244.1.7')?.status, 403);
  assert.is(debugRefusal(true, undefined)?.status, 403);
  assert.is(debugRefusal(true, '::ffff:127.0.0.1'), undefined);
});

test.run();
