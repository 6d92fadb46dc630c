/** Owns every schema and table; used only by migrations. */
export const OWNER_ROLE = 'widgetdc_owner';
/** What services connect as: owns nothing, no BYPASSRLS, sees only its tenant's rows. */
export const APP_ROLE = 'widgetdc_app';
/** The transaction-local setting every row-level security policy reads. */
export const TENANT_SETTING = 'app.tenant_id';
/** Schemas the platform owns: one per subgraph plus `platform` for tenants and migrations. */
export const PLATFORM_SCHEMAS = ['platform', 'knowledge', 'agent', 'governance', 'audit'] as const;
