/**
 * After a refusal (429 / 503 from admission) the refused client's connection is not served again
 * for `ms`: its socket is not read, and a next request that had already arrived with the refused
 * body's last bytes waits out the rest of the hold before it is looked at. A keep-alive client that
 * ignores Retry-After is thus refused at most once per `ms` per connection, so a flood costs the
 * server at most `maxConnections / ms` refusals (and their bodies) per second however fast its
 * clients retry; a client that honours Retry-After (>= 1 s) never notices. Bytes sent meanwhile
 * wait in the kernel. `ms` stays below Node's keep-alive timeout (5 s), else the connection would
 * be closed as idle under the hold.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** A held connection: `until` is set once the refused answer is out and the body discarded. */
interface Held {
  until?: number;
  /** Requests that arrived on the connection meanwhile, run when the hold is over. */
  waiting: Array<() => void>;
}

export class RefusalHold {
  private readonly held = new WeakMap<Socket, Held>();

  constructor(readonly ms: number) {}

  /** Hold the connection once the refused request's body is discarded and its answer sent. */
  after(req: IncomingMessage, res: ServerResponse): void {
    if (this.ms <= 0) return;
    const socket = req.socket;
    // marked now: the next request can be parsed from the same read as the refused body's end,
    // before that body's 'end' event
    const state: Held = { waiting: [] };
    this.held.set(socket, state);
    const over = (): void => {
      if (this.held.get(socket) === state) this.held.delete(socket);
      for (const handle of state.waiting.splice(0)) handle();
    };
    const hold = (): void => {
      if (socket.destroyed || String(res.getHeader('connection') ?? '').toLowerCase() === 'close') return over();
      state.until = performance.now() + this.ms;
      socket.pause();
      const release = setTimeout(() => {
        socket.off('close', cancel);
        if (!socket.destroyed) socket.resume();
        over();
      }, this.ms);
      release.unref();
      const cancel = (): void => clearTimeout(release);
      socket.once('close', cancel);
    };
    res.once('finish', () => {
      if (req.complete) hold();
      else req.once('end', hold);
    });
  }

  /**
   * If `req` arrived on a held connection, run `handle` when the hold is over (never, if the
   * connection closes first) and return true; else return false.
   */
  defer(req: IncomingMessage, res: ServerResponse, handle: () => void): boolean {
    const state = this.held.get(req.socket);
    if (state === undefined) return false;
    if (state.until !== undefined && state.until <= performance.now()) {
      this.held.delete(req.socket);
      return false;
    }
    const run = (): void => {
      res.off('close', cancel);
      if (!req.socket.destroyed) handle();
    };
    const cancel = (): void => {
      const i = state.waiting.indexOf(run);
      if (i >= 0) state.waiting.splice(i, 1);
    };
    res.once('close', cancel);
    state.waiting.push(run);
    return true;
  }
}
