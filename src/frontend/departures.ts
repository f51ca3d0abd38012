/**
 * Departures from the virtio and vhost-user specs a driver saw in a device's behaviour, counted per kind with the
 * first example, for `cryptobridge bench` to report instead of hanging or stopping with a bare error. Pure: the
 * load generator decides what it saw, this module keeps count and says it in words.
 *
 * @module
 */

/**
 * What a device did wrong:
 * - `used-id-not-in-flight`: a used element's id is not a head in flight (unknown, or completed already).
 * - `used-entry-stale`: a used element names a head in flight whose request the device has not finished (its
 *   status byte is still unwritten): an entry left from an earlier lap, as when a device writes each element at
 *   the slot numbered by its head instead of at `used.idx`.
 * - `used-len`: `len` is not the bytes the device wrote into the chain's writable buffers.
 * - `used-idx-ahead`: `used.idx` ran more than the queue size ahead of the driver.
 * - `never-completed`: requests in flight and no completion for the stall time.
 * - `notification-missing`: completions published, but no call signal although the driver asked for one.
 * - `notified-while-suppressed`: a call eventfd signal while the driver had suppressed notifications (EVENT_IDX:
 *   `used_event` half the index space ahead; otherwise VRING_AVAIL_F_NO_INTERRUPT).
 * - `kick-needed-while-suppressed`: the device suppressed kicks (VRING_USED_F_NO_NOTIFY or `avail_event`), then
 *   served nothing until a kick was sent anyway.
 */
export const DEPARTURE_KINDS = [
  "used-id-not-in-flight",
  "used-entry-stale",
  "used-len",
  "used-idx-ahead",
  "never-completed",
  "notification-missing",
  "notified-while-suppressed",
  "kick-needed-while-suppressed",
] as const;

/** A kind of departure (`DEPARTURE_KINDS`). */
export type DepartureKind = typeof DEPARTURE_KINDS[number];

/** The rule each kind breaks (virtio 1.2 sections). */
export const DEPARTURE_RULES: Readonly<Record<DepartureKind, string>> = {
  "used-id-not-in-flight": "virtio 1.2 2.7.8: id is the head of a descriptor chain the driver made available",
  "used-entry-stale": "virtio 1.2 2.7.8: used.idx is where the device puts the next used element, in order",
  "used-len": "virtio 1.2 2.7.8: len is the total of bytes written into the chain's device-writable buffers",
  "used-idx-ahead":
    "virtio 1.2 2.7.8: used.idx counts the elements written; at most queue size are in flight",
  "never-completed":
    "virtio 1.2 5.9.7: every request is answered, one the device cannot serve with an error status",
  "notification-missing":
    "virtio 1.2 2.7.7.2: the device MUST notify when used.idx reaches used_event (or flags is 0)",
  "notified-while-suppressed":
    "virtio 1.2 2.7.7.2: the device SHOULD NOT notify once the driver suppressed it",
  "kick-needed-while-suppressed":
    "virtio 1.2 2.7.10: a device that suppresses notifications finds new buffers without one",
};

/** The first occurrence of a departure. */
export interface DepartureExample {
  /** The request's number in the run (0-based), when one request is concerned. */
  readonly request?: number;
  /** The used ring index the element was read at. */
  readonly usedIndex?: number;
  /** The head id of the element. */
  readonly head?: number;
  /** What the spec asks for. */
  readonly expected: number | string;
  /** What the device did. */
  readonly seen: number | string;
}

/** One kind of departure, as reported (`bench --json`: each case's `departures`). */
export interface Departure {
  readonly kind: DepartureKind;
  /** Occurrences (signals, for `notified-while-suppressed`; requests, for `never-completed`). */
  readonly count: number;
  readonly rule: string;
  readonly first: DepartureExample;
}

/** Counts departures by kind, keeping the first example of each. */
export class DepartureLog {
  readonly #counts = new Map<DepartureKind, { count: number; first: DepartureExample }>();

  /**
   * Records `n` occurrences of a kind.
   *
   * @param kind What happened.
   * @param example Kept when it is the first of its kind.
   * @param n Occurrences, default 1.
   */
  record(kind: DepartureKind, example: DepartureExample, n = 1): void {
    const entry = this.#counts.get(kind);
    if (entry === undefined) this.#counts.set(kind, { count: n, first: example });
    else entry.count += n;
  }

  /** Occurrences of every kind. */
  get total(): number {
    let n = 0;
    for (const e of this.#counts.values()) n += e.count;
    return n;
  }

  /** Occurrences of one kind. */
  count(kind: DepartureKind): number {
    return this.#counts.get(kind)?.count ?? 0;
  }

  /** The departures seen, in `DEPARTURE_KINDS` order. */
  list(): Departure[] {
    const out: Departure[] = [];
    for (const kind of DEPARTURE_KINDS) {
      const e = this.#counts.get(kind);
      if (e !== undefined) out.push({ kind, count: e.count, rule: DEPARTURE_RULES[kind], first: e.first });
    }
    return out;
  }
}

/**
 * One line for a departure: kind, count and first example.
 *
 * @param d The departure.
 * @returns E.g. `used-len ×3 (first: request 7, head 7, used index 7: expected 65, seen 0)`.
 */
export function describeDeparture(d: Departure): string {
  const f = d.first;
  const where = [
    f.request !== undefined ? `request ${f.request}` : "",
    f.head !== undefined ? `head ${f.head}` : "",
    f.usedIndex !== undefined ? `used index ${f.usedIndex}` : "",
  ].filter((s) => s !== "").join(", ");
  return `${d.kind} ×${d.count} (first: ${
    where === "" ? "" : `${where}: `
  }expected ${f.expected}, seen ${f.seen})`;
}
