import * as Y from 'yjs';

import { MemoryStore, PendingEdits, pendingKey } from '../pending';

const REMOTE = Symbol('provider');

describe('pending edits', () => {
  it('keeps local edits until sent and restores them for the same user only', async () => {
    const server = new Y.Doc();
    server.getText('source').insert(0, 'kept\n');
    const store = new MemoryStore();
    const key = pendingKey('ws://s/', 'alice', 'd1');

    const page = new Y.Doc();
    Y.applyUpdate(page, Y.encodeStateAsUpdate(server), REMOTE);
    const first = new PendingEdits(page, store, key, REMOTE);
    expect(first.hasUnsent).toBe(false);
    page.getText('source').insert(5, 'offline');
    expect(first.hasUnsent).toBe(true);
    await first.flushed();
    first.destroy();

    const other = new Y.Doc();
    Y.applyUpdate(other, Y.encodeStateAsUpdate(server), REMOTE);
    const bob = new PendingEdits(
      other,
      store,
      pendingKey('ws://s/', 'bob', 'd1'),
      REMOTE
    );
    expect(await bob.restore()).toBe(false);
    expect(other.getText('source').toString()).toBe('kept\n');

    const reopened = new Y.Doc();
    Y.applyUpdate(reopened, Y.encodeStateAsUpdate(server), REMOTE);
    const again = new PendingEdits(reopened, store, key, REMOTE);
    expect(await again.restore()).toBe(true);
    expect(reopened.getText('source').toString()).toBe('kept\noffline');
    again.markSent();
    await again.flushed();
    expect(store.entries.size).toBe(0);
  });
});
