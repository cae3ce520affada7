import { createHash, randomBytes } from 'node:crypto';

/** 256 random bits, base64url; returned to the owner once and stored only as its SHA-256. */
export const createSessionToken = (): string => `fc_${randomBytes(32).toString('base64url')}`;

export const hashSessionToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');
