// The page's handle on an engine worker: request/response over postMessage.
import type { Answer, Answers, Envelope, Request } from './protocol';

export class EngineClient {
  private worker: Worker;
  private next = 1;
  private pending = new Map<number, (a: Envelope['answer']) => void>();
  /** Progress messages posted by a long command from inside the worker. */
  onProgress: ((id: number, stats: unknown) => void) | null = null;

  constructor() {
    this.worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
    this.worker.onmessage = (ev: MessageEvent<Envelope | { progress: number; stats: unknown }>) => {
      if ('progress' in ev.data) {
        this.onProgress?.(ev.data.progress, ev.data.stats);
        return;
      }
      const resolve = this.pending.get(ev.data.id);
      this.pending.delete(ev.data.id);
      resolve?.(ev.data.answer);
    };
    this.worker.onerror = (ev) => {
      for (const resolve of this.pending.values()) {
        resolve({ ok: false, error: { kind: 'worker-error', message: ev.message } });
      }
      this.pending.clear();
    };
  }

  /** Send `req`; `transfer` moves buffers (e.g. an image being imported)
   * to the worker instead of copying them. The answer's type follows from
   * the command (`Answers` in protocol.ts). */
  request<C extends Request['cmd']>(
    req: Extract<Request, { cmd: C }>,
    transfer: Transferable[] = [],
  ): Promise<Answer<Answers[C]>> {
    const id = this.next++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve as (a: Envelope['answer']) => void);
      this.worker.postMessage({ id, req }, transfer);
    });
  }

  /** Like request, but an error answer becomes a thrown Error(kind: message). */
  async call<C extends Request['cmd']>(
    req: Extract<Request, { cmd: C }>,
    transfer: Transferable[] = [],
  ): Promise<{ ok: true } & Answers[C]> {
    const a = await this.request(req, transfer);
    if (!a.ok) throw new EngineError(a.error.kind, a.error.message);
    return a;
  }

  /** Stops the worker at once (cancel); pending requests answer `cancelled`. */
  terminate(): void {
    this.worker.terminate();
    for (const resolve of this.pending.values()) {
      resolve({ ok: false, error: { kind: 'cancelled', message: 'cancelled' } });
    }
    this.pending.clear();
  }
}

export class EngineError extends Error {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
  }
}
