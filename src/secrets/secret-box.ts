import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Encrypts stored OpenAI keys: AES-256-GCM, a random 12-byte IV, the full 16-byte tag,
 * and the owning row's id as additional authenticated data so a ciphertext copied to
 * another row does not decrypt. Format: `v1.<iv>.<tag>.<ciphertext>` (base64url parts).
 */
const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class DecryptionError extends Error {
  constructor() {
    super('stored secret cannot be decrypted');
    this.name = 'DecryptionError';
  }
}

export const createSecretBox = (key: Buffer) => {
  if (key.length !== 32) throw new Error('the secret key must be 32 bytes');

  return {
    encrypt(plaintext: string, rowId: string): string {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(rowId, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [VERSION, iv, cipher.getAuthTag(), ciphertext].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
    },

    decrypt(stored: string, rowId: string): string {
      const [version, ivPart, tagPart, dataPart, ...rest] = stored.split('.');
      if (version !== VERSION || ivPart === undefined || tagPart === undefined || dataPart === undefined || rest.length > 0) {
        throw new DecryptionError();
      }
      const iv = Buffer.from(ivPart, 'base64url');
      const tag = Buffer.from(tagPart, 'base64url');
      if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new DecryptionError();
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(rowId, 'utf8'));
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(Buffer.from(dataPart, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw new DecryptionError();
      }
    },
  };
};

export type SecretBox = ReturnType<typeof createSecretBox>;
