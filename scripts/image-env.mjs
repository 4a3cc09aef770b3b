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
    for (const pair of m[1].trim().split(/\s+/)) {
      const eq = pair.indexOf('=');
      if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return env;
}
