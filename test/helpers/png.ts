// A minimal PNG reader for the reference images (8-bit RGB, not interlaced), independent of
// the native decoders under test.
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';

export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array; // RGB, row-major
}

export function readPngRgb(file: string): RgbImage {
  const buf = fs.readFileSync(file);
  if (buf.subarray(0, 8).toString('latin1') !== '\x89PNG\r\n\x1a\n') throw new Error(`${file}: not a PNG`);
  let pos = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (pos < buf.length) {
    const length = buf.readUInt32BE(pos);
    const type = buf.subarray(pos + 4, pos + 8).toString('latin1');
    const body = buf.subarray(pos + 8, pos + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      if (body[8] !== 8 || body[9] !== 2 || body[12] !== 0)
        throw new Error(`${file}: expected 8-bit RGB, not interlaced`);
    } else if (type === 'IDAT') {
      idat.push(body);
    } else if (type === 'IEND') {
      break;
    }
    pos += 12 + length;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * 3;
  const out = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)] as number;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = y * stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= 3 ? (out[row + x - 3] as number) : 0;
      const b = y > 0 ? (out[row - stride + x] as number) : 0;
      const c = x >= 3 && y > 0 ? (out[row - stride + x - 3] as number) : 0;
      let predictor = 0;
      if (filter === 1) predictor = a;
      else if (filter === 2) predictor = b;
      else if (filter === 3) predictor = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else if (filter !== 0) throw new Error(`${file}: bad filter ${filter}`);
      out[row + x] = ((line[x] as number) + predictor) & 0xff;
    }
  }
  return { width, height, data: out };
}
