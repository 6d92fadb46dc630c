import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/** The folder of the golden dataset: one JSON Lines file per chapter of the corpus. */
export const GOLDEN_DIR = new URL('../golden/', import.meta.url);

/** What a question asks for. */
export const CATEGORIES = ['fact', 'number', 'default', 'command', 'how-to', 'comparison'] as const;

/** One golden question and what a correct answer must contain. */
export const GoldenItem = z.strictObject({
  id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'id must be lower-case words joined by "-"'),
  question: z.string().min(10).max(1000),
  /** File name of the page under the corpus folder the answer is taken from. */
  source: z.string().regex(/^[A-Za-z0-9._-]+\.html$/, 'source must be a file name ending in .html'),
  /** Strings a correct answer contains (compared case- and whitespace-insensitively). */
  mustContain: z.array(z.string().min(1)).min(1),
  category: z.enum(CATEGORIES),
  /** The question is worded with words its source page does not use. */
  paraphrase: z.boolean().optional(),
});
/** One golden question. */
export type GoldenItem = z.infer<typeof GoldenItem>;

/** Reads every `*.jsonl` file of `dir`; a malformed line is an error naming its file and line. */
export function loadGolden(dir: URL | string = GOLDEN_DIR): GoldenItem[] {
  const root = dir instanceof URL ? dir.pathname : dir;
  const items: GoldenItem[] = [];
  for (const file of readdirSync(root)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()) {
    const lines = readFileSync(join(root, file), 'utf8').split('\n');
    for (const [i, line] of lines.entries()) {
      if (!line.trim()) continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        throw new Error(`${file}:${i + 1}: not JSON (${(error as Error).message})`);
      }
      const parsed = GoldenItem.safeParse(value);
      if (!parsed.success) {
        const issues = parsed.error.issues.map(
          (issue) => `${issue.path.join('.') || 'item'}: ${issue.message}`,
        );
        throw new Error(`${file}:${i + 1}: ${issues.join('; ')}`);
      }
      items.push(parsed.data);
    }
  }
  return items;
}
