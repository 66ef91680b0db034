import {
  CONNECTION_LOST_MESSAGE,
  connectionLostNotifier
} from '../connectionlost';

describe('connection lost', () => {
  function fakeNotifications() {
    const shown = new Set<string>();
    const calls: { message: string; actions: unknown[] }[] = [];
    return {
      shown,
      calls,
      api: {
        warning: (message: string, options: any) => {
          calls.push({ message, actions: options.actions });
          const id = `n${calls.length}`;
          shown.add(id);
          return id;
        },
        manager: { has: (id: string) => shown.has(id) }
      } as any
    };
  }

  it('shows one notice however often requests fail, again once dismissed', async () => {
    const fake = fakeNotifications();
    const notify = connectionLostNotifier(fake.api, null);
    await notify(null as any, null as any);
    await notify(null as any, null as any);
    expect(fake.calls).toEqual([
      { message: CONNECTION_LOST_MESSAGE, actions: [] }
    ]);
    fake.shown.clear();
    await notify(null as any, null as any);
    expect(fake.calls).toHaveLength(2);
  });

  it('offers the Hub control panel under JupyterHub', async () => {
    const fake = fakeNotifications();
    await connectionLostNotifier(fake.api, 'https://hub/hub/home')(
      null as any,
      null as any
    );
    expect(fake.calls[0].actions).toHaveLength(1);
  });
});
