// The image library panel: stored disk images (OPFS or IndexedDB) listed
// with size and the engine's superblock summary; create (with mkfs
// options), import (file picker or drag-and-drop), export (download),
// check (fsck), delete. All storage happens in the engine worker
// (crate/wasm/device); this module only renders and sends `image-*`
// requests. Text from images (names, volume labels) is set with
// textContent, never as HTML.
import type { EngineClient } from './engine';
import type {
  Answer,
  Backend,
  BaseRef,
  Request,
  Target,
  ImageInfo,
  ImageRequest,
  MkfsRequest,
  StorageErrorBody,
} from './protocol';

/** What other parts of the page (the scenario runner) use. */
export interface LibraryApi {
  /** Re-read the list from storage. */
  refresh(): Promise<ImageInfo[]>;
  /** Hold a stored image open in the worker (OPFS: its exclusive handle),
   * for a scenario to start from. Errors come back typed (image-busy...). */
  open(name: string): Promise<Answer<ImageInfo>>;
  close(name: string): Promise<Answer<{ name: string }>>;
}

/** Listeners told each time the library list is re-read (the base-image
 * selector keeps its choices current with it). */
const listeners: Array<(images: ImageInfo[]) => void> = [];

const BACKEND_LABEL: Record<Backend, string> = { opfs: 'OPFS', idb: 'IndexedDB' };

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
}

export function formatSize(bytes: number | undefined): string {
  if (bytes === undefined) return 'busy';
  if (bytes >= 1 << 30) return `${(bytes / (1 << 30)).toFixed(1)} GiB`;
  if (bytes >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
  return `${(bytes / 1024).toFixed(0)} KiB`;
}

/** A file name made into an image name (the worker's rule: 1-64 of
 * A-Z a-z 0-9 . _ -, not starting with '.'). */
export function imageNameFrom(file: string): string {
  const s = file.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '');
  return (s || 'image').slice(0, 64);
}

