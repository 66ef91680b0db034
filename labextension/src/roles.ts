/**
 * Roles and what they allow (docs/sharing.md).
 */

export type Role = 'viewer' | 'commenter' | 'editor' | 'owner';

/** Roles, weakest first. */
export const ROLES: readonly Role[] = [
  'viewer',
  'commenter',
  'editor',
  'owner'
];

/** The rank of a role (0 = viewer); -1 for anything that is not a role. */
export function rank(role: string | null | undefined): number {
  return ROLES.indexOf(role as Role);
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && ROLES.includes(value as Role);
}

/** What a role may do with a document. */
export interface IPermissions {
  read: boolean;
  comment: boolean;
  write: boolean;
  versions: boolean;
  share: boolean;
  /** Grant `owner`, or change or remove an owner's share. */
  shareOwner: boolean;
  delete: boolean;
  activity: boolean;
}

export function permissions(role: string | null | undefined): IPermissions {
  const r = rank(role);
  return {
    read: r >= 0,
    comment: r >= 1,
    write: r >= 2,
    versions: r >= 2,
    share: r >= 2,
    shareOwner: r >= 3,
    delete: r >= 3,
    activity: r >= 3
  };
}

/** The roles a caller with `role` may give to `principal` (`link`: never owner). */
export function grantableRoles(
  role: string | null | undefined,
  principal: string
): Role[] {
  const p = permissions(role);
  if (!p.share) {
    return [];
  }
  const max = p.shareOwner ? 'owner' : 'editor';
  return ROLES.filter(
    r => rank(r) <= rank(max) && !(principal === 'link' && r === 'owner')
  );
}

/** Whether a caller with `role` may change or remove a share that has `shareRole`. */
export function canChangeShare(
  role: string | null | undefined,
  shareRole: string
): boolean {
  const p = permissions(role);
  if (!p.share) {
    return false;
  }
  return shareRole === 'owner' ? p.shareOwner : true;
}

/** A principal as typed by a user: `user:NAME`, `group:NAME`, `link`, or a bare name. */
export function normalizePrincipal(input: string): string | null {
  const value = input.trim();
  if (value === 'link') {
    return 'link';
  }
  const match = /^(?:(user|group):)?([A-Za-z0-9][A-Za-z0-9._@-]{0,63})$/.exec(
    value
  );
  if (!match) {
    return null;
  }
  return `${match[1] ?? 'user'}:${match[2]}`;
}

/**
 * What to ask `GET principals?q=` for, as typed in a share dialog, or null when there
 * is nothing to complete (empty, the share link, a bare `user:` or `group:`). Leading
 * spaces go; trailing ones stay (they belong to a display name: "Alice L").
 */
export function completionQuery(input: string): string | null {
  const query = input.replace(/^\s+/, '');
  if (!query.trim() || query === 'link' || /^(user|group):\s*$/.test(query)) {
    return null;
  }
  return query;
}

/** A user or group the server offers for completion. */
export interface IPrincipalSuggestion {
  principal: string;
  display_name?: string | null;
}

/** The suggestions worth showing: well-formed, not already shared, each once. */
export function usableSuggestions(
  suggestions: readonly IPrincipalSuggestion[],
  alreadyShared: ReadonlySet<string>
): IPrincipalSuggestion[] {
  const seen = new Set<string>();
  return suggestions.filter(s => {
    const principal = normalizePrincipal(s.principal);
    if (
      !principal ||
      principal === 'link' || // never offered: the link is not someone
      principal !== s.principal ||
      alreadyShared.has(principal)
    ) {
      return false;
    }
    if (seen.has(principal)) {
      return false;
    }
    seen.add(principal);
    return true;
  });
}
