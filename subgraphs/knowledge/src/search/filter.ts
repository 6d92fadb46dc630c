import { ValidationError } from '#kernel/errors.ts';
import { parseId } from '#kernel/graphql/ids.ts';

/** Most document ids a filter may name. */
export const MAX_FILTER_DOCUMENTS = 100;
/** Most media types a filter may name. */
export const MAX_FILTER_MIME_TYPES = 20;
/** Longest source-URI prefix. */
export const MAX_SOURCE_URI_PREFIX = 2000;
/** Largest metadata object a filter may match, serialised. */
export const MAX_FILTER_METADATA_BYTES = 4096;

/** `SearchFilter` as GraphQL hands it over. */
export interface SearchFilterInput {
  documentIds?: readonly string[] | null;
  mimeTypes?: readonly string[] | null;
  sourceUriPrefix?: string | null;
  metadata?: Record<string, unknown> | null;
  from?: Date | null;
  to?: Date | null;
}

/** A checked filter. */
export interface SearchFilter {
  readonly documentIds?: readonly string[];
  readonly mimeTypes?: readonly string[];
  readonly sourceUriPrefix?: string;
  readonly metadata?: Record<string, unknown>;
  readonly from?: Date;
  readonly to?: Date;
}

const bad = (message: string, field: string) =>
  new ValidationError(message, { argument: `filter.${field}`, field: `filter.${field}` });

/** Checks a filter's bounds, naming the member that is out of them. */
export function parseFilter(input: SearchFilterInput | null | undefined): SearchFilter {
  if (!input) return {};
  const out: { -readonly [K in keyof SearchFilter]: SearchFilter[K] } = {};
  if (input.documentIds) {
    if (input.documentIds.length > MAX_FILTER_DOCUMENTS) {
      throw bad(
        `filter.documentIds may name at most ${MAX_FILTER_DOCUMENTS} documents (got ${input.documentIds.length})`,
        'documentIds',
      );
    }
    out.documentIds = [...new Set(input.documentIds.map((id) => parseId(id, 'filter.documentIds')))];
  }
  if (input.mimeTypes) {
    if (input.mimeTypes.length > MAX_FILTER_MIME_TYPES) {
      throw bad(
        `filter.mimeTypes may name at most ${MAX_FILTER_MIME_TYPES} media types (got ${input.mimeTypes.length})`,
        'mimeTypes',
      );
    }
    out.mimeTypes = input.mimeTypes.map((m) => m.trim().toLowerCase());
  }
  if (input.sourceUriPrefix !== null && input.sourceUriPrefix !== undefined) {
    const length = input.sourceUriPrefix.length;
    if (length === 0 || length > MAX_SOURCE_URI_PREFIX) {
      throw bad(
        `filter.sourceUriPrefix must be 1 to ${MAX_SOURCE_URI_PREFIX} characters (got ${length})`,
        'sourceUriPrefix',
      );
    }
    out.sourceUriPrefix = input.sourceUriPrefix;
  }
  if (input.metadata) {
    const bytes = Buffer.byteLength(JSON.stringify(input.metadata));
    if (bytes > MAX_FILTER_METADATA_BYTES) {
      throw bad(
        `filter.metadata may be at most ${MAX_FILTER_METADATA_BYTES} bytes of JSON (got ${bytes})`,
        'metadata',
      );
    }
    out.metadata = input.metadata;
  }
  if (input.from) out.from = input.from;
  if (input.to) out.to = input.to;
  if (out.from && out.to && out.from >= out.to) {
    throw bad('filter.from must be before filter.to', 'from');
  }
  return out;
}

/**
 * The SQL conditions on the documents (alias `d`) a search may use: current, READY, and the
 * filter's conditions, with their parameters in order.
 */
export function documentConditions(filter: SearchFilter): { sql: string; params: unknown[] } {
  const parts = [`d.status = 'READY'`, 'd.is_current'];
  const params: unknown[] = [];
  if (filter.documentIds) {
    parts.push(inList('d.id', filter.documentIds));
    params.push(...filter.documentIds);
  }
  if (filter.mimeTypes) {
    parts.push(inList('d.mime_type', filter.mimeTypes));
    params.push(...filter.mimeTypes);
  }
  if (filter.sourceUriPrefix !== undefined) {
    parts.push('starts_with(d.source_uri, ?)');
    params.push(filter.sourceUriPrefix);
  }
  if (filter.metadata) {
    parts.push('d.metadata @> ?::jsonb');
    params.push(JSON.stringify(filter.metadata));
  }
  if (filter.from) {
    parts.push('d.created_at >= ?');
    params.push(filter.from);
  }
  if (filter.to) {
    parts.push('d.created_at < ?');
    params.push(filter.to);
  }
  return { sql: parts.join(' and '), params };
}

/** `column in (?, …)` for `values` (false for none); one parameter each (the ORM would expand an array itself). */
export function inList(column: string, values: readonly unknown[]): string {
  return values.length === 0 ? 'false' : `${column} in (${values.map(() => '?').join(', ')})`;
}
