import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeAuthPayload, BridgeResponse, SetResponse } from '../src/api/types.js';
import { demoAccount } from '../src/simulator/catalog.js';
import { hasMosquitto, startTestBroker, type TestBroker } from './helpers/broker.js';
import { startHarness, type Harness } from './helpers/bridgeHarness.js';
import type { ObservedMessage } from './helpers/mqttObserver.js';

/** The README's cookbook block is the source: every line in it is run here, as written. */
function cookbook(): string[] {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const block = /<!-- cookbook:begin -->\s*```sh\n([\s\S]*?)```\s*<!-- cookbook:end -->/.exec(readme);
  if (!block) throw new Error('README.md has no cookbook block');
  return block[1]!.split('\n').filter((line) => line.trim() !== '' && !line.trim().startsWith('#'));
}

/** Splits a shell line the way sh would for the simple quoting the cookbook uses. */
function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

function option(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

function run(program: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(program, args, { timeout: 15_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('README commands for a clone', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    scripts: Record<string, string>;
    bin: Record<string, string>;
  };

  it('says how a clone runs the CLI with commands that exist, and never npx kasa2mqtt (npm would look it up in the registry)', () => {
    const docs = readdirSync(new URL('../docs/', import.meta.url)).filter((name) => name.endsWith('.md'));
    for (const [name, text] of [['README.md', readme], ...docs.map((d) => [`docs/${d}`, readFileSync(new URL(`../docs/${d}`, import.meta.url), 'utf8')])]) {
      expect(text, name).not.toMatch(/npx\s+kasa2mqtt/);
    }
    for (const [, script] of readme.matchAll(/npm run ([\w:-]+)/g)) expect(Object.keys(pkg.scripts), `npm run ${script}`).toContain(script);
    // `npm link` installs the package's bin; `node dist/cli.js` is that bin, made by `npm run build`.
    expect(pkg.bin.kasa2mqtt).toBe('dist/cli.js');
    expect(pkg.scripts.build).toBeDefined();
    expect(readme).toContain('npm ci && npm run build\nnpm link');
    expect(readme).toContain('node dist/cli.js login');
  });
});

describe.skipIf(!hasMosquitto())('README cookbook against the demo setup', () => {
  let broker: TestBroker;
  let h: Harness;
  const lines = cookbook();

  beforeAll(async () => {
    broker = await startTestBroker();
    h = await startHarness({ broker, account: demoAccount(), env: { KASA_RATE_LIMIT: '6000', KASA_RATE_BURST: '500' } });
    await h.obs.next('kasa/bridge/auth', (m) => m.json<BridgeAuthPayload>().state === 'mfa_required');
  });
  afterAll(async () => {
    await h?.stop();
    await broker?.stop();
  });

  it('has a cookbook that covers every kind of topic', () => {
    const joined = lines.join('\n');
    for (const shape of ['kasa/bridge/mfa', '/set ', '/set/', '/get', '/availability', 'bridge/request/', 'mosquitto_rr']) {
      expect(joined).toContain(shape);
    }
  });

  // One test per line, in README order: later lines rely on earlier ones (the MFA code first).
  for (const line of lines) {
    it(line, async () => {
      const [program = '', ...args] = words(line);
      const topic = option(args, '-t') ?? '';
      const hostPort = ['-h', '127.0.0.1', '-p', String(broker.port)];
      const since = h.obs.messages.length;
      const after = (m: ObservedMessage) => h.obs.messages.indexOf(m) >= since;

      if (program === 'mosquitto_sub') {
        // A watcher: it must receive something; without -C it would run forever, so take one message.
        const extra = args.includes('-C') ? [] : ['-C', '1'];
        const result = await run(program, [...hostPort, ...args, ...extra, '-W', '10']);
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout.trim()).not.toBe('');
        return;
      }
      if (program === 'mosquitto_rr') {
        const result = await run(program, [...hostPort, ...args, '-W', '10']);
        expect(result.code, result.stderr).toBe(0);
        expect(JSON.parse(result.stdout)).toMatchObject({ status: 'ok' });
        return;
      }
      expect(program).toBe('mosquitto_pub');
      const result = await run(program, [...hostPort, ...args]);
      expect(result.code, result.stderr).toBe(0);

      const segments = topic.split('/');
      if (topic === 'kasa/bridge/mfa') {
        await h.obs.next('kasa/bridge/auth', (m) => after(m) && m.json<BridgeAuthPayload>().state === 'authenticated');
        await h.obs.next('kasa/bridge/devices', (m) => m.json<unknown[]>().length > 0);
        await h.obs.next('kasa/living_room_lamp', (m) => m.text !== '', 15_000);
      } else if (topic.startsWith('kasa/bridge/request/')) {
        const command = topic.slice('kasa/bridge/request/'.length);
        const answer = await h.obs.next(`kasa/bridge/response/${command}`, after, 15_000);
        expect(answer.json<BridgeResponse>().status, answer.text).toBe('ok');
      } else if (segments[2] === 'set') {
        const answer = await h.obs.next(`kasa/${segments[1]}/response/set`, after, 15_000);
        expect(answer.json<SetResponse>().status, answer.text).toBe('ok');
      } else if (segments[2] === 'get') {
        await h.obs.next(`kasa/${segments[1]}`, (m) => after(m) && m.text !== '', 15_000);
      } else {
        throw new Error(`the cookbook line has no check here: ${line}`);
      }
    });
  }
});
