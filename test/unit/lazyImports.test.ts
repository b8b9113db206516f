import { describe, expect, it } from 'vitest';
import { importedModules } from '../helpers/importedModules.js';

const src = (path: string) => new URL(`../../src/${path}`, import.meta.url).pathname;
const from = (urls: string[], part: string) => urls.filter((u) => u.includes(part));

describe('what the daemon loads', () => {
  it('sees a package when it is loaded (the probe works)', async () => {
    const urls = await importedModules(src('health/metrics.ts'));
    expect(from(urls, '/node_modules/prom-client/')).not.toEqual([]);
  });

  it('does not load prom-client, aedes or the simulator to run the bridge: they cost memory only some runs need', async () => {
    const urls = await importedModules(src('main.ts'));
    expect(from(urls, '/src/bridge/bridge.ts'), 'the bridge itself').not.toEqual([]);
    expect(from(urls, '/node_modules/prom-client/'), 'prom-client (only with HEALTH_PORT)').toEqual([]);
    expect(from(urls, '/src/health/metrics.ts'), 'metrics (only with HEALTH_PORT)').toEqual([]);
    expect(from(urls, '/node_modules/aedes/'), 'aedes (demo only)').toEqual([]);
    expect(from(urls, '/src/demo/'), 'the demo').toEqual([]);
    expect(from(urls, '/src/simulator/'), 'the simulator').toEqual([]);
  });
});
