// Argument checks shared by the API modules. One owner per check: TypeScript checks shapes, types
// and ranges and names the option in its message; the addon re-checks only what memory safety
// needs. Where the addon also bounds a value, the bound used here is the addon's (the native
// source is named where each range is declared), so a value TS accepts is never refused below.
import { invalidArgument } from './errors';

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

/** `value` is undefined or a non-empty string. */
export function checkString(value: unknown, name: string): void {
  if (value !== undefined && (typeof value !== 'string' || value === ''))
    throw invalidArgument(`${name} must be a non-empty string`);
}

/**
 * `value` (a file or directory path) contains no NUL character. The OS takes paths as C strings,
 * so "a.jpg\0.txt" would silently name a.jpg; the addon refuses such paths too
 * (native/common/file_util.h).
 */
export function checkPath(value: string, name: string): void {
  if (value.includes('\0')) throw invalidArgument(`${name} contains a NUL character`);
}

/** `value` is undefined or one of `allowed`. */
export function checkOneOf(value: unknown, name: string, allowed: readonly string[]): void {
  if (value !== undefined && !allowed.includes(value as string))
    throw invalidArgument(`${name} must be one of ${allowed.join(', ')}`);
}
