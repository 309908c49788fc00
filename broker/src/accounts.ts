import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { Id } from '../../core/src/ids.ts';

// Broker accounts: who may connect, and as what. Passwords are stored only as scrypt hashes in
// the PHC-like form `scrypt$N$r$p$saltB64$hashB64`, so an accounts file can be committed to an
// operator's config repo without giving away credentials.

export const ROLES = ['gateway', 'analytics', 'dashboard'] as const;
export type Role = (typeof ROLES)[number];

const HASH_PATTERN = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

function isObjectPayload(payload: { value: unknown }): boolean {
  return typeof payload.value === 'object' && payload.value !== null;
}

export const Account = z
  .object({
    username: z.string().min(1, 'must not be empty').max(256, 'must be at most 256 characters'),
    passwordHash: z
      .string()
      .regex(
        HASH_PATTERN,
        'must be "scrypt$N$r$p$salt$hash" (make one with `mallflow broker hash-password`)',
      ),
    role: z.enum(ROLES),
    /** Gateways: the mall they belong to. Analytics/dashboard: optional, scopes them to one mall. */
    mallId: Id.optional(),
    /** Gateways only. Kept separate from `username` so credentials can rotate without renaming. */
    gatewayId: Id.optional(),
  })
  .strict()
  // `when`: run these even when other fields failed, so a file's problems are all reported at once
  // (the checks only compare `role` and test for undefined, which is safe on any object).
  .refine((a) => a.role !== 'gateway' || a.mallId !== undefined, {
    path: ['mallId'],
    message: 'is required for a gateway account',
    when: isObjectPayload,
  })
  .refine((a) => a.role !== 'gateway' || a.gatewayId !== undefined, {
    path: ['gatewayId'],
    message: 'is required for a gateway account',
    when: isObjectPayload,
  })
  .refine((a) => a.role === 'gateway' || a.gatewayId === undefined, {
    path: ['gatewayId'],
    message: 'is only allowed on a gateway account',
    when: isObjectPayload,
  });
export type Account = z.infer<typeof Account>;

export class AccountsFileError extends Error {
  readonly code = 'ACCOUNTS_FILE_INVALID';
  /** One line per problem, each naming the array index and field. */
  readonly problems: readonly string[];
  constructor(path: string, problems: readonly string[], options?: ErrorOptions) {
    super(`${path}: ${problems.join('; ')}`, options);
    this.name = 'AccountsFileError';
    this.problems = problems;
  }
}

export class InvalidAccountError extends Error {
  readonly code = 'INVALID_ACCOUNT';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidAccountError';
  }
}

// N=2^14, r=8, p=1: OWASP's scrypt minimum; ~40 ms per hash here, run on the libuv pool.
const SCRYPT_N = 16_384;
const SCRYPT_R = 8;
const SCRYPT_P = 1;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
// Refuse parameters that would let a (mistyped) accounts file pin the thread pool or memory.
const MAX_SCRYPT_N = 1_048_576;
const MAX_SCRYPT_R = 32;
const MAX_SCRYPT_P = 16;

