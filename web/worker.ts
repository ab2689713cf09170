// The engine worker: owns the wasm module and all engine state, answers
// the page's messages one at a time (in arrival order: each answer is
// awaited before the next message is handled, since storage commands are
// async and share the worker's open images).
import init, { handle_request } from '../pkg/ext4lab.js';
import type { Envelope, Request } from './protocol';

interface WorkerScope {
  onmessage: ((ev: MessageEvent<{ id: number; req: Request }>) => void) | null;
  postMessage(msg: unknown, transfer?: Transferable[]): void;
}
const scope = self as unknown as WorkerScope;

const ready = init();
let queue: Promise<void> = Promise.resolve();

async function answer(id: number, req: Request): Promise<void> {
  let answer: Envelope['answer'];
  try {
    await ready;
    answer = (await handle_request(req)) as Envelope['answer'];
  } catch (e) {
    // A wasm trap or a failed load: report it as data, keep the worker alive.
    answer = { ok: false, error: { kind: 'engine-failure', message: String(e) } };
  }
  // Image bytes (export, read-file) move to the page without a copy.
  const bytes = (answer as { bytes?: unknown }).bytes;
  const transfer = bytes instanceof Uint8Array ? [bytes.buffer] : [];
  scope.postMessage({ id, answer } satisfies Envelope, transfer);
}

scope.onmessage = (ev) => {
  const { id, req } = ev.data;
  queue = queue.then(() => answer(id, req));
};
