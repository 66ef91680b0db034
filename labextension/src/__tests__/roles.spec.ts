import {
  canChangeShare,
  completionQuery,
  grantableRoles,
  normalizePrincipal,
  permissions,
  rank,
  usableSuggestions
} from '../roles';

describe('roles', () => {
  it('orders roles', () => {
    expect(rank('viewer')).toBeLessThan(rank('commenter'));
    expect(rank('commenter')).toBeLessThan(rank('editor'));
    expect(rank('editor')).toBeLessThan(rank('owner'));
    expect(rank('admin')).toBe(-1);
    expect(rank(null)).toBe(-1);
  });

  it('maps roles to permissions as docs/sharing.md says', () => {
    expect(permissions('viewer')).toMatchObject({
      read: true,
      comment: false,
      write: false
    });
    expect(permissions('commenter')).toMatchObject({
      comment: true,
      write: false
    });
    expect(permissions('editor')).toMatchObject({
      write: true,
      versions: true,
      share: true,
      shareOwner: false,
      delete: false,
      activity: false
    });
    expect(permissions('owner')).toMatchObject({
      delete: true,
      activity: true,
      shareOwner: true
    });
    expect(permissions(undefined)).toMatchObject({ read: false, write: false });
  });

  it('limits what each role may grant', () => {
    expect(grantableRoles('viewer', 'user:bob')).toEqual([]);
    expect(grantableRoles('editor', 'user:bob')).toEqual([
      'viewer',
      'commenter',
      'editor'
    ]);
    expect(grantableRoles('owner', 'user:bob')).toEqual([
      'viewer',
      'commenter',
      'editor',
      'owner'
    ]);
    expect(grantableRoles('owner', 'link')).toEqual([
      'viewer',
      'commenter',
      'editor'
    ]);
    expect(canChangeShare('editor', 'owner')).toBe(false);
    expect(canChangeShare('editor', 'viewer')).toBe(true);
    expect(canChangeShare('owner', 'owner')).toBe(true);
    expect(canChangeShare('commenter', 'viewer')).toBe(false);
  });

  it('normalizes principals', () => {
    expect(normalizePrincipal('bob')).toBe('user:bob');
    expect(normalizePrincipal(' user:bob ')).toBe('user:bob');
    expect(normalizePrincipal('group:physics')).toBe('group:physics');
    expect(normalizePrincipal('link')).toBe('link');
    expect(normalizePrincipal('team:x')).toBeNull();
    expect(normalizePrincipal('')).toBeNull();
    expect(normalizePrincipal('-bob')).toBeNull();
  });
});

describe('share dialog completion', () => {
  it('asks for what was typed, or for nothing', () => {
    expect(completionQuery('ca')).toBe('ca');
    expect(completionQuery('  user:ca')).toBe('user:ca');
    expect(completionQuery('Alice L ')).toBe('Alice L '); // a display name's space
    for (const nothing of ['', '   ', 'link', 'user:', 'group: ']) {
      expect(completionQuery(nothing)).toBeNull();
    }
  });

  it('offers well-formed principals not shared yet, each once', () => {
    const offered = usableSuggestions(
      [
        { principal: 'user:carol', display_name: 'Carol Danvers' },
        { principal: 'user:carol', display_name: 'Carol Danvers' },
        { principal: 'group:chemistry' },
        { principal: 'user:bob' },
        { principal: 'user:<script>' },
        { principal: 'link' }
      ],
      new Set(['user:bob'])
    );
    expect(offered.map(s => s.principal)).toEqual([
      'user:carol',
      'group:chemistry'
    ]);
  });
});
