// The Transformers.js side of the encode benchmark (issue #15): @huggingface/transformers 3.x, the
// library most Node developers reach for first, written as its documentation shows it:
// CLIPVisionModelWithProjection / CLIPTextModelWithProjection + AutoProcessor / AutoTokenizer,
// RawImage.read(path), dtype fp32, device cpu, remote models disabled.
//
// It loads the same bundle as the other sides. Its default file names already match the bundle's
// (CLIPVisionModelWithProjection → onnx/vision_model.onnx, CLIPTextModelWithProjection →
// onnx/text_model.onnx, with dtype fp32 adding no suffix). Two things it needs differently:
//   - it resolves a model id against env.localModelPath (no absolute paths), so the id is the
//     bundle's directory name under its parent directory;
//   - AutoTokenizer reads only tokenizer.json (the fast-tokenizer file), which bundles written by
//     tools/dev/generate_tiny_clip.py lack (they have vocab.json + merges.txt, what the Python
//     CLIPTokenizer reads). For such a bundle a shadow directory is made under bench/.cache/ with
//     symbolic links to every file of the bundle plus a tokenizer.json built from vocab.json and
//     merges.txt exactly as Hugging Face's converter writes CLIP's (openai/clip-vit-base-patch32).
// Threads: `session_options` is passed unchanged to onnxruntime-node's InferenceSession.create
// (src/models.js, getSession), so intraOpNumThreads / interOpNumThreads are the other sides'.
// Transformers.js runs on its own pinned onnxruntime-node (1.21.0 for 3.8), not the peer's.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

// CLIP's tokenizer.json around a vocabulary and merge list (Hugging Face tokenizers' CLIP
// converter): NFC + whitespace collapse + lower case, CLIP's split regex, byte-level BPE with the
// `</w>` end-of-word suffix, <|startoftext|> … <|endoftext|> around every text.
function clipTokenizerJson(vocab, merges) {
  const bos = '<|startoftext|>';
  const eos = '<|endoftext|>';
  if (!(bos in vocab) || !(eos in vocab)) throw new Error(`vocab.json has no ${bos} / ${eos}`);
  const special = (token) => ({
    id: vocab[token],
    content: token,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: true,
    special: true,
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(bos), special(eos)],
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'NFC' },
        { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' },
        { type: 'Lowercase' },
      ],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        {
          type: 'Split',
          pattern: {
            Regex:
              "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+",
          },
          behavior: 'Removed',
          invert: true,
        },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: 'RobertaProcessing',
      sep: [eos, vocab[eos]],
      cls: [bos, vocab[bos]],
      trim_offsets: false,
      add_prefix_space: false,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: eos,
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}

/**
 * Where Transformers.js finds the bundle: `{ localModelPath, modelId, tokenizerGenerated }`.
 * The bundle itself when it has a tokenizer.json, else a shadow directory (see above).
 */
export function transformersBundle(modelDir, cacheRoot) {
  const dir = fs.realpathSync(modelDir);
  if (fs.existsSync(path.join(dir, 'tokenizer.json')))
    return { localModelPath: path.dirname(dir), modelId: path.basename(dir), tokenizerGenerated: false };
  // Keyed by the bundle's real path and its vocabulary files' times, so a regenerated bundle gets
  // a fresh tokenizer.json.
  const stamp = ['vocab.json', 'merges.txt'].map((f) => fs.statSync(path.join(dir, f)).mtimeMs).join(',');
  const key = crypto.createHash('sha1').update(`${dir}\n${stamp}`).digest('hex').slice(0, 10);
  const parent = path.join(cacheRoot, 'transformers-js');
  const modelId = `${path.basename(dir)}-${key}`;
  const shadow = path.join(parent, modelId);
  if (!fs.existsSync(path.join(shadow, 'tokenizer.json'))) {
    // Built in a temporary directory and renamed into place: a half-written shadow is never used.
    const tmp = `${shadow}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    for (const entry of fs.readdirSync(dir)) fs.symlinkSync(path.join(dir, entry), path.join(tmp, entry));
    const vocab = JSON.parse(fs.readFileSync(path.join(dir, 'vocab.json'), 'utf8'));
    const merges = fs
      .readFileSync(path.join(dir, 'merges.txt'), 'utf8')
      .split(/\r?\n/)
      .filter((l) => l.length > 0 && !l.startsWith('#version'));
    fs.writeFileSync(path.join(tmp, 'tokenizer.json'), JSON.stringify(clipTokenizerJson(vocab, merges)));
    fs.rmSync(shadow, { recursive: true, force: true });
    fs.renameSync(tmp, shadow);
  }
  return { localModelPath: parent, modelId, tokenizerGenerated: true };
}

async function importTransformers(modelDir, cacheRoot) {
  const tjs = await import('@huggingface/transformers');
  const where = transformersBundle(modelDir, cacheRoot);
  tjs.env.allowRemoteModels = false; // never the Hub: the local bundle or an error
  tjs.env.allowLocalModels = true;
  tjs.env.localModelPath = where.localModelPath;
  return { tjs, ...where };
}

export async function transformersSide({ modelDir, threads, cacheRoot }) {
  const { tjs, modelId, tokenizerGenerated } = await importTransformers(modelDir, cacheRoot);
  const options = {
    dtype: 'fp32',
    device: 'cpu',
    session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
  };
  const vision = await tjs.CLIPVisionModelWithProjection.from_pretrained(modelId, options);
  const text = await tjs.CLIPTextModelWithProjection.from_pretrained(modelId, options);
  const processor = await tjs.AutoProcessor.from_pretrained(modelId);
  const tokenizer = await tjs.AutoTokenizer.from_pretrained(modelId);
  // Paths, or encoded image bytes (the server benchmark's request bodies).
  const pixels = async (paths) => {
    const images = await Promise.all(
      paths.map((p) => (typeof p === 'string' ? tjs.RawImage.read(p) : tjs.RawImage.fromBlob(new Blob([p])))),
    );
    return (await processor(images)).pixel_values;
  };
  return {
    describe: {
      runtime: `onnxruntime-node ${tjs.env.backends.onnx.versions?.node ?? '?'} (Transformers.js's own copy)`,
      provider: 'cpu',
      transformers: tjs.env.version,
      threads: `session_options { intraOpNumThreads: ${threads}, interOpNumThreads: 1 }`,
      tokenizer: tokenizerGenerated
        ? 'tokenizer.json generated from vocab.json + merges.txt'
        : 'the bundle’s tokenizer.json',
    },
    async embedImages(paths) {
      const { image_embeds } = await vision({ pixel_values: await pixels(paths) });
      return image_embeds.normalize(2, -1).data;
    },
    async embedTexts(texts) {
      // Padded to the longest text of the call, truncated at 77 (model_max_length).
      const inputs = tokenizer(texts, { padding: true, truncation: true });
      const { text_embeds } = await text(inputs);
      return text_embeds.normalize(2, -1).data;
    },
    preprocess: async (paths) => (await pixels(paths)).data,
    dispose: async () => {
      await vision.dispose();
      await text.dispose();
    },
  };
}
