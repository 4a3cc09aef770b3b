import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ownerOf, summarise } from './cpu-summary.ts';

const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 });

// (root) → evaluate (ours) → write (grpc-js) → evaluate (ours, recursion) ; (root) → (garbage collector)
const profile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 5] },
    { id: 2, callFrame: frame('evaluate', 'file:///w/src/serve/stream-core.ts'), children: [3] },
    { id: 3, callFrame: frame('write', 'file:///w/node_modules/@grpc/grpc-js/build/src/server-call.js'), children: [4] },
    { id: 4, callFrame: frame('evaluate', 'file:///w/src/serve/stream-core.ts'), children: [] },
    { id: 5, callFrame: frame('(garbage collector)'), children: [] },
  ],
  samples: [2, 3, 4, 4, 5],
  timeDeltas: [1000, 2000, 3000, 1000, 4000],
  startTime: 0,
  endTime: 11_000,
};

test('owners: our sources, packages by name, Node, V8 entries', () => {
  assert.is(ownerOf(frame('f', 'file:///w/src/x.ts')), 'ours');
  assert.is(ownerOf(frame('f', 'file:///w/node_modules/@grpc/grpc-js/a.js')), '@grpc/grpc-js');
  assert.is(ownerOf(frame('f', 'file:///w/node_modules/protobufjs/src/x.js')), 'protobufjs');
  assert.is(ownerOf(frame('f', 'node:internal/streams/writable')), 'node');
  assert.is(ownerOf(frame('(idle)')), '(idle)');
  assert.is(ownerOf(frame('writeBuffer')), 'native');
});

test('self and total time from samples and their deltas; recursion counted once; --under', () => {
  const s = summarise([profile]);
  assert.is(s.sampledMs, 11);
  assert.equal(s.byOwner, [
    { owner: 'ours', ms: 5 },
    { owner: '(garbage collector)', ms: 4 },
    { owner: '@grpc/grpc-js', ms: 2 },
  ]);
  const total = Object.fromEntries(s.topTotal.map((f) => [f.fn.split(' ')[0], f.ms]));
  assert.is(total.evaluate, 7);
  assert.is(total.write, 6);
  const under = summarise([profile], 25, 'write');
  assert.is(under.sampledMs, 6);
  assert.equal(under.topSelf.map((f) => [f.fn.split(' ')[0], f.ms]), [['evaluate', 4], ['write', 2]]);
});

test.run();
