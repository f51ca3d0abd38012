/**
 * The `cryptobridge` command line, and nothing else: unlike `mod.ts`, this entry point loads no module that opens
 * a library, so each command loads only what it needs and runs with the permissions docs/permissions.md gives it
 * (`status` and `vm` need no `--allow-ffi`). `deno task <command>` runs it with exactly those.
 *
 * Usage: deno run <permissions> cli.ts <command> [options]
 *
 * @module
 */

import { main } from "./src/cli/main.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));
