/**
 * The Hugging Face cache, in huggingface_hub's own layout so Python tools and crossmodal share it:
 *
 * ```
 * <cache>/models--<org>--<name>/
 *   blobs/<etag>                     file contents, named by the hub's ETag (SHA-256 for LFS files,
 *                                    the git blob SHA-1 otherwise); <etag>.incomplete while downloading
 *   snapshots/<commit>/<file>        relative symlinks to ../../blobs/<etag> (one more ../ per folder)
 *   refs/<revision>                  the commit a branch or tag resolved to (no trailing newline)
 * <cache>/.locks/models--<org>--<name>/   crossmodal's download lock (huggingface_hub keeps its own
 *                                    per-blob *.lock files in the same folder)
 * ```
 *
 * Every name that comes from the hub (file names, ETags, commits) is checked before it becomes a
 * path, so a hostile or broken server cannot make us write outside the repository's folder.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CrossmodalError, invalidArgument } from '../errors';

/** `$HF_HUB_CACHE`, else `$HUGGINGFACE_HUB_CACHE`, else `$HF_HOME/hub`, else `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub` (huggingface_hub's constants.py). */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE;
  if (explicit) return path.resolve(expandHome(explicit));
  return path.join(hfHome(env), 'hub');
}

/** `$HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`. */
export function hfHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HOME) return path.resolve(expandHome(env.HF_HOME));
  const xdg = env.XDG_CACHE_HOME ? expandHome(env.XDG_CACHE_HOME) : path.join(os.homedir(), '.cache');
  return path.resolve(xdg, 'huggingface');
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

/** huggingface_hub's truthy environment values ("1", "ON", "YES", "TRUE", any case). */
export function isTruthyEnv(value: string | undefined): boolean {
  return value !== undefined && ['1', 'ON', 'YES', 'TRUE'].includes(value.trim().toUpperCase());
}

/** Whether `HF_HUB_OFFLINE` (or the older `TRANSFORMERS_OFFLINE`) forbids network access. */
export function offlineMode(env: NodeJS.ProcessEnv = process.env): boolean {
  return isTruthyEnv(env.HF_HUB_OFFLINE || env.TRANSFORMERS_OFFLINE);
}

// The hub's own rule for repository ids (huggingface_hub validate_repo_id), restricted to the
// `namespace/name` form every CLIP export has: word characters, '.' and '-', no '--' or '..'.
const REPO_PART = /^[A-Za-z0-9_.-]{1,96}$/;

/** Checks `repoId` is `org/name`; returns it. */
export function checkRepoId(repoId: unknown): string {
  if (typeof repoId !== 'string') throw invalidArgument('the model id must be a string like "org/name"');
  const parts = repoId.split('/');
  const ok =
    parts.length === 2 &&
    parts.every((part) => REPO_PART.test(part) && !/^[.-]|[.-]$/.test(part)) &&
    !repoId.includes('--') &&
    !repoId.includes('..');
  if (!ok)
    throw invalidArgument(
      `"${repoId}" is not a Hugging Face model id: expected "org/name" (letters, digits, '_', '.', '-')`,
    );
  return repoId;
}

/** Whether `value` looks like `org/name` (used to tell a hub id from a local directory). */
export function looksLikeRepoId(value: string): boolean {
  return /^[\w.-]+\/[\w.-]+$/.test(value);
}

/**
 * Checks a revision (branch, tag, `refs/pr/N` or commit) can become a path under refs/: relative,
 * `/`-separated, no empty, `.` or `..` segment, no backslash or control character.
 */
export function checkRevision(revision: unknown): string {
  if (typeof revision !== 'string' || revision.length === 0 || revision.length > 255) {
    throw invalidArgument('revision must be a non-empty string (a branch, tag or commit)');
  }
  if (!isSafeRelativePath(revision)) throw invalidArgument(`revision "${revision}" is not a valid git revision name`);
  return revision;
}

export const COMMIT_HASH = /^[0-9a-f]{40}$/;

/**
 * Whether a name from the hub is safe as a path below a folder: `/`-separated segments, none empty,
 * `.` or `..`, no backslash (a separator on Windows), no leading `/` or drive letter, no control
 * characters. This is the check for sibling file names ("../../evil", "/etc/passwd", "a\\..\\b").
 */
export function isSafeRelativePath(name: string): boolean {
  if (name.length === 0 || name.length > 1024) return false;
  if (name.includes('\\') || /[\u0000-\u001f\u007f]/.test(name)) return false;
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return false;
  return name.split('/').every((segment) => segment.length > 0 && segment !== '.' && segment !== '..');
}

/** A blob name (the ETag with quotes and `W/` removed) must be a single plain path segment. */
export function isSafeBlobName(etag: string): boolean {
  return /^[0-9A-Za-z][0-9A-Za-z_.-]{0,127}$/.test(etag) && !etag.endsWith('.incomplete');
}

