// The kernel's configuration, one module per concern under config/; this file is the entry point.
export * from './config/auth.ts';
export * from './config/database.ts';
export * from './config/env.ts';
export * from './config/http.ts';
export * from './config/platform.ts';
export * from './config/runtime.ts';
export * from './config/telemetry.ts';
