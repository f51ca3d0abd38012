/**
 * `UsageError`: a mistaken command line. The CLI prints its message (which says what to do instead) and exits 2.
 *
 * @module
 */

/** A command-line mistake: wrong command, option or value. */
export class UsageError extends Error {
  override name = "UsageError";
}
