// A local stand-in for the Hugging Face hub, on 127.0.0.1 only, speaking the protocol crossmodal's
// pull relies on (as huggingface.co does):
// - GET /api/models/{org}/{name}/revision/{rev}  -> { id, sha, siblings: [{ rfilename }] }
// - HEAD/GET /{org}/{name}/resolve/{rev}/{file}  -> small files: 200 with ETag = git blob SHA-1;
//   LFS files (.onnx, .model, *_data): 302 to a separate "CDN" server, with X-Linked-Etag = SHA-256,
//   X-Linked-Size, X-Repo-Commit; every answer carries X-Repo-Commit
// - GET {cdn}/lfs/{sha256}?sig=...                -> the bytes, with Range support (206/416)
// - X-Error-Code / X-Error-Message on errors; 401 for unknown repositories without a token.
// Faults are switched on per test; every request is logged.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

export interface LoggedRequest {
  server: 'hub' | 'cdn';
  method: string;
  path: string;
  range: string | undefined;
  authorization: string | undefined;
}

export interface Faults {
  /** Answer 401 unless `Authorization: Bearer <token>`. */
  requireToken?: string;
  /** Files whose download (once each) stops after this many bytes by dropping the connection. */
  dropAfter?: Map<string, number>;
  /** Ignore Range requests (answer 200 with the whole file), like a server without range support. */
  ignoreRange?: boolean;
  /** Files whose download sends headers and then nothing. */
  stallBody?: Set<string>;
  /** The model API sends nothing at all. */
  stallApi?: boolean;
  /** The model API answers 503 this many times before answering. */
  apiUnavailable?: number;
  /** Files announced with an ETag that is not their hash. */
  wrongEtag?: Set<string>;
  /** Files listed in siblings but answered 404 (EntryNotFound) by resolve. */
  missing?: Set<string>;
  /** Extra names listed in siblings (not served). */
  extraSiblings?: string[];
  /** Replace a file's ETag header with this (unsafe) value. */
  etagOverride?: Map<string, string>;
}

export const isLfs = (file: string): boolean => /\.(onnx|model)$|_data(_\d+)?$|\.bin$/.test(file);

export const gitBlobSha1 = (bytes: Buffer): string =>
  createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

export class FakeHub {
  readonly log: LoggedRequest[] = [];
  faults: Faults = {};
  /** repo id -> branch name -> commit. */
  readonly refs = new Map<string, Map<string, string>>();
  /** commit -> files. */
  readonly commits = new Map<string, Map<string, Buffer>>();
  private hub!: http.Server;
  private cdn!: http.Server;
  private readonly dropped = new Set<string>();
  private readonly sockets = new Set<import('node:net').Socket>();
  endpoint = '';
  cdnOrigin = '';

