// probeImage(bytes): format, stored size and EXIF orientation from an image's headers, read
// synchronously by the native decoders' header parsing (no pixels decoded).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { native } from '../lib/binding';
import { repoRoot } from './helpers';

const fixtureDir = path.join(repoRoot, 'test', 'fixtures', 'images');
interface ManifestImage {
  file: string;
  format: string;
  width: number;
  height: number;
  orientation: number;
}
const manifest = JSON.parse(fs.readFileSync(path.join(fixtureDir, 'manifest.json'), 'utf8')) as {
  images: ManifestImage[];
};
const read = (file: string): Uint8Array => new Uint8Array(fs.readFileSync(path.join(fixtureDir, file)));
const probe = (bytes: Uint8Array) => native().probeImage(bytes);

describe('probeImage', () => {
  it('reads format, size and orientation of every fixture (PNG, JPEG, WebP, GIF)', () => {
    const formats = new Set<string>();
    for (const image of manifest.images) {
      const header = probe(read(image.file));
      expect(header, image.file).not.toBeNull();
      formats.add(header!.format);
      expect(header!.format, image.file).toBe(image.format.toLowerCase());
      // The manifest records Pillow's size of the file as stored (Image.open().size).
      expect([header!.width, header!.height], image.file).toEqual([image.width, image.height]);
      expect(header!.orientation, image.file).toBe(image.file.includes('exif_orientation') ? image.orientation : 0);
    }
    expect([...formats].sort()).toEqual(['gif', 'jpeg', 'png', 'webp']);
  });

  it('accepts Buffers and views into a larger buffer', () => {
    const bytes = read('png_rgb_333x217.png');
    expect(probe(Buffer.from(bytes))).toEqual({ format: 'png', width: 333, height: 217, orientation: 0 });
    const padded = new Uint8Array(bytes.length + 100);
    padded.set(bytes, 37);
    expect(probe(padded.subarray(37, 37 + bytes.length))).toEqual({
      format: 'png',
      width: 333,
      height: 217,
      orientation: 0,
    });
  });

  it('returns null for truncated headers and needs only the headers', () => {
    for (const file of [
      'png_rgb_333x217.png',
      'jpeg_baseline_640x427.jpg',
      'webp_lossy_301x201.webp',
      'gif_palette_200x150.gif',
    ]) {
      const bytes = read(file);
      const full = probe(bytes)!;
      // Cut inside the signature or the first header: nothing to report.
      for (const cut of [0, 1, 4, 12]) expect(probe(bytes.subarray(0, cut)), `${file} cut at ${cut}`).toBeNull();
      // Cut well after the headers (image data missing): the headers still answer.
      const half = probe(bytes.subarray(0, Math.floor(bytes.length / 2)));
      expect(half, `${file} cut in half`).toEqual(full);
    }
  });

  it('returns null for garbage and for formats it does not decode', () => {
    expect(probe(new Uint8Array(0))).toBeNull();
    expect(probe(new Uint8Array(4096).fill(0x5a))).toBeNull();
    const random = new Uint8Array(4096);
    let x = 12345;
    for (let i = 0; i < random.length; i++) random[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    expect(probe(random)).toBeNull();
    // A BMP header and a PNG signature followed by garbage instead of IHDR.
    expect(
      probe(
        new Uint8Array([0x42, 0x4d, 0x3e, 0, 0, 0, 0, 0, 0, 0, 0x3e, 0, 0, 0, 0x28, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]),
      ),
    ).toBeNull();
    const png = read('png_1x1.png').slice();
    png.fill(0x41, 12, 16); // chunk type "AAAA" instead of "IHDR"
    expect(probe(png)).toBeNull();
  });

  it('rejects anything but bytes with ERR_INVALID_ARGUMENT', () => {
    for (const bad of ['not bytes', 42, null, undefined, new Float32Array(4), [0x89, 0x50]]) {
      expect(() => probe(bad as unknown as Uint8Array)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
  });
});
