import { statSync } from 'node:fs';
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
