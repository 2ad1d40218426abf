// @ts-check
/** Recording a clip from the microphone with MediaRecorder (Opus in WebM where the browser has it). */

const TYPES = ['audio/webm;codecs=opus', 'audio/webm', 'audio/ogg;codecs=opus', 'audio/mp4'];

/** One recording: start() asks for the microphone, stop() releases it and gives the clip as a File. */
export class Recording {
  /** @type {MediaStream | undefined} */
  #stream;
  /** @type {MediaRecorder | undefined} */
  #recorder;
  /** @type {Blob[]} */
  #chunks = [];
  startedAt = 0;
  /** @type {(seconds: number) => void} */
  #onChunk;

  /** @param {(seconds: number) => void} onChunk called as the recorder delivers audio, with the seconds recorded */
  constructor(onChunk) {
    this.#onChunk = onChunk;
  }

  static get supported() {
    return typeof MediaRecorder !== 'undefined' && navigator.mediaDevices?.getUserMedia !== undefined;
  }

  async start() {
    this.#stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const mimeType = TYPES.find((t) => MediaRecorder.isTypeSupported(t));
    this.#recorder = new MediaRecorder(this.#stream, mimeType !== undefined ? { mimeType } : {});
    this.#recorder.addEventListener('dataavailable', (e) => {
      if (e.data.size > 0) this.#chunks.push(e.data);
      if (this.#stream !== undefined) this.#onChunk((performance.now() - this.startedAt) / 1000);
    });
    this.#recorder.start(250);
    this.startedAt = performance.now();
  }

  /** @returns {Promise<File>} */
  stop() {
    const recorder = this.#recorder;
    if (recorder === undefined) return Promise.reject(new Error('the recording was not started'));
    return new Promise((resolve, reject) => {
      recorder.addEventListener('stop', () => {
        this.release();
        const type = recorder.mimeType || 'audio/webm';
        const ext = type.includes('ogg') ? 'ogg' : type.includes('mp4') ? 'm4a' : 'webm';
        const blob = new Blob(this.#chunks, { type });
        if (blob.size === 0) reject(new Error('the recording is empty'));
        else resolve(new File([blob], `recording.${ext}`, { type }));
      }, { once: true });
      recorder.stop();
    });
  }

  /** Stops the microphone (also when the recording is abandoned). */
  release() {
    for (const t of this.#stream?.getTracks() ?? []) t.stop();
    this.#stream = undefined;
  }
}
