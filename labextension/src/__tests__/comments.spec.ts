import * as Y from 'yjs';

import {
  anchorForCell,
  anchorFromSelection,
  applyCommentEvent,
  canDeleteComment,
  canEditComment,
  canResolve,
  decodeCommentEvent,
  decodePosition,
  filterThreads,
  IThread,
  namesInThreads,
  resolveAnchor,
  shortQuote
} from '../comments';

function thread(id: string, extra: Partial<IThread> = {}): IThread {
  return {
    id,
    document_id: 'doc',
    anchor: { kind: 'cell', cell_id: 'c1' },
    quote: 'q',
    author: 'bob',
    created: '2026-12-02T11:00:00Z',
    resolved: false,
    resolved_by: null,
    resolved_at: null,
    position: { attached: true, start: null, end: null, cell_index: 0 },
    comments: [
      {
        id: `${id}-1`,
        thread_id: id,
        author: 'bob',
        body: 'hi',
        mentions: [],
        created: '2026-12-02T11:00:00Z',
        edited: null
      }
    ],
    ...extra
  };
}

/** Two replicas of one document, kept in sync both ways. */
function pair(): [Y.Doc, Y.Doc] {
  const a = new Y.Doc();
  const b = new Y.Doc();
  a.on('update', (u: Uint8Array) => Y.applyUpdate(b, u));
  b.on('update', (u: Uint8Array) => Y.applyUpdate(a, u));
  return [a, b];
}

describe('comment anchors', () => {
  it('encode relative positions in base64 that the lib0 decoder reads back', () => {
    const doc = new Y.Doc();
    const text = doc.getText('source');
    text.insert(0, 'hello world');
    const { anchor, quote } = anchorFromSelection(text, 6, 11, null);
    expect(quote).toBe('world');
    expect(anchor.kind).toBe('text');
    if (anchor.kind !== 'text') {
      return;
    }
    expect(anchor.start).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(decodePosition(anchor.end)?.assoc).toBe(-1);
    expect(resolveAnchor(anchor, text)).toEqual({ from: 6, to: 11 });
  });

  it("follow another replica's insert before the range and stay out of edge typing", () => {
    const [mine, theirs] = pair();
    mine.getText('source').insert(0, 'hello world');
    const { anchor } = anchorFromSelection(mine.getText('source'), 6, 11, null);
    theirs.getText('source').insert(0, '>>> ');
    expect(resolveAnchor(anchor, mine.getText('source'))).toEqual({
      from: 10,
      to: 15
    });
    // Typed right after the range: outside it (the end sticks left).
    mine.getText('source').insert(15, '!');
    expect(resolveAnchor(anchor, theirs.getText('source'))).toEqual({
      from: 10,
      to: 15
    });
  });

  it('resolve to null (detached) once the text is deleted, and not in another text', () => {
    const doc = new Y.Doc();
    const text = doc.getText('source');
    text.insert(0, 'keep cut keep');
    const { anchor } = anchorFromSelection(text, 5, 8, null);
    expect(resolveAnchor(anchor, doc.getText('other'))).toBeNull();
    text.delete(5, 3);
    expect(resolveAnchor(anchor, text)).toBeNull();
  });

  it('name the cell of a cell range, and refuse an empty selection', () => {
    const doc = new Y.Doc();
    const cell = new Y.Map<unknown>();
    doc.getArray('cells').push([cell]);
    const source = new Y.Text('x = 1');
    cell.set('source', source);
    const { anchor } = anchorFromSelection(source, 4, 0, 'c1');
    expect(anchor).toMatchObject({ kind: 'cell_range', cell_id: 'c1' });
    expect(resolveAnchor(anchor, source)).toEqual({ from: 0, to: 4 });
    expect(() => anchorFromSelection(source, 2, 2, 'c1')).toThrow();
    expect(anchorForCell('c1', 'x = 1')).toEqual({
      anchor: { kind: 'cell', cell_id: 'c1' },
      quote: 'x = 1'
    });
  });

  it('leave undecodable positions unresolved', () => {
    const doc = new Y.Doc();
    const text = doc.getText('source');
    expect(decodePosition('not base64!')).toBeNull();
    expect(
      resolveAnchor({ kind: 'text', start: '@@', end: '@@' }, text)
    ).toBeUndefined();
  });
});

