// Shell helper: reads a layout JSON file and validates it with core's validateLayout.

import { readFileSync } from 'node:fs';
import type { Layout } from '../../core/src/index.ts';
import { parseLayoutText } from '../../core/src/index.ts';

/** The example layouts shipped in simulators/layouts/ (regenerate with scripts/build-layouts.ts). */
export const SHIPPED_LAYOUTS = {
  'joy-city': new URL('../layouts/joy-city.json', import.meta.url),
  'small-store': new URL('../layouts/small-store.json', import.meta.url),
} as const;
export type ShippedLayoutName = keyof typeof SHIPPED_LAYOUTS;

export class InvalidLayoutError extends Error {
  readonly code = 'INVALID_LAYOUT';
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
    options?: ErrorOptions,
  ) {
    super(`${source}: invalid layout\n  ${problems.join('\n  ')}`, options);
  }
}

/** Reads and validates a layout file. Throws InvalidLayoutError listing every problem. */
export function loadLayoutFile(path: string | URL): Layout {
  const source = String(path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InvalidLayoutError(source, [`cannot read: ${(err as Error).message}`], { cause: err });
  }
  const result = parseLayoutText(text); // the error names the source once, not per problem
  if (!result.ok) throw new InvalidLayoutError(source, result.errors);
  return result.layout;
}

export function loadShippedLayout(name: ShippedLayoutName): Layout {
  return loadLayoutFile(SHIPPED_LAYOUTS[name]);
}
