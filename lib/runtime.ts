// The native addon and ONNX Runtime: loading them explicitly and reporting what was loaded.
import { native, nativePath, resolveOrtLibrary, type NativeRuntimeInfo } from './binding';
import { checkOptionalPath, checkOptions, guarded } from './checks';
import { callNative } from './errors';

/** Information about the loaded ONNX Runtime library. */
export type RuntimeInfo = NativeRuntimeInfo;

/**
 * Loads ONNX Runtime (once per process) and reports its version, path and built-in providers.
 * {@link load} does this implicitly.
 * @param options - `ortLibrary`: path of the shared library (see {@link LoadOptions.ortLibrary})
 * @throws {CrossmodalError} `ERR_RUNTIME_UNAVAILABLE`
 */
export async function loadRuntime(options?: { ortLibrary?: string }): Promise<RuntimeInfo> {
  return guarded(async () => {
    const { ortLibrary } = checkOptions(options);
    const library = resolveOrtLibrary(checkOptionalPath(ortLibrary, 'options.ortLibrary'));
    return callNative(() => native().loadRuntime(library));
  });
}

/**
 * Loads the native addon now rather than on first use.
 * @returns the file that was loaded and the N-API version it was built for
 * @throws {CrossmodalError} `ERR_NATIVE_BINDING` naming the platform and what to install
 */
export function nativeInfo(): { napiVersion: number; path: string } {
  return guarded(() => {
    const addon = native();
    return { napiVersion: addon.napiVersion, path: nativePath() };
  });
}
