/**
 * Reading a device's passthrough reply (docs/protocol.md, "Passthrough"): `{"<module>": {"<method>": {..., "err_code": 0}}}`.
 * A device error may sit at module level (`{"emeter":{"err_code":-1,...}}`) or method level;
 * each module is checked on its own, so one unsupported module does not hide the others.
 */
import { KasaDeviceError, parseCode } from './errors.js';
import { isRecord } from './protocol.js';

/** The result object of `module.method`, or throws `KasaDeviceError` for that module/method. */
export function methodResult(response: Record<string, unknown>, module: string, method: string): Record<string, unknown> {
  const mod = response[module];
  if (!isRecord(mod)) {
    throw new KasaDeviceError(`device reply has no "${module}" module`, { module, method });
  }
  checkErr(mod, module, undefined);
  const res = mod[method];
  if (!isRecord(res)) {
    throw new KasaDeviceError(`device reply has no "${module}.${method}" result`, { module, method });
  }
  checkErr(res, module, method);
  return res;
}

/** Like `methodResult`, but answers `undefined` instead of throwing (for optional modules). */
export function tryMethodResult(
  response: Record<string, unknown>,
  module: string,
  method: string,
): Record<string, unknown> | undefined {
  try {
    return methodResult(response, module, method);
  } catch (err) {
    if (err instanceof KasaDeviceError) return undefined;
    throw err;
  }
}

function checkErr(obj: Record<string, unknown>, module: string, method: string | undefined): void {
  if (!('err_code' in obj)) return;
  const errCode = parseCode(obj['err_code']);
  if (errCode === 0) return;
  const errMsg = typeof obj['err_msg'] === 'string' ? obj['err_msg'].slice(0, 160) : undefined;
  const where = method === undefined ? module : `${module}.${method}`;
  throw new KasaDeviceError(
    `device answered err_code ${errCode ?? String(obj['err_code'])} for ${where}${errMsg ? ` "${errMsg}"` : ''}`,
    { module, method, errCode, errMsg },
  );
}
