import * as Y from 'yjs';
import { Awareness } from 'y-protocols/awareness';

import { cursorValue } from '../cursors';
import { peopleOf, whereabouts } from '../presence';

describe('whereabouts', () => {
  it('names the line of a cursor in a text document', () => {
    const doc = new Y.Doc();
    const text = doc.getText('source');
    text.insert(0, 'one\ntwo\nthree');
    const cursor = JSON.parse(JSON.stringify(cursorValue(text, 5, 5)));
    expect(whereabouts({ cursor }, doc).label).toBe('line 2');
  });

  it('names the cell and its type in a notebook, and nothing for junk', () => {
    const doc = new Y.Doc();
    const cell = new Y.Map<unknown>();
    cell.set('id', 'c1');
    cell.set('cell_type', 'raw');
    doc.getArray('cells').push([cell]);
    expect(whereabouts({ cell: 'c1' }, doc).label).toBe('cell 1 · raw');
    for (const state of [null, {}, { cell: 3 }, { cursor: { head: 'x' } }]) {
      expect(whereabouts(state, doc).label).toBe('in the document');
    }
  });
});

describe('peopleOf', () => {
  it('lists me first, then one entry per other person, by display name', () => {
    const doc = new Y.Doc();
    const awareness = new Awareness(doc);
    awareness.setLocalStateField('user', { name: 'me', display_name: 'Me' });
    const user = (name: string, display_name: string) => ({
      user: { name, display_name }
    });
    awareness.states.set(101, user('zoe', 'Zoe'));
    awareness.states.set(102, user('bob', 'Bob'));
    awareness.states.set(103, user('bob', 'Bob'));
    awareness.states.set(104, user('me', 'Me')); // my other tab
    const changedAt = new Map([
      [102, 1],
      [103, 2]
    ]);
    const people = peopleOf(awareness, 'me', changedAt);
    expect(people.map(p => [p.name, p.you])).toEqual([
      ['me', true],
      ['bob', false],
      ['zoe', false]
    ]);
    expect(people[1].client).toBe(103); // the tab that changed last
    awareness.destroy();
  });
});
