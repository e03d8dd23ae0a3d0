// Bad input rejects with typed errors that carry a stable code, and never crashes the process.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, fromNative } from '../lib/errors';
import { native } from '../lib/binding';
import { createIndex, CrossmodalError, load, loadTokenizer, preprocessImages, type Model } from '../lib/index';
import { readTinyReference, referenceImagePaths, repoRoot, tinyBundle } from './helpers';

let model: Model;
beforeAll(async () => {
  model = await load(tinyBundle, { device: 'cpu' });
});
afterAll(() => model?.dispose());

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CrossmodalError);
    return (error as CrossmodalError).code;
  }
  throw new Error('expected a rejection');
}

describe('load', () => {
  it('rejects a missing directory', async () => {
    expect(await codeOf(load(path.join(os.tmpdir(), 'no-such-bundle-crossmodal')))).toBe('ERR_MODEL_LOAD');
  });

  it('rejects a bundle with a missing file, naming it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crossmodal-bundle-'));
    for (const f of ['config.json', 'preprocessor_config.json', 'vocab.json', 'merges.txt', 'tokenizer_config.json']) {
      fs.copyFileSync(path.join(tinyBundle, f), path.join(dir, f));
    }
    fs.mkdirSync(path.join(dir, 'onnx'));
    fs.copyFileSync(path.join(tinyBundle, 'onnx', 'text_model.onnx'), path.join(dir, 'onnx', 'text_model.onnx'));
    await expect(load(dir)).rejects.toMatchObject({
      code: 'ERR_MODEL_LOAD',
      message: expect.stringContaining('vision_model.onnx'),
    });
    fs.writeFileSync(path.join(dir, 'onnx', 'vision_model.onnx'), 'not an onnx model');
    await expect(load(dir)).rejects.toMatchObject({ code: 'ERR_MODEL_LOAD' });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('rejects malformed JSON in the bundle', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crossmodal-bundle-'));
    fs.cpSync(tinyBundle, dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'preprocessor_config.json'), '{ "size": ');
    await expect(load(dir)).rejects.toMatchObject({
      code: 'ERR_MODEL_LOAD',
      message: expect.stringContaining('preprocessor_config.json'),
    });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('validates options', async () => {
    expect(await codeOf(load(''))).toBe('ERR_INVALID_ARGUMENT');
    expect(await codeOf(load(tinyBundle, { device: 'gpu' as never }))).toBe('ERR_INVALID_ARGUMENT');
    expect(await codeOf(load(tinyBundle, { intraOpThreads: -1 }))).toBe('ERR_INVALID_ARGUMENT');
  });
});

describe('embedding calls', () => {
  it('rejects non-array and non-string texts', async () => {
    expect(await codeOf(model.embedTexts('a cat' as never))).toBe('ERR_INVALID_ARGUMENT');
    expect(await codeOf(model.embedTexts(['ok', 3 as never]))).toBe('ERR_INVALID_ARGUMENT');
  });

  it('names the failing image of a batch', async () => {
    const good = referenceImagePaths(readTinyReference())[0] as string;
    const missing = path.join(os.tmpdir(), 'crossmodal-missing.jpg');
    await expect(model.embedImages([good, missing])).rejects.toMatchObject({
      code: 'ERR_IO',
      message: expect.stringContaining('image 1'),
    });
    await expect(model.embedImages([good, Buffer.from('definitely not an image')])).rejects.toMatchObject({
      code: 'ERR_IMAGE_FORMAT',
      message: expect.stringContaining('image 1'),
    });
  });

  it('rejects truncated and corrupt images without crashing', async () => {
    const bytes = fs.readFileSync(referenceImagePaths(readTinyReference())[0] as string);
    expect(await codeOf(model.embedImages([bytes.subarray(0, bytes.length >> 1)]))).toBe('ERR_IMAGE_DECODE');
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 1, 2, 3]);
    expect(await codeOf(model.embedImages([png]))).toBe('ERR_IMAGE_DECODE');
  });

  it('rejects images over the pixel limit before decoding', async () => {
    const small = await load(tinyBundle, { device: 'cpu', maxPixels: 1000 });
    const file = referenceImagePaths(readTinyReference())[0] as string;
    expect(await codeOf(small.embedImages([file]))).toBe('ERR_IMAGE_TOO_LARGE');
    small.dispose();
  });

  it('rejects malformed raw pixel inputs', async () => {
    expect(await codeOf(model.embedImages([{ data: new Uint8Array(10), width: 2, height: 2, channels: 3 }]))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(
      await codeOf(model.embedImages([{ data: new Uint8Array(8), width: 2, height: 2, channels: 2 as never }])),
    ).toBe('ERR_INVALID_ARGUMENT');
    expect(await codeOf(model.embedImages([42 as never]))).toBe('ERR_INVALID_ARGUMENT');
  });
});

