import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { XdsMetrics } from '../ops/metrics.ts';
import type { AnyStream } from './stream-core.ts';
import { StreamRegistry } from './stream-registry.ts';

const stream = (nodeId: string, flavour?: 'sidecar' | 'proxyless'): AnyStream => ({ nodeId, flavour, protocol: 'sotw' }) as unknown as AnyStream;

test('streams are counted per node; detaching the last of a node drops the node', async () => {
  const metrics = new XdsMetrics({ processMetrics: false });
  const reg = new StreamRegistry(metrics);
  const a1 = stream('ns/a');
  const a2 = stream('ns/a');
  const b = stream('ns/b', 'proxyless');
  for (const s of [a1, a2, b]) reg.attach(s);
  assert.is(reg.size, 3);
  assert.is(reg.nodes, 2);
  reg.detach(a1);
  assert.is(reg.nodes, 2);
  reg.detach(a2);
  assert.is(reg.nodes, 1);
  reg.detach(a2); // twice: ignored
  reg.detach(stream('ns/never')); // never attached: ignored
  assert.is(reg.size, 1);
  assert.equal([...reg.all()], [b]);
  const text = await metrics.registry.metrics();
  assert.match(text, /^smi_xds_connected_proxies 1$/m);
  assert.match(text, /^smi_xds_streams\{protocol="sotw",flavour="proxyless"\} 1$/m);
  assert.match(text, /^smi_xds_streams\{protocol="sotw",flavour="sidecar"\} 0$/m);
});

test('a change concerns the streams of the nodes that changed, and every proxyless stream', () => {
  const reg = new StreamRegistry(new XdsMetrics({ processMetrics: false }));
  const a = stream('ns/a');
  const b = stream('ns/b');
  const p = stream('ns/c', 'proxyless');
  for (const s of [a, b, p]) reg.attach(s);
  assert.equal(reg.due(new Set(['ns/b'])), [b, p]);
  assert.equal(reg.due(new Set()), [p]);
});

test('stream ids are unique within a registry', () => {
  const reg = new StreamRegistry(new XdsMetrics({ processMetrics: false }));
  const ids = new Set(Array.from({ length: 100 }, () => reg.streamId()));
  assert.is(ids.size, 100);
  assert.is(new StreamRegistry(new XdsMetrics({ processMetrics: false })).streamId(), 's1');
});

test.run();
