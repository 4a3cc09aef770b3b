import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { envoyType } from '../envoy/protos.ts';
import { encodeAny, encodeDeltaResource, encodeDeltaResponse, encodeSotwBody, encodeSotwResponse, serializeSotwResponse } from './ads-service.ts';

const bytes = new Uint8Array([8, 1, 16, 2]);

test('hand-written DiscoveryResponse bytes decode under the real proto', () => {
  const any = encodeAny('type.googleapis.com/envoy.config.cluster.v3.Cluster', bytes);
  const buf = encodeSotwResponse({ versionInfo: 'v1', resources: [any, any], typeUrl: 'T', nonce: 'n1', controlPlane: 'cp' });
  const m = envoyType('envoy.service.discovery.v3.DiscoveryResponse').toObject(
    envoyType('envoy.service.discovery.v3.DiscoveryResponse').decode(buf),
    { bytes: Array },
  );
  assert.equal(m, {
    versionInfo: 'v1',
    resources: [
      { type_url: 'type.googleapis.com/envoy.config.cluster.v3.Cluster', value: [8, 1, 16, 2] },
      { type_url: 'type.googleapis.com/envoy.config.cluster.v3.Cluster', value: [8, 1, 16, 2] },
    ],
    typeUrl: 'T',
    nonce: 'n1',
    controlPlane: { identifier: 'cp' },
  });
});

test('a response from a shared pre-encoded body is the same bytes as one encoded whole', () => {
  const any = encodeAny('type.googleapis.com/envoy.config.cluster.v3.Cluster', bytes);
  const whole = encodeSotwResponse({ versionInfo: 'v1', resources: [any, any], typeUrl: 'T', nonce: 'n1', controlPlane: 'cp' });
  const body = encodeSotwBody('v1', [any, any], 'T');
  assert.equal(encodeSotwResponse({ versionInfo: 'v1', resources: [], typeUrl: 'T', nonce: 'n1', controlPlane: 'cp', body }), whole);
  // Nonces and identifiers past one varint byte of length, non-ASCII, or absent.
  const t = envoyType('envoy.service.discovery.v3.DiscoveryResponse');
  for (const [nonce, controlPlane] of [['n'.repeat(200), 'c'.repeat(300)], ['é-1', undefined], ['', 'cp']] as const) {
    const m = t.toObject(t.decode(encodeSotwResponse({ versionInfo: 'v1', resources: [], typeUrl: 'T', nonce, controlPlane, body })));
    assert.is(m.nonce ?? '', nonce);
    assert.is(m.controlPlane?.identifier, controlPlane);
    assert.is(m.resources.length, 2);
  }
});

test('the server\'s serializer (one reused buffer) writes the same bytes, for every size, as a fresh encode', () => {
  // Growing past the reused buffer's size, then past its cap (1 MiB: those get a buffer of their own), then small again.
  for (const size of [10, 70_000, 200_000, 2_000_000, 50, 300_000]) {
    const any = encodeAny('T', new Uint8Array(size).fill(size % 251));
    const body = encodeSotwBody(`v${size}`, [any], 'T');
    const r = { versionInfo: '', resources: [], typeUrl: 'T', nonce: `n${size}`, controlPlane: 'cp', body };
    const expected = encodeSotwResponse(r);
    const got = serializeSotwResponse(r);
    assert.is(got.byteLength, expected.byteLength);
    assert.ok(Buffer.compare(Buffer.from(got), expected) === 0, `size ${size}`);
  }
});

test('hand-written DeltaDiscoveryResponse bytes decode under the real proto', () => {
  const any = encodeAny('T', bytes);
  const buf = encodeDeltaResponse({
    systemVersionInfo: 'sv',
    resources: [encodeDeltaResource('a', 'va', any)],
    typeUrl: 'T',
    removedResources: ['gone', 'also-gone'],
    nonce: 'n2',
  });
  const t = envoyType('envoy.service.discovery.v3.DeltaDiscoveryResponse');
  const m = t.toObject(t.decode(buf), { bytes: Array });
  assert.equal(m, {
    systemVersionInfo: 'sv',
    resources: [{ name: 'a', version: 'va', resource: { type_url: 'T', value: [8, 1, 16, 2] } }],
    typeUrl: 'T',
    removedResources: ['gone', 'also-gone'],
    nonce: 'n2',
  });
});

test.run();
