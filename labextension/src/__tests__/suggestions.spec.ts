import {
  canAcceptSuggestion,
  canWithdrawSuggestion,
  completeMention,
  currentSuggestion,
  IThread,
  mentionAt,
  notificationNotice,
  suggestionStatus
} from '../comments';

function suggested(extra: Partial<IThread['suggestion']> = {}): IThread {
  return {
    id: 't1',
    document_id: 'doc',
    anchor: { kind: 'cell', cell_id: 'c1' },
    quote: 'world',
    author: 'mal',
    created: '2026-12-02T11:00:00Z',
    resolved: false,
    resolved_by: null,
    resolved_at: null,
    position: { attached: true, start: null, end: null, cell_index: 0 },
    comments: [],
    suggestion: {
      text: 'there',
      original: 'world',
      status: 'pending',
      decided_by: null,
      decided_at: null,
      applies: true,
      why: null,
      ...extra
    }
  };
}

describe('suggestions', () => {
  it('lets editors and owners accept a pending suggestion that applies', () => {
    expect(canAcceptSuggestion(suggested(), 'editor')).toBe(true);
    expect(canAcceptSuggestion(suggested(), 'owner')).toBe(true);
    expect(canAcceptSuggestion(suggested(), 'commenter')).toBe(false);
    expect(canAcceptSuggestion(suggested({ applies: false }), 'editor')).toBe(
      false
    );
    expect(
      canAcceptSuggestion(suggested({ status: 'accepted' }), 'owner')
    ).toBe(false);
  });

  it('lets only the suggester withdraw, while pending', () => {
    expect(canWithdrawSuggestion(suggested(), 'commenter', 'mal')).toBe(true);
    expect(canWithdrawSuggestion(suggested(), 'commenter', 'eve')).toBe(false);
    expect(canWithdrawSuggestion(suggested(), 'viewer', 'mal')).toBe(false);
    expect(
      canWithdrawSuggestion(
        suggested({ status: 'rejected' }),
        'commenter',
        'mal'
      )
    ).toBe(false);
  });

  it('describes the status, with the server reason when it does not apply', () => {
    const why = 'the text it replaces changed since the suggestion was made';
    expect(suggestionStatus(suggested()!.suggestion!)).toBe('pending');
    expect(
      suggestionStatus(suggested({ applies: false, why }).suggestion!)
    ).toBe(`pending: does not apply (${why})`);
    expect(
      suggestionStatus(
        suggested({ status: 'rejected', decided_by: 'bob' }).suggestion!,
        u => u.toUpperCase()
      )
    ).toBe('rejected by BOB');
    expect(
      suggestionStatus(
        suggested({ status: 'rejected', decided_by: 'mal' }).suggestion!,
        u => u,
        'mal'
      )
    ).toBe('withdrawn');
  });
});

describe('a suggestion checked against the live text', () => {
  const s = suggested().suggestion!;
  it('keeps the server answer when the text is not known here', () => {
    expect(currentSuggestion(s, undefined)).toBe(s);
  });
  it('does not apply once its text changed or is gone', () => {
    expect(currentSuggestion(s, 'wrold')).toMatchObject({
      applies: false,
      why: 'the text it replaces changed since the suggestion was made'
    });
    expect(currentSuggestion(s, null)).toMatchObject({
      applies: false,
      why: 'the text it replaces is gone'
    });
  });
  it('applies again when the text is back, and a decided one stays decided', () => {
    const stale = { ...s, applies: false, why: 'changed' };
    expect(currentSuggestion(stale, 'world')).toMatchObject({
      applies: true,
      why: null
    });
    const done = { ...s, status: 'accepted' as const, applies: false };
    expect(currentSuggestion(done, 'wrold')).toBe(done);
  });
});

describe('mention completion', () => {
  it('finds the @word being typed at the caret', () => {
    expect(mentionAt('Hi @al', 6)).toEqual({ from: 3, query: 'al' });
    expect(mentionAt('@', 1)).toEqual({ from: 0, query: '' });
    expect(mentionAt('mail a@b', 8)).toBeNull();
    expect(mentionAt('Hi @al ok', 9)).toBeNull();
  });

  it('replaces the @word with the chosen name and a space', () => {
    expect(completeMention('Hi @al there', 6, 'alice')).toEqual({
      text: 'Hi @alice there',
      caret: 10
    });
    expect(completeMention('@', 1, 'bob')).toEqual({
      text: '@bob ',
      caret: 5
    });
  });

  it('says who cannot read, once', () => {
    expect(
      notificationNotice({
        notified: ['a'],
        cannot_read: [],
        unknown: [],
        may_share: true
      })
    ).toBeNull();
    expect(
      notificationNotice({
        notified: [],
        cannot_read: ['gina', 'hal'],
        unknown: ['nobdy'],
        may_share: false
      })
    ).toBe(
      '@gina and @hal cannot read this document. No one is called @nobdy.'
    );
  });
});
