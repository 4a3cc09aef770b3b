import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { serviceKeyFromName } from '../ir/names.ts';
import { MAX_SPLIT_WEIGHT } from './splits.ts';
import { deploy, plan, split, svc } from './test-mesh.ts';

const services = ['v1', 'v2', 'v3'].flatMap((v) => [deploy('shop', `cart-${v}`), svc('shop', `cart-${v}`, ['80'])]);
const apex = svc('shop', 'cart', ['80']);

function splitsOf(docs: readonly string[]) {
  const planned = plan(docs);
  // Only the splits pass's own: services without workloads are said by another.
  return { splits: planned.mesh.splits, names: planned.names.filter((n) => n.includes('split')) };
}

test('serviceKeyFromName: short name, <svc>.<ns> and FQDN all name ns/svc', () => {
  assert.is(serviceKeyFromName('cart', 'shop'), 'shop/cart');
  assert.is(serviceKeyFromName('cart.other', 'shop'), 'other/cart');
  assert.is(serviceKeyFromName('cart.other.svc.cluster.local', 'shop'), 'other/cart');
});

test('a split resolves to its apex and backends with their weights, keyed by apex', () => {
  const { splits, names } = splitsOf([...services, apex, split('shop', 's', 'cart.shop.svc.cluster.local', ['cart-v1=90', 'cart-v2=10'])]);
  assert.equal(names, []);
  const resolved = splits.get('shop/cart')!;
  assert.is(resolved.apex.key, 'shop/cart');
  assert.equal(resolved.backends.map((b) => [b.binding.key, b.weight]), [['shop/cart-v1', 90], ['shop/cart-v2', 10]]);
});

test('a refused backend is left out and said; the rest of the split still applies', () => {
  const { splits, names } = splitsOf([...services, apex, split('shop', 's', 'cart', ['cart-v1=-1', 'cart=5', 'missing=5', 'cart-v2=5'])]);
  assert.equal(names, ['split-negative-weight', 'split-apex-is-backend', 'missing-split-backend']);
  assert.equal(splits.get('shop/cart')!.backends.map((b) => b.binding.key), ['shop/cart-v2']);
});

test('a second split of the same apex, one of a missing apex, and weights that sum to nothing or too much are refused whole', () => {
  const { splits, names } = splitsOf([
    ...services,
    apex,
    svc('shop', 'zero', ['80']),
    svc('shop', 'big', ['80']),
    split('shop', 'a', 'cart', ['cart-v1=1']),
    split('shop', 'b', 'cart', ['cart-v2=1']),
    split('shop', 'c', 'nowhere', ['cart-v2=1']),
    split('shop', 'd', 'zero', ['cart-v1=0', 'cart-v2=0']),
    split('shop', 'e', 'big', [`cart-v1=${MAX_SPLIT_WEIGHT}`, 'cart-v2=1']),
  ]);
  assert.equal(names, ['split-duplicate-apex', 'missing-split-apex', 'split-zero-weight', 'split-weight-sum-too-large']);
  assert.equal([...splits.keys()], ['shop/cart']);
  assert.equal(splits.get('shop/cart')!.backends.map((b) => b.binding.key), ['shop/cart-v1'], 'the first split by name wins');
});

test('a backend without the apex port, or with another protocol on it, is said', () => {
  const { names } = splitsOf([
    ...services,
    apex,
    svc('shop', 'other-port', ['81']),
    svc('shop', 'other-proto', ['80/tcp']),
    split('shop', 's', 'cart', ['other-port=1', 'other-proto=1', 'cart-v1=1']),
  ]);
  assert.equal(names, ['split-backend-port-mismatch', 'split-protocol-mismatch']);
});

test.run();
