/**
 * Models from the Hugging Face hub: `pull` downloads a bundle into the cache huggingface_hub uses
 * (so Python tools and crossmodal share it), `resolveModel` finds a pulled one offline.
 * See docs/hub.md.
 */
export { pull, pullSnapshot, resolveModel, selectBundleFiles } from './pull';
export type { PullOptions, PullPrecision, PullProgress, PullResult, ResolveOptions } from './pull';
export { hubCacheDir, looksLikeRepoId } from './cache';
