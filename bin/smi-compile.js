#!/usr/bin/env node
// `npx smi-compile` after `npm ci`, no build step: the sources bundled once into a cache and run as
// plain JavaScript while they are unchanged (cli-bundle.js), else run directly through tsx.
// SMI_COMPILE_BUNDLE=0 always runs the sources through tsx.
import { run } from './run.js';

await run(async () => {
  if (process.env.SMI_COMPILE_BUNDLE !== '0') {
    const main = await (await import('./cli-bundle.js')).bundledMain();
    if (main) return main;
  }
  const { register } = await import('tsx/esm/api');
  register();
  return (await import('../src/cli/main.ts')).main;
});
