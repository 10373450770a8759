/**
 * Why the model store could not provide a file. `download_failed` leaves the partial
 * download in place (the next ensure() resumes it); the others delete what they refused.
 * `invalid_item` is a StoreItem without a lowercase hex sha256, a positive size or an absolute URL.
 */
export type ModelStoreErrorCode = 'insufficient_disk' | 'checksum_mismatch' | 'download_failed' | 'size_mismatch' | 'invalid_item';

export class ModelStoreError extends Error {
  override readonly name = 'ModelStoreError';

  constructor(
    readonly code: ModelStoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
