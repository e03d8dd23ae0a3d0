/**
 * Self-contained HTML pages (the demo's results, `search --html`, `eval --html`): images inline as
 * data URIs, styles inline, no script and nothing fetched, so a page can be mailed or archived.
 */
import * as fs from 'node:fs';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

/** MIME type from the first bytes (never from a file name), or null when not an image we inline. */
export function imageMime(bytes: Uint8Array): string | null {
  const b = bytes;
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'image/png';
  if (b.length >= 6 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46) return 'image/gif';
  if (
    b.length >= 12 &&
    b[0] === 0x52 &&
    b[1] === 0x49 &&
    b[2] === 0x46 &&
    b[3] === 0x46 &&
    b[8] === 0x57 &&
    b[9] === 0x45
  )
    return 'image/webp';
  return null;
}

/** A data URI of an image file or bytes; null when unreadable or not an image. */
export function imageDataUri(source: string | Uint8Array): string | null {
  let bytes: Uint8Array;
  try {
    bytes = typeof source === 'string' ? fs.readFileSync(source) : source;
  } catch {
    return null;
  }
  const mime = imageMime(bytes);
  return mime
    ? `data:${mime};base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}`
    : null;
}

export interface Tile {
  /** Data URI, or null for a text-only tile. */
  image: string | null;
  caption: string;
  score?: number;
  /** true: a correct hit, false: a wrong one, undefined: not judged. */
  correct?: boolean;
}

/** One row of thumbnails under a heading. */
export function tileRow(heading: string, tiles: Tile[], note = ''): string {
  const cells = tiles
    .map((t) => {
      const mark =
        t.correct === undefined ? '' : t.correct ? '<span class="mark ok">✓</span>' : '<span class="mark bad">✗</span>';
      const img = t.image
        ? `<img src="${t.image}" alt="${escapeHtml(t.caption)}" width="128" height="128">`
        : '<div class="noimg"></div>';
      const score = t.score === undefined ? '' : `<span class="score">${t.score.toFixed(3)}</span>`;
      const cls = t.correct === undefined ? '' : t.correct ? ' ok' : ' bad';
      return `<figure class="tile${cls}">${img}<figcaption>${mark}${score}<span class="cap">${escapeHtml(t.caption)}</span></figcaption></figure>`;
    })
    .join('');
  return `<section class="query"><h2>${escapeHtml(heading)}</h2>${note ? `<p class="note">${escapeHtml(note)}</p>` : ''}<div class="row">${cells}</div></section>`;
}

/** A simple table; cells are escaped. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const head = headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(String(c))}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** The whole page. `body` is trusted HTML built with the helpers above. */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2330;background:#fafbfc}
h1{font-size:22px;margin:0 0 8px} h2{font-size:16px;margin:18px 0 6px}
.note{color:#5a6372;margin:2px 0 8px}
.row{display:flex;flex-wrap:wrap;gap:10px}
.tile{margin:0;width:140px;padding:6px;background:#fff;border:2px solid #d8dde6;border-radius:6px}
.tile.ok{border-color:#2f9e44}.tile.bad{border-color:#e03131}
.tile img{display:block;width:128px;height:128px;object-fit:cover;border-radius:3px}
.noimg{width:128px;height:128px;background:#eef0f4}
figcaption{font-size:12px;margin-top:4px;word-wrap:break-word}
.mark{font-weight:bold;margin-right:4px}.mark.ok{color:#2f9e44}.mark.bad{color:#e03131}
.score{font-variant-numeric:tabular-nums;margin-right:6px;color:#364fc7}
.cap{display:block;color:#3b4252}
table{border-collapse:collapse;margin:8px 0;background:#fff}
th,td{border:1px solid #d8dde6;padding:4px 10px;text-align:right}th{background:#eef0f4}
td:first-child,th:first-child{text-align:left}
</style></head><body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>
`;
}
