import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { OutboundChain, OutboundPort } from '../ir/proxy-plan.ts';
import type { AppProtocol } from '../ir/types.ts';
import { layoutOutbound } from './outbound-layout.ts';

function out(ns: string, name: string, port: number, protocol: AppProtocol = 'http', addresses: string[] = []): OutboundPort {
  return { service: { namespace: ns, name }, port, protocol, addresses, backends: [{ cluster: `${ns}/${name}|${port}`, weight: 100 }], split: false };
}

const served = (c: OutboundChain) => (c.kind === 'service' ? [c.service] : c.services).map((o) => `${o.service.name}:${o.port}`);

test('service ports with addresses: one chain each, matched on their addresses, in outbound order', () => {
  const a = out('x', 'a', 80, 'http', ['10.0.0.1']);
  const b = out('x', 'b', 3306, 'tcp', ['10.0.0.2', 'fd00::2']);
  const { chains, overlaps } = layoutOutbound([a, b]);
  assert.equal(chains, [
    { kind: 'service', port: 80, addresses: ['10.0.0.1'], service: a },
    { kind: 'service', port: 3306, addresses: ['10.0.0.2', 'fd00::2'], service: b },
  ]);
  assert.ok(chains[0].kind === 'service' && chains[0].service === a, 'the chain holds the outbound item itself');
  assert.equal(overlaps, []);
});

test('two services on one address and port overlap, once per pair and address; other ports and addresses do not', () => {
  const { chains, overlaps } = layoutOutbound([
    out('x', 'a', 80, 'http', ['10.0.0.1', '10.0.0.9']),
    out('x', 'b', 80, 'http', ['10.0.0.1', '10.0.0.9']),
    out('x', 'c', 81, 'http', ['10.0.0.1']),
    out('x', 'd', 80, 'http', ['10.0.0.2']),
  ]);
  assert.is(chains.length, 4, 'each still gets its chain: the error stops the output');
  assert.equal(overlaps, [
    { first: { namespace: 'x', name: 'a' }, second: { namespace: 'x', name: 'b' }, address: '10.0.0.1', port: 80 },
    { first: { namespace: 'x', name: 'a' }, second: { namespace: 'x', name: 'b' }, address: '10.0.0.9', port: 80 },
  ]);
});

test('address-less HTTP and gRPC ports share one chain per port, by service name; a single one keeps its own', () => {
  const { chains, overlaps } = layoutOutbound([out('x', 'zeta', 80), out('x', 'alpha', 80, 'grpc'), out('y', 'solo', 8080)]);
  assert.equal(chains.map((c) => [c.kind, c.port, served(c)]), [
    ['shared-http', 80, ['alpha:80', 'zeta:80']],
    ['service', 8080, ['solo:8080']],
  ]);
  assert.ok(chains[1].kind === 'service' && chains[1].addresses.length === 0, 'matched on the port alone');
  assert.equal(overlaps, []);
});

test('an address-less TCP port next to HTTP ones, or after another TCP one, gets no chain and overlaps the one that claimed the port', () => {
  const { chains, overlaps } = layoutOutbound([
    out('shop', 'legacy', 80, 'tcp'),
    out('shop', 'cart', 80),
    out('shop', 'pg-b', 5432, 'tcp'),
    out('shop', 'pg-a', 5432, 'tcp'),
  ]);
  assert.equal(chains.map((c) => [c.kind, served(c)]), [
    ['service', ['cart:80']],
    ['service', ['pg-a:5432']],
  ]);
  assert.equal(overlaps, [
    { first: { namespace: 'shop', name: 'cart' }, second: { namespace: 'shop', name: 'legacy' }, port: 80 },
    { first: { namespace: 'shop', name: 'pg-a' }, second: { namespace: 'shop', name: 'pg-b' }, port: 5432 },
  ]);
});

test('property: every service port gets a chain or an overlap, and chains without an overlap never match alike', () => {
  const port = fc.record({
    ns: fc.constantFrom('a', 'b'),
    name: fc.constantFrom('s1', 's2', 's3', 's4'),
    port: fc.constantFrom(80, 81),
    protocol: fc.constantFrom<AppProtocol>('http', 'tcp', 'grpc'),
    addresses: fc.subarray(['10.0.0.1', '10.0.0.2']),
  });
  fc.assert(
    fc.property(fc.uniqueArray(port, { selector: (p) => `${p.ns}/${p.name}:${p.port}` }), (ports) => {
      const outbound = ports.map((p) => out(p.ns, p.name, p.port, p.protocol, p.addresses));
      const { chains, overlaps } = layoutOutbound(outbound);
      const inChains = chains.flatMap((c) => (c.kind === 'service' ? [c.service] : c.services));
      const leftOut = outbound.filter((o) => !inChains.includes(o));
      for (const o of leftOut) assert.ok(overlaps.some((v) => v.second.name === o.service.name && v.second.namespace === o.service.namespace && v.address === undefined));
      const matches = chains.map((c) => (c.kind === 'service' && c.addresses.length > 0 ? c.addresses.map((a) => `${a}|${c.port}`) : [`*|${c.port}`]));
      const seen = new Set<string>();
      for (const k of matches.flat()) {
        if (seen.has(k)) assert.ok(!k.startsWith('*') && overlaps.some((v) => `${v.address}|${v.port}` === k), `unreported overlap on ${k}`);
        seen.add(k);
      }
    }),
    { seed: 20, numRuns: 300 },
  );
});

test.run();
