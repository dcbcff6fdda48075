// Small DOM helpers: element lookup, the status line, the error list and SVG elements.

export const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export function status(text: string): void {
  $('status').textContent = text;
}

export function progress(v: number): void {
  ($('progress') as HTMLProgressElement).value = v;
}

/** Adds an error to the list (every error stays until dismissed; the newest on top). A message that
 *  already starts with its file name is shown as it is, never with the name twice. */
export function showError(message: string, file?: string): void {
  const text = file && !message.startsWith(file) ? `${file}: ${message}` : message;
  const li = document.createElement('li');
  const span = document.createElement('span');
  span.textContent = text;
  const x = document.createElement('button');
  x.type = 'button';
  x.className = 'dismiss';
  x.setAttribute('aria-label', 'dismiss this error');
  x.textContent = '×';
  x.addEventListener('click', () => {
    li.remove();
    $('errors').hidden = $('errors').childElementCount === 0;
  });
  li.append(span, x);
  $('errors').prepend(li);
  $('errors').hidden = false;
}

export function clearErrors(): void {
  $('errors').replaceChildren();
  $('errors').hidden = true;
}

const svgNS = 'http://www.w3.org/2000/svg';
export function el<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, parent?: Element): SVGElementTagNameMap[K] {
  const e = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  parent?.append(e);
  return e;
}

export const fmt = (v: number, d = 2) => v.toFixed(d);
export const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
