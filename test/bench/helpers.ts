import { join } from 'node:path';
import { packageRoot } from '../../src/util/paths';

/** The committed tiny fixture model (override with OMNICAP_BENCH_MODEL for local dev). */
export const MODEL_DIR = process.env.OMNICAP_BENCH_MODEL ?? join(packageRoot(), 'models', 'tiny-random');
export const LIBRIVOX = '/usr/share/pocketsphinx/test/data/librivox';
export const SPEECH_3S = `${LIBRIVOX}/sense_and_sensibility_01_austen_64kb-0880.wav`;
