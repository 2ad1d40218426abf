/** ASR observer: CMU PocketSphinx (Debian `pocketsphinx` + `pocketsphinx-en-us`) via its CLI. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Observer } from '../../server/observers';
import { needSamples, runTool, withTempDir, writeTempWav } from './proc';

export interface PocketsphinxOptions {
  bin?: string;
  /** Directory holding en-us/, en-us.lm.bin and cmudict-en-us.dict. */
  modelDir?: string;
}

export const DEFAULT_POCKETSPHINX_MODEL = '/usr/share/pocketsphinx/model/en-us';

export function pocketsphinxAvailable(opts: PocketsphinxOptions = {}): boolean {
  return existsSync(join(opts.modelDir ?? DEFAULT_POCKETSPHINX_MODEL, 'en-us.lm.bin'));
}

export function asrObserver(opts: PocketsphinxOptions = {}): Observer {
  const bin = opts.bin ?? 'pocketsphinx_continuous';
  const dir = opts.modelDir ?? DEFAULT_POCKETSPHINX_MODEL;
  return {
    name: 'asr',
    modality: 'audio',
    description: 'Speech recognition (English, PocketSphinx): returns the words spoken in the clip. The question is ignored.',
    async observe({ media, signal }) {
      const samples = needSamples('asr', media.samples);
      const out = await withTempDir(async (tmp) =>
        runTool(bin, ['-infile', await writeTempWav(tmp, samples, 16000), '-hmm', join(dir, 'en-us'), '-lm', join(dir, 'en-us.lm.bin'), '-dict', join(dir, 'cmudict-en-us.dict'), '-logfn', '/dev/null'], signal),
      );
      const transcript = out.split('\n').map((l) => l.trim()).filter((l) => l !== '').join(' ');
      return { answer: transcript === '' ? 'No speech was recognized.' : `Transcript: "${transcript}"`, data: { transcript, engine: 'pocketsphinx-en-us' } };
    },
  };
}
