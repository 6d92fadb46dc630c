/** Who is calling, taken only from a verified access token. */
export interface Identity {
  /** Directory tenant id (`tid`); also the WidgeTDC tenant id. */
  readonly tenantId: string;
  /** Object id of the user or service principal (`oid`). */
  readonly subjectId: string;
  /** `user` for delegated tokens, `service` for app-only tokens (no `scp`). */
  readonly kind: 'user' | 'service';
  /** Human-readable name: `preferred_username`, else `name`, else the object id. */
  readonly displayName: string;
  /** App roles (`roles`). */
  readonly roles: readonly string[];
  /** Delegated scopes (`scp`). */
  readonly scopes: readonly string[];
  /** The calling application's client id (`azp`, else `appid`, else `client_id`), when the token names it. */
  readonly clientId?: string;
  /** Tenant slug requested by the dev issuer's `wtdc_tenant` claim (auto-provisioning only). */
  readonly tenantSlug?: string;
}
