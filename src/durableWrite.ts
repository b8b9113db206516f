/**
 * The one way a file in DATA_DIR is written (session, topic keys, client id): a temp file next to
 * it, every byte written and read back, fsynced, renamed over the old file, the directory fsynced.
 * A full disk therefore fails the write instead of replacing a good file with a truncated one.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, fstatSync, openSync, readdirSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * `.<name>.<pid>.<hex>.tmp`, and the `<name>.<pid>[.<hex>].tmp` earlier versions left: what a
 * crash between write and rename leaves behind (it may hold tokens).
 */
const TEMP_FILE = /^\.?[A-Za-z0-9][A-Za-z0-9._-]*\.\d+(\.[0-9a-f]+)?\.tmp$/;

/** Writes `text` to `path` durably or throws (the old file is then untouched and no temp file stays). */
export function writeFileDurably(path: string, text: string, mode = 0o600): void {
  const bytes = Buffer.from(text, 'utf8');
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(temp, 'wx+', mode);
    writeAll(fd, bytes);
    fsyncSync(fd);
    verify(fd, bytes);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, path);
  } catch (err) {
    if (fd !== undefined) closeQuietly(fd);
    unlinkQuietly(temp);
    throw err;
  }
  syncDir(dirname(path));
}

/** Removes the temp files a crashed writer left in `dir`; call it while holding the DATA_DIR lock. Answers their names. */
export function removeLeftoverTempFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!TEMP_FILE.test(name)) continue;
    if (unlinkQuietly(join(dir, name))) removed.push(name);
  }
  return removed;
}

/** `writeSync` may write fewer bytes than asked (a nearly full disk): loop until all are written. */
function writeAll(fd: number, bytes: Buffer): void {
  let offset = 0;
  while (offset < bytes.length) {
    const written = writeSync(fd, bytes, offset, bytes.length - offset, offset);
    if (written <= 0) throw Object.assign(new Error('no space left for the file'), { code: 'ENOSPC' });
    offset += written;
  }
}

/** Reads the file back: a size or content mismatch means the disk did not keep what was written. */
function verify(fd: number, bytes: Buffer): void {
  if (fstatSync(fd).size !== bytes.length) throw Object.assign(new Error('the file on disk is shorter than written'), { code: 'ESHORT' });
  const back = Buffer.alloc(bytes.length);
  let offset = 0;
  while (offset < back.length) {
    const read = readSync(fd, back, offset, back.length - offset, offset);
    if (read <= 0) break;
    offset += read;
  }
  if (offset !== bytes.length || !back.equals(bytes)) {
    throw Object.assign(new Error('the file on disk differs from what was written'), { code: 'EVERIFY' });
  }
}

/** Makes the rename durable; best effort (some filesystems refuse fsync on a directory). */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    /* best effort */
  } finally {
    if (fd !== undefined) closeQuietly(fd);
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    /* already failing */
  }
}

function unlinkQuietly(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch {
    return false;
  }
}
