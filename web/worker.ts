// The engine worker: owns the wasm module and all engine state, answers
// the page's messages one at a time.
import init, { handle_message } from '../pkg/ext4lab.js';
import type { Envelope, Request } from './protocol';

interface WorkerScope {
  onmessage: ((ev: MessageEvent<{ id: number; req: Request }>) => void) | null;
  postMessage(msg: unknown): void;
}
const scope = self as unknown as WorkerScope;

const ready = init();

scope.onmessage = async (ev) => {
  const { id, req } = ev.data;
  let answer: Envelope['answer'];
  try {
    await ready;
    answer = handle_message(req) as Envelope['answer'];
  } catch (e) {
    // A wasm trap or a failed load: report it as data, keep the worker alive.
    answer = { ok: false, error: { kind: 'engine-failure', message: String(e) } };
  }
  scope.postMessage({ id, answer } satisfies Envelope);
};
