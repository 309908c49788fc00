import type { z } from 'zod';
import { InvalidQueryError } from '../errors.ts';
import { checkRange } from './query-schemas.ts';

// A history query string, checked: a bad one is a 400 naming every problem.

export function parse<S extends z.ZodType>(schema: S, query: unknown): z.infer<S> {
  const parsed = schema.safeParse(query);
  if (!parsed.success) {
    throw new InvalidQueryError(
      parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; '),
    );
  }
  return parsed.data;
}

export function requireRange(from: string, to: string, maxDays: number, names?: [string, string]): void {
  const problem = checkRange(from, to, maxDays, names);
  if (problem !== undefined) throw new InvalidQueryError(problem);
}
