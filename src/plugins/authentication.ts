import { and, eq, gt, isNull } from 'drizzle-orm';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { hashSessionToken } from '../accounts/session-token.js';
import { sessions, users } from '../db/schema.js';
import { AppError } from '../errors.js';

export interface AuthenticatedOwner {
  userId: string;
  email: string;
  sessionId: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler for admin routes: 401 unless a live session token is presented. */
    authenticate(request: FastifyRequest): Promise<void>;
  }
  interface FastifyRequest {
    owner: AuthenticatedOwner | null;
  }
}

const bearer = /^Bearer ([A-Za-z0-9_-]{10,200})$/;

export const authenticationPlugin = fp(
  async (app: FastifyInstance) => {
    app.decorateRequest('owner', null);
    app.decorate('authenticate', async (request: FastifyRequest) => {
      const token = bearer.exec(request.headers.authorization ?? '')?.[1];
      if (!token) throw new AppError('UNAUTHENTICATED', 'Send Authorization: Bearer <token> from /v1/auth/login');
      const [row] = await app.database.db
        .select({ sessionId: sessions.id, userId: users.id, email: users.email })
        .from(sessions)
        .innerJoin(users, eq(users.id, sessions.userId))
        .where(and(eq(sessions.tokenHash, hashSessionToken(token)), isNull(sessions.revokedAt), gt(sessions.expiresAt, new Date())))
        .limit(1);
      if (!row) throw new AppError('UNAUTHENTICATED', 'The session token is unknown, expired or revoked; log in again');
      request.owner = row;
    });
  },
  { name: 'authentication', dependencies: ['database'] },
);

/** The authenticated owner of a request behind app.authenticate; throws if the route forgot the preHandler. */
export const requireOwner = (request: FastifyRequest): AuthenticatedOwner => {
  if (!request.owner) throw new AppError('UNAUTHENTICATED');
  return request.owner;
};
