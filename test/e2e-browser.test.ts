// End to end in a real Chromium (Debian's /usr/bin/chromium, driven by playwright-core): the
// server (real pipeline, a small demo model trained at startup) serves the page on 127.0.0.1, a
// simulated sample is dropped onto the page, classified in the page on WebGPU (SwiftShader) and on
// WASM, and on the server; the results table must show it and the backends must agree on the
// class shares. `auto` must pick WASM over the software adapter and say why; the analyzer plots
// (volume histogram with the PLT/RBC split, FL vs FSC scattergram) and the event gallery (thumbnails
// per predicted class, each with its probabilities on hover) must be drawn; bad files must
// each leave one error naming the file once, and a sample can be removed from the batch.
// A screenshot goes to test-artifacts/ for a person to look at.
// Without /usr/bin/chromium this file skips loudly; with CI=true a missing browser is a failure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer, type RunningServer } from '../server/node.js';
import { encodeNpy } from '../bindings/io/npy.js';
import { simulateSample } from '../bindings/simulate/index.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dirname, '..', 'test-artifacts');
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  if (process.env.CI === 'true') throw new Error(`e2e-browser: ${CHROMIUM} is missing and CI=true (apt-get install -y chromium)`);
  console.warn(`\n*** e2e-browser: SKIPPED — ${CHROMIUM} not found (apt-get install -y chromium) ***\n`);
}

// force: a model this small does not pass the training quality gate (quality.ts), and these tests are about the service.
const TRAIN = { epochs: 3, clusterIterations: 200, stage2Epochs: 3, stage2PretrainEpochs: 1, cellsPerSample: 1000, force: true };
type Summary = { id: string; cells: number; counts: Record<string, number>; percentages: Record<string, number> };

