// The CLI as plain JavaScript, bundled once from the sources and cached, so that a run does not
// start tsx's loader and transpile on every start (≈ 0.3 s of CPU a run: bench/README.md).
//
// Never stale: the cache's manifest lists every file of ours that went into the bundle, with a
// hash of their exact bytes as esbuild read them. Each start reads those files again (≈ 1 MB) and
// uses the bundle only if the hash still matches; otherwise it builds a new one (esbuild, ≈ 0.5 s)
// and runs that. Anything that goes wrong here (no esbuild, a cache it cannot write, a syntax error
// esbuild rejects, another process building right now) means "no bundle": the caller runs the
// sources through tsx, as before, which also reports the sources' own errors the usual way.
//
// The cache sits in node_modules/.cache/smi-compile of the package (a bundle must sit where Node
// finds the packages it imports): one directory per hash, immutable once renamed into place, the
// newest few kept so that a process still running from an older one can load its chunks.
import { createHash } from 'node:crypto';
import { accessSync, constants, mkdirSync, openSync, closeSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Bumped when the manifest's shape changes. */
const FORMAT = 1;
const ENTRY = `export { main } from './src/cli/main.ts';\n`;
/** Files that decide how the bundle is built without passing through esbuild's loader. */
const BUILD_INPUTS = ['tsconfig.json', 'scripts/bundle.mjs', 'bin/cli-bundle.js'];
/** Bundles kept besides the current one (a running process may still import their chunks). */
const KEEP = 4;
/** A build lock older than this was left by a process that died while building. */
const STALE_LOCK_MS = 60_000;

export function cacheDirOf(root = ROOT) {
  return join(root, 'node_modules', '.cache', 'smi-compile');
}

/** Hash of `[relative path, bytes]` pairs, in the order given. */
function digest(files) {
  const h = createHash('sha256');
  for (const [rel, bytes] of files) {
    h.update(`${rel}\0${bytes.length}\0`);
    h.update(bytes);
  }
  return h.digest('hex').slice(0, 32);
}

/** The cached bundle's entry if it was built from the files as they are now, else undefined. */
export function freshBundle(root = ROOT) {
  const cache = cacheDirOf(root);
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(cache, 'manifest.json'), 'utf8'));
  } catch {
    return undefined;
  }
  if (manifest?.format !== FORMAT || !Array.isArray(manifest.inputs) || typeof manifest.hash !== 'string') return undefined;
  try {
    if (digest(manifest.inputs.map((rel) => [rel, readFileSync(join(root, rel))])) !== manifest.hash) return undefined;
  } catch {
    return undefined; // an input is gone: stale
  }
  return join(cache, manifest.hash, 'main.mjs');
}

/** Takes the build lock, or says another process holds it. */
function lock(cache) {
  const file = join(cache, 'build.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      closeSync(openSync(file, 'wx'));
      return () => rmSync(file, { force: true });
    } catch (err) {
      if (err?.code !== 'EEXIST') return undefined;
      try {
        if (Date.now() - statSync(file).mtimeMs < STALE_LOCK_MS) return undefined;
        unlinkSync(file);
      } catch {
        // gone meanwhile: try again
      }
    }
  }
  return undefined;
}

/** Removes all but the newest KEEP bundles (and leftovers of interrupted builds). */
function prune(cache, current) {
  const dirs = [];
  for (const name of readdirSync(cache)) {
    if (name === current || name === 'manifest.json' || name === 'build.lock') continue;
    try {
      dirs.push({ name, mtime: statSync(join(cache, name)).mtimeMs });
    } catch {
      // removed by another process
    }
  }
  dirs.sort((a, b) => b.mtime - a.mtime);
  const old = Date.now() - STALE_LOCK_MS;
  for (const [i, d] of dirs.entries()) {
    const building = d.name.startsWith('tmp-') && d.mtime > old;
    if ((i >= KEEP || d.name.startsWith('tmp-')) && !building) rmSync(join(cache, d.name), { recursive: true, force: true });
  }
}

/**
 * Builds the bundle into the cache and returns its entry, or undefined when it cannot be built
 * here (cache not writable, another process building, esbuild failing).
 */
export async function buildBundle(root = ROOT) {
  const cache = cacheDirOf(root);
  try {
    mkdirSync(cache, { recursive: true });
    accessSync(cache, constants.W_OK);
  } catch {
    return undefined;
  }
  const unlock = lock(cache);
  if (!unlock) return undefined;
  const tmp = join(cache, `tmp-${process.pid}-${Date.now()}`);
  try {
    const seen = new Map(BUILD_INPUTS.map((rel) => [rel, readFileSync(join(root, rel))]));
    const { bundle } = await import(pathToFileURL(join(root, 'scripts', 'bundle.mjs')).href);
    await bundle({
      entry: { contents: ENTRY },
      outfile: join(tmp, 'main.mjs'),
      sourcemap: 'linked',
      onSource: (path, bytes) => seen.set(relative(root, path), bytes),
    });
    const inputs = [...seen.keys()].sort();
    const hash = digest(inputs.map((rel) => [rel, seen.get(rel)]));
    const dir = join(cache, hash);
    try {
      renameSync(tmp, dir);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // the same bundle is there already
    }
    const manifest = join(cache, 'manifest.json');
    writeFileSync(`${manifest}.${process.pid}`, JSON.stringify({ format: FORMAT, hash, inputs }));
    renameSync(`${manifest}.${process.pid}`, manifest);
    prune(cache, hash);
    return join(dir, 'main.mjs');
  } catch {
    rmSync(tmp, { recursive: true, force: true });
    return undefined;
  } finally {
    unlock();
  }
}

/** `main` from the bundle (fresh, or built now), or undefined: run the sources through tsx then. */
export async function bundledMain(root = ROOT) {
  const entry = freshBundle(root) ?? (await buildBundle(root));
  if (!entry) return undefined;
  try {
    return (await import(pathToFileURL(entry).href)).main;
  } catch {
    return undefined;
  }
}

// `node bin/cli-bundle.js`: build the bundle now if it is not fresh (package.json's `prepare`, which
// `npm ci` runs, so that even the first run after an install starts without tsx). Never fails the
// install: without a bundle, the CLI runs the sources through tsx.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (!freshBundle()) await buildBundle();
}
