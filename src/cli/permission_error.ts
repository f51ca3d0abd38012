/**
 * Deno's refusal of a permission, said the way every other mistake is: one line naming the command and the flag
 * (with its scope) that would let it run (README, "Least privilege" lists each command's narrowest set).
 *
 * @module
 */

/**
 * Whether an error is Deno refusing a permission (`NotCapable`; `PermissionDenied` is the OS's EACCES).
 *
 * @param e The error.
 * @returns True for a missing `--allow-*` flag.
 */
export function isMissingPermission(e: unknown): e is Error {
  return e instanceof Deno.errors.NotCapable;
}

/**
 * The flag a refusal asks for, scoped to what was refused: `--allow-read=/run/x.sock`, `--allow-run=modprobe`.
 * FFI is never scoped: Deno checks the pointer APIs against the unscoped grant, so a path is not enough.
 *
 * @param message Deno's message (`Requires read access to "/x", run again with the --allow-read flag`).
 * @returns The flag, or null when the message names none.
 */
export function flagFor(message: string): string | null {
  const flag = /--allow-[a-z-]+/.exec(message)?.[0];
  if (flag === undefined) return null;
  if (flag === "--allow-ffi") return flag;
  const what = /access to "([^"]+)"/.exec(message)?.[1];
  return what === undefined ? flag : `${flag}=${what}`;
}

/**
 * The line the CLI prints for a refusal.
 *
 * @param command The subcommand (`status`).
 * @param e The refusal.
 * @returns `cryptobridge: status needs --allow-read=…: <Deno's message> (README, "Least privilege" …)`.
 */
export function permissionMessage(command: string, e: Error): string {
  const flag = flagFor(e.message) ?? "a permission";
  return `cryptobridge: ${command} needs ${flag}: ${e.message} ` +
    `(README, \"Least privilege\", gives each command's flags; \`deno task ${command}\` has them)`;
}
