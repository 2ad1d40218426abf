/** Type guards shared by every parser of untrusted or native values. */

/**
 * A plain key/value object: not null, not an array, not a typed array or DataView. The shape a
 * parsed JSON object, a config entry or a native module's exports have.
 */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}
