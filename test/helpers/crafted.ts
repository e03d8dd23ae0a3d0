// Builders for hand-crafted files (image headers declaring huge sizes, re-checksummed index files),
// independent of the native code under test.
import * as zlib from 'node:zlib';

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (zlib's / PNG's) of `data`. */
export function crc32(data: Uint8Array, crc = 0): number {
  let c = (crc ^ 0xffffffff) >>> 0;
  for (const byte of data) c = ((CRC_TABLE[(c ^ byte) & 0xff] as number) ^ (c >>> 8)) >>> 0;
  return (c ^ 0xffffffff) >>> 0;
}

/** One PNG chunk: length, type, data, CRC. `declaredLength` overrides the length field only. */
export function pngChunk(type: string, data: Uint8Array, declaredLength = data.length): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(declaredLength, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

export const PNG_SIGNATURE = Buffer.from('\x89PNG\r\n\x1a\n', 'latin1');

/** IHDR of an 8-bit RGB, non-interlaced image. */
export function pngIhdr(width: number, height: number): Buffer {
  const body = Buffer.alloc(13);
  body.writeUInt32BE(width, 0);
  body.writeUInt32BE(height, 4);
  body[8] = 8;
  body[9] = 2;
  return pngChunk('IHDR', body);
}

/** A complete 1×1 RGB PNG with `extra` chunks between IHDR and IDAT. */
export function png1x1(...extra: Buffer[]): Buffer {
  const idat = pngChunk('IDAT', zlib.deflateSync(Buffer.from([0, 200, 100, 50])));
  return Buffer.concat([PNG_SIGNATURE, pngIhdr(1, 1), ...extra, idat, pngChunk('IEND', Buffer.alloc(0))]);
}
