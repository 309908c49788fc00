import { readFileSync } from 'node:fs';
import { type Layout, validateLayout } from '../../../core/src/layout.ts';

/** Reads and validates layout files; every problem names its file. */
export function loadLayoutFiles(paths: readonly string[]): { layouts: Layout[]; errors: string[] } {
  const layouts: Layout[] = [];
  const errors: string[] = [];
  for (const path of paths) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      errors.push(`${path}: ${(err as Error).message}`);
      continue;
    }
    const result = validateLayout(json);
    if (result.ok) layouts.push(result.layout);
    else errors.push(...result.errors.map((e) => `${path}: ${e}`));
  }
  return { layouts, errors };
}
