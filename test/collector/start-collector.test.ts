import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCollector } from '../../collector/index.js';

describe('startCollector', () => {
  it('closes once however often close() is called, and stops serving', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'chokepoint-close-')), 'c.db');
    const collector = await startCollector({ otlpPort: 0, port: 0, db, quiet: true });
    expect((await fetch(`${collector.dashboardUrl}/api/health`)).status).toBe(200);
    await Promise.all([collector.close(), collector.close()]);
    await collector.close();
    await expect(fetch(`${collector.dashboardUrl}/api/health`)).rejects.toThrow();
  });

  it('says which port is taken when it cannot listen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chokepoint-port-'));
    const first = await startCollector({ otlpPort: 0, port: 0, db: join(dir, 'a.db'), quiet: true });
    const port = Number(new URL(first.dashboardUrl).port);
    await expect(startCollector({ otlpPort: 0, port, db: join(dir, 'b.db'), quiet: true })).rejects.toThrow(
      `cannot start the dashboard server on 127.0.0.1:${port}: port ${port} is already in use`,
    );
    await first.close();
  });
});
