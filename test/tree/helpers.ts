// Re-exports for the tree tests, plus a predicate on error codes.
export * from '../../src/tree/index.js';
import { isTetherError, type ErrorCode } from '../../src/errors.js';

export function isTetherErrorCode(err: unknown, code: ErrorCode): boolean {
  return isTetherError(err, code);
}