describe('thread lists', () => {
  it('filter by status, mine and mentioning me', () => {
    const open = thread('a');
    const resolved = thread('b', { resolved: true, author: 'alice' });
    const mentioned = thread('c', { author: 'carol' });
    mentioned.comments[0].author = 'carol';
    mentioned.comments[0].mentions = ['alice'];
    const all = [open, resolved, mentioned];
    const f = { status: 'all' as const, mine: false, mentioningMe: false };
    expect(filterThreads(all, { ...f, status: 'open' }, 'alice')).toEqual([
      open,
      mentioned
    ]);
    expect(filterThreads(all, { ...f, status: 'resolved' }, 'alice')).toEqual([
      resolved
    ]);
    expect(filterThreads(all, { ...f, mine: true }, 'alice')).toEqual([
      resolved
    ]);
    expect(filterThreads(all, { ...f, mentioningMe: true }, 'alice')).toEqual([
      mentioned
    ]);
    expect(filterThreads(all, { ...f, mentioningMe: true }, null)).toEqual([]);
  });

  it('apply live events by thread id', () => {
    const a = thread('a');
    let list = applyCommentEvent([], {
      event: 'thread.created',
      thread_id: 'a',
      thread: a
    });
    expect(list).toEqual([a]);
    const a2 = thread('a', { resolved: true });
    list = applyCommentEvent(list, {
      event: 'thread.updated',
      thread_id: 'a',
      thread: a2
    });
    expect(list).toEqual([a2]);
    list = applyCommentEvent(list, {
      event: 'thread.deleted',
      thread_id: 'a',
      thread: null
    });
    expect(list).toEqual([]);
  });

  it('decode only well-formed comment frames', () => {
    const a = thread('a');
    const frame = JSON.stringify({
      type: 'comments',
      event: 'thread.created',
      document_id: 'doc',
      thread_id: 'a',
      thread: a
    });
    expect(decodeCommentEvent(frame)).toEqual({
      event: 'thread.created',
      thread_id: 'a',
      thread: a
    });
    expect(decodeCommentEvent('{')).toBeNull();
    expect(decodeCommentEvent('[]')).toBeNull();
    expect(
      decodeCommentEvent(JSON.stringify({ type: 'comments', event: 'x' }))
    ).toBeNull();
    // A thread that is not the event's own is not taken.
    expect(
      decodeCommentEvent(
        JSON.stringify({
          type: 'comments',
          event: 'thread.updated',
          thread_id: 'b',
          thread: a
        })
      )?.thread
    ).toBeNull();
  });

  it('shorten quotes to one line', () => {
    expect(shortQuote('a\n  b')).toBe('a b');
    expect(shortQuote('x'.repeat(10), 5)).toBe('xxxx…');
  });
});

describe('who may do what', () => {
  const t = thread('a');
  const own = t.comments[0];
  it('lets the author and editors resolve, never viewers', () => {
    expect(canResolve(t, 'commenter', 'bob')).toBe(true);
    expect(canResolve(t, 'commenter', 'carol')).toBe(false);
    expect(canResolve(t, 'editor', 'carol')).toBe(true);
    expect(canResolve(t, 'viewer', 'bob')).toBe(false);
  });

  it('lets only the author edit, and owners delete anyone', () => {
    expect(canEditComment(own, 'commenter', 'bob')).toBe(true);
    expect(canEditComment(own, 'owner', 'alice')).toBe(false);
    expect(canEditComment(own, 'viewer', 'bob')).toBe(false);
    expect(canDeleteComment(own, 'owner', 'alice')).toBe(true);
    expect(canDeleteComment(own, 'editor', 'alice')).toBe(false);
  });
});

describe('namesInThreads', () => {
  it('learns display names of authors, resolvers and deciders, and skips missing ones', () => {
    const named = thread('t1', {
      author: 'bob',
      author_name: 'Bob Builder',
      resolved_by: 'alice',
      resolved_by_name: 'Alice Liddell',
      comments: [
        {
          id: 'c1',
          thread_id: 't1',
          author: 'carol',
          author_name: null,
          body: 'hi',
          mentions: [],
          created: '2026-12-02T00:00:00Z',
          edited: null
        }
      ]
    });
    const names = namesInThreads([named]);
    expect(names.get('bob')).toBe('Bob Builder');
    expect(names.get('alice')).toBe('Alice Liddell');
    expect(names.has('carol')).toBe(false);
  });
});
