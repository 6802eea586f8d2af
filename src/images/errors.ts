/**
 * Typed image errors. One class, a stable `code` per failure (UPPER_SNAKE, as every error code in
 * the project); the message is for the user and is what a Pod's `Failed` Event shows after
 * `Failed to pull image "x": `.
 */

/** Stable codes of image failures. */
export type ImageErrorCode =
  | 'NOT_FOUND' // the registry has no such repository, tag or digest (HTTP 404)
  | 'UNAUTHORIZED' // the registry refused the credentials, or wants some (HTTP 401/403)
  | 'DIGEST_MISMATCH' // content did not hash to the digest that names it
  | 'NETWORK' // the registry could not be reached, or answered something that is not the API
  | 'UNSUPPORTED' // a manifest, media type or platform this store cannot use
  | 'INVALID' // a manifest, config, layer or archive that is malformed
  | 'NOT_PRESENT' // pull policy Never and the image is not in the store
  | 'IN_USE' // `image rm` of an image a container runs from
  | 'STORE'; // the store itself failed (disk full, permissions)

/** Base class of every image error. */
export class ImageError extends Error {
  constructor(readonly code: ImageErrorCode, message: string) {
    super(message);
    this.name = 'ImageError';
  }
}

/** True for an ImageError with one of `codes`. */
export function isImageError(e: unknown, ...codes: ImageErrorCode[]): e is ImageError {
  return e instanceof ImageError && (codes.length === 0 || codes.includes(e.code));
}
