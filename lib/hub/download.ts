/**
 * HTTP for the hub, on Node's built-in fetch: JSON API calls, file metadata (HEAD on `resolve/`),
 * and resumable, verified downloads into the cache's `.incomplete` files.
 *
 * Invariants:
 * - Every request has an idle deadline (`timeoutMs` without a header or a body chunk): a stalled
 *   server fails with ERR_DEADLINE_EXCEEDED instead of hanging.
 * - Redirects are followed by hand (at most 10) so the `Authorization` header is sent only to the
 *   hub's own origin, never to the CDN an LFS file redirects to.
 * - `Accept-Encoding: identity` everywhere: sizes, ranges and hashes refer to the stored bytes.
 * - A download appends to `<blob>.incomplete` and resumes it with `Range: bytes=<size>-`; a server
 *   that ignores the range (200) restarts the file from zero. Size and hash are checked before the
 *   blob is renamed into place; a file failing them is deleted and never becomes a blob.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { CrossmodalError, type ErrorCode } from '../errors';

export interface HubRequestOptions {
  /** `https://huggingface.co` or a mirror / test server (no trailing slash). */
  endpoint: string;
  token?: string | undefined;
  /** Idle deadline per request: no response headers or body bytes for this long fails. */
  timeoutMs: number;
  /** Attempts after the first for network failures, stalls and 429/5xx answers. */
  retries: number;
  signal?: AbortSignal | undefined;
  userAgent: string;
}

/** What the hub says about one file (HEAD on its resolve URL, not following the CDN redirect). */
export interface FileMetadata {
  /** The blob name: X-Linked-Etag (LFS: the SHA-256) or ETag (git blob SHA-1), unquoted. */
  etag: string;
  /** X-Linked-Size or Content-Length, when sent. */
  size: number | undefined;
  /** X-Repo-Commit, when sent. */
  commit: string | undefined;
}

const MAX_REDIRECTS = 10;
const RETRY_STATUS = new Set([429, 500, 502, 503, 504]);

class RetryableError extends Error {
  constructor(readonly error: CrossmodalError) {
    super(error.message);
  }
}

/**
 * One HTTP exchange with an idle deadline: `run` receives the response and may read its body,
 * calling `alive()` after each chunk to push the deadline back.
 */
