import type { CollabDocsClient, IInbox } from '../api';
import { InboxPanel } from '../inbox';

/** A client whose inbox answers `unread` unread mentions. */
function clientWith(unread: number): CollabDocsClient & { unread: number } {
  const fake = {
    unread,
    inbox: async (): Promise<IInbox> => ({
      unread: fake.unread,
      notifications: Array.from({ length: fake.unread }, (_, i) => ({
        id: `n${i}`,
        kind: 'mention' as const,
        document_type: 'file' as const,
        document_id: 'd',
        document_name: 'Plans',
        thread_id: `t${i}`,
        comment_id: `c${i}`,
        author: 'mallory',
        author_name: 'Mallory',
        excerpt: '@alice look',
        created: '2026-01-01T00:00:00.000000Z',
        read: false
      }))
    }),
    markRead: async () => {
      fake.unread = 0;
      return { unread: 0 };
    }
  };
  return fake as unknown as CollabDocsClient & { unread: number };
}

function parts(panel: InboxPanel) {
  const button = panel.button;
  return {
    label: button.querySelector('.jp-CollabDocs-inboxLabel') as HTMLElement,
    count: button.querySelector('.jp-CollabDocs-inboxCount') as HTMLElement,
    aria: button.getAttribute('aria-label')
  };
}

describe('inbox button', () => {
  it('shows a label and no count while nothing is unread', async () => {
    const panel = new InboxPanel(clientWith(0), () => undefined);
    await panel.refresh();
    const { label, count, aria } = parts(panel);
    expect(label.textContent).toBe('Inbox');
    expect(count.hidden).toBe(true);
    expect(aria).toBe('Inbox, 0 unread');
  });

  it('shows the unread count as a badge apart from the label', async () => {
    const panel = new InboxPanel(clientWith(3), () => undefined);
    await panel.refresh();
    const { label, count, aria } = parts(panel);
    expect(label.textContent).toBe('Inbox');
    expect(count.hidden).toBe(false);
    expect(count.textContent).toBe('3');
    // two elements, not one run of text: "Inbox" and "3" never read as "Inbox3"
    expect(label.contains(count)).toBe(false);
    expect(count.contains(label)).toBe(false);
    // the button's name says it in words; the badge's bare number is not read twice
    expect(aria).toBe('Inbox, 3 unread');
    expect(count.getAttribute('aria-hidden')).toBe('true');
    expect(panel.button.title).toBe('Inbox, 3 unread');
  });

  it('hides the badge again once everything is read', async () => {
    const panel = new InboxPanel(clientWith(2), () => undefined);
    await panel.refresh();
    await panel.markRead(null);
    const { count, aria } = parts(panel);
    expect(count.hidden).toBe(true);
    expect(aria).toBe('Inbox, 0 unread');
    expect(panel.button.title).toBe('Inbox, 0 unread');
  });
});
