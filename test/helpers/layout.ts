// The layout module plus a one-line rendering of a layout for assertions.
import type { ChannelLayout } from '../../bindings/pipeline/layout.js';

export * from '../../bindings/pipeline/layout.js';

/** ['FSC:FSC-H,FSC-A', …]: each role's channel columns in the pipeline's order. */
export function summaryOf(L: ChannelLayout): string[] {
  return L.groups.map((g) => `${g.role}:${g.columns.join(',')}`);
}