async function exchange<T>(
  url: string,
  init: { method: string; headers: Record<string, string> },
  options: HubRequestOptions,
  run: (response: Response, alive: () => void) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const alive = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, options.timeoutMs);
  };
  const onAbort = (): void => controller.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let answered = false;
  alive();
  try {
    if (options.signal?.aborted) throw aborted();
    const response = await fetch(url, {
      method: init.method,
      headers: init.headers,
      redirect: 'manual',
      signal: controller.signal,
    });
    answered = true;
    alive();
    try {
      return await run(response, alive);
    } finally {
      // Release the connection when `run` did not consume the body.
      if (response.body && !response.bodyUsed) await response.body.cancel().catch(() => {});
    }
  } catch (error) {
    if (error instanceof CrossmodalError || error instanceof RetryableError) throw error;
    if (isFileSystemError(error)) throw cacheError(error); // a full disk is not a network failure: no retry
    if (options.signal?.aborted) throw aborted();
    if (timedOut) {
      throw new RetryableError(
        new CrossmodalError(
          'ERR_DEADLINE_EXCEEDED',
          `no answer from ${describeUrl(url)} for ${options.timeoutMs} ms (HF_HUB_DOWNLOAD_TIMEOUT / timeoutMs)`,
        ),
      );
    }
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const detail = [cause?.code, cause?.message ?? (error as Error).message].filter(Boolean).join(' ');
    const what = answered ? `the connection to ${describeUrl(url)} broke` : `cannot reach ${describeUrl(url)}`;
    throw new RetryableError(new CrossmodalError('ERR_IO', `${what}: ${detail}`, { cause: error }));
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Errors of fs calls carry `syscall` (and `path` unless fd-based, like ENOSPC from a write); fetch's
 * network errors are TypeErrors that carry it only on their `cause`.
 */
export function isFileSystemError(error: unknown): error is NodeJS.ErrnoException {
  return typeof (error as NodeJS.ErrnoException)?.syscall === 'string';
}

/** ERR_IO for a failure writing the cache (full disk, permissions, no symlinks), naming the path. */
export function cacheError(error: NodeJS.ErrnoException): CrossmodalError {
  const where = [error.code, error.syscall, error.path].filter(Boolean).join(' ');
  return new CrossmodalError('ERR_IO', `cannot write the Hugging Face cache: ${where}`, { cause: error });
}

function aborted(): CrossmodalError {
  return new CrossmodalError('ERR_ABORTED', 'the download was aborted');
}

/** The URL without query string (CDN URLs carry signatures that do not belong in messages). */
function describeUrl(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

function headersFor(
  url: string,
  options: HubRequestOptions,
  extra: Record<string, string> = {},
): Record<string, string> {
  const headers: Record<string, string> = { 'user-agent': options.userAgent, 'accept-encoding': 'identity', ...extra };
  // The token goes to the hub's origin only, never to a CDN a redirect points at.
  if (options.token && new URL(url).origin === new URL(options.endpoint).origin)
    headers.authorization = `Bearer ${options.token}`;
  return headers;
}

/** Runs `attempt` with retries on RetryableError (network failures, stalls, 429/5xx), backing off. */
async function withRetries<T>(options: HubRequestOptions, attempt: (tryIndex: number) => Promise<T>): Promise<T> {
  for (let tryIndex = 0; ; tryIndex++) {
    try {
      return await attempt(tryIndex);
    } catch (error) {
      if (!(error instanceof RetryableError)) throw error;
      if (tryIndex >= options.retries) throw error.error;
      await sleep(Math.min(250 * 2 ** tryIndex, 2000), options.signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(aborted());
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(aborted());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The typed error for a failed answer, using the hub's `X-Error-Code` / `X-Error-Message` when it
 * sends them. The hub answers 401 for repositories that do not exist *or* are private, so that
 * message names both.
 */
export function hubStatusError(
  status: number,
  headers: Headers,
  what: string,
  hadToken: boolean,
): CrossmodalError | RetryableError {
  const hubCode = headers.get('x-error-code') ?? '';
  const hubMessage = headers.get('x-error-message');
  const suffix = hubMessage ? ` (hub: ${hubMessage})` : '';
  const tokenHint = hadToken
    ? 'check that HF_TOKEN grants access to it'
    : 'set HF_TOKEN to a token with access (https://huggingface.co/settings/tokens)';
  let code: ErrorCode;
  let message: string;
  if (hubCode === 'GatedRepo') {
    code = 'ERR_UNAUTHORIZED';
    message = `${what} is gated: accept its conditions on the hub, then ${tokenHint}`;
  } else if (hubCode === 'RepoNotFound' || (status === 401 && !hubCode)) {
    code = status === 404 ? 'ERR_NOT_FOUND' : 'ERR_UNAUTHORIZED';
    message = `${what}: the repository does not exist, or it is private or gated (HTTP ${status}); ${tokenHint}`;
  } else if (status === 401 || status === 403) {
    code = 'ERR_UNAUTHORIZED';
    message = `${what}: access refused (HTTP ${status}); ${tokenHint}`;
  } else if (hubCode === 'RevisionNotFound') {
    code = 'ERR_NOT_FOUND';
    message = `${what}: no such revision (HTTP ${status})`;
  } else if (status === 404 || hubCode === 'EntryNotFound') {
    code = 'ERR_NOT_FOUND';
    message = `${what}: not found (HTTP ${status})`;
  } else {
    const error = new CrossmodalError('ERR_HUB', `${what}: the hub answered HTTP ${status}${suffix}`);
    return RETRY_STATUS.has(status) ? new RetryableError(error) : error;
  }
  return new CrossmodalError(code, message + suffix);
}

/**
 * Sends a request, following redirects by hand. `followAbsolute: false` stops at a redirect to
 * another host (how huggingface_hub reads an LFS file's metadata: from the hub's redirect answer,
 * whose X-Linked-* headers describe the file, not from the CDN).
 */
async function request<T>(
  url: string,
  method: string,
  options: HubRequestOptions,
  extraHeaders: Record<string, string>,
  followAbsolute: boolean,
  run: (response: Response, finalUrl: string, alive: () => void) => Promise<T>,
): Promise<T> {
  let current = url;
  for (let hop = 0; ; hop++) {
    const result = await exchange<{ redirect: string } | { value: T }>(
      current,
      { method, headers: headersFor(current, options, extraHeaders) },
      options,
      async (response, alive) => {
        if (response.status >= 300 && response.status < 400 && response.status !== 304) {
          const location = response.headers.get('location');
          if (!location)
            throw new CrossmodalError('ERR_HUB', `${describeUrl(current)} redirected without a Location header`);
          const next = new URL(location, current);
          if (next.protocol !== 'https:' && next.protocol !== 'http:')
            throw new CrossmodalError('ERR_HUB', `refusing a redirect to ${next.protocol} URL`);
          const relative = !/^[a-z][a-z0-9+.-]*:/i.test(location) && !location.startsWith('//');
          if (followAbsolute || relative) return { redirect: next.toString() };
        }
        return { value: await run(response, current, alive) };
      },
    );
    if ('value' in result) return result.value;
    if (hop >= MAX_REDIRECTS) throw new CrossmodalError('ERR_HUB', `too many redirects from ${describeUrl(url)}`);
    current = result.redirect;
  }
}

/** GET a JSON document from the hub API. */
export async function getJson(url: string, what: string, options: HubRequestOptions): Promise<unknown> {
  return withRetries(options, () =>
    request(url, 'GET', options, { accept: 'application/json' }, true, async (response, _final, alive) => {
      if (!response.ok) throw hubStatusError(response.status, response.headers, what, Boolean(options.token));
      const text = await readText(response, alive);
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new CrossmodalError('ERR_HUB', `${what}: the hub answered something that is not JSON`);
      }
    }),
  );
}

async function readText(response: Response, alive: () => void): Promise<string> {
  const chunks: Buffer[] = [];
  if (response.body) {
    for await (const chunk of response.body) {
      alive();
      chunks.push(Buffer.from(chunk as Uint8Array));
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** huggingface_hub's _normalize_etag: drop a weak `W/` prefix and the quotes. */
export function normalizeEtag(etag: string | null): string | undefined {
  if (!etag) return undefined;
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '') || undefined;
}

/** HEAD on a file's resolve URL: its blob name (ETag), size and commit. */
export async function fileMetadata(url: string, what: string, options: HubRequestOptions): Promise<FileMetadata> {
  return withRetries(options, () =>
    request(url, 'HEAD', options, {}, false, async (response) => {
      const redirect = response.status >= 300 && response.status < 400;
      if (!response.ok && !redirect)
        throw hubStatusError(response.status, response.headers, what, Boolean(options.token));
      const headers = response.headers;
      const etag = normalizeEtag(headers.get('x-linked-etag') ?? headers.get('etag'));
      if (!etag)
        throw new CrossmodalError('ERR_HUB', `${what}: the hub sent no ETag, so the file cannot be cached or verified`);
      const sizeHeader = headers.get('x-linked-size') ?? (redirect ? null : headers.get('content-length'));
      const size = sizeHeader !== null && /^\d+$/.test(sizeHeader) ? Number(sizeHeader) : undefined;
      return { etag, size, commit: headers.get('x-repo-commit') ?? undefined };
    }),
  );
}

export interface DownloadProgress {
  /** Bytes of this file on disk so far (including resumed ones). */
  (bytesOfFile: number): void;
}

/**
 * Downloads `url` into `incomplete`, resuming what is already there, until it has `expectedSize`
 * bytes (or the server ends the body, when the size is unknown). Retries dropped connections and
 * stalls with a Range request; returns the number of bytes and whether any were resumed.
 */
export async function downloadResumable(
  url: string,
  incomplete: string,
  expectedSize: number | undefined,
  what: string,
  options: HubRequestOptions,
  onBytes: DownloadProgress,
): Promise<{ size: number; resumed: boolean }> {
  let resumed = false;
  const size = await withRetries(options, async () => {
    let have = fileSize(incomplete);
    if (expectedSize !== undefined && have > expectedSize) {
      fs.truncateSync(incomplete, 0); // longer than the file can be: not a prefix of it
      have = 0;
    }
    if (expectedSize !== undefined && have === expectedSize) {
      if (have === 0) fs.writeFileSync(incomplete, ''); // an empty file needs no request
      return have;
    }
    const extra: Record<string, string> = have > 0 ? { range: `bytes=${have}-` } : {};
    return request(url, 'GET', options, extra, true, async (response, finalUrl, alive) => {
      if (response.status === 416 && have > 0) {
        // Nothing to resume from that offset: start over on the next attempt.
        fs.truncateSync(incomplete, 0);
        throw new RetryableError(
          new CrossmodalError('ERR_HUB', `${what}: the server refused to resume at byte ${have}`),
        );
      }
      if (!response.ok) throw hubStatusError(response.status, response.headers, what, Boolean(options.token));
      let flags = 'a';
      if (have > 0 && response.status === 206) {
        const start = /^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '')?.[1];
        if (start === undefined || Number(start) !== have) {
          throw new CrossmodalError(
            'ERR_HUB',
            `${what}: ${describeUrl(finalUrl)} answered a range from byte ${start ?? '?'}, asked for ${have}`,
          );
        }
        resumed = true;
      } else if (response.status !== 206) {
        flags = 'w'; // a full answer (the server ignored or was not sent a Range): start from zero
        have = 0;
      }
      const out = fs.openSync(incomplete, flags);
      let written = have;
      try {
        if (response.body) {
          for await (const chunk of response.body) {
            alive();
            const bytes = chunk as Uint8Array;
            if (expectedSize !== undefined && written + bytes.length > expectedSize) {
              fs.ftruncateSync(out, 0); // not the file announced: keep nothing of it
              throw new CrossmodalError(
                'ERR_HUB',
                `${what}: the server sent more than the ${expectedSize} bytes announced`,
              );
            }
            fs.writeSync(out, bytes, 0, bytes.length);
            written += bytes.length;
            onBytes(written);
          }
        }
        fs.fsyncSync(out);
      } finally {
        fs.closeSync(out);
      }
      if (expectedSize !== undefined && written < expectedSize) {
        // The body ended early (e.g. a proxy cut it): resume on the next attempt.
        throw new RetryableError(
          new CrossmodalError('ERR_IO', `${what}: the connection ended after ${written} of ${expectedSize} bytes`),
        );
      }
      return written;
    });
  });
  return { size, resumed };
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * Checks a downloaded file against its ETag: a 64-hex ETag is the SHA-256 of an LFS file; a 40-hex
 * one the git blob SHA-1 (`sha1("blob <size>\0" + bytes)`) of a file stored in git. Other ETags
 * (a mirror's own) cannot be checked; the size still is. Returns a description of the mismatch.
 */
export async function verifyBlob(file: string, etag: string): Promise<string | undefined> {
  const kind = /^[0-9a-f]{64}$/.test(etag) ? 'sha256' : /^[0-9a-f]{40}$/.test(etag) ? 'git-sha1' : undefined;
  if (!kind) return undefined;
  const hash = createHash(kind === 'sha256' ? 'sha256' : 'sha1');
  if (kind === 'git-sha1') hash.update(`blob ${fs.statSync(file).size}\0`);
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  const digest = hash.digest('hex');
  return digest === etag
    ? undefined
    : `${kind === 'sha256' ? 'SHA-256' : 'git blob SHA-1'} is ${digest}, the hub says ${etag}`;
}
