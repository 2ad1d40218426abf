import { mkdirSync, realpathSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { OmnicapError } from '../errors';

/**
 * Checks that a file omnicap is about to run as code (a worker script shipped with the package) could
 * not have been written by another user: the file and its directory exist, are owned by root or by
 * this process's user, and are not world-writable. Throws UNTRUSTED_FILE otherwise.
 */
export function assertTrustedFile(file: string): void {
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  for (const path of [file, dirname(file)]) {
    let st;
    try {
      st = statSync(path);
    } catch (e) {
      throw new OmnicapError('UNTRUSTED_FILE', `${path} cannot be checked before it is run: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    if ((st.mode & 0o002) !== 0) throw new OmnicapError('UNTRUSTED_FILE', `${path} is world-writable; refusing to run code from it`);
    if (uid !== undefined && st.uid !== 0 && st.uid !== uid) throw new OmnicapError('UNTRUSTED_FILE', `${path} belongs to uid ${st.uid}, not to root or this user (${uid}); refusing to run code from it`);
  }
}

/**
 * Creates `dir` (and its parents) if missing, with mode 0700, and checks that it is a directory of
 * this process's user that no other user can write (group and world write bits clear), so that what
 * omnicap later reads back from it (saved model state) can only be what this user wrote.
 * Returns the directory's real path; UNTRUSTED_FILE otherwise.
 */
export function privateDir(dir: string): string {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new OmnicapError('UNTRUSTED_FILE', `${dir} cannot be created: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const real = realpathSync(dir);
  const st = statSync(real);
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  if (!st.isDirectory()) throw new OmnicapError('UNTRUSTED_FILE', `${dir} is not a directory`);
  if ((st.mode & 0o022) !== 0) throw new OmnicapError('UNTRUSTED_FILE', `${dir} can be written by other users (mode ${(st.mode & 0o777).toString(8)}); make it 0700 or choose another directory`);
  if (uid !== undefined && st.uid !== uid) throw new OmnicapError('UNTRUSTED_FILE', `${dir} belongs to uid ${st.uid}, not to this user (${uid})`);
  return real;
}
