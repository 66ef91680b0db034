import * as Y from 'yjs';

import { cellIdOf, cursorValue } from '../cursors';

describe('presence fields', () => {
  it('writes full relative positions, even at the end of a text', () => {
    const doc = new Y.Doc();
    const text = doc.getText('source');
    text.insert(0, 'abc');
    const cursor = JSON.parse(JSON.stringify(cursorValue(text, 3, 3)));
    // y-codemirror.next reads `item` without createRelativePositionFromJSON.
    expect(cursor.anchor).toHaveProperty('item', null);
    expect(cursor.anchor).toHaveProperty('tname', 'source');
    const again = Y.createAbsolutePositionFromRelativePosition(
      cursor.head,
      doc
    );
    expect(again?.index).toBe(3);
  });

  it('names the cell a source text belongs to', () => {
    const doc = new Y.Doc();
    const cells = doc.getArray<Y.Map<unknown>>('cells');
    const cell = new Y.Map<unknown>();
    cell.set('id', 'cell-1');
    cell.set('source', new Y.Text('x = 1'));
    cells.push([cell]);
    expect(cellIdOf(cells.get(0).get('source') as Y.Text)).toBe('cell-1');
    expect(cellIdOf(doc.getText('source'))).toBeNull();
  });
});
