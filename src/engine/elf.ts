/**
 * The DT_NEEDED and DT_RUNPATH entries of a 64-bit little-endian ELF shared object (what `readelf -d`
 * prints), read with a few positioned reads: enough to say which CUDA libraries an execution
 * provider library links against without loading it.
 */
import { closeSync, openSync, readSync } from 'node:fs';

export interface ElfDynamic {
  needed: string[];
  runpath: string[];
}

const SHT_DYNAMIC = 6;
const DT_NULL = 0n;
const DT_NEEDED = 1n;
const DT_RPATH = 15n;
const DT_RUNPATH = 29n;

function readAt(fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, offset + got);
    if (n === 0) throw new Error(`unexpected end of file at byte ${offset + got}`);
    got += n;
  }
  return buf;
}

/** Throws an Error naming what is wrong when the file is not a 64-bit LE ELF with a dynamic section. */
export function readElfDynamic(path: string): ElfDynamic {
  const fd = openSync(path, 'r');
  try {
    const eh = readAt(fd, 0, 64);
    if (eh.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${path} is not an ELF file`);
    if (eh[4] !== 2 || eh[5] !== 1) throw new Error(`${path} is not a 64-bit little-endian ELF file`);
    const shoff = Number(eh.readBigUInt64LE(0x28));
    const shentsize = eh.readUInt16LE(0x3a);
    const shnum = eh.readUInt16LE(0x3c);
    const sections = readAt(fd, shoff, shentsize * shnum);
    const section = (i: number): { type: number; offset: number; size: number; link: number } => {
      const b = i * shentsize;
      return { type: sections.readUInt32LE(b + 4), offset: Number(sections.readBigUInt64LE(b + 0x18)), size: Number(sections.readBigUInt64LE(b + 0x20)), link: sections.readUInt32LE(b + 0x28) };
    };
    for (let i = 0; i < shnum; i++) {
      const dyn = section(i);
      if (dyn.type !== SHT_DYNAMIC) continue;
      const strtab = section(dyn.link);
      const strs = readAt(fd, strtab.offset, strtab.size);
      const str = (off: number): string => strs.toString('utf8', off, strs.indexOf(0, off));
      const entries = readAt(fd, dyn.offset, dyn.size);
      const out: ElfDynamic = { needed: [], runpath: [] };
      for (let o = 0; o + 16 <= entries.length; o += 16) {
        const tag = entries.readBigInt64LE(o);
        const val = Number(entries.readBigUInt64LE(o + 8));
        if (tag === DT_NULL) break;
        if (tag === DT_NEEDED) out.needed.push(str(val));
        else if (tag === DT_RUNPATH || tag === DT_RPATH) out.runpath.push(...str(val).split(':').filter((p) => p.length > 0));
      }
      return out;
    }
    throw new Error(`${path} has no dynamic section`);
  } finally {
    closeSync(fd);
  }
}
