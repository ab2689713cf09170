// Messages between the page and the engine worker. The page sends
// {id, cmd, ...args}; the worker answers {id, ok: true, ...} or
// {id, ok: false, error: {kind, message}}. Plain data only.

export type Request = { cmd: 'hello' } | { cmd: 'crc32c'; text: string } | ImageRequest;

// ---- image library (web/library.ts; crate/wasm/device/commands.rs) ----

export type Backend = 'opfs' | 'idb';

/** mkfs options (all optional: mkfs.ext4's defaults). */
export interface MkfsRequest {
  blockSize?: number;
  inodeSize?: number;
  /** A -O list, e.g. "inline_data,^metadata_csum". */
  features?: string;
  volumeName?: string;
  journalBlocks?: number;
}

export type ImageRequest =
  | { cmd: 'image-list' }
  | { cmd: 'image-create'; name: string; backend: Backend; size: number; mkfs?: MkfsRequest }
  | { cmd: 'image-import'; name: string; backend: Backend; bytes: Uint8Array }
  | { cmd: 'image-export'; name: string }
  | { cmd: 'image-delete'; name: string }
  | { cmd: 'image-open'; name: string }
  | { cmd: 'image-close'; name: string }
  | { cmd: 'image-info'; name: string }
  | { cmd: 'image-fsck'; name: string }
  | { cmd: 'image-read-file'; name: string; path: string }
  | { cmd: 'image-write-file'; name: string; path: string; bytes: Uint8Array }
  | { cmd: 'image-write-blocks'; name: string; offset: number; bytes: Uint8Array }
  | { cmd: 'image-inject-fault'; name: string; fault: 'quota' | 'flush' | 'idb-abort' };

/** The engine's superblock summary of an image. */
export interface FsSummary {
  blockSize: number;
  blocksCount: number;
  freeBlocksCount: number;
  inodesCount: number;
  freeInodesCount: number;
  volumeName: string;
  features: string[];
  needsRecovery: boolean;
}

export interface ImageInfo {
  name: string;
  backend: Backend;
  /** null: the image is busy in another tab. */
  size: number | null;
  open: boolean;
  /** Held open by another tab (OPFS). */
  busy?: boolean;
  /** null: not ext4 (or busy). */
  fs: FsSummary | null;
}

export interface ImageList {
  images: ImageInfo[];
}

export interface ImageBytes {
  name: string;
  size: number;
  bytes: Uint8Array;
}

/** Storage errors carry a typed kind: image-busy, quota-exceeded,
 * write-failed, flush-failed, read-failed, idb-blocked, idb-aborted,
 * idb-closed, not-found, exists, invalid, storage-error; and engine-error. */
export interface StorageErrorBody extends ErrorBody {
  image?: string;
  op?: string;
  domName?: string;
}

export interface ErrorBody {
  kind: string;
  message: string;
}

export type Answer<T> = ({ ok: true } & T) | { ok: false; error: ErrorBody };

export interface Hello {
  engine: string;
  version: string;
  crc32cCheck: string;
}

export interface Envelope {
  id: number;
  answer: Answer<Record<string, unknown>>;
}
