/**
 * Circles in an import graph, for `check_layers.ts`: the strongly connected components (Tarjan), and in each one
 * the shortest circle through its first node, with the import that closes it.
 *
 * @module
 */

/** One import: `from` imports `to`. */
export interface ImportEdge {
  readonly from: string;
  readonly to: string;
  /** `import type`: erased at run time, but still an arrow on the map. */
  readonly typeOnly: boolean;
}

/** A circle: the nodes in import order (the first repeated at the end) and the edge back to the first. */
export interface Cycle {
  readonly path: readonly string[];
  readonly closing: ImportEdge;
}

function adjacency(edges: readonly ImportEdge[]): Map<string, ImportEdge[]> {
  const out = new Map<string, ImportEdge[]>();
  for (const e of edges) {
    const list = out.get(e.from) ?? [];
    if (!list.some((x) => x.to === e.to)) list.push(e);
    out.set(e.from, list);
    if (!out.has(e.to)) out.set(e.to, []);
  }
  for (const list of out.values()) list.sort((a, b) => a.to.localeCompare(b.to));
  return out;
}

/** Tarjan's algorithm, iterative (deep import chains must not overflow the stack). */
function components(graph: Map<string, ImportEdge[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const result: string[][] = [];
  let next = 0;
  for (const root of [...graph.keys()].sort()) {
    if (index.has(root)) continue;
    const work: { node: string; i: number }[] = [{ node: root, i: 0 }];
    index.set(root, next);
    low.set(root, next++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const edges = graph.get(frame.node)!;
      if (frame.i < edges.length) {
        const to = edges[frame.i++]!.to;
        if (!index.has(to)) {
          index.set(to, next);
          low.set(to, next++);
          stack.push(to);
          onStack.add(to);
          work.push({ node: to, i: 0 });
        } else if (onStack.has(to)) low.set(frame.node, Math.min(low.get(frame.node)!, index.get(to)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) !== index.get(frame.node)) continue;
      const component: string[] = [];
      for (let n = stack.pop()!;; n = stack.pop()!) {
        onStack.delete(n);
        component.push(n);
        if (n === frame.node) break;
      }
      result.push(component.sort());
    }
  }
  return result;
}

/** Breadth-first: the shortest way from `start` back to itself inside one component. */
function shortestCircle(graph: Map<string, ImportEdge[]>, members: Set<string>, start: string): Cycle {
  const via = new Map<string, ImportEdge>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head]!;
    for (const e of graph.get(node)!) {
      if (!members.has(e.to)) continue;
      if (e.to === start) {
        const path = [start];
        for (let n = node; n !== start; n = via.get(n)!.from) path.splice(1, 0, n);
        return { path: [...path, start], closing: e };
      }
      if (!via.has(e.to)) {
        via.set(e.to, e);
        queue.push(e.to);
      }
    }
  }
  throw new Error(`no circle through ${start}`); // unreachable: a component of two or more has one
}

/**
 * One circle per strongly connected component of two or more nodes (or a node that imports itself).
 *
 * @param edges The imports.
 * @returns The circles, in a stable order.
 */
export function findCycles(edges: readonly ImportEdge[]): Cycle[] {
  const graph = adjacency(edges);
  const cycles: Cycle[] = [];
  for (const component of components(graph)) {
    const start = component[0]!;
    const self = graph.get(start)!.find((e) => e.to === start);
    if (component.length === 1 && self === undefined) continue;
    cycles.push(shortestCircle(graph, new Set(component), start));
  }
  return cycles.sort((a, b) => a.path[0]!.localeCompare(b.path[0]!));
}
