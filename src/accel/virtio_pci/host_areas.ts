/**
 * What the host allocates when it opens the device: the handshake's findings, MSI-X (configuration on vector 0,
 * data queue i on 1 + i), the control queue's DMA area and one DMA area per data queue, each with the step that
 * undoes it if a later one fails.
 *
 * @module
 */

import { controlAreaSize } from "./control.ts";
import { dataAreaSize } from "./data_path.ts";
import { queueShape, type ResolvedOptions } from "./engine_options.ts";
import type { DmaArea, MsixPort, VirtioPciPort } from "./port.ts";
import { handshake } from "./start.ts";

/** The device's parts, allocated. */
export interface Parts {
  readonly handshake: ReturnType<typeof handshake>;
  readonly msix: MsixPort | null;
  readonly control: DmaArea;
  readonly data: readonly DmaArea[];
}

/**
 * Handshake, MSI-X, DMA areas.
 *
 * @param port The device.
 * @param resolved The host's options.
 * @param undo Where each step's undo is pushed.
 * @returns The parts.
 */
export function allocate(port: VirtioPciPort, resolved: ResolvedOptions, undo: (() => void)[]): Parts {
  const h = handshake(port.transport);
  const shape = queueShape(h, resolved);
  const msix = resolved.completions === "interrupt" ? port.enableMsix(1 + shape.dataQueues) : null;
  if (msix !== null) undo.push(() => msix.close());
  port.setBusMaster(true);
  const control = port.dma.allocate(controlAreaSize(h.config.maxCipherKeyLen + h.config.maxAuthKeyLen));
  undo.push(() => port.dma.free(control));
  const data: DmaArea[] = [];
  for (let i = 0; i < shape.dataQueues; i++) {
    const area = port.dma.allocate(dataAreaSize({ ...shape.data, index: i, vector: 0 }));
    data.push(area);
    undo.push(() => port.dma.free(area));
  }
  return { handshake: h, msix, control, data };
}
