/**
 * Every relative link in the project's Markdown (README, docs/, scenarios/, bench/, reports/)
 * points at a file inside the repository: a link that leaves it is broken in every clone.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const mdIn = (dir: string): string[] => readdirSync(join(ROOT, dir)).filter((f) => f.endsWith('.md')).map((f) => join(dir, f));
const FILES = ['README.md', ...mdIn('docs'), ...mdIn('scenarios'), ...mdIn('bench'), ...mdIn('reports')];

/** Relative targets of `[text](target)` and `![alt](target)`, anchors and titles removed. */
export function relativeLinks(markdown: string): string[] {
  const out: string[] = [];
  for (const m of markdown.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = m[1] as string;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue;
    out.push(target.split('#')[0] as string);
  }
  return out;
}

describe('Markdown links', () => {
  it('finds links the way Markdown writes them', () => {
    expect(relativeLinks('see [a](docs/x.md#y), ![s](p.png "t"), [w](https://e.org) and [h](#top)')).toEqual(['docs/x.md', 'p.png']);
  });

  it.each(FILES)('%s links only to files inside the repository', (file) => {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const bad = relativeLinks(text).filter((target) => {
      const abs = resolve(ROOT, dirname(file), target);
      return relative(ROOT, abs).startsWith('..') || !existsSync(abs);
    });
    expect(bad).toEqual([]);
  });
});
