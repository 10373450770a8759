/** A model file the control plane asks this node to hold, addressed by its content. */
export interface StoreItem {
  /** The model's name, for progress and messages. */
  name: string;
  /** Hex, lowercase: the file's identity in the store. */
  sha256: string;
  sizeBytes: number;
  /** Absolute URL that serves the file and honours `Range` (the api's `GET /api/v1/models/{name}/file`). */
  url: string;
}

export interface PullProgress {
  name: string;
  sha256: string;
  /** Bytes on disk so far, resumed ones included. */
  bytes: number;
  totalBytes: number;
  percent: number;
  /** Over this download only (resumed bytes do not count). */
  bytesPerSecond: number;
  /** Bytes a previous, interrupted download had left (0 for a fresh one). */
  resumedFromBytes: number;
}

/** What the store calls to download: the global fetch or a signing one (`signingFetch` from @gridline/auth). */
export type StoreFetch = (input: string, init?: RequestInit) => Promise<Response>;
