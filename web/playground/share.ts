// Share links: the URL fragment is the Rust codec's encoding (through the
// worker) of the page state. Opening a link decodes it in the worker; a
// damaged or tampered link gets a message and the page keeps working.
// Nothing from a link is evaluated or inserted as HTML.
import { fill, h } from '../dom';
import type { EngineClient } from '../engine';
import type { ErrorBody, Link } from '../protocol';
import type { PageState, Store } from './store';

export function linkOf(s: PageState, builtinHash: (id: string) => string | undefined): Link {
  const hash = s.builtin ? builtinHash(s.builtin) : undefined;
  return {
    scenario: s.builtin && hash ? { kind: 'builtin', id: s.builtin, hash } : { kind: 'text', text: s.text },
    variant: s.variant,
    options: s.options,
    strategy: s.strategy,
    seed: s.seed,
    schedule: s.schedule,
    step: s.step,
    ...(s.base ? { base: s.base } : {}),
    ...(s.schedule && s.outcome ? { outcome: s.outcome } : {}),
    ...(s.custom ? { custom: s.custom } : {}),
  };
}

/** Human words for each LinkError kind (the engine's message follows). */
const WHY: Record<string, string> = {
  'link-bad-prefix': 'This is not an ext4lab link.',
  'link-unknown-version': 'This link was made by a newer ext4lab.',
  'link-too-long': 'This link is too long.',
  'link-bad-base64': 'This link is damaged (it has characters a link never contains).',
  'link-decompress': 'This link is damaged or cut short (its data does not decompress).',
  'link-too-large': 'This link inflates to an unreasonable size; it was refused.',
  'link-bad-payload': 'This link is damaged or was edited (its contents are malformed).',
  'link-unknown-builtin': 'This link names a built-in scenario this build does not have.',
  'link-hash-mismatch': 'The built-in scenario this link names has changed since the link was made.',
  'link-bad-scenario': 'The scenario carried in this link does not parse.',
  'link-bad-choice': 'This link names a variant or option its scenario does not have.',
  'link-bad-model-link': 'This link to a reference-model run is damaged.',
  'link-unknown-model': 'This link names a reference model this build does not have.',
  'link-base-missing': 'This link starts from a stored disk image that this browser’s image library does not have.',
  'link-base-changed': 'The stored disk image this link starts from has changed since the link was made.',
};

/** A reference-model run's link, `#m1.<model>~<token>[~<step>]`: the
 * page's own form (the Rust codec's links carry scenarios; a model needs
 * none). Parsed strictly: the model must be one this build has, the token
 * is the simulator's replay token (checked again when it is replayed). */
export const MODEL_LINK = /^#m1\.([a-z0-9_]{1,64})~(v\d+\.[A-Za-z0-9_-]{0,4096})(?:~(\d{1,9}))?$/;

export function modelFragment(model: string, schedule: string, step: number | null): string {
  return `#m1.${model}~${schedule}${step === null ? '' : `~${step}`}`;
}

export interface ShareHandle {
  /** Decode `fragment` and apply it; false (and a message) when it is bad. */
  open(fragment: string): Promise<boolean>;
}

