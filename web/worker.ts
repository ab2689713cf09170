// The engine worker: owns the wasm modules and all engine state, answers
// the page's messages in arrival order per module: each answer is awaited
// before the module's next message is handled, since storage commands are
// async and share the worker's open images.
//
// Two modules, each loaded on its first command: the scenario module
// (pkg-lite/: scenario text, share links, the kernel history, 296 KB
// gzip against the engine's 1,061 KB) answers SCENARIO_COMMANDS, which is
// all the page needs to become interactive; the engine module (pkg/)
// answers the rest (runs, the disk view, the image library). Neither keeps
// state the other needs (scenario commands are plain data in, plain data
// out), so the two queues are independent: scenario commands (the editor's
// checks, share links) are answered while the engine module is still
// loading for the library's first listing or a first run.
import type { Envelope, Request } from './protocol';
import { SCENARIO_COMMANDS } from './protocol';

interface WorkerScope {
  onmessage: ((ev: MessageEvent<{ id: number; req: Request }>) => void) | null;
  postMessage(msg: unknown, transfer?: Transferable[]): void;
}
const scope = self as unknown as WorkerScope;

interface Module {
  handle_request(req: unknown): Promise<unknown>;
}

/** One module and the queue of its commands. */
interface Lane {
  import: () => Promise<Module & { default: () => Promise<unknown> }>;
  /** The module once loading started (null again after a failed load, so
   * the next command tries again). */
  module: Promise<Module> | null;
  queue: Promise<void>;
}

const scenarioLane: Lane = { import: () => import('../pkg-lite/ext4lab_lite.js'), module: null, queue: Promise.resolve() };
const engineLane: Lane = { import: () => import('../pkg/ext4lab.js'), module: null, queue: Promise.resolve() };

/** The lane's module, imported and instantiated on its first command. */
function loaded(lane: Lane): Promise<Module> {
  return (lane.module ??= lane
    .import()
    .then(async (m) => {
      await m.default();
      return m;
    })
    .catch((e: unknown) => {
      lane.module = null;
      throw e;
    }));
}

async function answer(lane: Lane, id: number, req: Request): Promise<void> {
  let answer: Envelope['answer'];
  try {
    const module = await loaded(lane);
    answer = (await module.handle_request(req)) as Envelope['answer'];
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
  const lane = SCENARIO_COMMANDS.includes(req.cmd) ? scenarioLane : engineLane;
  lane.queue = lane.queue.then(() => answer(lane, id, req));
};
