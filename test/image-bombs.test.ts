// Decompression bombs: tiny files whose headers declare huge images (or huge metadata) are refused
// from the header with ERR_IMAGE_TOO_LARGE, before any pixel buffer is allocated, for every codec;
// compressed metadata is never inflated. The limits are documented in docs/images.md.
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { preprocessImages } from '../lib/index';
import { png1x1, pngChunk, pngIhdr, PNG_SIGNATURE } from './helpers/crafted';
import { rejection, repoRoot } from './helpers';

const clipConfig = path.join(repoRoot, 'test', 'fixtures', 'images', 'configs', 'clip.json');

async function codeOf(bytes: Uint8Array, maxPixels?: number): Promise<string> {
  const error = await rejection(preprocessImages([bytes], clipConfig, maxPixels ? { maxPixels } : {}));
  return error.code;
}

/** SOI + a baseline SOF0 frame header of width × height, 3 components, and nothing else. */
function jpegHeader(width: number, height: number): Buffer {
  const sof = Buffer.from([
    0xff,
    0xc0,
    0x00,
    0x11,
    8,
    height >> 8,
    height & 0xff,
    width >> 8,
    width & 0xff,
    3,
    1,
    0x11,
    0,
    2,
    0x11,
    0,
    3,
    0x11,
    0,
  ]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), sof]);
}

function riff(chunks: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(4 + chunks.length, 4);
  head.write('WEBP', 8, 'latin1');
  return Buffer.concat([head, chunks]);
}

function webpChunk(tag: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.write(tag, 0, 'latin1');
  head.writeUInt32LE(body.length, 4);
  return Buffer.concat([head, body, body.length & 1 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

/** A VP8X (extended) header declaring a canvas of width × height (up to 2^24 each). */
function webpVp8x(width: number, height: number): Buffer {
  const body = Buffer.alloc(10);
  body.writeUIntLE(width - 1, 4, 3);
  body.writeUIntLE(height - 1, 7, 3);
  return riff(webpChunk('VP8X', body));
}

/** A lossless (VP8L) header declaring width × height (up to 2^14 each). */
function webpVp8l(width: number, height: number): Buffer {
  const body = Buffer.alloc(10);
  body[0] = 0x2f;
  body.writeUInt32LE(((width - 1) | ((height - 1) << 14)) >>> 0, 1);
  return riff(webpChunk('VP8L', body));
}

/** GIF89a with a logical screen of sw × sh and optionally one frame descriptor of fw × fh. */
function gif(sw: number, sh: number, frame?: [number, number]): Buffer {
  const head = Buffer.alloc(13);
  head.write('GIF89a', 0, 'latin1');
  head.writeUInt16LE(sw, 6);
  head.writeUInt16LE(sh, 8);
  const parts = [head];
  if (frame) {
    const desc = Buffer.alloc(10);
    desc[0] = 0x2c;
    desc.writeUInt16LE(frame[0], 5);
    desc.writeUInt16LE(frame[1], 7);
    parts.push(desc, Buffer.from([2, 0]));
  }
  parts.push(Buffer.from([0x3b]));
  return Buffer.concat(parts);
}

describe('declared sizes beyond maxPixels are ERR_IMAGE_TOO_LARGE, from the header', () => {
  it('JPEG: a frame header beyond maxPixels or libjpeg limit (used to be ERR_IMAGE_DECODE)', async () => {
    const bomb = jpegHeader(65535, 65535);
    expect(bomb.length).toBeLessThan(32);
    expect(await codeOf(bomb)).toBe('ERR_IMAGE_TOO_LARGE');
    expect(await codeOf(jpegHeader(12000, 12000))).toBe('ERR_IMAGE_TOO_LARGE');
    expect(await codeOf(jpegHeader(2000, 2000), 1_000_000)).toBe('ERR_IMAGE_TOO_LARGE');
    // Within the limit, the same truncated file is what it is: corrupt.
    expect(await codeOf(jpegHeader(64, 64))).toBe('ERR_IMAGE_DECODE');
  });

  it('WebP: VP8X canvases of up to 2^48 pixels and VP8L headers (used to be ERR_IMAGE_DECODE)', async () => {
    expect(await codeOf(webpVp8x(1 << 24, 1 << 24))).toBe('ERR_IMAGE_TOO_LARGE');
    expect(await codeOf(webpVp8x(20000, 20000))).toBe('ERR_IMAGE_TOO_LARGE');
    expect(await codeOf(webpVp8l(16384, 16384))).toBe('ERR_IMAGE_TOO_LARGE');
    expect(await codeOf(webpVp8l(2000, 2000), 1_000_000)).toBe('ERR_IMAGE_TOO_LARGE');
    expect(await codeOf(webpVp8x(64, 64))).toBe('ERR_IMAGE_DECODE');
  });

  it('GIF: the logical screen alone, or the first frame', async () => {
    expect(await codeOf(gif(65535, 65535))).toBe('ERR_IMAGE_TOO_LARGE');
    expect(await codeOf(gif(1, 1, [65535, 65535]))).toBe('ERR_IMAGE_TOO_LARGE');
    expect(await codeOf(gif(2000, 2000), 1_000_000)).toBe('ERR_IMAGE_TOO_LARGE');
  });

  it('PNG: IHDR, and metadata chunks declaring more than 8 MiB', async () => {
    const ihdrOnly = Buffer.concat([PNG_SIGNATURE, pngIhdr(100_000, 100_000)]);
    expect(await codeOf(ihdrOnly)).toBe('ERR_IMAGE_TOO_LARGE');
    for (const type of ['iCCP', 'zTXt', 'iTXt', 'tEXt']) {
      // A 2 GB chunk declared in a 60-byte file (its CRC cannot even be checked).
      const bomb = png1x1(pngChunk(type, Buffer.from('x\0'), 0x7ffffff0));
      const error = await rejection(preprocessImages([bomb], clipConfig));
      expect(error.code).toBe('ERR_IMAGE_TOO_LARGE');
      expect(error.message).toContain(type);
    }
  });
});

describe('compressed metadata is never inflated', () => {
  it('a zTXt / iCCP holding 256 MiB of zeros in 256 KiB decodes quickly, untouched', async () => {
    const zeros = zlib.deflateSync(Buffer.alloc(256 << 20), { level: 9 });
    expect(zeros.length).toBeLessThan(1 << 20);
    const ztxt = pngChunk('zTXt', Buffer.concat([Buffer.from('Comment\0\0', 'latin1'), zeros]));
    const iccp = pngChunk('iCCP', Buffer.concat([Buffer.from('icc\0\0', 'latin1'), zeros]));
    const started = Date.now();
    const result = await preprocessImages([png1x1(ztxt), png1x1(iccp)], clipConfig);
    expect(result.count).toBe(2);
    expect(result.failures).toEqual([]);
    expect(Date.now() - started).toBeLessThan(5000);
    // A damaged CRC on such a chunk is still caught (the chunk is skipped, not ignored).
    const damaged = png1x1(ztxt);
    const crcByte = PNG_SIGNATURE.length + 25 + ztxt.length - 1; // last byte of the zTXt CRC
    damaged[crcByte] = (damaged[crcByte] as number) ^ 0xff;
    expect((await rejection(preprocessImages([damaged], clipConfig))).code).toBe('ERR_IMAGE_DECODE');
  });
});
