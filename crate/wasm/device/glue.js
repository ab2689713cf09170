// JavaScript glue for the browser block devices (crate/wasm/device). Only
// what Rust cannot say briefly: IndexedDB's event-based requests as promises,
// OPFS directory listing (an async iterator), and the fault shims the tests
// and the fault demo use. Every rejection is an Error-like object with a
// `name` (the DOMException name, or one of ours) and a `message`.

const IMAGES = 'images';
const CHUNKS = 'chunks';

function fail(name, message) {
  const e = new Error(message);
  e.name = name;
  return e;
}

function reqPromise(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? fail('UnknownError', 'request failed'));
  });
}

/** Open (creating or upgrading) the image database. Rejects with
 * `IdbBlockedError` when another connection (an older tab) keeps the
 * database open at a lower version and does not close on `versionchange`;
 * the pending open is abandoned (closed if it completes later). Our own
 * connections close themselves on `versionchange` and note it, so a newer
 * tab is never blocked by us. */
export function idbOpen(name, version) {
  return new Promise((resolve, reject) => {
    let settled = false;
    let req;
    try {
      req = indexedDB.open(name, version);
    } catch (e) {
      reject(e);
      return;
    }
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains(IMAGES)) db.createObjectStore(IMAGES);
      if (!db.objectStoreNames.contains(CHUNKS)) db.createObjectStore(CHUNKS);
    };
    req.onblocked = () => {
      if (settled) return;
      settled = true;
      reject(
        fail(
          'IdbBlockedError',
          `opening database "${name}" at version ${version} is blocked by another open connection`,
        ),
      );
    };
    req.onsuccess = () => {
      const db = req.result;
      if (settled) {
        db.close();
        return;
      }
      settled = true;
      db.onversionchange = () => {
        db.__ext4labClosed = 'the image database was upgraded or deleted by another tab';
        db.close();
      };
      resolve(db);
    };
    req.onerror = () => {
      if (settled) return;
      settled = true;
      reject(req.error ?? fail('UnknownError', 'open failed'));
    };
  });
}

export function idbClose(db) {
  db.close();
}

/** Why our connection was closed under us, or undefined. */
export function idbClosedReason(db) {
  return db.__ext4labClosed;
}

function tx(db, stores, mode, durability) {
  if (db.__ext4labClosed) throw fail('InvalidStateError', db.__ext4labClosed);
  return db.transaction(stores, mode, durability ? { durability } : undefined);
}

function txDone(t) {
  return new Promise((resolve, reject) => {
    t.oncomplete = () => resolve();
    t.onabort = () =>
      reject(
        t.error ?? fail('AbortError', 'the transaction was aborted (nothing of it was stored)'),
      );
  });
}

/** Image records: [{name, size, chunkSize}] in key order. */
export async function idbListImages(db) {
  const t = tx(db, [IMAGES], 'readonly');
  return reqPromise(t.objectStore(IMAGES).getAll());
}

export async function idbGetImage(db, image) {
  const t = tx(db, [IMAGES], 'readonly');
  return reqPromise(t.objectStore(IMAGES).get(image));
}

function chunkRange(image) {
  return IDBKeyRange.bound([image, 0], [image, Number.MAX_SAFE_INTEGER]);
}

/** Store an image record; with `create` it must not exist yet. */
export async function idbPutImage(db, record, create) {
  const t = tx(db, [IMAGES, CHUNKS], 'readwrite');
  const done = txDone(t);
  const store = t.objectStore(IMAGES);
  if (create) {
    // `add` fails with ConstraintError when the name is taken; that aborts the transaction.
    store.add(record, record.name);
    t.objectStore(CHUNKS).delete(chunkRange(record.name));
  } else {
    store.put(record, record.name);
  }
  await done;
}

export async function idbDeleteImage(db, image) {
  const t = tx(db, [IMAGES, CHUNKS], 'readwrite');
  const done = txDone(t);
  t.objectStore(IMAGES).delete(image);
  t.objectStore(CHUNKS).delete(chunkRange(image));
  await done;
}

/** Indexes of the chunks stored for `image`, ascending. */
export async function idbChunkKeys(db, image) {
  const t = tx(db, [CHUNKS], 'readonly');
  const keys = await reqPromise(t.objectStore(CHUNKS).getAllKeys(chunkRange(image)));
  return Float64Array.from(keys, (k) => k[1]);
}

/** Load chunks `indexes` of `image`: an array of Uint8Array (undefined where absent). */
export async function idbGetChunks(db, image, indexes) {
  const t = tx(db, [CHUNKS], 'readonly');
  const store = t.objectStore(CHUNKS);
  const all = Array.from(indexes, (i) => reqPromise(store.get([image, i])));
  const values = await Promise.all(all);
  return values.map((v) => (v === undefined ? undefined : new Uint8Array(v)));
}

/** Write chunks in ONE transaction (all or nothing). `abortAfterPuts` is the
 * fault hook: the transaction is really aborted by the browser after the
 * puts were issued, as a crash or a failing disk would. */
export async function idbPutChunks(db, image, indexes, values, durability, abortAfterPuts) {
  const t = tx(db, [CHUNKS], 'readwrite', durability);
  const done = txDone(t);
  const store = t.objectStore(CHUNKS);
  for (let i = 0; i < indexes.length; i++) {
    // Store an ArrayBuffer of exactly the chunk.
    const v = values[i];
    const exact = v.byteOffset === 0 && v.byteLength === v.buffer.byteLength;
    store.put(exact ? v.buffer : v.slice().buffer, [image, indexes[i]]);
  }
  if (abortAfterPuts) t.abort();
  await done;
}

/** Test helper: a connection that ignores `versionchange` (an old tab). */
export async function idbHoldOpen(name, version) {
  const req = indexedDB.open(name, version);
  return reqPromise(req);
}

export async function idbDeleteDatabase(name) {
  await reqPromise(indexedDB.deleteDatabase(name));
}

/** The files of an OPFS directory, sorted by name: [{name, size}], size
 * -1 when the file cannot be inspected right now (its exclusive handle is
 * held elsewhere). */
export async function opfsListFiles(dir) {
  const files = [];
  for await (const [name, handle] of dir.entries()) {
    if (handle.kind !== 'file') continue;
    let size = -1;
    try {
      size = (await handle.getFile()).size;
    } catch {
      // Busy (another tab or worker has its sync access handle).
    }
    files.push({ name, size });
  }
  files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return files;
}

/** Fault shim on one sync access handle: the next `count` calls of `method`
 * ('write' or 'flush') throw a DOMException named `errorName` without doing
 * anything, as the browser does on a full disk or a failed flush. */
export function shimHandleFault(handle, method, errorName, count) {
  let left = count;
  const real = handle[method].bind(handle);
  handle[method] = (...args) => {
    if (left > 0) {
      left -= 1;
      throw new DOMException(`injected ${errorName} on ${method}`, errorName);
    }
    return real(...args);
  };
}

/** One `read()` into `buf` (a view on wasm memory) at byte `at`: one call
 * across the boundary, no options object built from Rust. */
export function sahRead(handle, buf, at) {
  return handle.read(buf, { at });
}

/** One `write()` of `buf` at byte `at`. */
export function sahWrite(handle, buf, at) {
  return handle.write(buf, { at });
}