describe('dispose', () => {
  it('is idempotent and makes later calls reject with ERR_DISPOSED', async () => {
    const m = await load(tinyBundle, { device: 'cpu' });
    const pending = m.embedTexts(['still running when disposed']);
    m.dispose();
    m.dispose();
    // A call already started completes normally.
    expect((await pending).count).toBe(1);
    expect(await codeOf(m.embedTexts(['x']))).toBe('ERR_DISPOSED');
    expect(await codeOf(m.embedImages([]))).toBe('ERR_DISPOSED');
  });

  it('applies to indexes too', async () => {
    const index = createIndex({ dim: 2 });
    index.dispose();
    index.dispose();
    expect(await codeOf(index.search(new Float32Array(2), 1))).toBe('ERR_DISPOSED');
    expect(() => index.size).toThrow(CrossmodalError);
  });
});

describe('index arguments', () => {
  it('validates creation options', () => {
    expect(() => createIndex({ dim: 0 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => createIndex({ dim: 4, metric: 'hamming' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });

  it('rejects wrong widths, NaN values, duplicate ids and bad k', async () => {
    const index = createIndex({ dim: 3 });
    expect(await codeOf(index.add(new Float32Array(4)))).toBe('ERR_DIMENSION_MISMATCH');
    expect(await codeOf(index.add(new Float32Array([1, NaN, 0])))).toBe('ERR_INVALID_ARGUMENT');
    await index.add(new Float32Array([1, 0, 0]), [5]);
    expect(await codeOf(index.add(new Float32Array([0, 1, 0]), [5]))).toBe('ERR_INDEX');
    expect(await codeOf(index.add(new Float32Array([0, 1, 0, 0, 0, 1]), [7, 7]))).toBe('ERR_INDEX');
    expect(index.size).toBe(1); // failed adds left nothing behind
    expect(await codeOf(index.add(new Float32Array([0, 1, 0]), [1.5]))).toBe('ERR_INVALID_ARGUMENT');
    expect(await codeOf(index.add(new Float32Array([0, 1, 0]), [-3]))).toBe('ERR_INVALID_ARGUMENT');
    expect(await codeOf(index.search(new Float32Array(3), 0))).toBe('ERR_INVALID_ARGUMENT');
    expect(await codeOf(index.search([1, 2, 3] as never, 1))).toBe('ERR_INVALID_ARGUMENT');
  });
});

describe('error codes', () => {
  // Every `"ERR_…"` string literal in a directory tree (C++ and TypeScript sources).
  function codeLiterals(dir: string, extensions: string[]): Map<string, string> {
    const found = new Map<string, string>();
    const walk = (d: string): void => {
      for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
        const full = path.join(d, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (extensions.some((e) => entry.name.endsWith(e))) {
          for (const m of fs.readFileSync(full, 'utf8').matchAll(/["'](ERR_[A-Z_]+)["']/g))
            found.set(m[1] as string, path.relative(repoRoot, full));
        }
      }
    };
    walk(dir);
    return found;
  }

  it('lists the codes once, in agreement with native/common/error.h', () => {
    const header = fs.readFileSync(path.join(repoRoot, 'native', 'common', 'error.h'), 'utf8');
    const block = /namespace codes \{([\s\S]*?)\}/.exec(header)?.[1] ?? '';
    const nativeCodes = [...block.matchAll(/"(ERR_[A-Z_]+)"/g)].map((m) => m[1] as string);
    expect(nativeCodes.length).toBeGreaterThan(15);
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    // Every native code is a TS code; TS-only are the addon-cannot-load code, the hub's codes and the PostgreSQL store's
    // (lib/hub and lib/collection/postgres run in TypeScript only).
    expect(nativeCodes.filter((c) => !(ERROR_CODES as readonly string[]).includes(c))).toEqual([]);
    expect(ERROR_CODES.filter((c) => !nativeCodes.includes(c)).sort()).toEqual([
      'ERR_HUB',
      'ERR_NATIVE_BINDING',
      'ERR_NOT_FOUND',
      'ERR_STORE',
      'ERR_STORE_UNAVAILABLE',
      'ERR_UNAUTHORIZED',
    ]);
    // The addon's codes keep their identity through fromNative; anything else is ERR_INTERNAL.
    for (const code of nativeCodes) expect(fromNative(Object.assign(new Error('x'), { code })).code).toBe(code);
    expect(fromNative(Object.assign(new Error('x'), { code: 'ERR_NOT_A_CODE' })).code).toBe('ERR_INTERNAL');
  });

  // Node's own error codes that lib/ inspects (never raises): ERR_REQUIRE_ESM in the Parquet
  // writer's loader.
  const NODE_CODES = new Set(['ERR_REQUIRE_ESM']);

  it('uses no code outside the list, in native/ or lib/', () => {
    const known = new Set<string>(ERROR_CODES);
    const strays = [
      ...codeLiterals(path.join(repoRoot, 'native'), ['.cc', '.h']),
      ...codeLiterals(path.join(repoRoot, 'lib'), ['.ts']),
    ]
      .filter(([code]) => !known.has(code) && !NODE_CODES.has(code))
      .map(([code, file]) => `${code} (${file})`);
    expect(strays).toEqual([]);
  });
});

describe('argument limits agree with the addon', () => {
  // TS owns the range checks; at each bound it must accept what the addon accepts, and refuse
  // one step beyond with its own message (naming the option), before the addon is asked.
  it('index parameters: the bounds are accepted natively, one past them refused by TS', () => {
    const bounds: [string, number, number][] = [
      ['M', 4, 256],
      ['efConstruction', 8, 4096],
      ['efSearch', 1, 65536],
      ['nlist', 0, 2 ** 20],
      ['nprobe', 0, 2 ** 20],
      ['trainPerList', 39, 65536],
      ['pqBits', 1, 12],
      ['refineFactor', 0, 1024],
    ];
    for (const [key, min, max] of bounds) {
      for (const ok of [min, max])
        createIndex({ dim: 8, type: key === 'M' || key.startsWith('ef') ? 'hnsw' : 'ivf-flat', [key]: ok }).dispose();
      for (const bad of [min - 1, max + 1]) {
        expect(() => createIndex({ dim: 8, [key]: bad })).toThrow(
          expect.objectContaining({
            code: 'ERR_INVALID_ARGUMENT',
            message: `${key} must be an integer in ${min}..${max}`,
          }),
        );
      }
    }
  });

  it('load: batch sizes up to the addon cap of 4096, queue delay up to 60 s', async () => {
    const big = await load(tinyBundle, {
      device: 'cpu',
      warmup: false,
      maxImageBatchSize: 4096,
      maxTextBatchSize: 1,
      maxQueueDelayMs: 60_000,
      maxQueueSize: 1e9,
    });
    expect(big.info.batching).toMatchObject({
      maxImageBatchSize: 4096,
      maxTextBatchSize: 1,
      maxQueueDelayMs: 60_000,
      maxQueueSize: 1e9,
    });
    big.dispose();
    for (const key of ['maxBatchSize', 'maxImageBatchSize', 'maxTextBatchSize'] as const) {
      await expect(load(tinyBundle, { [key]: 4097 })).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
        message: `options.${key} must be an integer in 1..4096`,
      });
    }
    await expect(load(tinyBundle, { maxQueueDelayMs: 60_001 })).rejects.toMatchObject({
      message: 'options.maxQueueDelayMs must be a number in 0..60000',
    });
    // Thread counts are bounded at 256 (native/common/thread_pool.h kMaxThreads): thousands of
    // threads made a load hang.
    for (const key of ['preprocessThreads', 'intraOpThreads'] as const) {
      await expect(load(tinyBundle, { [key]: 257 })).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
        message: `options.${key} must be an integer in 0..256`,
      });
    }
    await expect(load(tinyBundle, { trimTextPadding: 'no' as never })).rejects.toMatchObject({
      message: 'options.trimTextPadding must be a boolean',
    });
    await expect(load(tinyBundle, { graphOptimizationLevel: 'max' as never })).rejects.toMatchObject({
      message: 'options.graphOptimizationLevel must be one of disabled, basic, extended, all',
    });
  });

  it('preprocessImages threads: at most 256, in TypeScript and natively', async () => {
    const config = path.join(repoRoot, 'test', 'fixtures', 'images', 'configs', 'clip.json');
    await expect(preprocessImages([], config, { threads: 257 })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: 'options.threads must be an integer in 1..256',
    });
    expect(() => native().preprocessImages([], fs.readFileSync(config, 'utf8'), { threads: 257 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });

  it('tokenizer threads and context length', async () => {
    await expect(loadTokenizer(tinyBundle, { threads: 257 })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: 'threads must be an integer in 1..256',
    });
    await expect(loadTokenizer(tinyBundle, { contextLength: 2 ** 20 + 1 })).rejects.toMatchObject({
      message: 'contextLength must be an integer in 1..1048576',
    });
    const tokenizer = await loadTokenizer(tinyBundle, { threads: 256 });
    expect(tokenizer.info.threads).toBe(256);
    tokenizer.dispose();
  });
});
