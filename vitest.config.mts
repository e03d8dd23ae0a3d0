import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Native addons and ONNX Runtime threads are not safe to share across worker_threads-based
    // pools the way vitest reuses them; separate processes are.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The JSON report lets .ci/run print a plain "N passed, N failed" line.
    reporters: ['default', 'json'],
    outputFile: { json: 'build/test-results.json' },
  },
});
