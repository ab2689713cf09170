// Messages between the page and the engine worker. The page sends
// {id, cmd, ...args}; the worker answers {id, ok: true, ...} or
// {id, ok: false, error: {kind, message}}. Plain data only.

export type Request = { cmd: 'hello' } | { cmd: 'crc32c'; text: string };

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
