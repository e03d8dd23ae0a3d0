// The demo model's pruned CLIP BPE (models/shapes-clip/vocab.json + merges.txt): crossmodal's
// tokenizer agrees with the independent Python reference (tools/dev/clip_reference) on grammar
// captions and on arbitrary text (byte fallback), and grammar text splits into exactly the
// pieces the full OpenAI vocabulary gives.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTokenizer, rowIds, type Tokenizer } from '../lib/index';
import { repoRoot, tinyBundle } from './helpers';

const bundle = path.join(repoRoot, 'models', 'shapes-clip');
const expectedFile = path.join(repoRoot, 'test', 'fixtures', 'shapes-clip-tokenizer', 'expected.jsonl');
interface Expected {
  kind: 'grammar' | 'arbitrary';
  text: string;
  ids: number[];
}
const parseJsonl = (text: string): Expected[] =>
  text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Expected);
const expected = parseJsonl(fs.readFileSync(expectedFile, 'utf8'));
const vocab = JSON.parse(fs.readFileSync(path.join(bundle, 'vocab.json'), 'utf8')) as Record<string, number>;
const fullVocab = JSON.parse(fs.readFileSync(path.join(tinyBundle, 'vocab.json'), 'utf8')) as Record<string, number>;
const invert = (v: Record<string, number>): string[] => {
  const out: string[] = [];
  for (const [token, id] of Object.entries(v)) out[id] = token;
  return out;
};
const pieces = invert(vocab);
const fullPieces = invert(fullVocab);

let pruned: Tokenizer;
let full: Tokenizer;
beforeAll(async () => {
  pruned = await loadTokenizer(bundle);
  full = await loadTokenizer(tinyBundle);
});
afterAll(() => {
  pruned?.dispose();
  full?.dispose();
});

const idsOf = async (tokenizer: Tokenizer, texts: string[]): Promise<number[][]> => {
  const tokens = await tokenizer.tokenize(texts);
  return texts.map((_, i) => Array.from(rowIds(tokens, i) as Int32Array).slice(0, tokens.lengths[i]));
};

describe('shapes-clip pruned BPE vocabulary', () => {
  it('keeps the 512 byte tokens, ends with <|startoftext|> and <|endoftext|>, and frames texts with them', () => {
    const n = Object.keys(vocab).length;
    expect(pieces.slice(0, 512)).toEqual(fullPieces.slice(0, 512));
    expect(pieces[n - 2]).toBe('<|startoftext|>');
    expect(pieces[n - 1]).toBe('<|endoftext|>');
    const merges = fs
      .readFileSync(path.join(bundle, 'merges.txt'), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    expect(n).toBe(512 + merges.length + 2);
    const info = pruned.info;
    expect(info).toMatchObject({ kind: 'clip-bpe', vocabSize: n, bosId: n - 2, eosId: n - 1, contextLength: 32 });
  });

  it('gives the ids of the Python reference tokenizer for every committed text', async () => {
    expect(expected.length).toBeGreaterThan(900);
    expect(expected.filter((e) => e.kind === 'arbitrary').length).toBeGreaterThan(10);
    const got = await idsOf(
      pruned,
      expected.map((e) => e.text),
    );
    const mismatches = expected.filter((e, i) => JSON.stringify(got[i]) !== JSON.stringify(e.ids));
    expect(mismatches.map((e) => e.text)).toEqual([]);
  });

  it('splits grammar text into the same pieces as the full OpenAI vocabulary', async () => {
    const grammar = expected.filter((e) => e.kind === 'grammar').map((e) => e.text);
    const [a, b] = await Promise.all([idsOf(pruned, grammar), idsOf(full, grammar)]);
    const asPieces = (ids: number[], table: string[]) => ids.slice(1, -1).map((id) => table[id]);
    const differ = grammar.filter(
      (_, i) => JSON.stringify(asPieces(a[i], pieces)) !== JSON.stringify(asPieces(b[i], fullPieces)),
    );
    expect(differ).toEqual([]);
  });

  it('still tokenizes out-of-vocabulary text, falling back to smaller pieces down to bytes', async () => {
    const [oov] = await idsOf(pruned, ['xylophone 🚀']);
    const [fullOov] = await idsOf(full, ['xylophone 🚀']);
    expect(oov.length).toBeGreaterThan(fullOov.length);
    // The emoji's four UTF-8 bytes map to single-byte tokens (ids below 512).
    expect(oov.slice(-5, -1).every((id) => id < 512)).toBe(true);
  });

  const python = '/usr/bin/python3';
  const hasPython =
    fs.existsSync(python) &&
    (() => {
      try {
        execFileSync(python, ['-c', 'import regex, numpy, torch, PIL'], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    })();
  it.skipIf(!hasPython)(
    'the committed expected ids are what the Python reference computes now (needs /usr/bin/python3 + regex, numpy, torch, PIL)',
    () => {
      const out = execFileSync(
        python,
        [path.join(repoRoot, 'models', 'training', 'tokenizer_expected.py'), '--stdout'],
        {
          encoding: 'utf8',
          maxBuffer: 64 << 20,
        },
      );
      expect(parseJsonl(out)).toEqual(expected);
    },
  );
  if (!hasPython)
    console.warn(
      'demo-model-tokenizer: /usr/bin/python3 with regex/numpy/torch/PIL missing, not recomputing the expected ids',
    );
});
