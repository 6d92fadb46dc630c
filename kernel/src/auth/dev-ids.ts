import { createHash } from 'node:crypto';

/** Namespace of the dev issuer's name-based ids (a fixed random UUID). */
const NAMESPACE = '0d3f6c1e-5a2b-4c4e-9b7a-6f1d2e3c4b5a';

/** RFC 9562 version-5 UUID: the same name always gives the same id. */
export function uuidV5(name: string, namespace = NAMESPACE): string {
  const ns = Buffer.from(namespace.replaceAll('-', ''), 'hex');
  const bytes = createHash('sha1').update(ns).update(name, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The dev issuer's tenant id for a slug. */
export const devTenantId = (slug: string) => uuidV5(`tenant:${slug}`);
/** The dev issuer's user object id for a user name within a tenant. */
export const devUserId = (slug: string, user: string) => uuidV5(`user:${slug}:${user}`);
