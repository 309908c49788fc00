/**
 * Polls `check` until it returns a truthy value or the deadline passes. On timeout the error says
 * what was awaited and what the last check saw, so a failing test explains itself.
 */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  options: { timeoutMs?: number; intervalMs?: number; what?: string; describe?: () => unknown } = {},
): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      last = await check();
      if (last) return last as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 25));
  }
  const seen = options.describe ? await options.describe() : last;
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${options.what ?? 'condition'}; last saw ${JSON.stringify(seen)}` +
      (lastError ? `; last error: ${(lastError as Error).message}` : ''),
  );
}