function deriveKey(
  password: string,
  salt: Buffer,
  keyBytes: number,
  options: ScryptOptions,
): Promise<Buffer> {
  const { N = SCRYPT_N, r = SCRYPT_R } = options;
  // Node's default maxmem (32 MiB) is just above what N=2^14, r=8 needs; give headroom for larger N.
  const maxmem = 128 * N * r * 2 + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keyBytes, { ...options, maxmem }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** Hashes a password with scrypt and a random 16-byte salt: `scrypt$N$r$p$saltB64$hashB64`. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await deriveKey(password, salt, KEY_BYTES, { N: SCRYPT_N, r: SCRYPT_R, p: SCRYPT_P });
  return `scrypt$${SCRYPT_N}$${SCRYPT_R}$${SCRYPT_P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

interface ParsedHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

function parseHash(hash: string): ParsedHash | undefined {
  const m = HASH_PATTERN.exec(hash);
  if (!m) return undefined;
  const N = Number(m[1]);
  const r = Number(m[2]);
  const p = Number(m[3]);
  const isPowerOfTwo = N > 1 && (N & (N - 1)) === 0;
  if (!isPowerOfTwo || N > MAX_SCRYPT_N || r < 1 || r > MAX_SCRYPT_R || p < 1 || p > MAX_SCRYPT_P) {
    return undefined;
  }
  const salt = Buffer.from(m[4]!, 'base64');
  const key = Buffer.from(m[5]!, 'base64');
  if (salt.length === 0 || key.length < 16) return undefined;
  return { N, r, p, salt, key };
}

/**
 * Checks a password against a `hashPassword` result in constant time. A malformed hash is a
 * mismatch (false), not an error: `loadAccountsFile` already reports malformed hashes at start.
 */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const parsed = parseHash(hash);
  if (!parsed) return false;
  const key = await deriveKey(password, parsed.salt, parsed.key.length, {
    N: parsed.N,
    r: parsed.r,
    p: parsed.p,
  });
  return timingSafeEqual(key, parsed.key);
}

/** A random password for accounts created at start (embedded mode): 144 bits, URL-safe. */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

function formatIssue(index: number | undefined, issue: z.core.$ZodIssue): string {
  const where = index === undefined ? '' : `[${index}]`;
  const field = issue.path.length > 0 ? `${where}.${issue.path.map(String).join('.')}` : where || '(root)';
  return `${field}: ${issue.message}`;
}

/** Validates a parsed accounts file: the valid accounts plus one line per problem. */
function parseAccounts(input: unknown): { accounts: Account[]; problems: string[] } {
  const problems: string[] = [];
  const accounts: Account[] = [];
  if (!Array.isArray(input)) return { accounts, problems: ['(root): must be a JSON array of accounts'] };
  const seen = new Map<string, number>();
  input.forEach((item, index) => {
    const parsed = Account.safeParse(item);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(formatIssue(index, issue));
      return;
    }
    const hashOk = parseHash(parsed.data.passwordHash) !== undefined;
    if (!hashOk) problems.push(`[${index}].passwordHash: scrypt parameters out of range or salt/hash empty`);
    const first = seen.get(parsed.data.username);
    if (first !== undefined) {
      problems.push(`[${index}].username: "${parsed.data.username}" is already used by [${first}]`);
      return;
    }
    seen.set(parsed.data.username, index);
    if (hashOk) accounts.push(parsed.data);
  });
  if (input.length === 0) problems.push('(root): contains no accounts');
  return { accounts, problems };
}

/** Reads and validates a JSON array of accounts. Every problem is reported at once. */
export async function loadAccountsFile(path: string): Promise<Account[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new AccountsFileError(path, [`cannot read: ${(err as Error).message}`], { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new AccountsFileError(path, [`not valid JSON: ${(err as Error).message}`], { cause: err });
  }
  const { accounts, problems } = parseAccounts(json);
  if (problems.length > 0) throw new AccountsFileError(path, problems);
  return accounts;
}

/** In-memory accounts by username. Accounts are validated on the way in. */
export class AccountStore {
  readonly #byUsername = new Map<string, Account>();

  constructor(accounts: Iterable<Account> = []) {
    for (const account of accounts) this.add(account);
  }

  get(username: string): Account | undefined {
    return this.#byUsername.get(username);
  }

  /** Adds an account; throws if it is invalid or the username is taken. */
  add(account: Account): void {
    const parsed = Account.safeParse(account);
    if (!parsed.success) {
      throw new InvalidAccountError(
        `invalid account: ${parsed.error.issues.map((i) => formatIssue(undefined, i)).join('; ')}`,
      );
    }
    if (this.#byUsername.has(parsed.data.username)) {
      throw new InvalidAccountError(`account "${parsed.data.username}" already exists`);
    }
    this.#byUsername.set(parsed.data.username, Object.freeze(parsed.data));
  }

  get size(): number {
    return this.#byUsername.size;
  }
}
