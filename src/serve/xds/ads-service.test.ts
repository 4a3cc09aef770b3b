import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { envoyType } from '../../envoy/protos.ts';
import { encodeAny, encodeDeltaResource, encodeDeltaResponse, encodeSotwResponse, serializeSotwResponse } from './ads-service.ts';
import { protobuf } from '../../envoy/protos.ts';

const bytes = new Uint8Array([8, 1, 16, 2]);

test('hand-written DiscoveryResponse bytes decode under the real proto', () => {
  const any = encodeAny('type.googleapis.com/envoy.config.cluster.v3.Cluster', bytes);
  const buf = encodeSotwResponse({ versionInfo: 'v1', resources: [{ any }, { any }], typeUrl: 'T', nonce: 'n1', controlPlane: 'cp' });
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

/** The same response through protobufjs's own Writer: what the hand-written encoder must equal. */
function viaWriter(versionInfo: string, anys: Uint8Array[], typeUrl: string, nonce: string, controlPlane?: string): Uint8Array {
  const w = protobuf.Writer.create();
  if (versionInfo) w.uint32(10).string(versionInfo);
  for (const any of anys) w.uint32(18).bytes(any);
  if (typeUrl) w.uint32(34).string(typeUrl);
  if (nonce) w.uint32(42).string(nonce);
  if (controlPlane) w.uint32(50).fork().uint32(10).string(controlPlane).ldelim();
  return w.finish();
}

test('hand-written DiscoveryResponse bytes equal protobufjs Writer bytes: lengths past one varint byte, non-ASCII, empty fields', () => {
  const t = envoyType('envoy.service.discovery.v3.DiscoveryResponse');
  const cases: [string, number[], string, string, string | undefined][] = [
    ['v1', [4, 4], 'T', 'n1', 'cp'],
    ['', [], '', '', undefined],
    ['é-version', [0, 127, 128, 16_383, 16_384, 70_000], 'type.googleapis.com/envoy.config.cluster.v3.Cluster', 'n'.repeat(200), 'c'.repeat(300)],
    ['v'.repeat(130), [1], 'T', 'é-1', undefined],
  ];
  for (const [versionInfo, sizes, typeUrl, nonce, controlPlane] of cases) {
    const anys = sizes.map((n) => encodeAny('T', new Uint8Array(n).fill(n % 251)));
    const got = encodeSotwResponse({ versionInfo, resources: anys.map((any) => ({ any })), typeUrl, nonce, controlPlane });
    assert.ok(Buffer.compare(got, viaWriter(versionInfo, anys, typeUrl, nonce, controlPlane)) === 0, JSON.stringify({ versionInfo, sizes, nonce }));
    const m = t.toObject(t.decode(got));
    assert.is(m.resources?.length ?? 0, sizes.length);
    assert.is(m.nonce ?? '', nonce);
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
