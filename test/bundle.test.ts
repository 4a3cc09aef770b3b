/**
 * The container image's bundle (scripts/bundle.mjs) keeps the CLI's on-demand loading: `serve`
 * without `--ca` loads neither the CA's X.509 stack nor what only other commands use.
 */
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bundleCli } from '../scripts/bundle.mjs';

/** Packages `file` imports statically, following the bundle's own chunks (not `import()`). */
function staticPackages(file: string, seen = new Set<string>(), packages = new Set<string>()): Set<string> {
  if (seen.has(file)) return packages;
  seen.add(file);
  for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/^import\s+(?:[^'"]*?\sfrom\s*)?["']([^"']+)["'];?$/gms)) {
    if (specifier.startsWith('.')) staticPackages(join(dirname(file), specifier), seen, packages);
    else if (!specifier.startsWith('node:')) packages.add(specifier);
  }
  return packages;
}

test('serve loads its own packages only; the CA and other commands come on demand', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'smi-bundle-'));
  try {
    symlinkSync(join(process.cwd(), 'node_modules'), join(dir, 'node_modules'));
    const main = await bundleCli(join(dir, 'smi-compile.mjs'));
    const text = readFileSync(main, 'utf8');
    const command = (name: string): string => {
      const chunk = new RegExp(`import\\("(\\./chunks/${name}-[^"]+)"\\)`).exec(text)?.[1];
      assert.ok(chunk, `the ${name} module is a chunk loaded on demand`);
      return join(dir, chunk);
    };
    const serve = staticPackages(command('serve-command'), new Set(), staticPackages(main));
    for (const needed of ['@grpc/grpc-js', 'prom-client', 'protobufjs']) assert.ok(serve.has(needed), `serve imports ${needed}`);
    for (const unneeded of ['@peculiar/x509', 'reflect-metadata', 'diff']) assert.not.ok(serve.has(unneeded), `serve imports ${unneeded} at start`);
    // The CA's stack is still in the bundle, for `serve --ca` and `ca`.
    assert.ok(staticPackages(command('ca-command')).has('@peculiar/x509'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
