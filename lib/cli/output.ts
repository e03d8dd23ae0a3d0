/**
 * How the command line talks to people and scripts: exit codes, one-line errors with a hint,
 * JSON output, and progress (a bar on a terminal, periodic plain lines otherwise).
 */
import { SingleBar } from 'cli-progress';
import { CrossmodalError } from '../errors';

/**
 * Exit codes, documented in `crossmodal --help` and docs/cli.md:
 * 0 success; 1 the work failed (a `CrossmodalError` or an unexpected error); 2 the command line
 * itself was wrong (unknown command or option, bad value); 3 the work finished but some inputs were
 * skipped (`--skip-errors`).
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, partial: 3 } as const;

/** A mistake in the command line: reported like any error, exits with {@link EXIT.usage}. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

// What to try next, per error code. Kept short: one line in the terminal.
const HINTS: Partial<Record<string, string>> = {
  ERR_IMAGE_DECODE: 'use --skip-errors to continue past unreadable images',
  ERR_IMAGE_FORMAT: 'use --skip-errors to continue past unreadable images',
  ERR_IMAGE_TOO_LARGE: 'use --skip-errors to continue past unreadable images',
  ERR_IO: 'check the path and its permissions',
  ERR_MODEL_LOAD: 'point --model at a bundle directory (config.json, onnx/…) or run `crossmodal pull org/name`',
  ERR_MODEL_MISMATCH: 'the collection was built with another model: pass the same --model, or re-embed',
  ERR_LOCKED: 'another process is using it: wait for it to finish, or stop it',
  ERR_RUNTIME_UNAVAILABLE:
    'ONNX Runtime could not be loaded: reinstall onnxruntime-node (PostgreSQL collections also need `npm install pg`)',
  ERR_STORE_UNAVAILABLE:
    'the PostgreSQL server cannot be reached: check that it runs and the connection string, then retry',
  ERR_STORE:
    "PostgreSQL refused the request: check the role's privileges and that the collection was created by crossmodal",
};

/** The one line printed for an error: `crossmodal: CODE: message — hint`. */
export function formatError(error: unknown): { line: string; exitCode: number } {
  if (error instanceof UsageError) {
    return { line: `crossmodal: ${error.message}${error.hint ? ` — ${error.hint}` : ''}`, exitCode: EXIT.usage };
  }
  if (error instanceof CrossmodalError) {
    const hint = HINTS[error.code];
    const usage = error.code === 'ERR_INVALID_ARGUMENT';
    return {
      line: `crossmodal: ${error.code}: ${firstLine(error.message)}${hint ? ` — ${hint}` : ''}`,
      exitCode: usage ? EXIT.usage : EXIT.failed,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { line: `crossmodal: ERR_INTERNAL: ${firstLine(message)} — please report this`, exitCode: EXIT.failed };
}

function firstLine(text: string): string {
  const i = text.indexOf('\n');
  return i < 0 ? text : text.slice(0, i);
}

/** JSON for scripts: bigint ids as decimal strings, typed arrays as plain arrays. */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) => {
      if (typeof v === 'bigint') return v.toString();
      if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
      return v;
    },
    2,
  );
}

export interface Progress {
  /** Work done so far (absolute). */
  update(done: number): void;
  stop(): void;
}

/**
 * Progress of `total` units: a bar with count, rate and ETA on a terminal, a plain line every few
 * seconds otherwise (logs and CI), nothing with `quiet` (e.g. `--json`). Writes to stderr, so stdout
 * stays clean for results.
 */
export function progress(
  label: string,
  total: number,
  options: { quiet?: boolean; stream?: NodeJS.WriteStream } = {},
): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.quiet || total === 0) return { update() {}, stop() {} };
  const started = Date.now();
  if (stream.isTTY) {
    const bar = new SingleBar({
      format: `${label} [{bar}] {value}/{total} | {rate}/s | ETA {eta_formatted}`,
      stream,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
    });
    bar.start(total, 0, { rate: '0.0' });
    return {
      update(done) {
        bar.update(done, { rate: (done / Math.max((Date.now() - started) / 1000, 1e-3)).toFixed(1) });
      },
      stop() {
        bar.stop();
      },
    };
  }
  let lastPrint = started;
  let last = 0;
  const line = (done: number): void => {
    const seconds = (Date.now() - started) / 1000;
    const rate = done / Math.max(seconds, 1e-3);
    const eta = rate > 0 ? Math.round((total - done) / rate) : NaN;
    stream.write(`${label}: ${done}/${total} (${rate.toFixed(1)}/s, ETA ${Number.isFinite(eta) ? `${eta} s` : '?'})\n`);
  };
  return {
    update(done) {
      last = done;
      if (Date.now() - lastPrint >= 5000) {
        lastPrint = Date.now();
        line(done);
      }
    },
    stop() {
      line(last);
    },
  };
}
