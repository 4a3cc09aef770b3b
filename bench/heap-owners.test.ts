import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { heapOwners } from './heap-owners.ts';

const MiB = 1024 * 1024;

/**
 * root → a, root → b, root →(weak) e; a → c, b → c, a → d, e → d: c is dominated by the root
 * (two ways in), d by a (the weak edge does not retain), so a retains a + d.
 */
function tinySnapshot(): string {
  const strings = ['', 'Root', 'A', 'B', 'C', 'D', 'E', 'x', 'toB'];
  const nodeFields = ['type', 'name', 'id', 'self_size', 'edge_count'];
  const edgeFields = ['type', 'name_or_index', 'to_node'];
  const nodeTypes = ['hidden', 'object'];
  const edgeTypes = ['property', 'weak'];
  // [type, name, id, self, edges]
  const list = [
    [0, 1, 1, 0, 3], // root
    [1, 2, 3, 1 * MiB, 2], // A
    [1, 3, 5, 2 * MiB, 1], // B
    [1, 4, 7, 4 * MiB, 0], // C
    [1, 5, 9, 8 * MiB, 0], // D
    [1, 6, 11, 16 * MiB, 1], // E
  ];
  const at = (i: number): number => i * nodeFields.length;
  const edges = [
    [0, 7, at(1)], [0, 8, at(2)], [1, 7, at(5)], // root → A, B, (weak) E
    [0, 7, at(3)], [0, 7, at(4)], // A → C, D
    [0, 7, at(3)], // B → C
    [0, 7, at(4)], // E → D
  ];
  return JSON.stringify({
    snapshot: { meta: { node_fields: nodeFields, node_types: [nodeTypes], edge_fields: edgeFields, edge_types: [edgeTypes] } },
    nodes: list.flat(),
    edges: edges.flat(),
    strings,
  });
}

test('dominators, retained sizes and owner shares of a tiny heap', () => {
  const dir = mkdtempSync(join(tmpdir(), 'heap-owners-'));
  try {
    const file = join(dir, 'tiny.heapsnapshot');
    writeFileSync(file, tinySnapshot());
    const r = heapOwners(file, 0, 5, [
      { name: 'a', ctor: 'A' },
      { name: 'b', edge: 'toB' },
    ]);
    // E hangs only by a weak edge: unreachable, not counted.
    assert.is(r.totalMiB, 15);
    const line = (node: string) => r.tree.find((l) => l.node === node);
    assert.is(line('A')?.retainedMiB, 9);
    assert.is(line('A')?.depth, 0);
    assert.is(line('D')?.depth, 1);
    assert.is(line('C')?.depth, 0);
    assert.is(line('C')?.retainedMiB, 4);
    const share = (owners: string) => r.shares.find((s) => s.owners === owners)?.MiB;
    assert.is(share('a'), 9); // A and D
    assert.is(share('a+b'), 4); // C, reached from both
    assert.is(share('b'), 2);
    // Nothing but the root is reachable without passing an owner.
    assert.is(share('elsewhere'), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
