import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { apiListenerName, GRPC_SERVER_LISTENER_PREFIX, grpcServerListenerName } from '../names.ts';
import { parseApiListenerName, parseServerListenerName } from './targets.ts';

const HOST = 'greeter.ns.svc.cluster.local:50051';

test('client listener names: <host>:<port> only', () => {
  assert.equal(parseApiListenerName(HOST), { name: HOST, host: 'greeter.ns.svc.cluster.local', port: 50051 });
  assert.is(parseApiListenerName('outbound-listener'), undefined);
  assert.is(parseApiListenerName('a:0'), undefined);
  assert.is(parseApiListenerName('a:99999'), undefined);
  assert.is(parseApiListenerName(`${GRPC_SERVER_LISTENER_PREFIX}0.0.0.0:80`), undefined);
});

test('server listener names: the gRFC A36 template with an IP and a port', () => {
  assert.equal(parseServerListenerName(`${GRPC_SERVER_LISTENER_PREFIX}10.1.2.3:50051`), { name: `${GRPC_SERVER_LISTENER_PREFIX}10.1.2.3:50051`, host: '10.1.2.3', port: 50051 });
  assert.is(parseServerListenerName(`${GRPC_SERVER_LISTENER_PREFIX}[::]:8080`)?.host, '::');
  assert.is(parseServerListenerName(`${GRPC_SERVER_LISTENER_PREFIX}0.0.0.0:0`), undefined);
  assert.is(parseServerListenerName(HOST), undefined);
});

test('what emit names, the parsers read back as the same target', () => {
  for (const [host, port] of [['0.0.0.0', 14001], ['::', 8080], ['10.1.2.3', 1]] as const) {
    assert.equal(parseServerListenerName(grpcServerListenerName(host, port)), { name: grpcServerListenerName(host, port), host, port });
  }
  assert.equal(parseApiListenerName(apiListenerName('greeter.ns', 50051))?.host, 'greeter.ns');
});

test.run();
