/** The media types WidgeTDC ingests. */
export const MediaType = {
  Text: 'text/plain',
  Markdown: 'text/markdown',
  Html: 'text/html',
  Pdf: 'application/pdf',
  Docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
} as const;

/** One supported media type. */
export type SupportedMediaType = (typeof MediaType)[keyof typeof MediaType];

/** Every supported media type. */
export const SUPPORTED_MEDIA_TYPES: readonly SupportedMediaType[] = Object.values(MediaType);

/** Aliases clients send for the supported types (lower case, parameters removed). */
const ALIASES: Readonly<Record<string, SupportedMediaType>> = {
  'text/x-markdown': MediaType.Markdown,
  'text/md': MediaType.Markdown,
  'application/xhtml+xml': MediaType.Html,
  'application/x-pdf': MediaType.Pdf,
};

/** The supported type a declared `type/subtype; params` names, or undefined. */
export function normaliseMediaType(declared: string): SupportedMediaType | undefined {
  const bare = declared.split(';')[0]!.trim().toLowerCase();
  if ((SUPPORTED_MEDIA_TYPES as readonly string[]).includes(bare)) return bare as SupportedMediaType;
  return ALIASES[bare];
}

/** The media type a file name's extension suggests, for documents sent without one. */
export function mediaTypeOfName(name: string | undefined): SupportedMediaType | undefined {
  const ext = name?.toLowerCase().match(/\.([a-z0-9]+)(?:[?#].*)?$/)?.[1];
  switch (ext) {
    case 'md':
    case 'markdown':
      return MediaType.Markdown;
    case 'html':
    case 'htm':
    case 'xhtml':
      return MediaType.Html;
    case 'txt':
    case 'text':
      return MediaType.Text;
    case 'pdf':
      return MediaType.Pdf;
    case 'docx':
      return MediaType.Docx;
    default:
      return undefined;
  }
}
