// The module graph of lib/: no import cycles (type-only imports count too: a reader follows them
// the same way), and the addon typing (binding.ts) sits below every feature module.
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers';

const libDir = path.join(repoRoot, 'lib');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** Resolves a relative specifier the way tsc does for this project (file.ts, then dir/index.ts). */
function resolveLocal(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), specifier);
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts')]) if (fs.existsSync(candidate)) return candidate;
  throw new Error(`${path.relative(repoRoot, from)}: cannot resolve '${specifier}'`);
}

/** lib-relative file → lib-relative files it imports (static imports, re-exports, import type). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(libDir)) {
    const info = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
    const targets = info.importedFiles.flatMap((ref) => {
      const resolved = resolveLocal(file, ref.fileName);
      return resolved ? [path.relative(libDir, resolved)] : [];
    });
    graph.set(path.relative(libDir, file), [...new Set(targets)].sort());
  }
  return graph;
}

/** Every elementary cycle found by depth-first search, each as a path that ends where it starts. */
function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'active');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'active') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

describe('lib/ module graph', () => {
  it('the cycle finder reports a cycle when there is one', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(findCycles(graph)).toEqual([['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
    expect(
      findCycles(
        new Map([
          ['a.ts', ['b.ts']],
          ['b.ts', []],
        ]),
      ),
    ).toEqual([]);
  });

  it('has no import cycles', () => {
    const graph = importGraph();
    expect(graph.size).toBeGreaterThan(5);
    expect(findCycles(graph).map((cycle) => cycle.join(' → '))).toEqual([]);
  });

  it('keeps the addon typing below the feature modules', () => {
    // binding.ts may only use the error type and the shared plain types; anything else would
    // make the addon layer depend on the API built on top of it.
    expect(importGraph().get('binding.ts')).toEqual(['errors.ts', 'types.ts']);
    expect(importGraph().get('types.ts')).toEqual([]);
  });
});
