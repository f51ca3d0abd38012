/**
 * Installs cryptobridge as a systemd service (docs/operations.md, "systemd"):
 *
 * 1. copies this checkout's code (cli.ts, mod.ts, deno.json, deno.lock, src/, ffi/) to `--prefix`
 *    (/opt/cryptobridge), and the deno binary to `<prefix>/bin/deno` when it lives under /root or /home (the
 *    unit's ProtectHome= hides those);
 * 2. caches its npm dependencies in `<prefix>/deno-dir` (`deno cache`, which needs the npm registry once), so
 *    the service starts without a network;
 * 3. writes `<bin-dir>/cryptobridge` (/usr/local/bin), a wrapper that runs each command with its narrowest
 *    permissions (src/cli/permissions.ts, README, "Least privilege");
 * 4. writes the unit `<unit-dir>/cryptobridge.service` (/etc/systemd/system) from packaging/cryptobridge.service,
 *    pointing at the wrapper and the configuration file;
 * 5. writes `<config-dir>/config.json` (/etc/cryptobridge) from packaging/config.example.json, unless one exists;
 * 6. with `--enable`: `systemctl daemon-reload` and `systemctl enable --now cryptobridge`.
 *
 * Usage (as root):
 *   deno task install-service [--enable]
 *   deno run --allow-read --allow-write=/opt/cryptobridge,/usr/local/bin,/etc/systemd/system,/etc/cryptobridge \
 *     --allow-run scripts/install_service.ts [--prefix DIR] [--bin-dir DIR] [--unit-dir DIR] [--config-dir DIR]
 *     [--deno PATH] [--no-cache] [--dry-run] [--enable]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { DEFAULT_PERMISSION_PATHS, permissionFlags, servePermissions } from "../src/cli/permissions.ts";
import { SERVE_V8_FLAGS } from "../src/os/jit_budget.ts"; // not os/mod.ts: that opens libc (FFI)

const CHECKOUT = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
const CODE = ["cli.ts", "mod.ts", "deno.json", "deno.lock", "src", "ffi"];
const RUNTIME_DIR = "/run/cryptobridge";
const METRICS = "127.0.0.1:9464";

/** Where things go. */
export interface InstallOptions {
  readonly prefix: string;
  readonly binDir: string;
  readonly unitDir: string;
  readonly configDir: string;
  /** The deno binary to run with. */
  readonly deno: string;
  /** Run `deno cache` into `<prefix>/deno-dir`. */
  readonly cache: boolean;
}

/** Defaults of a root install. */
export const DEFAULT_INSTALL: Omit<InstallOptions, "deno"> = {
  prefix: "/opt/cryptobridge",
  binDir: "/usr/local/bin",
  unitDir: "/etc/systemd/system",
  configDir: "/etc/cryptobridge",
  cache: true,
};

/**
 * The unit file: the packaged one, pointing at the installed wrapper and configuration file.
 *
 * @param template packaging/cryptobridge.service.
 * @param o Where things are installed.
 * @returns The unit's text.
 */
export function renderUnit(template: string, o: Pick<InstallOptions, "binDir" | "configDir">): string {
  return template
    .replaceAll("/usr/local/bin/cryptobridge", `${o.binDir}/cryptobridge`)
    .replaceAll("/etc/cryptobridge/config.json", `${o.configDir}/config.json`);
}

const shellQuote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * The wrapper: `deno run` of the installed cli.ts with each command's narrowest permissions. status and vm get
 * their socket: the `--control` given, or the service's (added when none is given).
 *
 * @param o Where things are installed.
 * @param deno The deno binary the wrapper runs.
 * @returns The script's text.
 */
export function renderWrapper(o: Pick<InstallOptions, "prefix" | "configDir">, deno: string): string {
  const paths = { ...DEFAULT_PERMISSION_PATHS, runtimeDir: RUNTIME_DIR, deno, tmp: "/tmp", code: o.prefix };
  const flags = (command: string): string => permissionFlags(command, paths).join(" ");
  const control = DEFAULT_PERMISSION_PATHS.control;
  const serve = servePermissions({
    config: o.configDir,
    runtimeDir: RUNTIME_DIR,
    metrics: METRICS,
    device: true, // the configuration file may name one
    code: o.prefix,
  }).join(
    " ",
  );
  return `#!/bin/sh
# cryptobridge, installed by scripts/install_service.ts: runs ${o.prefix}/cli.ts with each command's narrowest
# permissions (README, "Least privilege"). Extra deno flags: CRYPTOBRIDGE_DENO_FLAGS. serve's flags match the unit's
# --config, --metrics and runtime directory: change them together.
DENO=${shellQuote(deno)}
CLI=${shellQuote(`${o.prefix}/cli.ts`)}
export DENO_DIR=${shellQuote(`${o.prefix}/deno-dir`)}
extra=""
case "\${1:-}" in
  serve) flags="${serve} ${SERVE_V8_FLAGS}" ;;
  status|vm)
    control=""
    prev=""
    for a in "$@"; do
      case "$a" in --control=*) control="\${a#--control=}" ;; esac
      [ "$prev" = "--control" ] && control="$a"
      prev="$a"
    done
    if [ -z "$control" ]; then control=${shellQuote(control)}; extra="--control $control"; fi
    flags="--allow-read=$control --allow-write=$control --allow-net=unix:$control" ;;
  list|info|selftest) flags="${flags("list")}" ;;
  bind) flags="${flags("bind")}" ;;
  unbind) flags="${flags("unbind")}" ;;
  bench) flags="${flags("bench")}" ;;
  *) flags="" ;;
esac
# shellcheck disable=SC2086 # flags and extra are lists of words
exec "$DENO" run --no-prompt --cached-only --no-code-cache --config ${
    shellQuote(`${o.prefix}/deno.json`)
  } $flags \${CRYPTOBRIDGE_DENO_FLAGS:-} "$CLI" "$@" $extra
`;
}

