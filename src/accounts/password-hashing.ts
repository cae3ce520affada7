import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  N: number;
  /** Block size. */
  r: number;
  /** Parallelisation. */
  p: number;
}

/** OWASP's figures (2025): N=2^17, r=8, p=1 — about 128 MiB and ~0.3 s per hash. The one place they live. */
export const PRODUCTION_SCRYPT_PARAMS: Readonly<ScryptParams> = Object.freeze({ N: 2 ** 17, r: 8, p: 1 });

/** Two concurrent hashes: the machine has two cores, and each hash holds 128 MiB. */
export const DEFAULT_HASH_CONCURRENCY = 2;

const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Refuse to work on stored strings whose parameters would exhaust memory or CPU (a tampered row). */
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;

const storedFormat = /^scrypt\$N=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

export interface PasswordHashingOptions {
  /** Cost of new hashes. Defaults to PRODUCTION_SCRYPT_PARAMS; tests pass a cheaper cost explicitly. */
  params?: ScryptParams;
  /** Hashes allowed to run at once; the rest wait their turn. */
  concurrency?: number;
}

export interface ParsedHash {
  params: ScryptParams;
  salt: Buffer;
  hash: Buffer;
}

export const parseStoredHash = (stored: string): ParsedHash | null => {
  const match = storedFormat.exec(stored);
  if (!match) return null;
  const [, n, r, p, salt, hash] = match;
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  const powerOfTwo = params.N > 1 && (params.N & (params.N - 1)) === 0;
  if (!powerOfTwo || params.N > MAX_N || params.r < 1 || params.r > MAX_R || params.p < 1 || params.p > MAX_P) return null;
  return { params, salt: Buffer.from(salt!, 'base64'), hash: Buffer.from(hash!, 'base64') };
};

export const formatStoredHash = ({ params, salt, hash }: ParsedHash): string =>
  `scrypt$N=${params.N},r=${params.r},p=${params.p}$${salt.toString('base64')}$${hash.toString('base64')}`;

/** scrypt needs 128·N·r bytes; allow twice that (256 MiB at production cost). */
const maxmemFor = ({ N, r, p }: ScryptParams): number => 2 * 128 * N * r + 128 * r * p + 1024 * 1024;

const createSemaphore = (limit: number) => {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(work: () => Promise<T>): Promise<T> => {
    if (active < limit) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve)); // the finishing task hands its slot over
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
};

/**
 * Password hashing with scrypt (node:crypto), stored as a self-describing string
 * `scrypt$N=131072,r=8,p=1$<salt b64>$<hash b64>`, run with bounded concurrency so a burst of
 * signups or logins cannot exhaust memory.
 */
export const createPasswordHasher = (options: PasswordHashingOptions = {}) => {
  const params: Readonly<ScryptParams> = Object.freeze({ ...(options.params ?? PRODUCTION_SCRYPT_PARAMS) });
  const limit = createSemaphore(options.concurrency ?? DEFAULT_HASH_CONCURRENCY);
  let hashesComputed = 0;

  const derive = (password: string, salt: Buffer, cost: ScryptParams, keyLength: number): Promise<Buffer> =>
    limit(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          hashesComputed++;
          scrypt(password, salt, keyLength, { ...cost, maxmem: maxmemFor(cost) }, (error, key) => (error ? reject(error) : resolve(key)));
        }),
    );

  const isWeaker = (stored: ParsedHash): boolean =>
    stored.params.N < params.N || stored.params.r < params.r || stored.params.p < params.p || stored.hash.length < KEY_BYTES;

  return {
    params,

    async hash(password: string): Promise<string> {
      const salt = randomBytes(SALT_BYTES);
      return formatStoredHash({ params, salt, hash: await derive(password, salt, params, KEY_BYTES) });
    },

    /** ok: the password matches; needsRehash: it does, but the stored cost is below the current one. */
    async verify(password: string, stored: string): Promise<{ ok: boolean; needsRehash: boolean }> {
      const parsed = parseStoredHash(stored);
      if (!parsed || parsed.hash.length < 16) {
        await this.burn(password); // an unreadable row costs the same as a real check
        return { ok: false, needsRehash: false };
      }
      const candidate = await derive(password, parsed.salt, parsed.params, parsed.hash.length);
      const ok = timingSafeEqual(candidate, parsed.hash);
      return { ok, needsRehash: ok && isWeaker(parsed) };
    },

    /** Does the work of one verification at the current cost and matches nothing: the unknown-email path. */
    async burn(password: string): Promise<void> {
      await derive(password, randomBytes(SALT_BYTES), params, KEY_BYTES);
    },

    /** How many scrypt derivations this hasher has run (tests prove the unknown-email path hashes too). */
    hashesComputed: (): number => hashesComputed,
  };
};

export type PasswordHasher = ReturnType<typeof createPasswordHasher>;
