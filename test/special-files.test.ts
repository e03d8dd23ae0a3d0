// Every file the native core reads (images, index files, a bundle's configs, vocabularies and ONNX
// models) is opened non-blocking and checked to be a regular file before a byte is read: a FIFO
// without a writer used to block a worker thread forever, a directory was reported as an image
// ERR_IMAGE_TOO_LARGE. Such paths now fail at once with ERR_IO; paths holding a NUL byte (which
// the OS would silently cut) with ERR_INVALID_ARGUMENT, in TypeScript and in the addon.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { native } from '../lib/binding';
import { createIndex, load, loadIndex, loadTokenizer, preprocessImages } from '../lib/index';
import { rejection, repoRoot, scratchDirs, tinyBundle } from './helpers';

const clipConfig = path.join(repoRoot, 'test', 'fixtures', 'images', 'configs', 'clip.json');
const image = path.join(repoRoot, 'test', 'fixtures', 'images', 'png_1x1.png');
const scratch = scratchDirs('crossmodal-special-');

function fifo(): string {
  const dir = scratch();
  fs.mkdirSync(dir);
  const file = path.join(dir, 'pipe');
  execFileSync('mkfifo', [file]);
  return file;
}

// Each of these would hang (and time the test out) if a FIFO were opened blocking.
describe('images', () => {
  it('a FIFO, a directory and a character device are ERR_IO; an empty path is refused before any I/O', async () => {
    for (const bad of [fifo(), path.dirname(image), '/dev/zero']) {
      const error = await rejection(preprocessImages([bad], clipConfig));
      expect(error.code, bad).toBe('ERR_IO');
    }
    // The argument checks refuse '' (not a path) before the addon is called; the addon's own
    // refusal of it (ERR_IO) is covered by test/native/reliability_test.cc.
    expect((await rejection(preprocessImages([''], clipConfig))).code).toBe('ERR_INVALID_ARGUMENT');
    const dirError = await rejection(preprocessImages([path.dirname(image)], clipConfig));
    expect(dirError.message).toContain('a directory, not a regular file');
    const fifoError = await rejection(preprocessImages([fifo()], clipConfig));
    expect(fifoError.message).toContain('FIFO');
    // A symlink to a regular file is followed (model caches are made of them).
    const link = path.join(scratch());
    fs.symlinkSync(image, link);
    await expect(preprocessImages([link], clipConfig)).resolves.toMatchObject({ count: 1 });
  });

  it('the model reports the same per image, and keeps working', async () => {
    const model = await load(tinyBundle, { device: 'cpu', warmup: false });
    try {
      const error = await rejection(model.embedImages([image, fifo()]));
      expect(error.code).toBe('ERR_IO');
      expect(error.message).toContain('image 1');
      await expect(model.embedImages([image])).resolves.toMatchObject({ count: 1 });
    } finally {
      model.dispose();
    }
  });

  it('a NUL in a path is refused, not cut (TypeScript and the addon)', async () => {
    const error = await rejection(preprocessImages([`${image}\0.txt`], clipConfig));
    expect(error.code).toBe('ERR_INVALID_ARGUMENT');
    expect(error.message).toContain('NUL');
    // Past the TypeScript check: the addon refuses it too.
    const config = fs.readFileSync(clipConfig, 'utf8');
    const result = await native().preprocessImages([`${image}\0.txt`], config, {});
    expect(result.failures).toEqual([expect.objectContaining({ index: 0, code: 'ERR_INVALID_ARGUMENT' })]);
  });
});

describe('index files', () => {
  it('loading a FIFO, a directory or a device is ERR_IO; a NUL in the path ERR_INVALID_ARGUMENT', async () => {
    for (const bad of [fifo(), scratchDir(), '/dev/zero']) {
      expect((await rejection(loadIndex(bad))).code, bad).toBe('ERR_IO');
      expect((await rejection(loadIndex(bad, { mmap: true }))).code, bad).toBe('ERR_IO');
    }
    const file = path.join(scratch());
    const index = createIndex({ dim: 2 });
    await index.add(new Float32Array([1, 0]));
    await index.save(file);
    expect((await rejection(loadIndex(`${file}\0x`))).code).toBe('ERR_INVALID_ARGUMENT');
    expect((await rejection(index.save(`${file}\0x`))).code).toBe('ERR_INVALID_ARGUMENT');
    await expect(native().VectorIndex.load(`${file}\0x`, {})).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});

function scratchDir(): string {
  const dir = scratch();
  fs.mkdirSync(dir);
  return dir;
}

describe('model bundles', () => {
  function bundleWith(file: string, replace: (target: string) => void): string {
    const dir = scratch();
    fs.cpSync(tinyBundle, dir, { recursive: true });
    const target = path.join(dir, file);
    fs.rmSync(target);
    replace(target);
    return dir;
  }

  it('a FIFO as config.json, vocab.json or an ONNX model is ERR_IO, not a hang', async () => {
    for (const file of ['config.json', 'vocab.json', 'merges.txt', path.join('onnx', 'text_model.onnx')]) {
      const dir = bundleWith(file, (target) => execFileSync('mkfifo', [target]));
      const error = await rejection(load(dir, { device: 'cpu', warmup: false }));
      expect(error.code, file).toBe('ERR_IO');
      expect(error.message, file).toContain('FIFO');
    }
    const tokenizerDir = bundleWith('vocab.json', (target) => execFileSync('mkfifo', [target]));
    expect((await rejection(loadTokenizer(tokenizerDir))).code).toBe('ERR_IO');
  });

  it('a device as a bundle file is ERR_IO; a NUL in the directory ERR_INVALID_ARGUMENT', async () => {
    const dir = bundleWith('preprocessor_config.json', (target) => fs.symlinkSync('/dev/zero', target));
    expect((await rejection(load(dir, { device: 'cpu', warmup: false }))).code).toBe('ERR_IO');
    expect((await rejection(load(`${tinyBundle}\0x`))).code).toBe('ERR_INVALID_ARGUMENT');
    expect((await rejection(loadTokenizer(`${tinyBundle}\0x`))).code).toBe('ERR_INVALID_ARGUMENT');
  });
});