/** One file the install writes. */
export interface InstallStep {
  readonly path: string;
  readonly what: string;
  readonly run: () => void | Promise<void>;
}

function copyTree(from: string, to: string): void {
  const info = Deno.statSync(from);
  if (info.isFile) {
    Deno.copyFileSync(from, to);
    return;
  }
  Deno.mkdirSync(to, { recursive: true });
  for (const e of Deno.readDirSync(from)) copyTree(`${from}/${e.name}`, `${to}/${e.name}`);
}

function writeExecutable(path: string, text: string): void {
  Deno.writeTextFileSync(path, text);
  Deno.chmodSync(path, 0o755);
}

/**
 * What an install does, in order (nothing is done until each step's `run`).
 *
 * @param o Where things go.
 * @returns The steps.
 */
export function plan(o: InstallOptions): InstallStep[] {
  const hidden = /^\/(root|home)\//.test(o.deno);
  const deno = hidden ? `${o.prefix}/bin/deno` : o.deno;
  const steps: InstallStep[] = [
    {
      path: o.prefix,
      what: `the code of ${CHECKOUT}`,
      run: () => {
        Deno.mkdirSync(o.prefix, { recursive: true });
        for (const name of CODE) copyTree(`${CHECKOUT}/${name}`, `${o.prefix}/${name}`);
      },
    },
  ];
  if (hidden) {
    steps.push({
      path: deno,
      what: `a copy of ${o.deno} (ProtectHome= hides /root and /home from the service)`,
      run: () => {
        Deno.mkdirSync(`${o.prefix}/bin`, { recursive: true });
        Deno.copyFileSync(o.deno, deno);
        Deno.chmodSync(deno, 0o755);
      },
    });
  }
  if (o.cache) {
    steps.push({
      path: `${o.prefix}/deno-dir`,
      what: "its npm dependencies (deno cache)",
      run: () => cache(o, deno),
    });
  }
  steps.push(...configSteps(o, deno));
  return steps;
}

// The command, the unit and the configuration file.
function configSteps(o: InstallOptions, deno: string): InstallStep[] {
  const config = `${o.configDir}/config.json`;
  return [
    {
      path: `${o.binDir}/cryptobridge`,
      what: "the command, each subcommand with its narrowest permissions",
      run: () => {
        Deno.mkdirSync(o.binDir, { recursive: true });
        writeExecutable(`${o.binDir}/cryptobridge`, renderWrapper(o, deno));
      },
    },
    {
      path: `${o.unitDir}/cryptobridge.service`,
      what: "the systemd unit",
      run: () => {
        Deno.mkdirSync(o.unitDir, { recursive: true });
        const template = Deno.readTextFileSync(`${CHECKOUT}/packaging/cryptobridge.service`);
        Deno.writeTextFileSync(`${o.unitDir}/cryptobridge.service`, renderUnit(template, o));
      },
    },
    {
      path: config,
      what: "a first configuration (kept if one exists)",
      run: () => {
        Deno.mkdirSync(o.configDir, { recursive: true });
        try {
          Deno.statSync(config);
        } catch {
          Deno.copyFileSync(`${CHECKOUT}/packaging/config.example.json`, config);
          Deno.chmodSync(config, 0o644);
        }
      },
    },
  ];
}

async function cache(o: InstallOptions, deno: string): Promise<void> {
  const out = await new Deno.Command(deno, {
    args: ["cache", "--config", `${o.prefix}/deno.json`, `${o.prefix}/cli.ts`],
    env: { DENO_DIR: `${o.prefix}/deno-dir` },
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`Cannot cache the dependencies: deno cache exited with ${out.code}`);
}

async function systemctl(...args: string[]): Promise<void> {
  const out = await new Deno.Command("systemctl", { args, stdout: "inherit", stderr: "inherit" }).output();
  if (!out.success) throw new Error(`systemctl ${args.join(" ")} failed with exit code ${out.code}`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      prefix: { type: "string" },
      "bin-dir": { type: "string" },
      "unit-dir": { type: "string" },
      "config-dir": { type: "string" },
      deno: { type: "string" },
      "no-cache": { type: "boolean" },
      "dry-run": { type: "boolean" },
      enable: { type: "boolean" },
    },
  });
  const o: InstallOptions = {
    prefix: values.prefix ?? DEFAULT_INSTALL.prefix,
    binDir: values["bin-dir"] ?? DEFAULT_INSTALL.binDir,
    unitDir: values["unit-dir"] ?? DEFAULT_INSTALL.unitDir,
    configDir: values["config-dir"] ?? DEFAULT_INSTALL.configDir,
    deno: values.deno ?? Deno.execPath(),
    cache: values["no-cache"] !== true,
  };
  for (const step of plan(o)) {
    console.log(`${values["dry-run"] ? "would write" : "writing"} ${step.path}: ${step.what}`);
    if (!values["dry-run"]) await step.run();
  }
  if (values.enable && !values["dry-run"]) {
    await systemctl("daemon-reload");
    await systemctl("enable", "--now", "cryptobridge.service");
  } else {
    console.log(
      "next: edit the configuration, load vfio-pci at boot (echo vfio-pci > /etc/modules-load.d/vfio-pci.conf), " +
        "then systemctl daemon-reload && systemctl enable --now cryptobridge",
    );
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main());
