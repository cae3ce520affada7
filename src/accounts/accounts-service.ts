import { createHash } from 'node:crypto';
import { AppError } from '../errors.js';
import type { WidgetKeyCache } from '../plugins/widget-key-cache.js';
import type { AccountsRepository } from './accounts-repository.js';
import type { PasswordHasher } from './password-hashing.js';
import { createSessionToken, hashSessionToken } from './session-token.js';
import type { SessionView, UserView } from './accounts-schemas.js';

/** Consecutive failures allowed before an e-mail is locked. */
export const LOGIN_FAILURES_BEFORE_LOCK = 5;
/** First lock; each further failure doubles it up to LOGIN_LOCK_MAX_MS. */
export const LOGIN_LOCK_BASE_MS = 30_000;
export const LOGIN_LOCK_MAX_MS = 15 * 60_000;
/** A failure streak with no new failure for this long starts over. */
const FAILURE_STREAK_WINDOW_MS = 60 * 60_000;
const USER_AGENT_MAX_CHARS = 512;

/** The one message for an unknown e-mail and a wrong password alike. */
export const INVALID_CREDENTIALS_DETAIL = 'The email or password is incorrect';

export const lockDurationMs = (failures: number): number =>
  failures < LOGIN_FAILURES_BEFORE_LOCK ? 0 : Math.min(LOGIN_LOCK_BASE_MS * 2 ** Math.min(failures - LOGIN_FAILURES_BEFORE_LOCK, 20), LOGIN_LOCK_MAX_MS);

/** Throttling is keyed by the e-mail's hash, so the table never lists who tried to log in as whom. */
export const hashEmail = (email: string): string => createHash('sha256').update(email, 'utf8').digest('hex');

export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}

const toUserView = (user: { id: string; email: string; createdAt: Date }): UserView => ({
  id: user.id,
  email: user.email,
  createdAt: user.createdAt.toISOString(),
});

export const createAccountsService = (deps: {
  repository: AccountsRepository;
  hasher: PasswordHasher;
  widgetKeys: Pick<WidgetKeyCache, 'invalidate'>;
  sessionTtlHours: number;
}) => {
  const { repository, hasher } = deps;

  const openSession = async (user: { id: string; email: string; createdAt: Date }, client: ClientInfo): Promise<SessionView> => {
    const token = createSessionToken();
    const expiresAt = new Date(Date.now() + deps.sessionTtlHours * 3_600_000);
    await repository.insertSession({
      userId: user.id,
      tokenHash: hashSessionToken(token),
      expiresAt,
      ip: client.ip,
      userAgent: client.userAgent?.slice(0, USER_AGENT_MAX_CHARS) ?? null,
    });
    return { user: toUserView(user), token, expiresAt: expiresAt.toISOString() };
  };

  const throttled = (lockedUntil: Date, now: number): AppError => {
    const seconds = Math.max(1, Math.ceil((lockedUntil.getTime() - now) / 1000));
    return new AppError('LOGIN_THROTTLED', `Too many failed logins for this account; try again in ${seconds} s`, {
      headers: { 'retry-after': String(seconds) },
    });
  };

  return {
    /** email is already trimmed and lower-cased by the schema. */
    async signUp(email: string, password: string, client: ClientInfo): Promise<SessionView> {
      const user = await repository.insertUser(email, await hasher.hash(password));
      if (!user) throw new AppError('EMAIL_TAKEN', 'An account with this email already exists; log in instead');
      return openSession(user, client);
    },

    async logIn(email: string, password: string, client: ClientInfo): Promise<SessionView> {
      const emailHash = hashEmail(email);
      const throttle = await repository.findThrottle(emailHash);
      const now = Date.now();
      if (throttle?.lockedUntil && throttle.lockedUntil.getTime() > now) throw throttled(throttle.lockedUntil, now);

      const user = await repository.findUserByEmail(email);
      // An unknown e-mail pays for one hash at the current cost too, so timing does not tell them apart.
      const result = user ? await hasher.verify(password, user.password) : (await hasher.burn(password), { ok: false, needsRehash: false });

      if (!user || !result.ok) {
        const failures = await repository.recordFailure(emailHash, new Date(Date.now() - FAILURE_STREAK_WINDOW_MS));
        const lockMs = lockDurationMs(failures);
        if (lockMs > 0) await repository.lockUntil(emailHash, new Date(Date.now() + lockMs));
        throw new AppError('INVALID_CREDENTIALS', INVALID_CREDENTIALS_DETAIL);
      }

      if (throttle) await repository.clearThrottle(emailHash);
      if (result.needsRehash) await repository.replacePasswordHash(user.id, user.password, await hasher.hash(password));
      return openSession(user, client);
    },

    async logOut(sessionId: string): Promise<void> {
      await repository.revokeSession(sessionId);
    },

    async getProfile(userId: string): Promise<UserView> {
      const user = await repository.findUserById(userId);
      if (!user) throw new AppError('UNAUTHENTICATED', 'The account no longer exists');
      return toUserView(user);
    },

    /** Deletes the account and everything it owns; its widget stops answering on the next request. */
    async deleteAccount(userId: string): Promise<void> {
      const keys = await repository.findWidgetKeysOfUser(userId);
      await repository.deleteUser(userId);
      deps.widgetKeys.invalidate(...keys);
    },
  };
};

export type AccountsService = ReturnType<typeof createAccountsService>;
