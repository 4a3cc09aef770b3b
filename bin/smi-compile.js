#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx, so `npx smi-compile` works after `npm ci` with no build step.
import { register } from 'tsx/esm/api';
import { run } from './run.js';

await run(async () => {
  register();
  return (await import('../src/cli/main.ts')).main;
});
