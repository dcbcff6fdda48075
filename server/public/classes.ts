// Class colours and labels, and the one share convention the page uses everywhere (the analyzer's,
// as the pipeline's summary reports it): PLT % of all events; RETIC % and CLUMP % of the red-cell
// events (rbc + reticulocyte + clumped). The table, the bars and the donut all show these numbers.
import { CLASSES, type SampleSummary } from '../../bindings/browser.js';

export { CLASSES };
export const COLORS: Record<string, string> = { platelet: '#7b3fa0', rbc: '#c0392b', reticulocyte: '#2e86de', clumped_rbc: '#e08a1e' };
export const LABELS: Record<string, string> = { platelet: 'platelet', rbc: 'RBC', reticulocyte: 'reticulocyte', clumped_rbc: 'clumped RBC' };

export interface Share {
  key: 'plt_pct' | 'retic_pct' | 'clump_pct';
  cls: string;
  label: string;
  of: string;
}

export const SHARES: readonly Share[] = [
  { key: 'plt_pct', cls: 'platelet', label: 'PLT', of: 'of all events' },
  { key: 'retic_pct', cls: 'reticulocyte', label: 'RETIC', of: 'of red-cell events' },
  { key: 'clump_pct', cls: 'clumped_rbc', label: 'CLUMP', of: 'of red-cell events' },
];

export const shareOf = (s: SampleSummary, key: Share['key']) => s.percentages[key];

/** The class with the highest probability for event i. */
export function argmax(p: Float32Array, i: number, k = CLASSES.length): number {
  let best = 0;
  for (let c = 1; c < k; c++) if (p[i * k + c]! > p[i * k + best]!) best = c;
  return best;
}
