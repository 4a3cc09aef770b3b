import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { generateMesh, writeMesh } from '../generate-mesh.ts';
import { expectedVersions, HERE, scratchDir } from '../serve-kit.ts';
import { exportTree } from './export-tree.ts';

// The go-control-plane peer and our server must send the same version_info for the same
// resources, or the one load client could not check both against one expectation.
test('versions exported from a compile -o tree are the ones the server sends', () => {
  const dir = scratchDir('smi-export-test-');
  try {
    writeMesh(generateMesh({ services: 12, permissive: false }), join(dir, 'mesh'));
    execFileSync(process.execPath, [join(HERE, '..', 'bin', 'smi-compile.js'), join(dir, 'mesh'), '-o', join(dir, 'out')], { stdio: 'ignore' });
    const exported = exportTree(join(dir, 'out'), join(dir, 'state.bin'));
    const served = expectedVersions([join(dir, 'mesh')]);
    assert.equal(exported.versions, served);
    assert.ok(exported.resources > exported.nodes * 5);
    const bytes = readFileSync(join(dir, 'state.bin'));
    assert.is(bytes.subarray(0, 6).toString(), 'SMIX1\n');
    assert.is(bytes.readUInt32BE(6), exported.nodes);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
