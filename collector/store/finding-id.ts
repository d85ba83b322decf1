/** Finding identity, apart from SQLite so that the pipeline can name findings before storing them. */
import { createHash } from 'node:crypto';

/** Stable finding id: the same bottleneck keeps its id across restarts and versions. */
export function findingId(kind: string, service: string, key: string): string {
  return createHash('sha256').update(`${kind}\u0000${service}\u0000${key}`).digest('hex').slice(0, 16);
}