  async start(): Promise<void> {
    this.hub = http.createServer((req, res) => this.handleHub(req, res));
    this.cdn = http.createServer((req, res) => this.handleCdn(req, res));
    for (const server of [this.hub, this.cdn]) {
      server.on('connection', (socket) => {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    }
    this.endpoint = `http://127.0.0.1:${(this.hub.address() as AddressInfo).port}`;
    this.cdnOrigin = `http://127.0.0.1:${(this.cdn.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await Promise.all([this.hub, this.cdn].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  /** Publishes `files` as a new commit on `branch` of `repoId`; returns the commit hash. */
  publish(repoId: string, files: Map<string, Buffer>, branch = 'main'): string {
    const commit = createHash('sha1')
      .update(`${repoId}:${this.commits.size}:${[...files.keys()].join(',')}`)
      .digest('hex');
    this.commits.set(commit, files);
    if (!this.refs.has(repoId)) this.refs.set(repoId, new Map());
    (this.refs.get(repoId) as Map<string, string>).set(branch, commit);
    return commit;
  }

  /** Requests since `from` (an index into the log). */
  since(from: number): LoggedRequest[] {
    return this.log.slice(from);
  }

  reset(): void {
    this.faults = {};
    this.dropped.clear();
  }

  private record(server: 'hub' | 'cdn', req: http.IncomingMessage): void {
    this.log.push({
      server,
      method: req.method ?? '',
      path: decodeURIComponent((req.url ?? '').split('?')[0] as string),
      range: req.headers.range,
      authorization: req.headers.authorization,
    });
  }

  private commitFor(repoId: string, revision: string): string | undefined {
    const branches = this.refs.get(repoId);
    if (!branches) return undefined;
    if (branches.has(revision)) return branches.get(revision);
    return [...branches.values()].includes(revision) ? revision : undefined;
  }

  private handleHub(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.record('hub', req);
    if (this.faults.requireToken && req.headers.authorization !== `Bearer ${this.faults.requireToken}`) {
      res.writeHead(401, { 'x-error-message': 'Invalid credentials in Authorization header' }).end();
      return;
    }
    const url = new URL(req.url ?? '/', this.endpoint);
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(url.pathname);
    if (api) {
      if (this.faults.stallApi) return; // never answers
      if (this.faults.apiUnavailable) {
        this.faults.apiUnavailable--;
        return this.error(res, 503, undefined, 'Service Unavailable');
      }
      const repoId = decodeURIComponent(api[1] as string);
      const revision = decodeURIComponent(api[2] as string);
      if (!this.refs.has(repoId))
        return this.error(res, req.headers.authorization ? 404 : 401, 'RepoNotFound', 'Repository not found');
      const commit = this.commitFor(repoId, revision);
      if (!commit) return this.error(res, 404, 'RevisionNotFound', `Invalid rev id: ${revision}`);
      const files = this.commits.get(commit) as Map<string, Buffer>;
      const siblings = [...files.keys(), ...(this.faults.extraSiblings ?? [])].map((rfilename) => ({ rfilename }));
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ id: repoId, modelId: repoId, sha: commit, siblings }));
      return;
    }
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (!resolve) return this.error(res, 404, undefined, 'no such route');
    const repoId = decodeURIComponent(resolve[1] as string);
    const revision = decodeURIComponent(resolve[2] as string);
    const file = (resolve[3] as string).split('/').map(decodeURIComponent).join('/');
    if (!this.refs.has(repoId))
      return this.error(res, req.headers.authorization ? 404 : 401, 'RepoNotFound', 'Repository not found');
    const commit = this.commitFor(repoId, revision);
    if (!commit) return this.error(res, 404, 'RevisionNotFound', `Invalid rev id: ${revision}`);
    const bytes = (this.commits.get(commit) as Map<string, Buffer>).get(file);
    if (!bytes || this.faults.missing?.has(file)) {
      res.setHeader('x-repo-commit', commit);
      return this.error(res, 404, 'EntryNotFound', `${file} does not exist on "${revision}"`);
    }
    const wrong = this.faults.wrongEtag?.has(file);
    if (isLfs(file)) {
      const digest = sha256(bytes);
      const announced =
        this.faults.etagOverride?.get(file) ?? (wrong ? sha256(Buffer.concat([bytes, Buffer.from('x')])) : digest);
      res.writeHead(302, {
        location: `${this.cdnOrigin}/lfs/${digest}?sig=secret&file=${encodeURIComponent(file)}`,
        etag: `"${gitBlobSha1(Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${digest}\nsize ${bytes.length}\n`))}"`,
        'x-linked-etag': `"${announced}"`,
        'x-linked-size': String(bytes.length),
        'x-repo-commit': commit,
        'content-length': '0',
      });
      res.end();
      return;
    }
    const announced =
      this.faults.etagOverride?.get(file) ??
      (wrong ? gitBlobSha1(Buffer.concat([bytes, Buffer.from('x')])) : gitBlobSha1(bytes));
    this.sendBytes(req, res, file, bytes, { etag: `"${announced}"`, 'x-repo-commit': commit });
  }

  private handleCdn(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.record('cdn', req);
    const url = new URL(req.url ?? '/', this.cdnOrigin);
    const digest = /^\/lfs\/([0-9a-f]{64})$/.exec(url.pathname)?.[1];
    const bytes = digest
      ? [...this.commits.values()].flatMap((m) => [...m.values()]).find((b) => sha256(b) === digest)
      : undefined;
    if (!bytes || url.searchParams.get('sig') !== 'secret') return this.error(res, 403, undefined, 'AccessDenied');
    this.sendBytes(req, res, url.searchParams.get('file') ?? '', bytes, { etag: `"${digest}"` });
  }

  /** 200 or 206 (Range), with the faults that apply to `file`. */
  private sendBytes(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    file: string,
    bytes: Buffer,
    headers: Record<string, string>,
  ): void {
    let start = 0;
    const range = this.faults.ignoreRange ? undefined : /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range) {
      start = Number(range[1]);
      if (start >= bytes.length) {
        res.writeHead(416, { 'content-range': `bytes */${bytes.length}` }).end();
        return;
      }
      res.writeHead(206, {
        ...headers,
        'accept-ranges': 'bytes',
        'content-length': String(bytes.length - start),
        'content-range': `bytes ${start}-${bytes.length - 1}/${bytes.length}`,
      });
    } else {
      res.writeHead(200, { ...headers, 'accept-ranges': 'bytes', 'content-length': String(bytes.length) });
    }
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    if (this.faults.stallBody?.has(file)) {
      res.flushHeaders();
      return; // headers, then silence
    }
    const dropAt = this.faults.dropAfter?.get(file);
    if (dropAt !== undefined && !this.dropped.has(file) && dropAt > start) {
      this.dropped.add(file);
      res.write(bytes.subarray(start, dropAt), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(bytes.subarray(start));
  }

  private error(res: http.ServerResponse, status: number, code: string | undefined, message: string): void {
    if (code) res.setHeader('x-error-code', code);
    res.setHeader('x-error-message', message);
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: message }));
  }
}

/** Every file of a bundle directory, by its `/`-separated relative name. */
export function readBundle(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (sub: string): void => {
    for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(rel);
      else files.set(rel, fs.readFileSync(path.join(dir, rel)));
    }
  };
  walk('');
  return files;
}