export function mountLibrary(engine: EngineClient, root: HTMLElement): LibraryApi {
  root.classList.add('library');
  const status = h('p', { 'data-testid': 'library-status', 'aria-live': 'polite', class: 'library-status' });
  const tbody = h('tbody', { 'data-testid': 'library-rows' });
  const table = h(
    'table',
    { class: 'library-table' },
    h(
      'thead',
      {},
      h('tr', {}, ...['Name', 'Storage', 'Size', 'Filesystem', ''].map((t) => h('th', { text: t }))),
    ),
    tbody,
  );

  // ---- create ----
  const name = h('input', { 'data-testid': 'create-name', placeholder: 'name', required: '', pattern: '[A-Za-z0-9_\\-][A-Za-z0-9._\\-]{0,63}' });
  const size = h('input', { 'data-testid': 'create-size', type: 'number', min: '1', max: '1024', value: '16' });
  const backend = h(
    'select',
    { 'data-testid': 'create-backend' },
    h('option', { value: 'opfs', text: 'OPFS' }),
    h('option', { value: 'idb', text: 'IndexedDB' }),
  );
  const doMkfs = h('input', { 'data-testid': 'create-mkfs', type: 'checkbox', checked: '' });
  const blockSize = h(
    'select',
    { 'data-testid': 'create-block-size' },
    ...['auto', '1024', '2048', '4096'].map((v) => h('option', { value: v, text: v })),
  );
  const features = h('input', { 'data-testid': 'create-features', placeholder: '-O e.g. inline_data,^metadata_csum' });
  const label = h('input', { 'data-testid': 'create-label', placeholder: 'volume label', maxlength: '16' });
  const createBtn = h('button', { type: 'submit', 'data-testid': 'create-submit', text: 'Create' });
  const createForm = h(
    'form',
    { class: 'library-create', 'data-testid': 'create-form' },
    h('label', {}, 'Name ', name),
    h('label', {}, 'Size (MiB) ', size),
    h('label', {}, 'Storage ', backend),
    h('label', {}, doMkfs, ' format (mkfs.ext4)'),
    h('label', {}, 'Block size ', blockSize),
    h('label', {}, 'Features ', features),
    h('label', {}, 'Label ', label),
    createBtn,
  );

  // ---- import ----
  const fileInput = h('input', { type: 'file', 'data-testid': 'import-file', accept: '.img,.ext4,.raw,.bin,application/octet-stream' });
  const importBackend = h(
    'select',
    { 'data-testid': 'import-backend', 'aria-label': 'Store the imported image in' },
    h('option', { value: 'opfs', text: 'OPFS' }),
    h('option', { value: 'idb', text: 'IndexedDB' }),
  );
  const drop = h(
    'div',
    { class: 'library-drop', 'data-testid': 'import-drop', tabindex: '0' },
    'Drop a disk image here, or ',
    h('label', { class: 'library-pick' }, 'choose a file', fileInput),
    ' · store in ',
    importBackend,
  );

  root.append(createForm, drop, status, table);

  function say(text: string, kind: 'ok' | 'error' | 'busy', errorKind = ''): void {
    status.textContent = text;
    status.dataset.state = kind;
    status.dataset.kind = errorKind;
  }

  function fail(what: string, error: StorageErrorBody): void {
    say(`${what}: ${error.message}`, 'error', error.kind);
  }

  function render(images: ImageInfo[]): void {
    tbody.replaceChildren();
    if (images.length === 0) {
      tbody.append(h('tr', {}, h('td', { colspan: '5', class: 'library-empty', text: 'No stored images yet.' })));
    }
    for (const img of images) {
      const fs = img.fs
        ? `ext4 ${img.fs.blockSize} B blocks · ${img.fs.features.join(' ')}${img.fs.volumeName ? ` · "${img.fs.volumeName}"` : ''}${img.fs.readOnly ? ` · read-only: ${img.fs.readOnly}` : ''}`
        : img.busy || img.size === undefined
          ? 'open in another tab'
          : 'not ext4';
      const exportBtn = h('button', { type: 'button', 'data-action': 'export', text: 'Export' });
      const fsckBtn = h('button', { type: 'button', 'data-action': 'fsck', text: 'Check' });
      const delBtn = h('button', { type: 'button', 'data-action': 'delete', text: 'Delete' });
      exportBtn.addEventListener('click', () => void exportImage(img.name));
      fsckBtn.addEventListener('click', () => void fsckImage(img.name));
      delBtn.addEventListener('click', () => void deleteImage(img.name));
      if (!img.fs) fsckBtn.disabled = true;
      if (img.busy) exportBtn.disabled = true;
      tbody.append(
        h(
          'tr',
          { 'data-image': img.name, 'data-backend': img.backend },
          h('td', { class: 'library-name', text: img.name }),
          h('td', { text: BACKEND_LABEL[img.backend] }),
          h('td', { 'data-size': String(img.size ?? ''), text: formatSize(img.size) }),
          h('td', {
            class: 'library-fs',
            'data-features': img.fs?.features.join(',') ?? '',
            'data-read-only': img.fs?.readOnly ?? '',
            text: fs,
          }),
          h('td', { class: 'library-actions' }, exportBtn, fsckBtn, delBtn),
        ),
      );
    }
  }

  async function refresh(): Promise<ImageInfo[]> {
    const a = await engine.request({ cmd: 'image-list' });
    if (!a.ok) {
      fail('Listing images failed', a.error);
      root.dataset.state = 'error';
      return [];
    }
    render(a.images);
    root.dataset.state = 'ready';
    for (const l of listeners) l(a.images);
    return a.images;
  }

  async function create(ev: Event): Promise<void> {
    ev.preventDefault();
    const mib = Number(size.value);
    const mkfs: MkfsRequest | undefined = doMkfs.checked
      ? {
          blockSize: blockSize.value === 'auto' ? undefined : Number(blockSize.value),
          features: features.value.trim() || undefined,
          volumeName: label.value || undefined,
        }
      : undefined;
    say(`Creating ${name.value}…`, 'busy');
    const a = await engine.request({
      cmd: 'image-create',
      name: name.value,
      backend: backend.value as Backend,
      size: Math.round(mib * (1 << 20)),
      mkfs,
    });
    if (!a.ok) return fail(`Creating ${name.value} failed`, a.error);
    say(`Created ${a.name} (${formatSize(a.size)}, ${BACKEND_LABEL[a.backend]}).`, 'ok');
    await refresh();
  }

  async function importFile(file: File): Promise<void> {
    const n = imageNameFrom(file.name);
    say(`Importing ${file.name}…`, 'busy');
    const bytes = new Uint8Array(await file.arrayBuffer());
    const a = await engine.request(
      { cmd: 'image-import', name: n, backend: importBackend.value as Backend, bytes },
      [bytes.buffer],
    );
    if (!a.ok) return fail(`Importing ${file.name} failed`, a.error);
    say(`Imported ${a.name} (${formatSize(a.size)}, ${BACKEND_LABEL[a.backend]}).`, 'ok');
    await refresh();
  }

  async function exportImage(n: string): Promise<void> {
    const a = await engine.request({ cmd: 'image-export', name: n });
    if (!a.ok) return fail(`Exporting ${n} failed`, a.error);
    const url = URL.createObjectURL(new Blob([a.bytes as BlobPart], { type: 'application/octet-stream' }));
    const link = h('a', { href: url, download: `${n}.img` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    say(`Exported ${n} (${formatSize(a.size)}).`, 'ok');
  }

  async function fsckImage(n: string): Promise<void> {
    const a = await engine.request({ cmd: 'image-fsck', name: n });
    if (!a.ok) return fail(`Checking ${n} failed`, a.error);
    const count = a.report.findings.length;
    say(a.clean ? `${n}: clean (${count} notes).` : `${n}: ${count} problems found.`, a.clean ? 'ok' : 'error', a.clean ? '' : 'fsck');
  }

  async function deleteImage(n: string): Promise<void> {
    const a = await engine.request({ cmd: 'image-delete', name: n });
    if (!a.ok) return fail(`Deleting ${n} failed`, a.error);
    say(`Deleted ${n}.`, 'ok');
    await refresh();
  }

  createForm.addEventListener('submit', (ev) => void create(ev));
  fileInput.addEventListener('change', () => {
    const f = fileInput.files?.[0];
    if (f) void importFile(f).finally(() => (fileInput.value = ''));
  });
  drop.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    drop.classList.remove('over');
    const f = ev.dataTransfer?.files?.[0];
    if (f) void importFile(f);
  });

  void refresh();
  const api: LibraryApi = {
    refresh,
    open: (n) => engine.request({ cmd: 'image-open', name: n }),
    close: (n) => engine.request({ cmd: 'image-close', name: n }),
  };
  // A handle for the console and the page tests: the library API plus raw
  // image requests (plain data in, plain data out; nothing is evaluated).
  (globalThis as { ext4labLibrary?: unknown }).ext4labLibrary = {
    ...api,
    request: (req: ImageRequest, transfer: Transferable[] = []) => engine.request(req, transfer),
  };
  return api;
}

