import { AuthenticationError } from '../errors.ts';

/** Extracts the token of an `Authorization: Bearer …` header, refusing anything else. */
export function bearerToken(header: string | undefined | null): string {
  if (!header) {
    throw new AuthenticationError('Missing access token: send an "Authorization: Bearer <token>" header');
  }
  const match = /^Bearer\s+([A-Za-z0-9\-_.~+/]+=*)\s*$/i.exec(header);
  if (!match) throw new AuthenticationError('Malformed Authorization header: expected "Bearer <token>"');
  return match[1]!;
}
