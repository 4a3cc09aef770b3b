// Entry of the compile worker (worker-compiler.ts): TypeScript through tsx, as the CLI runs it,
// whatever loader flags the server's own process was started with.
import { register } from 'tsx/esm/api';

register();
await import('./compile-worker.ts');