// ---- a library image as the base of a scenario run ----

/** Answer of preparing a target: the target naming its base by content
 * hash, or the typed reason the image cannot be the base. */
export type Prepared = { ok: true; target: Target; base: BaseRef | null } | { ok: false; error: StorageErrorBody };

export interface BaseSelect {
  element: HTMLElement;
  /** The chosen image's name; null: the recipe's own mkfs. */
  chosen(): string | null;
  /** Choose `name` (null: none); false when the library has no such image. */
  choose(name: string | null): boolean;
  /** Give a scenario `target` the chosen base: the page's engine loads the
   * image from the library (checked against the scenario; the stored image
   * is only read) and `broadcast` hands its bytes to the exploring workers.
   * Errors are typed (base-block-size, not-found, image-busy...) and shown
   * under the selector. */
  prepare(target: Target, broadcast: ((req: Request) => Promise<StorageErrorBody | null>) | null): Promise<Prepared>;
}

/** The base-image selector of the run controls: "recipe's mkfs" or an ext4
 * image of the library. */
export function mountBaseSelect(engine: EngineClient, onChange?: (base: BaseRef | null) => void): BaseSelect {
  const select = h('select', { 'data-testid': 'base-image', 'aria-label': 'Base image' });
  const note = h('span', { class: 'small base-status', 'data-testid': 'base-status', 'aria-live': 'polite' });
  // To the library view, where images are created, imported and checked.
  const manage = h('button', { type: 'button', class: 'link', 'data-testid': 'open-library' }, 'image library…');
  manage.addEventListener('click', () => document.dispatchEvent(new CustomEvent('ext4lab-view', { detail: 'library' })));
  const element = h('span', { class: 'base-select' }, select, ' ', manage, note);
  let wanted: string | null = null;
  const fill = (images: ImageInfo[]): void => {
    const keep = select.value;
    select.replaceChildren(h('option', { value: '', text: 'fresh image (the recipe’s mkfs)' }));
    for (const img of images) {
      const opt = h('option', { value: img.name, text: `${img.name} (${formatSize(img.size)}${img.fs ? `, ${img.fs.blockSize} B blocks` : ', not ext4'})` });
      if (!img.fs) opt.disabled = true;
      select.append(opt);
    }
    const want = wanted ?? keep;
    select.value = [...select.options].some((o) => o.value === want) ? want : '';
  };
  // The list arrives with the library's first refresh: main.ts mounts the
  // library once the playground is interactive, so the engine module (which
  // lists the images) loads after the page is usable, not before it.
  listeners.push(fill);
  let reported: BaseRef | null = null;
  const report = (b: BaseRef | null): void => {
    if (b?.name === reported?.name && b?.hash === reported?.hash) return;
    reported = b;
    onChange?.(b);
  };
  select.addEventListener('change', async () => {
    const name = select.value || null;
    wanted = name;
    say('', '');
    if (!name) return report(null);
    // Name it by content hash at once (the share link carries it).
    const a = await engine.request({ cmd: 'image-base-load', name });
    if (select.value !== name) return;
    if (!a.ok) {
      say(`${name}: ${a.error.message}`, a.error.kind);
      return report(null);
    }
    report({ name, hash: a.hash });
  });
  const say = (text: string, kind: string): void => {
    note.textContent = text;
    note.dataset.kind = kind;
  };
  return {
    element,
    chosen: () => select.value || null,
    choose(name) {
      wanted = name;
      if (name === null) reported = null;
      if (name === null) select.value = '';
      else if ([...select.options].some((o) => o.value === name && !o.disabled)) select.value = name;
      else return false;
      return true;
    },
    async prepare(target, broadcast) {
      const name = select.value;
      if (target.kind !== 'scenario' || !name) {
        return { ok: true, target: target.kind === 'scenario' ? { ...target, base: undefined } : target, base: null };
      }
      say(`loading ${name}…`, 'busy');
      const a = await engine.request({ cmd: 'image-base-load', name, text: target.text });
      if (!a.ok) {
        say(`${name} cannot be this scenario's base: ${a.error.message}`, a.error.kind);
        return { ok: false, error: a.error };
      }
      const base: BaseRef = { name, hash: a.hash };
      if (broadcast) {
        const err = await broadcast({ cmd: 'image-base-put', name, hash: a.hash, bytes: a.bytes });
        if (err) {
          say(`${name}: ${err.message}`, err.kind);
          return { ok: false, error: err };
        }
      }
      report(base);
      say(`runs start from a copy of ${name} (content ${a.hash}); the stored image is not written`, 'ok');
      return { ok: true, target: { ...target, base }, base };
    },
  };
}
