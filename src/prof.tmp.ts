import { compilePaths } from '/work/main/src/compiler/compile.ts';
const t0 = performance.now();
const r = compilePaths(['/tmp/m1000'], { analyseOnly: process.argv[2] !== 'full' });
console.log(Math.round(performance.now() - t0), 'ms', JSON.stringify(Object.fromEntries(Object.entries(r.timings).map(([k, v]) => [k, Math.round(v!)]))), r.proxies.length, process.memoryUsage().rss / 1e6 | 0, 'MB');
