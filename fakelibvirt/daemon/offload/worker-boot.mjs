// Entry of an offload worker thread: TypeScript needs tsx's loader in this thread too.
import { register } from 'tsx/esm/api';
register();
await import('./worker.ts');
