// The engine worker: owns the wasm modules and all engine state, answers
// the page's messages in arrival order per module: each answer is awaited
// before the module's next message is handled, since storage commands are
// async and share the worker's open images.
//
// Two modules, each loaded on its first command: the scenario module
// (pkg-lite/: scenario text, share links, the kernel history, 296 KB
// gzip against the engine's 1,061 KB) answers SCENARIO_COMMANDS, which is all the page needs to
// become interactive; the engine module (pkg/) answers the rest (runs,
// the disk view, the image library). Neither keeps state the other needs
// (scenario commands are plain data in, plain data out), so the two queues
// are independent: the page's scenario commands are answered while the
// engine module is still loading for an early storage command (the run
// controls list the library's images as they mount).
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

let scenarioModule: Promise<Module> | null = null;
let engineModule: Promise<Module> | null = null;

/** Imports and instantiates a module; a failed load is tried again by the
 * next command that needs it. */
function load(get: () => Promise<Module & { default: () => Promise<unknown> }>, forget: () => void): Promise<Module> {
  return get()
    .then(async (m) => {
      await m.default();
      return m;
    })
    .catch((e: unknown) => {
      forget();
      throw e;
    });
}

/** The module that answers `cmd`, loaded on its first use. */
function moduleFor(cmd: string): Promise<Module> {
  if (SCENARIO_COMMANDS.includes(cmd)) {
    return (scenarioModule ??= load(
      () => import('../pkg-lite/ext4lab_lite.js'),
      () => (scenarioModule = null),
    ));
  }
  return (engineModule ??= load(
    () => import('../pkg/ext4lab.js'),
    () => (engineModule = null),
  ));
}

let scenarioQueue: Promise<void> = Promise.resolve();
let engineQueue: Promise<void> = Promise.resolve();

async function answer(id: number, req: Request): Promise<void> {
  let answer: Envelope['answer'];
  try {
    const module = await moduleFor(req.cmd);
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
  if (SCENARIO_COMMANDS.includes(req.cmd)) scenarioQueue = scenarioQueue.then(() => answer(id, req));
  else engineQueue = engineQueue.then(() => answer(id, req));
};