export function mountShare(
  root: HTMLElement,
  banner: HTMLElement,
  store: Store,
  engine: EngineClient,
  apply: (link: Link, text: string) => Promise<void>,
  applyModel: (model: string, schedule: string, step: number | null) => Promise<void>,
  models: string[],
  opened: (fragment: string) => Promise<void>,
): ShareHandle {
  const url = h('input', { type: 'text', readonly: true, 'data-testid': 'share-url', 'aria-label': 'Share link', class: 'mono' });
  const size = h('span', { class: 'muted small', 'data-testid': 'share-size' });
  const copy = h('button', { type: 'button', 'data-testid': 'share-copy' }, 'Copy link');
  const copied = h('span', { class: 'small', 'data-testid': 'share-copied', 'aria-live': 'polite' });
  fill(root, h('div', { class: 'row' }, copy, size, copied), url);
  root.dataset.testid = 'share';

  copy.addEventListener('click', async () => {
    url.select();
    try {
      await navigator.clipboard.writeText(url.value);
      copied.textContent = 'copied';
    } catch {
      copied.textContent = 'select and copy the link above';
    }
  });

  const hashOf = (id: string) => store.builtins.find((b) => b.id === id)?.hash;
  let seq = 0;
  let timer: number | undefined;
  store.subscribe((s) => {
    if (!s.scenario && !s.model) return;
    root.dataset.state = 'pending';
    window.clearTimeout(timer);
    timer = window.setTimeout(async () => {
      const my = ++seq;
      const a = s.model
        ? { ok: true as const, fragment: modelFragment(s.model, s.schedule, s.schedule ? s.step : null) }
        : await engine.request({ cmd: 'link-encode', link: linkOf(s, hashOf) });
      if (my !== seq || !a.ok) return;
      const full = `${location.origin}${location.pathname}${a.fragment}`;
      url.value = full;
      size.textContent = `${a.fragment.length} characters`;
      copied.textContent = '';
      // The address bar always holds the current state's link.
      if (location.hash !== a.fragment) history.replaceState(null, '', a.fragment);
      root.dataset.fragment = a.fragment;
      root.dataset.state = 'current';
    }, 120);
  });

  const showError = (e: ErrorBody, fragment: string): void => {
    const dismiss = h('button', { type: 'button', class: 'link' }, 'dismiss');
    dismiss.addEventListener('click', () => fill(banner));
    const anyway =
      e.kind === 'link-hash-mismatch' && e.link
        ? h('button', { type: 'button', 'data-testid': 'link-open-anyway' }, 'Open it with today’s text anyway')
        : null;
    anyway?.addEventListener('click', async () => {
      if (!e.link || e.link.scenario.kind !== 'builtin') return;
      const id = e.link.scenario.id;
      const fixed: Link = { ...e.link, scenario: { kind: 'builtin', id, hash: hashOf(id) ?? '' } };
      fill(banner);
      const enc = await engine.request({ cmd: 'link-encode', link: fixed });
      // Opened like a link from the address bar: its schedule replays (and
      // if today's text no longer follows it, the page says so and offers
      // to find the outcome again).
      if (enc.ok && (await open(enc.fragment))) await opened(enc.fragment);
    });
    fill(
      banner,
      h(
        'div',
        { class: 'alert', role: 'alert', 'data-testid': 'link-error', 'data-kind': e.kind },
        h('strong', {}, WHY[e.kind] ?? 'This link could not be opened.'),
        ' ',
        h('span', { class: 'small' }, `(${e.kind}: ${e.message})`),
        ' The page opened its default scenario instead. ',
        anyway,
        dismiss,
        h('div', { class: 'small muted mono trunc' }, `link: ${fragment.slice(0, 200)}${fragment.length > 200 ? '…' : ''}`),
      ),
    );
  };

  const open = async (fragment: string): Promise<boolean> => {
    if (fragment.startsWith('#m1.')) {
      const m = MODEL_LINK.exec(fragment);
      if (!m) {
        showError({ kind: 'link-bad-model-link', message: 'expected #m1.<model>~<replay token>[~<step>]' }, fragment);
        return false;
      }
      if (!models.includes(m[1])) {
        showError({ kind: 'link-unknown-model', message: `no reference model \`${m[1]}\`` }, fragment);
        return false;
      }
      fill(banner);
      await applyModel(m[1], m[2], m[3] === undefined ? null : Number(m[3]));
      return true;
    }
    const a = await engine.request({ cmd: 'link-decode', fragment });
    if (!a.ok) {
      showError(a.error, fragment);
      return false;
    }
    // A link that starts from a stored image: the library must hold an
    // image of that name with the same content (and fit for the scenario).
    const base = a.link.base;
    if (base) {
      const l = await engine.request({ cmd: 'image-base-load', name: base.name, text: a.text });
      if (!l.ok) {
        const kind = l.error.kind === 'not-found' ? 'link-base-missing' : l.error.kind;
        showError({ kind, message: `image ${base.name} (content ${base.hash}): ${l.error.message}` }, fragment);
        return false;
      }
      if (l.hash !== base.hash) {
        showError({ kind: 'link-base-changed', message: `image ${base.name} now has content ${l.hash}, the link names ${base.hash}` }, fragment);
        return false;
      }
    }
    fill(banner);
    await apply(a.link, a.text);
    return true;
  };
  return { open };
}
