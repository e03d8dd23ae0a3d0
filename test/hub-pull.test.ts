// `pull` / `resolveModel` / `crossmodal pull` against a local stand-in for the Hugging Face hub
// (test/helpers/fake-hub.ts, 127.0.0.1 only): the cache layout huggingface_hub uses, resuming,
// verification, auth, errors, stalls, hostile names, offline mode and precision selection. No test
// reaches the internet.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pullSnapshot, selectBundleFiles } from '../lib/hub';
import { hubCacheDir } from '../lib/hub/cache';
import { CrossmodalError, load, pull, resolveModel } from '../lib/index';
import { FakeHub, gitBlobSha1, isLfs, readBundle, sha256 } from './helpers/fake-hub';
import { rejection, repoRoot, scratchDirs, tinyBundle, tinyReferenceDir } from './helpers';

const REPO = 'test-org/tiny-clip';
const bundle = readBundle(tinyBundle);
// What the hub repository holds besides the bundle: files a pull must leave alone.
const extras = new Map<string, Buffer>([
  ['README.md', Buffer.from('# tiny-clip\n')],
  ['.gitattributes', Buffer.from('*.onnx filter=lfs diff=lfs merge=lfs -text\n')],
  ['pytorch_model.bin', Buffer.alloc(200_000, 7)],
]);
const FP32 = [
  'config.json',
  'merges.txt',
  'preprocessor_config.json',
  'special_tokens_map.json',
  'tokenizer_config.json',
  'vocab.json',
  'onnx/text_model.onnx',
  'onnx/vision_model.onnx',
];

const hub = new FakeHub();
let commit = '';
const newDir = scratchDirs('crossmodal-hub-');
const image = path.join(tinyReferenceDir, fs.readdirSync(tinyReferenceDir).find((f) => /\.png$/i.test(f)) as string);

beforeAll(async () => {
  await hub.start();
  commit = hub.publish(REPO, new Map([...bundle, ...extras]));
});
afterAll(() => hub.stop());
afterEach(() => hub.reset());

/** A fresh, empty cache folder and the options pointing pull at the fake hub. */
function fresh(
  extra: Parameters<typeof pull>[1] = {},
): { cacheDir: string; endpoint: string; token: false } & typeof extra {
  const cacheDir = newDir();
  return { cacheDir, endpoint: hub.endpoint, token: false, timeoutMs: 5000, ...extra };
}

const repoDir = (cacheDir: string): string => path.join(cacheDir, 'models--test-org--tiny-clip');
const etagOf = (file: string, bytes: Buffer): string => (isLfs(file) ? sha256(bytes) : gitBlobSha1(bytes));

function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  return fn().finally(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
}

/** Every path below `dir` (relative), to compare whole trees. */
function tree(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (sub: string): void => {
    for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      out.push(rel);
      if (entry.isDirectory()) walk(rel);
    }
  };
  walk('');
  return out.sort();
}

