// Static files (the page, the browser bundle, the wasm builds) behind a small interface, so the
// app itself needs no file system; the Node implementation is assets-fs.ts.
export interface AssetSource {
  /** `path` is the URL path ('/', '/browser/app.js', '/build/x.wasm'); null when there is none. */
  get(path: string): Promise<{ body: Uint8Array; type: string } | null>;
}
