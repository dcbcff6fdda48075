// What machine a result was measured on: CPU model and flags, cores, reported clock, memory,
// Node/V8 versions and the 1-minute load average (other processes on the same cores disturb
// timings, so every results file records the load at the start and at the end of the run).
import { readFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, totalmem } from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  /** "family F model M stepping S" from /proc/cpuinfo (a hypervisor may report a generic name). */
  cpuId: string | null;
  cores: number;
  /** Clock the OS reports (MHz); under a hypervisor often the base clock, not the turbo clock. */
  reportedMHz: number | null;
  /** SIMD features relevant to the kernels' native peers (WASM itself only ever uses 128 bits). */
  simdFlags: string[];
  memGiB: number;
  platform: string;
  arch: string;
  node: string;
  v8: string;
  hypervisor: boolean;
}

function cpuinfoField(text: string, key: string): string | null {
  const m = text.match(new RegExp(`^${key}\\s*:\\s*(.*)$`, 'm'));
  return m ? m[1].trim() : null;
}

export function machineInfo(): MachineInfo {
  const c = cpus();
  let text = '';
  try { text = readFileSync('/proc/cpuinfo', 'utf8'); } catch { /* not Linux */ }
  const flags = (cpuinfoField(text, 'flags') ?? '').split(/\s+/);
  const family = cpuinfoField(text, 'cpu family');
  const mhz = cpuinfoField(text, 'cpu MHz');
  return {
    cpuModel: c[0]?.model?.trim() ?? 'unknown',
    cpuId: family ? `family ${family} model ${cpuinfoField(text, 'model')} stepping ${cpuinfoField(text, 'stepping')}` : null,
    cores: c.length,
    reportedMHz: mhz ? Math.round(Number(mhz)) : (c[0]?.speed || null),
    simdFlags: ['sse4_2', 'avx', 'fma', 'avx2', 'avx512f', 'avx512_fp16', 'amx_tile', 'asimd', 'sve'].filter((f) => flags.includes(f)),
    memGiB: Math.round(totalmem() / 2 ** 30),
    platform: platform(),
    arch: arch(),
    node: process.version,
    v8: process.versions.v8,
    hypervisor: flags.includes('hypervisor'),
  };
}

export function load1(): number {
  return Math.round(loadavg()[0] * 100) / 100;
}

/** Short host word for the results file name, e.g. "linux-x64-2c". */
export function hostKind(m: MachineInfo): string {
  return `${m.platform}-${m.arch}-${m.cores}c`;
}