describe.skipIf(!haveChromium)('browser app in Chromium', () => {
  let srv: RunningServer;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  // Setup runs as a promise of its own so teardown can stop it: when the hook times out (a slow,
  // shared machine), the setup would otherwise go on in the background, launch Chromium after the
  // teardown and keep the test worker alive.
  let setup: Promise<void> | null = null;
  let tornDown = false;
  beforeAll(async () => {
    setup = (async () => {
      execFileSync(process.execPath, [join(import.meta.dirname, '..', 'scripts', 'build-browser.mjs')], { stdio: 'pipe' });
      srv = await startServer({ port: 0, host: '127.0.0.1', backend: 'wasm', handleSignals: false, demo: { samples: 4, cells: 1500, seed: 5 }, trainOptions: TRAIN, log: () => {} });
      await srv.app.demoReady;
      if (tornDown) return;
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      });
      page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      page.on('console', (m) => {
        if (m.type() === 'error') consoleErrors.push(m.text());
      });
      page.on('pageerror', (e) => consoleErrors.push(e.message));
      page.on('response', (r) => {
        if (r.status() >= 400) consoleErrors.push(`HTTP ${r.status()} ${r.url()}`);
      });
      await page.goto(`${srv.url}/`);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    })();
    await setup;
  }, 180_000);

  afterAll(async () => {
    tornDown = true;
    await srv?.close(); // cancels a demo training still running, so an unfinished setup ends too
    await setup?.catch(() => undefined);
    await browser?.close();
  }, 60_000);

  async function runWith(backend: 'auto' | 'webgpu' | 'wasm' | 'server'): Promise<{ summaries: Summary[]; label: string }> {
    await page.evaluate(() => {
      delete document.body.dataset.state;
    });
    if (backend === 'server') await page.check('#server-mode');
    else {
      await page.uncheck('#server-mode');
      await page.selectOption('#backend', backend);
    }
    await page.click('#run');
    await page.waitForSelector('body[data-state="done"], body[data-state="error"]', { timeout: 90_000 });
    const state = await page.evaluate(() => ({ state: document.body.dataset.state, status: document.getElementById('status')!.textContent, label: document.body.dataset.backend ?? '' }));
    expect(state.state, state.status ?? '').toBe('done');
    const summaries = await page.$$eval('#table tbody tr', (rows) => rows.map((r) => JSON.parse((r as HTMLElement).dataset.summary!)));
    return { summaries, label: state.label };
  }

  it('the page is cross-origin isolated and WebGPU is exposed', async () => {
    const env = await page.evaluate(async () => ({ isolated: crossOriginIsolated, gpu: !!navigator.gpu, adapter: !!(await navigator.gpu?.requestAdapter()) }));
    expect(env).toEqual({ isolated: true, gpu: true, adapter: true });
  });

  it('drop a simulated sample; WebGPU, WASM and the server agree on the class shares', async () => {
    const s = simulateSample({ cells: 3000, seed: 4242, sampleIndex: 1 });
    const npy = Buffer.from(encodeNpy([s.cells, s.features.length], s.signals)).toString('base64');
    await page.evaluate((b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'dropped-sample.npy', { type: 'application/octet-stream' }));
      document.getElementById('drop')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, npy);
    await page.waitForSelector('#samples li');
    expect(await page.textContent('#samples li')).toContain('dropped-sample');

    const gpu = await runWith('webgpu');
    expect(gpu.label).toMatch(/^webgpu/);
    expect(gpu.summaries).toHaveLength(1);
    const g = gpu.summaries[0]!;
    expect(g.id).toBe('dropped-sample');
    expect(g.cells).toBe(3000);
    expect(Object.values(g.counts).reduce((a, b) => a + b, 0)).toBe(3000);
    const firstRow = await page.$$eval('#table tbody tr:first-child td', (tds) => tds.map((t) => t.textContent));
    expect(firstRow[0]).toBe('dropped-sample');
    expect(firstRow[1]).toBe((3000).toLocaleString('en-US'));

    const server = await runWith('server');
    expect(server.label).toBe('server');
    const v = server.summaries[0]!;
    // WASM last, so the screenshot below shows an in-page run with its charts and map.
    const wasm = await runWith('wasm');
    expect(wasm.label).toMatch(/^wasm/);
    const w = wasm.summaries[0]!;
    const pct = (x: Summary) => Object.values(x.percentages).map((v) => v.toFixed(3)).join('/');
    console.info(`e2e shares plt/retic/clump %: webgpu ${pct(g)} · wasm ${pct(w)} · server ${pct(v)}`);
    // f32 kernels on different devices: argmax flips only for cells on a decision boundary.
    for (const other of [w, v]) {
      for (const c of ['platelet', 'rbc', 'reticulocyte', 'clumped_rbc']) {
        expect(Math.abs(other.counts[c]! - g.counts[c]!) / 3000, c).toBeLessThan(0.005);
      }
      for (const k of ['plt_pct', 'retic_pct', 'clump_pct']) expect(Math.abs(other.percentages[k]! - g.percentages[k]!), k).toBeLessThan(0.5);
    }
    expect(await page.locator('#bars svg rect').count()).toBe(3); // PLT, RETIC, CLUMP of the one sample
    // Analyzer plots of the selected sample: every event counted or drawn, and the PLT/RBC split found.
    const plots = await page.evaluate(() => {
      const h = document.getElementById('volume-hist') as HTMLCanvasElement;
      const f = document.getElementById('fl-fsc') as HTMLCanvasElement;
      return { hist: Number(h.dataset.events), split: Number(h.dataset.split), scatter: Number(f.dataset.events), w: h.width, note: document.getElementById('analyzer-note')!.textContent };
    });
    expect(plots.hist, plots.note ?? '').toBeGreaterThan(2900);
    expect(plots.scatter).toBeGreaterThan(2900);
    expect(plots.split).toBeGreaterThan(0);
    expect(plots.w).toBeGreaterThan(0);
    expect(await page.locator('#pie svg path').count()).toBeGreaterThan(0);
    expect(await page.locator('#map svg circle').count()).toBeGreaterThan(1000);
    await page.hover('#map svg circle >> nth=-1'); // the last one drawn is on top
    expect(await page.isVisible('#tooltip')).toBe(true);
    expect(await page.textContent('#tooltip')).toMatch(/platelet: \d/);
    // Event gallery: every class the table counts has thumbnails (its count by most probable class
    // agrees with the table up to the model's reticulocyte calibration), an empty class has a note,
    // and each thumbnail's hover text holds four probabilities that sum to 1.
    const gallery = await page.$$eval('#gallery .gallery-class', (secs) => secs.map((sec) => ({
      cls: (sec as HTMLElement).dataset.class!,
      count: Number((sec as HTMLElement).dataset.count),
      label: sec.getAttribute('aria-label') ?? '',
      titles: [...sec.querySelectorAll('canvas')].map((c) => c.title),
      note: sec.querySelector('p')?.textContent ?? '',
      // Pixels of the first thumbnail that are not its background: a drawn pulse or bar, not a blank box.
      ink: [...sec.querySelectorAll('canvas')].slice(0, 1).map((c) => {
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let k = 0;
        for (let j = 0; j < d.length; j += 4) if (d[j]! < 200) k++;
        return k;
      })[0] ?? 0,
    })));
    expect(gallery.map((s) => s.cls)).toEqual(['platelet', 'rbc', 'reticulocyte', 'clumped_rbc']);
    expect(gallery.reduce((a, s) => a + s.count, 0)).toBe(3000);
    for (const s of gallery) {
      expect(s.label).toMatch(/events/);
      if (s.count === 0) expect(s.note, s.cls).toMatch(/No event/);
      else {
        expect(s.titles.length, s.cls).toBe(Math.min(24, s.count));
        expect(s.ink, s.cls).toBeGreaterThan(50);
      }
    }
    const byClass = Object.fromEntries(gallery.map((s) => [s.cls, s.count]));
    expect(byClass.platelet).toBe(w.counts.platelet);
    expect(byClass.clumped_rbc).toBe(w.counts.clumped_rbc);
    expect(byClass.rbc! + byClass.reticulocyte!).toBe(w.counts.rbc! + w.counts.reticulocyte!); // calibration moves events between these two only
    expect(gallery.filter((s) => s.titles.length > 0).length).toBeGreaterThanOrEqual(2);
    for (const title of gallery.flatMap((s) => s.titles)) {
      expect(title).toMatch(/^event \d+\n/);
      const probs = [...title.matchAll(/: ([\d.]+) %/g)].map((m) => Number(m[1]) / 100);
      expect(probs, title).toHaveLength(4);
      expect(Math.abs(probs.reduce((a, b) => a + b, 0) - 1), title).toBeLessThan(0.003);
    }
    await page.hover('#gallery canvas >> nth=0'); // the title is the hover text; hovering must not throw
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'e2e-browser.png'), fullPage: true });
    expect(consoleErrors).toEqual([]);
  });

  it('auto picks WASM over the software WebGPU adapter and says why', async () => {
    if ((await page.locator('#samples li').count()) === 0) await page.click('#simulate'); // when run alone (-t)
    const auto = await runWith('auto');
    expect(auto.label).toMatch(/^wasm/);
    const why = await page.evaluate(() => document.body.dataset.backendWhy ?? '');
    expect(why).toMatch(/auto → wasm.*software rasteriser/);
    expect(why).toMatch(/swiftshader/i);
    expect(await page.textContent('#backend-why')).toBe(why);
  });

  it('keeps every error, names each file once, and removes one sample from the batch', async () => {
    await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['a,b\n1,x\n'], 'bad-one.csv', { type: 'text/csv' }));
      dt.items.add(new File([new Uint8Array([0x93, 78, 85, 77, 80, 89])], 'bad-two.npy'));
      document.getElementById('drop')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await page.waitForFunction(() => document.querySelectorAll('#errors li').length === 2);
    const errors = await page.$$eval('#errors li span', (els) => els.map((e) => e.textContent ?? ''));
    for (const name of ['bad-one.csv', 'bad-two.npy']) {
      const hits = errors.filter((e) => e.includes(name));
      expect(hits, name).toHaveLength(1);
      expect(hits[0]!.split(name).length - 1, `${name} named once`).toBe(1);
    }
    await page.click('#simulate');
    await page.waitForFunction(() => document.querySelectorAll('#samples li').length === 2);
    await page.click('#samples li:last-child button.remove');
    await page.waitForFunction(() => document.querySelectorAll('#samples li').length === 1);
    expect(await page.textContent('#samples li')).toContain('dropped-sample');
    expect(await page.locator('#table tbody tr').count()).toBe(1);
    await page.click('#clear-errors');
    expect(await page.locator('#errors li').count()).toBe(0);
  });

  it('exports CSV with one row per sample', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    const path = await download.path();
    const { readFileSync } = await import('node:fs');
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('sample,cells,platelet_count,rbc_count,reticulocyte_count,clumped_rbc_count,plt_pct,retic_pct,clump_pct,backend');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^dropped-sample,3000,/);
  });
});
