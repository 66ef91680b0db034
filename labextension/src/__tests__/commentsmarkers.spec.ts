import * as Y from 'yjs';

import { anchorFromSelection, IThread } from '../comments';
import { commentRanges } from '../commentsmarkers';

function threadOn(
  text: Y.Text,
  id: string,
  from: number,
  to: number,
  resolved = false
): IThread {
  return {
    id,
    document_id: 'doc',
    anchor: anchorFromSelection(text, from, to, null).anchor,
    quote: '',
    author: 'bob',
    created: '',
    resolved,
    resolved_by: null,
    resolved_at: null,
    position: { attached: true, start: from, end: to, cell_index: null },
    comments: []
  };
}

describe('comment highlights', () => {
  it('are the open ranges in this text, by position, following edits', () => {
    const doc = new Y.Doc();
    const text = doc.getText('source');
    text.insert(0, 'alpha beta gamma');
    const threads = [
      threadOn(text, 'late', 11, 16),
      threadOn(text, 'early', 0, 5),
      threadOn(text, 'done', 6, 10, true),
      {
        ...threadOn(text, 'cell', 0, 1),
        anchor: { kind: 'cell', cell_id: 'c' }
      }
    ] as IThread[];
    text.insert(0, '>> ');
    expect(commentRanges(threads, text, text.length)).toEqual([
      { from: 3, to: 8, threadId: 'early' },
      { from: 14, to: 19, threadId: 'late' }
    ]);
    // Never past the editor's own length (it may lag the Y.Text by a change).
    expect(commentRanges(threads, text, 16)).toEqual([
      { from: 3, to: 8, threadId: 'early' },
      { from: 14, to: 16, threadId: 'late' }
    ]);
    text.delete(3, 5);
    expect(commentRanges(threads, text, text.length)).toEqual([
      { from: 9, to: 14, threadId: 'late' }
    ]);
  });

  it('in a notebook, are only those of the cell whose source this is', () => {
    const doc = new Y.Doc();
    const cells = doc.getArray<Y.Map<unknown>>('cells');
    const sources = ['c1', 'c2'].map(id => {
      const cell = new Y.Map<unknown>();
      cells.push([cell]);
      cell.set('id', id);
      const source = new Y.Text('print(total)');
      cell.set('source', source);
      return source;
    });
    const onFirst = {
      ...threadOn(sources[0], 'a', 6, 11),
      anchor: anchorFromSelection(sources[0], 6, 11, 'c1').anchor
    };
    expect(commentRanges([onFirst], sources[0], 12)).toEqual([
      { from: 6, to: 11, threadId: 'a' }
    ]);
    expect(commentRanges([onFirst], sources[1], 12)).toEqual([]);
  });
});
