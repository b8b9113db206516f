import { execFile } from 'node:child_process';

const tsx = import.meta.resolve('tsx');

/** Records every module URL the ESM loader resolves (a resolve hook in the loader thread). */
const HOOK = `
let port;
const urls = [];
export function initialize(data) {
  port = data.port;
  port.on('message', () => port.postMessage(urls));
}
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  urls.push(result.url);
  return result;
}
`;

const MAIN = `
import { register } from 'node:module';
import { once } from 'node:events';
import { MessageChannel } from 'node:worker_threads';
const { port1, port2 } = new MessageChannel();
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOK)}), { data: { port: port2 }, transferList: [port2] });
await import(process.env.IMPORT_TARGET);
port1.postMessage('dump');
const [urls] = await once(port1, 'message');
port1.close();
process.stdout.write(JSON.stringify(urls));
`;

/** The module URLs loading `file` (a .ts path, through tsx) resolves, in a fresh node process. */
export function importedModules(file: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', tsx, '--input-type=module', '-e', MAIN],
      { env: { PATH: process.env.PATH ?? '', IMPORT_TARGET: new URL(file, 'file://').href } },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as string[])),
    );
  });
}
