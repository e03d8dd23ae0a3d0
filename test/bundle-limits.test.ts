// Values read from a bundle's files are bounded like options are: a config declaring a context
// length or image size large enough to exhaust memory fails at load with ERR_MODEL_LOAD (it used to
// allocate later, or crash). See docs/models.md.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { load, loadTokenizer } from '../lib/index';
import { rejection, repoRoot, scratchDirs, tinyBundle } from './helpers';

const scratch = scratchDirs('crossmodal-bundle-limits-');
const tinyOpenClip = path.join(repoRoot, 'test', 'fixtures', 'tiny-openclip');

function copyWith(source: string, edits: Record<string, (json: Record<string, unknown>) => void>): string {
  const dir = scratch();
  fs.cpSync(source, dir, { recursive: true });
  for (const [file, edit] of Object.entries(edits)) {
    const full = path.join(dir, file);
    const json = JSON.parse(fs.readFileSync(full, 'utf8')) as Record<string, unknown>;
    edit(json);
    fs.writeFileSync(full, JSON.stringify(json));
  }
  return dir;
}

describe('context lengths from files', () => {
  // model_max_length would otherwise lower the declared length; removed so the huge one applies.
  const hugeContext = (value: number) =>
    copyWith(tinyBundle, {
      'config.json': (j) => ((j.text_config as Record<string, unknown>).max_position_embeddings = value),
      'tokenizer_config.json': (j) => delete j.model_max_length,
    });

  it('a declared context length of 10^12 is ERR_MODEL_LOAD for models and tokenizers', async () => {
    const dir = hugeContext(1e12);
    const error = await rejection(load(dir, { device: 'cpu', warmup: false }));
    expect(error.code).toBe('ERR_MODEL_LOAD');
    expect(error.message).toContain('context length');
    expect((await rejection(loadTokenizer(dir))).code).toBe('ERR_MODEL_LOAD');
    // The contextLength option is the caller's explicit choice and overrides the file.
    const tokenizer = await loadTokenizer(dir, { contextLength: 77 });
    expect(tokenizer.info.contextLength).toBe(77);
    tokenizer.dispose();
  });

  it('up to 65536 loads', async () => {
    const tokenizer = await loadTokenizer(hugeContext(65536));
    expect(tokenizer.info.contextLength).toBe(65536);
    tokenizer.dispose();
    expect((await rejection(loadTokenizer(hugeContext(65537)))).code).toBe('ERR_MODEL_LOAD');
  });
});

describe('image sizes from files', () => {
  it('preprocessor_config.json sizes beyond 4096 are ERR_MODEL_LOAD', async () => {
    for (const edit of [
      (j: Record<string, unknown>) => (j.crop_size = { height: 1_000_000, width: 1_000_000 }),
      (j: Record<string, unknown>) => (j.size = { shortest_edge: 4097 }),
    ]) {
      const dir = copyWith(tinyBundle, { 'preprocessor_config.json': edit });
      const error = await rejection(load(dir, { device: 'cpu', warmup: false }));
      expect(error.code).toBe('ERR_MODEL_LOAD');
      expect(error.message).toContain('1..4096');
    }
  });

  it("open_clip's preprocess_cfg.json size, including values beyond int, is ERR_MODEL_LOAD", async () => {
    for (const size of [5000, 2 ** 40]) {
      const dir = copyWith(tinyOpenClip, { 'preprocess_cfg.json': (j) => (j.size = size) });
      expect((await rejection(load(dir, { device: 'cpu', warmup: false }))).code, String(size)).toBe('ERR_MODEL_LOAD');
    }
  });
});
