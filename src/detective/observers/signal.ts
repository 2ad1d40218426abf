/** The signal-analysis observer (pure TypeScript measurements, no model). */
import { analyzeSignal, describeSignal } from '../signal';
import { disposableObserver, type DisposableObserver } from './disposable';
import { needSamples } from './proc';

export function signalObserver(): DisposableObserver {
  return disposableObserver({
    name: 'signal',
    modality: 'audio',
    description:
      'Measures the audio signal: loudness (LUFS), true peak, clipping, noise floor and SNR, bandwidth, silence ratio and tempo. The question is ignored.',
    async observe({ media }) {
      const report = analyzeSignal(needSamples('signal', media.samples), 16000);
      return { answer: describeSignal(report), data: report };
    },
  });
}
