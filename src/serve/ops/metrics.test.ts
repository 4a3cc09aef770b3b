import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { XdsMetrics } from './metrics.ts';

test('per-stream counters are exposed with their labels, and stay counters across scrapes', async () => {
  const m = new XdsMetrics({ processMetrics: false });
  m.responses.add('sotw', 'CDS');
  m.responses.add('sotw', 'CDS');
  m.responses.add('delta', 'EDS');
  m.resourcesSent.add('sotw', 'CDS', 7);
  m.acks.add('sotw', 'LDS');
  let text = await m.registry.metrics();
  assert.match(text, /^smi_xds_pushes_total\{protocol="sotw",type="CDS"\} 2$/m);
  assert.match(text, /^smi_xds_pushes_total\{protocol="delta",type="EDS"\} 1$/m);
  assert.match(text, /^smi_xds_resources_sent_total\{protocol="sotw",type="CDS"\} 7$/m);
  assert.match(text, /^smi_xds_acks_total\{protocol="sotw",type="LDS"\} 1$/m);
  assert.match(text, /^# TYPE smi_xds_pushes_total counter$/m);
  m.responses.add('sotw', 'CDS', 3);
  text = await m.registry.metrics();
  assert.match(text, /^smi_xds_pushes_total\{protocol="sotw",type="CDS"\} 5$/m);
  assert.is((await m.acks.get()).values.find((v) => v.labels.type === 'LDS')?.value, 1);
});

test.run();