/** One repository's folder in the cache. */
export class RepoCache {
  readonly dir: string;
  readonly blobsDir: string;
  readonly snapshotsDir: string;
  readonly refsDir: string;
  readonly lockDir: string;

  constructor(
    readonly cacheDir: string,
    readonly repoId: string,
  ) {
    const folder = `models--${repoId.split('/').join('--')}`;
    this.dir = path.join(cacheDir, folder);
    this.blobsDir = path.join(this.dir, 'blobs');
    this.snapshotsDir = path.join(this.dir, 'snapshots');
    this.refsDir = path.join(this.dir, 'refs');
    this.lockDir = path.join(cacheDir, '.locks', folder);
  }

  blobPath(etag: string): string {
    if (!isSafeBlobName(etag))
      throw new CrossmodalError('ERR_HUB', `the hub sent an unusable ETag "${etag}" for ${this.repoId}`);
    return path.join(this.blobsDir, etag);
  }

  snapshotDir(commit: string): string {
    if (!COMMIT_HASH.test(commit)) throw new CrossmodalError('ERR_HUB', `"${commit}" is not a commit hash`);
    return path.join(this.snapshotsDir, commit);
  }

  /** The commit `revision` resolved to when last pulled (a commit hash resolves to itself), if known. */
  readRef(revision: string): string | undefined {
    if (COMMIT_HASH.test(revision)) return revision;
    try {
      const commit = fs.readFileSync(path.join(this.refsDir, ...revision.split('/')), 'utf8').trim();
      return COMMIT_HASH.test(commit) ? commit : undefined;
    } catch {
      return undefined;
    }
  }

  /** Records `revision` → `commit` (as huggingface_hub does: only for names, only when changed). */
  writeRef(revision: string, commit: string): void {
    if (revision === commit) return;
    const file = path.join(this.refsDir, ...revision.split('/'));
    if (this.readRef(revision) === commit) return;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, commit);
    fs.renameSync(temp, file);
  }

  /**
   * Where `file` goes in the snapshot, after checking the name is safe and that no folder on the way
   * is a symlink leading out of the snapshot (a planted `onnx -> /etc` would otherwise redirect us).
   */
  pointerPath(commit: string, file: string): string {
    if (!isSafeRelativePath(file)) throw unsafeName(this.repoId, file);
    const snapshot = this.snapshotDir(commit);
    const pointer = path.join(snapshot, ...file.split('/'));
    const relative = path.relative(snapshot, pointer);
    if (relative.startsWith('..') || path.isAbsolute(relative)) throw unsafeName(this.repoId, file);
    // Any existing folder between the snapshot and the file must resolve inside the snapshot.
    let parent = path.dirname(pointer);
    const realSnapshot = realpathOrSelf(snapshot);
    while (parent.length > snapshot.length) {
      if (fs.existsSync(parent)) {
        const real = fs.realpathSync(parent);
        if (real !== realSnapshot && !real.startsWith(realSnapshot + path.sep))
          throw unsafeName(this.repoId, file, 'a folder on its path is a symlink out of the snapshot');
        break;
      }
      parent = path.dirname(parent);
    }
    return pointer;
  }

  /**
   * The blob a snapshot entry points to, when it is a symlink into this repository's blobs/ whose
   * blob exists; undefined otherwise (missing, dangling, or pointing elsewhere: then it is replaced).
   */
  cachedBlob(commit: string, file: string): string | undefined {
    const pointer = this.pointerPath(commit, file);
    try {
      if (!fs.lstatSync(pointer).isSymbolicLink()) return undefined;
      const real = fs.realpathSync(pointer);
      const blobs = realpathOrSelf(this.blobsDir);
      return path.dirname(real) === blobs && fs.statSync(real).isFile() ? real : undefined;
    } catch {
      return undefined;
    }
  }

  /** Points `snapshots/<commit>/<file>` at `blobs/<etag>` with a relative symlink, atomically. */
  placePointer(commit: string, file: string, etag: string): void {
    const pointer = this.pointerPath(commit, file);
    const blob = this.blobPath(etag);
    fs.mkdirSync(path.dirname(pointer), { recursive: true });
    const target = path.relative(path.dirname(pointer), blob);
    const temp = `${pointer}.${process.pid}.tmp`;
    fs.rmSync(temp, { force: true });
    fs.symlinkSync(target, temp);
    fs.renameSync(temp, pointer); // replaces a stale entry in one step
  }
}

function realpathOrSelf(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

function unsafeName(repoId: string, file: string, why = 'it would leave the cache'): CrossmodalError {
  return new CrossmodalError('ERR_HUB', `refusing file name ${JSON.stringify(file)} from ${repoId}: ${why}`);
}

/** Every file below `dir` (relative, `/`-separated), following no symlinked folders. */
export function listSnapshotFiles(dir: string): string[] {
  const files: string[] = [];
  const walk = (sub: string): void => {
    for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(rel);
      else if (entry.isSymbolicLink() || entry.isFile()) files.push(rel);
    }
  };
  try {
    walk('');
  } catch {
    return [];
  }
  return files;
}
