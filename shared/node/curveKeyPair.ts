/**
 * CurveZMQ key pairs on disk, for both ends: the agent server's key in its state dir and the
 * console's client key in its data dir. Node only (allowed for `main/` and `server/`, never for
 * the renderer).
 *
 * A key pair file is text in the spirit of ZeroMQ's certificate files:
 *
 *     # Descartes CurveZMQ key pair (server). Keep this file secret.
 *     public-key = "<40 Z85 characters>"
 *     secret-key = "<40 Z85 characters>"
 *
 * It is created 0600 inside a 0700 directory, never overwritten, and refused when other users
 * can read it or when the public key does not belong to the secret key.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { linkSync, readFileSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { CurveKeyError, parseCurveKey, z85Decode, z85Encode } from '../domain/curveKey';
import { writeFreshTempFile } from './freshTempFile';
import { checkPrivateFile, ensurePrivateDir, UnsafePathError } from './privatePath';

/** A CurveZMQ key pair as Z85 text (40 characters each). */
export interface CurveKeyPair {
  readonly publicKey: string;
  readonly secretKey: string;
}

/** A key file that cannot be used; the message names the file, the problem and the fix. */
export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/** DER prefix of a PKCS#8 X25519 private key; the 32 key bytes follow. */
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** Makes a new key pair (X25519, what CurveZMQ uses). */
export function generateCurveKeyPair(): CurveKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const d = privateKey.export({ format: 'jwk' }).d;
  const x = publicKey.export({ format: 'jwk' }).x;
  if (d === undefined || x === undefined) throw new Error('x25519 key export gave no key bytes');
  return {
    publicKey: z85Encode(Buffer.from(x, 'base64url')),
    secretKey: z85Encode(Buffer.from(d, 'base64url')),
  };
}

/**
 * The public key that belongs to a secret key.
 * @throws CurveKeyError when `secretKey` is not 40 Z85 characters
 */
export function curvePublicKeyOf(secretKey: string): string {
  const secret = z85Decode(secretKey);
  const key = createPrivateKey({
    key: Buffer.concat([PKCS8_X25519_PREFIX, secret]),
    format: 'der',
    type: 'pkcs8',
  });
  const x = createPublicKey(key).export({ format: 'jwk' }).x;
  if (x === undefined) throw new Error('x25519 key export gave no key bytes');
  return z85Encode(Buffer.from(x, 'base64url'));
}

/**
 * Reads the key pair in `path`, creating the file (and its directory, 0700) with a new pair
 * when it does not exist yet. Two processes starting at once end up with the same pair.
 * @param label who owns the key, written in the file's comment (`server`, `console`)
 * @throws KeyFileError when the file is unreadable, malformed, readable by other users, or its
 *   keys do not belong together; the file is never changed then
 */
export function loadOrCreateKeyPair(
  path: string,
  label: string,
): { keyPair: CurveKeyPair; created: boolean } {
  try {
    ensurePrivateDir(dirname(path));
  } catch (e) {
    if (e instanceof UnsafePathError) throw new KeyFileError(path, e.message);
    throw e;
  }
  const existing = readKeyPairFile(path);
  if (existing !== null) return { keyPair: existing, created: false };
  const keyPair = generateCurveKeyPair();
  const tmp = writeFreshTempFile(
    path,
    `# Descartes CurveZMQ key pair (${label}). Keep this file secret: whoever has it can act as this ${label}.\n` +
      `public-key = "${keyPair.publicKey}"\nsecret-key = "${keyPair.secretKey}"\n`,
  );
  try {
    // link(2) fails when the name exists: a pair another process made meanwhile wins.
    linkSync(tmp, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    unlinkSync(tmp);
  }
  const stored = readKeyPairFile(path);
  if (stored === null) throw new KeyFileError(path, `${path} vanished right after it was created`);
  return { keyPair: stored, created: stored.publicKey === keyPair.publicKey };
}

/**
 * Reads a key pair file; null when it does not exist.
 * @throws KeyFileError as {@link loadOrCreateKeyPair}
 */
export function readKeyPairFile(path: string): CurveKeyPair | null {
  try {
    if (!checkPrivateFile(path, true)) return null;
  } catch (e) {
    if (e instanceof UnsafePathError) throw new KeyFileError(path, `the key file ${e.message}`);
    throw new KeyFileError(
      path,
      `cannot read the key file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
    );
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    throw new KeyFileError(path, `cannot read the key file ${path}: ${code ?? String(e)}`);
  }
  const fields = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(public-key|secret-key)\s*=\s*"([^"]*)"$/.exec(line);
    if (!m?.[1] || m[2] === undefined) {
      throw new KeyFileError(
        path,
        `${path} line ${i + 1} is not \`public-key = "…"\` or \`secret-key = "…"\`; restore the file or remove it to make a new key`,
      );
    }
    fields.set(m[1], m[2]);
  }
  const publicText = fields.get('public-key');
  const secretText = fields.get('secret-key');
  if (publicText === undefined || secretText === undefined) {
    throw new KeyFileError(
      path,
      `${path} lacks a ${publicText === undefined ? 'public' : 'secret'}-key line`,
    );
  }
  let keyPair: CurveKeyPair;
  try {
    keyPair = {
      publicKey: parseCurveKey(publicText, 'public-key'),
      secretKey: parseCurveKey(secretText, 'secret-key'),
    };
  } catch (e) {
    throw new KeyFileError(path, `${path}: ${e instanceof CurveKeyError ? e.message : String(e)}`);
  }
  if (curvePublicKeyOf(keyPair.secretKey) !== keyPair.publicKey) {
    throw new KeyFileError(
      path,
      `${path}: the public key does not belong to the secret key; restore the file`,
    );
  }
  return keyPair;
}
