// Species presets for the simulated RBC/PLT channel. Values are typical of veterinary hematology
// (canine MCV ≈ 60–77 fL, feline ≈ 39–55 fL; feline platelets are large — MPV often 12–18 fL — and
// clump readily, so feline platelet aggregates reach red-cell size; canine platelets stay small and
// well separated from red cells). Ranges are per-sample variation drawn by the simulator.

export type Species = 'dog' | 'cat';
export const SPECIES: readonly Species[] = ['dog', 'cat'];

export interface SpeciesPreset {
  species: Species;
  /** Mean corpuscular volume (fL) of the species; each sample's MCV varies around it. */
  mcv: number;
  /** Log-sd of one sample's MCV around the species MCV (between-animal variation). */
  mcvSampleSigma: number;
  /** Log-sd of red-cell volume within a sample (≈ RDW-CV). */
  rdw: number;
  /** Disc diameter (µm) = k · V^(1/3), V in fL: 70 fL → 7.0 µm (dog), 45 fL → 6.0 µm (cat). */
  rbcDiameterK: number;
  /** Mean platelet volume (fL) and its within-sample log-sd. */
  mpv: number;
  mpvSigma: number;
  /** Per-sample ranges (inclusive-exclusive) of the population shares, in percent. */
  pltPct: [number, number];
  reticPct: [number, number];
  clumpPct: [number, number];
  debrisPct: [number, number];
  coincidencePct: [number, number];
  /** Share (%) of platelet events that are platelet aggregates, and aggregate size (platelets). */
  pltClumpPct: [number, number];
  pltClumpSize: [number, number];
  /** Median reticulocyte RNA fluorescence (units of mature-RBC autofluorescence). */
  reticRnaMedian: number;
}

export const PRESETS: Record<Species, SpeciesPreset> = {
  dog: {
    species: 'dog',
    mcv: 70,
    mcvSampleSigma: 0.05,
    rdw: 0.13,
    rbcDiameterK: 7.0 / Math.cbrt(70),
    mpv: 9,
    mpvSigma: 0.3,
    pltPct: [1, 8],
    reticPct: [0.2, 15],
    clumpPct: [0, 5],
    debrisPct: [0, 1],
    coincidencePct: [0.2, 1.5],
    pltClumpPct: [0, 3],
    pltClumpSize: [2, 4],
    reticRnaMedian: 10,
  },
  cat: {
    species: 'cat',
    mcv: 45,
    mcvSampleSigma: 0.06,
    rdw: 0.16,
    rbcDiameterK: 7.0 / Math.cbrt(70), // same disc shape; the smaller volume gives ≈ 6.0 µm
    mpv: 15,
    mpvSigma: 0.42,
    pltPct: [1, 8],
    reticPct: [0.2, 15],
    clumpPct: [0, 5],
    debrisPct: [0, 1],
    coincidencePct: [0.2, 1.5],
    // Feline platelets aggregate in most EDTA samples: a large share of platelet events are clumps
    // of 2–8 platelets, i.e. 30–120 fL, right over the red-cell volume peak.
    pltClumpPct: [10, 40],
    pltClumpSize: [2, 8],
    // Feline "punctate" reticulocytes carry little RNA: the continuum sits lower than in dogs.
    reticRnaMedian: 6,
  },
};

export function presetFor(species: string): SpeciesPreset {
  if (species !== 'dog' && species !== 'cat') throw new Error(`unknown species '${species}': expected one of ${SPECIES.join(', ')}`);
  return PRESETS[species];
}
