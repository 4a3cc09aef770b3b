/**
 * The runtime environment of the container image: the `ENV` instructions of deploy/Dockerfile,
 * as `NAME=VALUE` pairs (continued lines joined). The benchmarks' `--image` and the test that
 * serves under the image's settings read the Dockerfile itself, so neither drifts from it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const DOCKERFILE = fileURLToPath(new URL('../deploy/Dockerfile', import.meta.url));

export function imageEnv(dockerfile = DOCKERFILE) {
  const text = readFileSync(dockerfile, 'utf8').replace(/\\\n/g, ' ');
  const env = {};
  for (const line of text.split('\n')) {
    const m = /^ENV\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    // NAME=value or NAME="value with spaces" (a backslash escapes the next character), as Docker reads them.
    for (const [, name, quoted, bare] of m[1].matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(?:"((?:[^"\\]|\\.)*)"|(\S*))/g)) {
      env[name] = quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : bare;
    }
  }
  return env;
}
