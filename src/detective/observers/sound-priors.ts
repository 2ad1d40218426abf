/**
 * Calibration priors of the sound-event observer, written by `npm run bench:sound -- --write-priors`:
 * per Whisper model, per phrasing, the mean label score over the windows of the tune split of
 * test/fixtures/sound-events.json (everyday sounds, speech and noise; 5 s context).
 */
import type { WhisperModelName } from './whisper';

export const SOUND_PRIORS: Record<WhisperModelName, Readonly<Record<string, number>>> = {
  base: {},
  'tiny.en': {},
};
