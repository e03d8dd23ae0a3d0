// Argument checks shared by the API modules. One owner per check: TypeScript checks shapes, types
// and ranges and names the option in its message; the addon re-checks only what memory safety
// needs. Where the addon also bounds a value, the bound used here is the addon's (the native
// source is named where each range is declared), so a value TS accepts is never refused below.
import { CrossmodalError, fromNative, invalidArgument } from './errors';

/** An inclusive integer range `[min, max]`. */
export type IntegerRange = readonly [min: number, max: number];

/** `value` is undefined or an integer in `range`. */
export function checkInteger(value: unknown, name: string, [min, max]: IntegerRange): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidArgument(`${name} must be an integer in ${min}..${max}`);
  }
}

/** `value` is undefined or a finite number in `[min, max]`. */
export function checkNumber(value: unknown, name: string, [min, max]: IntegerRange): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalidArgument(`${name} must be a number in ${min}..${max}`);
  }
}

/** `value` is undefined or a boolean. */
export function checkBoolean(value: unknown, name: string): void {
  if (value !== undefined && typeof value !== 'boolean') throw invalidArgument(`${name} must be a boolean`);
}

/** `value` is undefined or one of `allowed`. */
export function checkOneOf(value: unknown, name: string, allowed: readonly string[]): void {
  if (value !== undefined && !allowed.includes(value as string))
    throw invalidArgument(`${name} must be one of ${allowed.join(', ')}`);
}

/**
 * An options argument: `undefined` means "all defaults" and returns `{}`; anything else must be a
 * plain (non-array) object. `null` is refused with `ERR_INVALID_ARGUMENT` rather than read as
 * "no options": load(), createIndex() and embedImages() always refused it, and one rule for every
 * entry point beats a per-method guess (a `null` usually means a caller's variable was not set).
 */
export function checkOptions<T extends object>(value: T | undefined, name = 'options'): T {
  if (value === undefined) return {} as T;
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw invalidArgument(`${name} must be an object${value === null ? ' (got null; omit it for the defaults)' : ''}`);
  return value;
}

/**
 * A file-system path: a non-empty string without NUL. Only strings: Buffers and URLs are refused
 * rather than converted, so a path means the same to crossmodal, to the addon and in messages.
 * A NUL would be cut silently by the OS calls below (the addon's C strings), opening another file
 * than the one named.
 */
export function checkPath(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw invalidArgument(`${name} must be a non-empty path string`);
  if (value.includes('\0')) throw invalidArgument(`${name} must not contain a NUL character`);
  return value;
}

/** `value` is undefined or a path (see {@link checkPath}). */
export function checkOptionalPath(value: unknown, name: string): string | undefined {
  return value === undefined ? undefined : checkPath(value, name);
}

/**
 * A real array (not an array-like such as `{ length: 2 ** 32 }`, whose length would size an
 * allocation or a loop), of at most `maxLength` elements. Holes are caught by the per-element checks
 * of the callers, which index every element.
 */
export function checkArray(value: unknown, name: string, maxLength = MAX_ELEMENTS): asserts value is unknown[] {
  if (!Array.isArray(value)) throw invalidArgument(`${name} must be an array`);
  if (value.length > maxLength) throw invalidArgument(`${name} has ${value.length} elements, more than ${maxLength}`);
}

/**
 * A list of numbers: a real array or a typed array (not a DataView, not an array-like), bounded as
 * {@link checkArray}; every element of a plain array must be a number.
 */
export function checkNumberList(value: unknown, name: string, maxLength = MAX_ELEMENTS): ArrayLike<number> {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    if (value instanceof BigInt64Array || value instanceof BigUint64Array)
      throw invalidArgument(`${name} must hold numbers, not bigints`);
    return value as unknown as ArrayLike<number>;
  }
  checkArray(value, name, maxLength);
  for (let i = 0; i < value.length; i++)
    if (typeof value[i] !== 'number') throw invalidArgument(`${name}[${i}] must be a number`);
  return value as number[];
}

/** Elements accepted in one list argument: far above any real call, far below what breaks a loop or an allocation. */
export const MAX_ELEMENTS = 2 ** 28;

/**
 * `value` as JSON text, for configs and metadata that are stored or sent on: what JSON.stringify
 * cannot represent (a BigInt, a cycle, a top-level function or symbol) is refused naming `name`
 * instead of surfacing JSON.stringify's TypeError.
 */
export function toJson(value: unknown, name: string): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new CrossmodalError('ERR_INVALID_ARGUMENT', `${name} cannot be stored as JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (json === undefined) throw invalidArgument(`${name} cannot be stored as JSON`);
  return json;
}

/** `value` is undefined or a function. */
export function checkFunction(value: unknown, name: string): void {
  if (value !== undefined && typeof value !== 'function') throw invalidArgument(`${name} must be a function`);
}

/**
 * Any error as a CrossmodalError: itself, an addon error by its code, a Node file-system error as
 * `ERR_IO`, anything else as `ERR_INTERNAL` with the original attached as `cause`. The last line of
 * defence of every public entry point (see {@link guarded}): the checks above should leave it nothing
 * but genuine bugs.
 */
export function asCrossmodalError(error: unknown): CrossmodalError {
  if (error instanceof CrossmodalError) return error;
  const err = error as { code?: unknown; syscall?: unknown; message?: unknown } | null;
  if (typeof err?.code === 'string' && typeof err.syscall === 'string' && /^E[A-Z]+$/.test(err.code))
    return new CrossmodalError('ERR_IO', String(err.message), { cause: error });
  return fromNative(error);
}

/**
 * Runs an entry point's body so that whatever it throws or rejects with is a CrossmodalError
 * (see {@link asCrossmodalError}). Synchronous bodies stay synchronous.
 */
export function guarded<T>(body: () => T): T {
  let result: T;
  try {
    result = body();
  } catch (error) {
    throw asCrossmodalError(error);
  }
  if (result instanceof Promise) return result.catch((error: unknown) => Promise.reject(asCrossmodalError(error))) as T;
  return result;
}

/**
 * Routes every method (and getter) of a public class through {@link guarded}, so none of them can
 * throw anything but a CrossmodalError. Applied once per class, where the class is defined.
 */
export function guardClass(cls: { prototype: object }): void {
  const proto = cls.prototype as Record<string, unknown>;
  for (const key of Object.getOwnPropertyNames(proto)) {
    if (key === 'constructor') continue;
    const descriptor = Object.getOwnPropertyDescriptor(proto, key) as PropertyDescriptor;
    if (typeof descriptor.value === 'function') {
      const method = descriptor.value as (...args: unknown[]) => unknown;
      descriptor.value = {
        [key](this: unknown, ...args: unknown[]) {
          return guarded(() => method.apply(this, args));
        },
      }[key];
    } else if (descriptor.get) {
      const getter = descriptor.get;
      descriptor.get = function (this: unknown) {
        return guarded(() => getter.call(this));
      };
    } else continue;
    Object.defineProperty(proto, key, descriptor);
  }
}
