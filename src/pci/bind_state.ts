/**
 * The bind state file: which driver each function had before `cryptobridge bind`, so `cryptobridge unbind` can
 * give it back (dpdk-devbind keeps this only in memory, for its own rollback; a later unbind needs it on disk).
 *
 * One JSON object per file, keyed by PCI address. The default path is under /run, so it lives until reboot, as
 * the bindings themselves do.
 *
 * @module
 */

/** Default state file. */
export const DEFAULT_STATE_FILE = "/run/cryptobridge/bindings.json";

/** What a function looked like before it was bound. */
export interface BindRecord {
  /** The driver it had, or `null` when it was unbound. */
  readonly driver: string | null;
  /** Its `driver_override` then, or `null`. */
  readonly override: string | null;
  /** The VFIO driver it was bound to. */
  readonly boundTo: string;
  /** When (ISO 8601). */
  readonly at: string;
}

/** Where original drivers are remembered. */
export interface BindState {
  /** The record of a function, if any. */
  get(bdf: string): BindRecord | undefined;
  /** Stores a record (replacing any). */
  set(bdf: string, record: BindRecord): void;
  /** Forgets a function; nothing happens when there is no record. */
  delete(bdf: string): void;
}

/** A `BindState` in a JSON file, rewritten atomically (write to a temporary file, then rename) on each change. */
export class FileBindState implements BindState {
  /** The file. */
  readonly path: string;

  /**
   * A state kept in `path`.
   *
   * @param path The state file; its directory is created on the first change.
   */
  constructor(path: string = DEFAULT_STATE_FILE) {
    this.path = path;
  }

  get(bdf: string): BindRecord | undefined {
    return this.#load()[bdf];
  }

  set(bdf: string, record: BindRecord): void {
    this.#save({ ...this.#load(), [bdf]: record });
  }

  delete(bdf: string): void {
    const all = this.#load();
    if (!(bdf in all)) return;
    delete all[bdf];
    this.#save(all);
  }

  #load(): Record<string, BindRecord> {
    let text: string;
    try {
      text = Deno.readTextFileSync(this.path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return {};
      throw e;
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) {
        return parsed as Record<string, BindRecord>;
      }
    } catch {
      // reported below
    }
    throw new Error(`Cannot read bind state ${this.path}: it is not a JSON object: delete it to start over`);
  }

  #save(all: Record<string, BindRecord>): void {
    const dir = this.path.slice(0, this.path.lastIndexOf("/")) || "/";
    Deno.mkdirSync(dir, { recursive: true });
    const tmp = `${this.path}.${Deno.pid}.tmp`;
    Deno.writeTextFileSync(tmp, JSON.stringify(all, null, 2) + "\n");
    Deno.renameSync(tmp, this.path);
  }
}
