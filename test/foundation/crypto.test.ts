import { randomBytes } from 'node:crypto';
import t from 'tap';
import { createSecretBox, DecryptionError } from '../../src/secrets/secret-box.js';

const box = createSecretBox(randomBytes(32));
const rowId = 'cfg_0f1e2d3c';
const openAiKey = `sk-proj-${randomBytes(24).toString('hex')}`;

/** Rewrites one base64url part of `v1.<iv>.<tag>.<ciphertext>`. */
const tamper = (stored: string, index: 1 | 2 | 3, change: (bytes: Buffer) => Buffer): string => {
  const parts = stored.split('.');
  parts[index] = change(Buffer.from(parts[index]!, 'base64url')).toString('base64url');
  return parts.join('.');
};
const flipFirstByte = (bytes: Buffer): Buffer => {
  const copy = Buffer.from(bytes);
  copy[0] = copy[0]! ^ 0x01;
  return copy;
};

t.test('round trip', async (t) => {
  for (const plaintext of [openAiKey, 'ünïcödé — 鍵 🔑', '', 'x'.repeat(10_000)]) {
    t.equal(box.decrypt(box.encrypt(plaintext, rowId), rowId), plaintext, `${plaintext.slice(0, 20)}… (${plaintext.length} chars)`);
  }
});

t.test('format: version prefix, 12-byte IV, full 16-byte tag, no plaintext', async (t) => {
  const stored = box.encrypt(openAiKey, rowId);
  const parts = stored.split('.');
  t.equal(parts.length, 4);
  t.equal(parts[0], 'v1');
  t.match(stored, /^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'base64url parts, safe in a text column');
  t.equal(Buffer.from(parts[1]!, 'base64url').length, 12);
  t.equal(Buffer.from(parts[2]!, 'base64url').length, 16);
  t.notOk(stored.includes(openAiKey), 'the key does not appear in the stored value');
  t.notOk(stored.includes(openAiKey.slice(-4)), 'not even its last four characters');
});

t.test('two encryptions of the same plaintext differ (random IV)', async (t) => {
  const first = box.encrypt(openAiKey, rowId);
  const second = box.encrypt(openAiKey, rowId);
  t.not(first, second);
  t.not(first.split('.')[1], second.split('.')[1], 'different IVs');
  t.equal(box.decrypt(second, rowId), openAiKey);
});

t.test('anything but the untouched ciphertext, key and row id throws DecryptionError', async (t) => {
  const stored = box.encrypt(openAiKey, rowId);
  const attempts: Record<string, () => string> = {
    'a flipped byte in the ciphertext': () => box.decrypt(tamper(stored, 3, flipFirstByte), rowId),
    'a flipped byte in the IV': () => box.decrypt(tamper(stored, 1, flipFirstByte), rowId),
    'a flipped byte in the tag': () => box.decrypt(tamper(stored, 2, flipFirstByte), rowId),
    'a truncated tag (15 bytes)': () => box.decrypt(tamper(stored, 2, (tag) => tag.subarray(0, 15)), rowId),
    'a truncated tag (4 bytes)': () => box.decrypt(tamper(stored, 2, (tag) => tag.subarray(0, 4)), rowId),
    'a truncated ciphertext': () => box.decrypt(tamper(stored, 3, (data) => data.subarray(0, data.length - 1)), rowId),
    'a wrong key': () => createSecretBox(randomBytes(32)).decrypt(stored, rowId),
    'another row id (AAD)': () => box.decrypt(stored, 'cfg_someone_else'),
    'an unknown version prefix': () => box.decrypt(stored.replace(/^v1\./, 'v2.'), rowId),
    'no version prefix': () => box.decrypt(stored.slice(3), rowId),
    'an extra part': () => box.decrypt(`${stored}.AAAA`, rowId),
    'an empty string': () => box.decrypt('', rowId),
    'garbage': () => box.decrypt('this is not a stored secret', rowId),
    'the plaintext key itself': () => box.decrypt(openAiKey, rowId),
    'empty parts': () => box.decrypt('v1...', rowId),
  };
  for (const [name, attempt] of Object.entries(attempts)) {
    t.throws(attempt, DecryptionError, name);
  }
  t.equal(box.decrypt(stored, rowId), openAiKey, 'the untouched value still decrypts');
});

t.test('DecryptionError carries no secret material', async (t) => {
  const stored = box.encrypt(openAiKey, rowId);
  try {
    box.decrypt(stored, 'other-row');
    t.fail('should have thrown');
  } catch (error) {
    t.type(error, DecryptionError);
    t.notMatch((error as Error).message, stored.split('.')[3]!);
    t.notMatch((error as Error).message, openAiKey);
  }
});

t.test('createSecretBox rejects keys that are not 32 bytes', async (t) => {
  for (const length of [0, 16, 31, 33, 64]) {
    t.throws(() => createSecretBox(randomBytes(length)), /32 bytes/, `${length} bytes`);
  }
  t.doesNotThrow(() => createSecretBox(randomBytes(32)));
});
