import type { Identity } from '#kernel/auth/identity.ts';
import { Document } from '../../src/domain/document.entity.ts';

const creator: Identity = {
  tenantId: '00000000-0000-4000-8000-000000000001',
  subjectId: '00000000-0000-4000-8000-000000000002',
  kind: 'user',
  displayName: 'alice@acme',
  roles: ['Contributor'],
  scopes: ['access_as_user'],
};
const queued = () =>
  Document.queue({ title: 'Notes', mimeType: 'text/plain', sha256: 'a'.repeat(64), bytes: 10 }, creator);

describe('Document statuses', () => {
  it('a QUEUED document becomes READY in one step (its PARSING may not have been applied yet)', () => {
    const doc = queued();
    expect(doc.markReady(3, null)).toBe('QUEUED');
    expect(doc).toMatchObject({ status: 'READY', chunkCount: 3, error: null });
  });

  it('a finished document moves no further', () => {
    const doc = queued();
    doc.markFailed('PDF has no text layer');
    expect(() => doc.markReady(1, null)).toThrow(`Document ${doc.id} is FAILED and cannot become READY`);
  });
});