describe('pull from the hub', () => {
  it('downloads exactly the bundle into huggingface_hub’s cache layout, and the snapshot loads and embeds like the original', async () => {
    const options = fresh();
    const from = hub.log.length;
    const dir = await pull(REPO, options);
    const repo = repoDir(options.cacheDir);
    expect(dir).toBe(path.join(repo, 'snapshots', commit));

    // refs/main holds the commit, with no newline (huggingface_hub reads it verbatim).
    expect(fs.readFileSync(path.join(repo, 'refs', 'main'), 'utf8')).toBe(commit);
    // blobs/ holds one file per ETag (SHA-256 for LFS files, git blob SHA-1 otherwise), nothing else.
    const expectedBlobs = FP32.map((f) => etagOf(f, bundle.get(f) as Buffer)).sort();
    expect(fs.readdirSync(path.join(repo, 'blobs')).sort()).toEqual(expectedBlobs);
    for (const f of FP32) {
      const pointer = path.join(dir, ...f.split('/'));
      expect(fs.lstatSync(pointer).isSymbolicLink(), f).toBe(true);
      // snapshots/<commit>/config.json -> ../../blobs/<etag>; snapshots/<commit>/onnx/x.onnx -> ../../../blobs/<etag>
      const ups = Array(f.split('/').length + 1).fill('..');
      expect(fs.readlinkSync(pointer), f).toBe([...ups, 'blobs', etagOf(f, bundle.get(f) as Buffer)].join('/'));
      expect(fs.readFileSync(pointer).equals(bundle.get(f) as Buffer), f).toBe(true);
    }
    expect(tree(dir)).toEqual([...FP32, 'onnx'].sort());

    // Requests: the model API once, then a HEAD and a GET per file; LFS files through the CDN.
    const requests = hub.since(from);
    expect(requests[0]).toMatchObject({ server: 'hub', method: 'GET', path: `/api/models/${REPO}/revision/main` });
    const heads = requests.filter((r) => r.method === 'HEAD').map((r) => r.path);
    expect(heads.sort()).toEqual(FP32.map((f) => `/${REPO}/resolve/${commit}/${f}`).sort());
    expect(requests.filter((r) => r.server === 'cdn').length).toBe(FP32.filter(isLfs).length);
    expect(requests.some((r) => /README|pytorch_model|fp16|gitattributes/.test(r.path))).toBe(false);

    // The snapshot is the fixture bundle: same fingerprint, same embeddings.
    const [pulled, original] = await Promise.all([
      load(dir, { device: 'cpu', warmup: false }),
      load(tinyBundle, { device: 'cpu', warmup: false }),
    ]);
    try {
      expect(pulled.fingerprint).toBe(original.fingerprint);
      expect(pulled.info.precision).toBe('fp32');
      const [a, b] = await Promise.all([
        pulled.embedTexts(['a dog on a beach']),
        original.embedTexts(['a dog on a beach']),
      ]);
      expect(Array.from(a.data)).toEqual(Array.from(b.data));
      const [c, d] = await Promise.all([pulled.embedImages([image]), original.embedImages([image])]);
      expect(Array.from(c.data)).toEqual(Array.from(d.data));
    } finally {
      pulled.dispose();
      original.dispose();
    }

    // A second pull asks the API for the commit and downloads nothing.
    const second = hub.log.length;
    const again = await pullSnapshot(REPO, options);
    expect(again.dir).toBe(dir);
    expect(again.downloadedFiles).toEqual([]);
    expect(hub.since(second).map((r) => `${r.method} ${r.path}`)).toEqual([`GET /api/models/${REPO}/revision/main`]);
    // resolveModel finds it without any request.
    const third = hub.log.length;
    expect(resolveModel(REPO, { cacheDir: options.cacheDir })).toBe(dir);
    expect(hub.log.length).toBe(third);
  });

  it('a new commit downloads only the changed file and shares the other blobs', async () => {
    const repoId = 'test-org/evolving';
    const first = hub.publish(repoId, new Map(bundle));
    const options = fresh();
    const oldDir = await pull(repoId, options);
    const config = JSON.parse((bundle.get('config.json') as Buffer).toString()) as Record<string, unknown>;
    const changed = Buffer.from(JSON.stringify({ ...config, note: 'second commit' }, null, 2));
    const second = hub.publish(repoId, new Map([...bundle, ['config.json', changed]]));
    const result = await pullSnapshot(repoId, options);
    expect(result.commit).toBe(second);
    expect(result.downloadedFiles).toEqual(['config.json']);
    expect(oldDir).toContain(first);
    const repo = path.join(options.cacheDir, 'models--test-org--evolving');
    expect(fs.readFileSync(path.join(repo, 'refs', 'main'), 'utf8')).toBe(second);
    expect(fs.readFileSync(path.join(result.dir, 'config.json')).equals(changed)).toBe(true);
    expect(fs.readFileSync(path.join(oldDir, 'config.json')).equals(bundle.get('config.json') as Buffer)).toBe(true);
    expect(fs.realpathSync(path.join(result.dir, 'onnx', 'vision_model.onnx'))).toBe(
      fs.realpathSync(path.join(oldDir, 'onnx', 'vision_model.onnx')),
    );
    // A pinned revision resolves to its own snapshot, offline too.
    expect(resolveModel(repoId, { cacheDir: options.cacheDir, revision: first })).toBe(oldDir);
  });

  it('resumes a connection dropped mid-file with a Range request, within one pull and across pulls', async () => {
    const file = 'onnx/text_model.onnx';
    const size = (bundle.get(file) as Buffer).length;
    // Within one pull: the retry asks for the rest.
    hub.faults = { dropAfter: new Map([[file, 600_000]]) };
    const options = fresh();
    const from = hub.log.length;
    const dir = await pull(REPO, options);
    const ranged = hub.since(from).filter((r) => r.server === 'cdn' && r.range);
    expect(ranged).toHaveLength(1);
    const offset = Number(/^bytes=(\d+)-$/.exec(ranged[0]?.range ?? '')?.[1]);
    expect(offset).toBeGreaterThan(0);
    expect(offset).toBeLessThanOrEqual(600_000);
    expect(fs.readFileSync(path.join(dir, 'onnx', 'text_model.onnx')).equals(bundle.get(file) as Buffer)).toBe(true);

    // Across pulls: without retries the first pull fails and leaves the .incomplete file; the next resumes it.
    hub.reset();
    hub.faults = { dropAfter: new Map([[file, 900_000]]) };
    const options2 = fresh({ retries: 0 });
    const error = await rejection(pull(REPO, options2));
    expect(error.code).toBe('ERR_IO');
    const incomplete = path.join(
      repoDir(options2.cacheDir),
      'blobs',
      `${sha256(bundle.get(file) as Buffer)}.incomplete`,
    );
    const partial = fs.statSync(incomplete).size;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(size);
    expect(fs.existsSync(path.join(repoDir(options2.cacheDir), 'snapshots'))).toBe(false);
    const before = hub.log.length;
    await pull(REPO, options2);
    const resumed = hub.since(before).filter((r) => r.server === 'cdn' && r.range);
    expect(resumed.map((r) => r.range)).toEqual([`bytes=${partial}-`]);
    expect(fs.existsSync(incomplete)).toBe(false);
    expect(
      fs
        .readFileSync(path.join(repoDir(options2.cacheDir), 'snapshots', commit, 'onnx', 'text_model.onnx'))
        .equals(bundle.get(file) as Buffer),
    ).toBe(true);
  });

  it('starts a file over when the server ignores the Range header', async () => {
    const file = 'onnx/vision_model.onnx';
    hub.faults = { dropAfter: new Map([[file, 200_000]]), ignoreRange: true };
    const options = fresh();
    const dir = await pull(REPO, options);
    expect(fs.readFileSync(path.join(dir, 'onnx', 'vision_model.onnx')).equals(bundle.get(file) as Buffer)).toBe(true);
  });

  it('refuses a file whose hash does not match its ETag: no blob, nothing in snapshots/, no ref', async () => {
    for (const file of ['onnx/vision_model.onnx', 'vocab.json']) {
      hub.reset();
      hub.faults = { wrongEtag: new Set([file]) };
      const options = fresh();
      const error = await rejection(pull(REPO, options));
      expect(error.code).toBe('ERR_HUB');
      expect(error.message).toContain(file);
      expect(error.message).toMatch(isLfs(file) ? /SHA-256/ : /git blob SHA-1/);
      const repo = repoDir(options.cacheDir);
      const blobs = fs.readdirSync(path.join(repo, 'blobs'));
      expect(blobs.some((b) => b.endsWith('.incomplete'))).toBe(false);
      expect(blobs).not.toContain(etagOf(file, bundle.get(file) as Buffer));
      expect(blobs.length).toBeLessThan(FP32.length);
      expect(fs.existsSync(path.join(repo, 'snapshots'))).toBe(false);
      expect(fs.existsSync(path.join(repo, 'refs'))).toBe(false);
    }
  });

  it('401 without a token; with HF_TOKEN it succeeds, and the token never goes to the CDN', async () => {
    hub.faults = { requireToken: 'hf_test_token' };
    const noToken = fresh();
    const error = await rejection(pull(REPO, noToken));
    expect(error.code).toBe('ERR_UNAUTHORIZED');
    expect(error.message).toContain('HF_TOKEN');

    const wrong = await withEnv({ HF_TOKEN: 'hf_wrong' }, () =>
      rejection(pull(REPO, { ...fresh(), token: undefined })),
    );
    expect(wrong.code).toBe('ERR_UNAUTHORIZED');
    expect(wrong.message).toContain('check that HF_TOKEN grants access');

    const from = hub.log.length;
    const options = { ...fresh(), token: undefined };
    const dir = await withEnv({ HF_TOKEN: 'hf_test_token' }, () => pull(REPO, options));
    expect(fs.existsSync(path.join(dir, 'config.json'))).toBe(true);
    const requests = hub.since(from);
    expect(requests.filter((r) => r.server === 'hub').every((r) => r.authorization === 'Bearer hf_test_token')).toBe(
      true,
    );
    expect(requests.filter((r) => r.server === 'cdn').length).toBeGreaterThan(0);
    expect(requests.filter((r) => r.server === 'cdn').every((r) => r.authorization === undefined)).toBe(true);
    // An explicit token wins over the environment.
    hub.reset();
    hub.faults = { requireToken: 'hf_explicit' };
    await withEnv({ HF_TOKEN: 'hf_wrong' }, () => pull(REPO, fresh({ token: 'hf_explicit' })));
  });

  it('reads the token file huggingface_hub’s login writes when HF_TOKEN is unset', async () => {
    hub.faults = { requireToken: 'hf_from_file' };
    const tokenFile = path.join(newDir(), 'token');
    fs.mkdirSync(path.dirname(tokenFile), { recursive: true });
    fs.writeFileSync(tokenFile, 'hf_from_file\n');
    const dir = await withEnv(
      { HF_TOKEN: undefined, HUGGING_FACE_HUB_TOKEN: undefined, HF_TOKEN_PATH: tokenFile },
      () => pull(REPO, { ...fresh(), token: undefined }),
    );
    expect(fs.existsSync(path.join(dir, 'config.json'))).toBe(true);
  });

  it('caches an empty file (git’s empty blob) without a request for its bytes', async () => {
    const repoId = 'test-org/with-empty-file';
    hub.publish(repoId, new Map([...bundle, ['special_tokens_map.json', Buffer.alloc(0)]]));
    const options = fresh();
    const from = hub.log.length;
    const dir = await pull(repoId, options);
    expect(fs.readlinkSync(path.join(dir, 'special_tokens_map.json'))).toBe(
      '../../blobs/e69de29bb2d1d6434b8b29ae775ad8c2e48c5391',
    );
    expect(fs.readFileSync(path.join(dir, 'special_tokens_map.json')).length).toBe(0);
    expect(hub.since(from).filter((r) => r.method === 'GET' && r.path.endsWith('special_tokens_map.json'))).toEqual([]);
  });

  it('404s: a missing file, an unknown revision, an unknown repository', async () => {
    hub.faults = { missing: new Set(['merges.txt']) };
    const missing = await rejection(pull(REPO, fresh()));
    expect(missing.code).toBe('ERR_NOT_FOUND');
    expect(missing.message).toContain('merges.txt');
    hub.reset();
    const revision = await rejection(pull(REPO, fresh({ revision: 'v9' })));
    expect(revision.code).toBe('ERR_NOT_FOUND');
    expect(revision.message).toMatch(/revision/);
    // The hub hides whether a repository exists from anonymous users: 401, typed as unauthorized.
    expect((await rejection(pull('test-org/nope', fresh()))).code).toBe('ERR_UNAUTHORIZED');
    expect((await rejection(pull('test-org/nope', fresh({ token: 'hf_any' })))).code).toBe('ERR_NOT_FOUND');
  });

  it('fails fast with ERR_DEADLINE_EXCEEDED on a stalled server, and ERR_ABORTED on a signal', async () => {
    hub.faults = { stallBody: new Set(['onnx/vision_model.onnx']) };
    let started = Date.now();
    const stalled = await rejection(pull(REPO, fresh({ timeoutMs: 300, retries: 1 })));
    expect(stalled.code).toBe('ERR_DEADLINE_EXCEEDED');
    expect(Date.now() - started).toBeLessThan(4000);

    hub.reset();
    hub.faults = { stallApi: true };
    started = Date.now();
    expect((await rejection(pull(REPO, fresh({ timeoutMs: 300, retries: 0 })))).code).toBe('ERR_DEADLINE_EXCEEDED');
    expect(Date.now() - started).toBeLessThan(2000);

    hub.reset();
    hub.faults = { stallBody: new Set(['onnx/text_model.onnx']) };
    const controller = new AbortController();
    const pending = pull(REPO, fresh({ signal: controller.signal, timeoutMs: 30_000 }));
    setTimeout(() => controller.abort(), 300);
    started = Date.now();
    expect((await rejection(pending)).code).toBe('ERR_ABORTED');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('retries a 503 from the hub, and reports it as ERR_HUB when retries run out', async () => {
    hub.faults = { apiUnavailable: 2 };
    const from = hub.log.length;
    await pull(REPO, fresh({ retries: 2 }));
    expect(hub.since(from).filter((r) => r.path.startsWith('/api/'))).toHaveLength(3);
    hub.faults = { apiUnavailable: 1 };
    const error = await rejection(pull(REPO, fresh({ retries: 0 })));
    expect(error.code).toBe('ERR_HUB');
    expect(error.message).toContain('HTTP 503');
  });

  it('one pull per model at a time: a second concurrent pull of the same model fails with ERR_LOCKED', async () => {
    hub.faults = { stallBody: new Set(['onnx/text_model.onnx']) };
    const options = fresh({ timeoutMs: 1500, retries: 0 });
    const from = hub.log.length;
    const first = pull(REPO, options);
    // Wait until the first pull holds the lock (it is downloading).
    while (!hub.since(from).some((r) => r.server === 'cdn')) await new Promise((r) => setTimeout(r, 20));
    const second = await rejection(pull(REPO, options));
    expect(second.code).toBe('ERR_LOCKED');
    expect(second.message).toContain(REPO);
    expect((await rejection(first)).code).toBe('ERR_DEADLINE_EXCEEDED');
  });

  it('refuses hostile names: siblings leaving the cache, an unsafe ETag, a symlinked folder in the snapshot', async () => {
    for (const name of ['../../evil', '/etc/evil', 'onnx/../../../evil', 'onnx\\..\\..\\evil', 'C:/evil']) {
      hub.reset();
      hub.faults = { extraSiblings: [name] };
      const options = fresh();
      const from = hub.log.length;
      const error = await rejection(pull(REPO, options));
      expect(error.code, name).toBe('ERR_HUB');
      expect(error.message).toContain(JSON.stringify(name));
      expect(hub.since(from).filter((r) => r.path.includes('/resolve/'))).toEqual([]); // refused before downloading
      expect(tree(path.dirname(options.cacheDir)).some((p) => p.includes('evil'))).toBe(false);
    }

    hub.reset();
    hub.faults = { etagOverride: new Map([['config.json', '../../../evil']]) };
    const etag = await rejection(pull(REPO, fresh()));
    expect(etag.code).toBe('ERR_HUB');
    expect(etag.message).toContain('ETag');

    // A folder of the snapshot planted as a symlink to elsewhere is not written through.
    hub.reset();
    const options = fresh();
    const outside = newDir();
    fs.mkdirSync(outside, { recursive: true });
    const snapshot = path.join(repoDir(options.cacheDir), 'snapshots', commit);
    fs.mkdirSync(snapshot, { recursive: true });
    fs.symlinkSync(outside, path.join(snapshot, 'onnx'));
    const planted = await rejection(pull(REPO, options));
    expect(planted.code).toBe('ERR_HUB');
    expect(planted.message).toContain('symlink');
    expect(fs.readdirSync(outside)).toEqual([]);
  });

  it('a cache that cannot be written fails with ERR_IO, without retrying the download', async () => {
    const options = fresh();
    fs.mkdirSync(repoDir(options.cacheDir), { recursive: true });
    fs.writeFileSync(path.join(repoDir(options.cacheDir), 'blobs'), 'a file where the blobs folder goes');
    const noBlobs = await rejection(pull(REPO, options));
    expect(noBlobs.code).toBe('ERR_IO');
    expect(noBlobs.message).toContain('blobs');

    const options2 = fresh();
    const file = 'onnx/vision_model.onnx';
    const incomplete = path.join(
      repoDir(options2.cacheDir),
      'blobs',
      `${sha256(bundle.get(file) as Buffer)}.incomplete`,
    );
    fs.mkdirSync(incomplete, { recursive: true }); // cannot be opened as a file
    const from = hub.log.length;
    const error = await rejection(pull(REPO, options2));
    expect(error.code).toBe('ERR_IO');
    expect(error.message).toContain('.incomplete');
    expect(
      hub.since(from).filter((r) => r.server === 'cdn' && r.path.endsWith(sha256(bundle.get(file) as Buffer))),
    ).toHaveLength(1);
  });

  it('HF_HUB_OFFLINE=1 uses the cache only: a typed error when missing, the snapshot when cached, no request either way', async () => {
    const options = fresh();
    let from = hub.log.length;
    const missing = await withEnv({ HF_HUB_OFFLINE: '1' }, () => rejection(pull(REPO, options)));
    expect(missing.code).toBe('ERR_NOT_FOUND');
    expect(missing.message).toMatch(/offline/);
    expect(hub.log.length).toBe(from);
    expect(() => resolveModel(REPO, { cacheDir: options.cacheDir })).toThrow(/crossmodal pull test-org\/tiny-clip/);

    const dir = await pull(REPO, options);
    from = hub.log.length;
    expect(await withEnv({ HF_HUB_OFFLINE: 'true' }, () => pull(REPO, options))).toBe(dir);
    expect(await pull(REPO, { ...options, offline: true })).toBe(dir);
    expect(hub.log.length).toBe(from);
    // A precision that was not pulled is not in the cache.
    const fp16 = await rejection(pull(REPO, { ...options, offline: true, precision: 'fp16' }));
    expect(fp16.code).toBe('ERR_MODEL_LOAD');
    expect(fp16.message).toContain('no fp16 variant');
    // Entries whose blob was deleted do not count as cached, and an online pull puts them back.
    const visionBlob = fs.realpathSync(path.join(dir, 'onnx', 'vision_model.onnx'));
    fs.rmSync(visionBlob);
    const partial = await rejection(pull(REPO, { ...options, offline: true }));
    expect(partial.code).toBe('ERR_MODEL_LOAD');
    expect(partial.message).toContain('cached snapshot');
    fs.rmSync(path.join(repoDir(options.cacheDir), 'blobs'), { recursive: true });
    expect((await rejection(pull(REPO, { ...options, offline: true }))).code).toBe('ERR_NOT_FOUND');
    const restored = await pullSnapshot(REPO, options);
    expect(restored.downloadedFiles.sort()).toEqual([...FP32].sort());
    expect(fs.readFileSync(visionBlob).equals(bundle.get('onnx/vision_model.onnx') as Buffer)).toBe(true);
  });

  it('precision selection downloads only that variant; a missing one is named with what exists', async () => {
    const options = fresh({ precision: 'fp16' as const });
    const from = hub.log.length;
    const result = await pullSnapshot(REPO, options);
    expect(result.precision).toBe('fp16');
    const onnx = hub
      .since(from)
      .filter((r) => r.path.includes('.onnx') && r.server === 'hub' && r.method === 'GET')
      .map((r) => r.path.split('/').pop());
    expect(onnx.sort()).toEqual(['text_model_fp16.onnx', 'vision_model_fp16.onnx']);
    expect(fs.readdirSync(path.join(result.dir, 'onnx')).sort()).toEqual([
      'text_model_fp16.onnx',
      'vision_model_fp16.onnx',
    ]);
    const model = await load(result.dir, { device: 'cpu', warmup: false });
    try {
      expect(model.info.precision).toBe('fp16');
      expect((await model.embedTexts(['a cat'])).count).toBe(1);
    } finally {
      model.dispose();
    }
    // fp32 added later to the same snapshot; resolveModel can then ask for either.
    await pull(REPO, { ...options, precision: 'fp32' });
    expect(resolveModel(REPO, { cacheDir: options.cacheDir, precision: 'fp16' })).toBe(result.dir);
    expect(resolveModel(REPO, { cacheDir: options.cacheDir, precision: 'fp32' })).toBe(result.dir);

    const int8 = await rejection(pull(REPO, fresh({ precision: 'int8' })));
    expect(int8.code).toBe('ERR_MODEL_LOAD');
    expect(int8.message).toContain('available: fp32, fp16');
  });

  it('selects the files of every bundle layout the loader knows, with external data', () => {
    const common = ['config.json', 'preprocessor_config.json', 'tokenizer.json', 'README.md', 'onnx/other.onnx'];
    const xenova = [
      ...common,
      'onnx/vision_model.onnx',
      'onnx/vision_model_quantized.onnx',
      'onnx/text_model.onnx',
      'onnx/text_model_quantized.onnx',
      'onnx/model.onnx',
      'onnx/model_int8.onnx',
    ];
    expect(selectBundleFiles(xenova, undefined, 'x').files.sort()).toEqual([
      'config.json',
      'onnx/text_model.onnx',
      'onnx/vision_model.onnx',
      'preprocessor_config.json',
      'tokenizer.json',
    ]);
    expect(selectBundleFiles(xenova, 'int8', 'x').files).toEqual(
      expect.arrayContaining(['onnx/vision_model_quantized.onnx', 'onnx/text_model_quantized.onnx']),
    );
    const combined = [
      ...common,
      'onnx/model_uint8.onnx',
      'onnx/model_fp16.onnx',
      'onnx/model_fp16.onnx_data',
      'onnx/model.onnx_data',
    ];
    const sel = selectBundleFiles(combined, undefined, 'x');
    expect(sel.precision).toBe('int8'); // no fp32: the loader's CPU order picks int8 before fp16
    expect(sel.files).toContain('onnx/model_uint8.onnx');
    expect(selectBundleFiles(combined, 'fp16', 'x').files).toEqual(
      expect.arrayContaining(['onnx/model_fp16.onnx', 'onnx/model_fp16.onnx_data']),
    );
    expect(selectBundleFiles(combined, 'fp16', 'x').files).not.toContain('onnx/model.onnx_data');
    const openclip = [
      'config.json',
      'preprocess_cfg.json',
      'vocab.json',
      'merges.txt',
      'visual/model.onnx',
      'textual/model.onnx',
      'textual/model.onnx.data',
      'spiece.model',
    ];
    expect(selectBundleFiles(openclip, undefined, 'x').files.sort()).toEqual([...openclip].sort());
    expect(() => selectBundleFiles(['config.json', 'model.safetensors'], undefined, 'org/pt-only')).toThrow(
      /no ONNX export/,
    );
    expect(() => selectBundleFiles(['onnx/model.onnx'], undefined, 'x')).toThrow(/no config.json/);
  });

  it('finds the cache where huggingface_hub does', () => {
    const home = os.homedir();
    expect(hubCacheDir({ HF_HUB_CACHE: '/a/hub', HF_HOME: '/b' })).toBe('/a/hub');
    expect(hubCacheDir({ HUGGINGFACE_HUB_CACHE: '/old/hub' })).toBe('/old/hub');
    expect(hubCacheDir({ HF_HOME: '/b' })).toBe('/b/hub');
    expect(hubCacheDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/huggingface/hub');
    expect(hubCacheDir({})).toBe(path.join(home, '.cache', 'huggingface', 'hub'));
    expect(hubCacheDir({ HF_HOME: '~/hf' })).toBe(path.join(home, 'hf', 'hub'));
  });

  it('uses $HF_HUB_CACHE and $HF_ENDPOINT when no option is given', async () => {
    const cacheDir = newDir();
    const dir = await withEnv(
      { HF_HUB_CACHE: cacheDir, HF_ENDPOINT: `${hub.endpoint}/`, HF_TOKEN: undefined, HF_HUB_OFFLINE: undefined },
      () => pull(REPO, { token: false }),
    );
    expect(dir).toBe(path.join(repoDir(cacheDir), 'snapshots', commit));
    expect(await withEnv({ HF_HUB_CACHE: cacheDir }, async () => resolveModel(REPO))).toBe(dir);
  });

  it('rejects bad arguments with ERR_INVALID_ARGUMENT before any request', async () => {
    const from = hub.log.length;
    for (const [id, options] of [
      ['no-slash', {}],
      ['a/b/c', {}],
      ['../x', {}],
      ['org/na--me', {}],
      [42, {}],
      [REPO, { precision: 'fp64' }],
      [REPO, { revision: '../main' }],
      [REPO, { revision: '' }],
      [REPO, { timeoutMs: 0 }],
      [REPO, { endpoint: 'ftp://x' }],
      [REPO, { retries: -1 }],
    ] as const) {
      const error = await rejection(pull(id as string, { ...fresh(), ...(options as object) }));
      expect(error.code, JSON.stringify([id, options])).toBe('ERR_INVALID_ARGUMENT');
    }
    expect(() => resolveModel('nope')).toThrow(CrossmodalError);
    expect(hub.log.length).toBe(from);
  });
});

describe('crossmodal pull (command line)', () => {
  const bin = path.join(repoRoot, 'dist', 'cjs', 'cli', 'main.js');

  /** Runs the built CLI asynchronously (the fake hub lives in this process, so no spawnSync). */
  function cli(
    args: string[],
    env: Record<string, string>,
  ): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [bin, ...args], {
        env: {
          ...process.env,
          HF_TOKEN: '',
          HF_HUB_OFFLINE: '',
          HF_TOKEN_PATH: path.join(os.tmpdir(), 'crossmodal-no-token'),
          ...env,
        },
        cwd: repoRoot,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
  }

  it('pulls, prints the snapshot path, skips cached files, and the model is usable as --model org/name', async () => {
    const cacheDir = newDir();
    const env = { HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: cacheDir };
    const first = await cli(['pull', REPO], env);
    expect(first.status, first.stderr).toBe(0);
    const dir = path.join(repoDir(cacheDir), 'snapshots', commit);
    expect(first.stdout.trim()).toBe(dir);
    expect(first.stderr).toMatch(/downloading 8 files/);

    const json = await cli(['pull', REPO, '--json', '--precision', 'fp32', '--revision', 'main'], env);
    expect(json.status, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as {
      dir: string;
      commit: string;
      files: string[];
      downloadedFiles: string[];
      precision: string;
    };
    expect(report).toMatchObject({ dir, commit, precision: 'fp32', downloadedFiles: [] });
    expect(report.files.sort()).toEqual([...FP32].sort());

    const scored = await cli(['score', image, 'a cat', '--model', REPO, '--json'], env);
    expect(scored.status, scored.stderr).toBe(0);
    expect(scored.stdout).toContain('cosine');

    const notPulled = await cli(['score', image, 'a cat', '--model', 'test-org/not-pulled'], env);
    expect(notPulled.status).toBe(1);
    expect(notPulled.stderr).toMatch(
      /^crossmodal: ERR_MODEL_LOAD: test-org\/not-pulled is not in the Hugging Face cache .*crossmodal pull test-org\/not-pulled/m,
    );
  });

  it('reports hub errors as one line with exit 1, and bad arguments with exit 2', async () => {
    const env = { HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: newDir() };
    const unknown = await cli(['pull', 'test-org/nope'], env);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/^crossmodal: ERR_UNAUTHORIZED: .*HF_TOKEN/m);
    for (const args of [
      ['pull'],
      ['pull', 'not-a-repo'],
      ['pull', REPO, '--precision', 'fp64'],
      ['pull', REPO, '--revision', '../main'],
      ['pull', REPO, '--timeout', 'soon'],
    ]) {
      const r = await cli(args, env);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr.split('\n').filter((l) => l.startsWith('crossmodal: '))).toHaveLength(1);
    }
    const help = await cli(['pull', '--help'], env);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: crossmodal pull');
    expect(help.stdout).toContain('HF_ENDPOINT');
  });
});
