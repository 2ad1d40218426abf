/**
 * Minimal ONNX ModelProto header reader: returns the opset imports without loading the graph.
 * Walks the top-level protobuf fields with positioned reads and skips the (possibly huge) graph.
 */
import { open } from 'node:fs/promises';
import { OmnicapError } from '../errors';

const OPSET_IMPORT_FIELD = 8;

interface Cursor {
  buf: Buffer;
  pos: number;
}

function readVarint(c: Cursor): number {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (c.pos >= c.buf.length) throw new RangeError('truncated varint');
    const b = c.buf[c.pos++];
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return result;
    shift += 7;
    if (shift > 63) throw new RangeError('varint too long');
  }
}

function parseOpsetId(buf: Buffer): { domain: string; version: number } {
  const c: Cursor = { buf, pos: 0 };
  let domain = '';
  let version = 0;
  while (c.pos < buf.length) {
    const tag = readVarint(c);
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === 0) {
      const v = readVarint(c);
      if (field === 2) version = v;
    } else if (wire === 2) {
      const len = readVarint(c);
      if (field === 1) domain = buf.subarray(c.pos, c.pos + len).toString('utf8');
      c.pos += len;
    } else if (wire === 1) c.pos += 8;
    else if (wire === 5) c.pos += 4;
    else throw new RangeError(`unexpected wire type ${wire}`);
  }
  return { domain, version };
}

/** Top-level fields read at most: a real ModelProto has a few dozen (metadata and functions included). */
const MAX_TOP_LEVEL_FIELDS = 1 << 20;
/** An OperatorSetIdProto is a domain name and a version: a few dozen bytes. */
const MAX_OPSET_ENTRY_BYTES = 64 * 1024;
/** Field headers are parsed from a window read this many bytes at a time (one read per field was ~80 µs). */
const WINDOW_BYTES = 64 * 1024;
/** A field header is a tag and a length, each a varint of at most 10 bytes. */
const MAX_FIELD_HEADER_BYTES = 20;

/**
 * Map domain -> opset version ('' is the default ONNX domain). Reads are bounded by the file, not
 * by what a field claims: an opset_import entry over 64 KiB, field number 0 (a file of zeros) and
 * more than 2^20 top-level fields are MODEL_INVALID.
 */
export async function readOnnxOpsets(path: string): Promise<Map<string, number>> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const window = Buffer.alloc(WINDOW_BYTES);
    let windowStart = 0;
    let windowEnd = 0;
    const opsets = new Map<string, number>();
    let offset = 0;
    for (let fields = 0; offset < size; fields++) {
      if (fields >= MAX_TOP_LEVEL_FIELDS) throw new RangeError(`more than ${MAX_TOP_LEVEL_FIELDS} top-level fields`);
      if (offset + MAX_FIELD_HEADER_BYTES > windowEnd && windowEnd < size) {
        windowStart = offset;
        windowEnd = offset + (await fh.read(window, 0, WINDOW_BYTES, offset)).bytesRead;
      }
      const c: Cursor = { buf: window.subarray(offset - windowStart, windowEnd - windowStart), pos: 0 };
      const tag = readVarint(c);
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if (field === 0) throw new RangeError(`field number 0 at byte ${offset}`);
      if (wire === 0) {
        readVarint(c);
        offset += c.pos;
      } else if (wire === 1) offset += c.pos + 8;
      else if (wire === 5) offset += c.pos + 4;
      else if (wire === 2) {
        const len = readVarint(c);
        const start = offset + c.pos;
        if (start + len > size) throw new RangeError(`field ${field} runs past the end of the file`);
        if (field === OPSET_IMPORT_FIELD) {
          if (len > MAX_OPSET_ENTRY_BYTES) throw new RangeError(`an opset_import entry of ${len} bytes (at most ${MAX_OPSET_ENTRY_BYTES})`);
          const body = Buffer.alloc(len);
          await fh.read(body, 0, len, start);
          const { domain, version } = parseOpsetId(body);
          opsets.set(domain, version);
        }
        offset = start + len;
      } else throw new RangeError(`unexpected wire type ${wire} at byte ${offset}`);
    }
    return opsets;
  } catch (e) {
    if (e instanceof RangeError) {
      throw new OmnicapError('MODEL_INVALID', `${path} is not a valid ONNX file (${e.message}) — re-run the exporter or re-copy the file`, { cause: e });
    }
    throw e;
  } finally {
    await fh.close();
  }
}
