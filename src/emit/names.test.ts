import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inboundFilterChainName, mergedOutboundFilterChainName, outboundFilterChainName, outboundVirtualHostName, serviceHostnames } from './names.ts';

const bookstore = { namespace: 'bookstore', name: 'bookstore-v1' };

test('OSM v1.2 names from the DESIGN.md table', () => {
  assert.is(outboundFilterChainName(bookstore, 14001, 'http'), 'outbound_bookstore/bookstore-v1_14001_http');
  assert.is(inboundFilterChainName(bookstore, 8080, 'grpc'), 'inbound_bookstore/bookstore-v1_8080_grpc');
  assert.is(outboundVirtualHostName(bookstore), 'outbound_virtual-host|bookstore-v1.bookstore.svc.cluster.local');
});

test('merged chain name cannot collide with a real service', () => {
  assert.is(mergedOutboundFilterChainName(80), 'outbound_*/*_80_http');
});

test('host names: OSM order, bare name only from the same namespace', () => {
  assert.equal(serviceHostnames(bookstore, 80, false), [
    'bookstore-v1.bookstore',
    'bookstore-v1.bookstore:80',
    'bookstore-v1.bookstore.svc',
    'bookstore-v1.bookstore.svc:80',
    'bookstore-v1.bookstore.svc.cluster',
    'bookstore-v1.bookstore.svc.cluster:80',
    'bookstore-v1.bookstore.svc.cluster.local',
    'bookstore-v1.bookstore.svc.cluster.local:80',
  ]);
  assert.equal(serviceHostnames(bookstore, 80, true).slice(0, 3), ['bookstore-v1', 'bookstore-v1:80', 'bookstore-v1.bookstore']);
});

test.run();
