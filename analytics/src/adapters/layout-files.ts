import { readFileSync } from 'node:fs';
import { type Layout, parseLayoutText } from '../../../core/src/layout.ts';

/** Reads and validates layout files; every problem names its file. */
export function loadLayoutFiles(paths: readonly string[]): { layouts: Layout[]; errors: string[] } {
  const layouts: Layout[] = [];
  const errors: string[] = [];
  for (const path of paths) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      errors.push(`${path}: ${(err as Error).message}`);
      continue;
    }
    const result = parseLayoutText(text, path);
    if (result.ok) layouts.push(result.layout);
    else errors.push(...result.errors);
  }
  return { layouts, errors };
}
