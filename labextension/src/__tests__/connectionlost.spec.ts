import { ServerConnection } from '@jupyterlab/services';
import { Signal } from '@lumino/signaling';

import {
  CONNECTION_LOST_MESSAGE,
  ConnectionLostNotice,
  connectionLostNotifier,
  IWatchedConnection,
  probeLive,
  serverAnswered,
  ServerWatch
} from '../connectionlost';
import type { ConnectionState } from '../states';

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
        dismiss: (id: string) => shown.delete(id),
        manager: { has: (id: string) => shown.has(id) }
      } as any
    };
  }

  it('shows one notice however often requests fail, again once dismissed', async () => {
    const fake = fakeNotifications();
    const notify = connectionLostNotifier(
      new ConnectionLostNotice(fake.api, null)
    );
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
    await connectionLostNotifier(
      new ConnectionLostNotice(fake.api, 'https://hub/hub/home')
    )(null as any, null as any);
    expect(fake.calls[0].actions).toHaveLength(1);
  });

  it('opens where the notice is read before adding it, once per notice', () => {
    const fake = fakeNotifications();
    const order: string[] = [];
    const api = {
      ...fake.api,
      warning: (message: string, options: any) => {
        order.push('warning');
        return fake.api.warning(message, options);
      }
    };
    const notice = new ConnectionLostNotice(api, null, () =>
      order.push('reveal')
    );
    notice.show();
    notice.show();
    expect(order).toEqual(['reveal', 'warning']);
  });

  it('takes the notice away when the server is back', () => {
    const fake = fakeNotifications();
    const notice = new ConnectionLostNotice(fake.api, null);
    notice.show();
    expect(notice.isShown).toBe(true);
    notice.hide();
    expect(fake.shown.size).toBe(0);
    notice.show();
    expect(fake.calls).toHaveLength(2);
  });

  it('reads a gateway error as no server, any other answer as a server', () => {
    expect([200, 403, 404, 500].map(serverAnswered)).toEqual([
      true,
      true,
      true,
      true
    ]);
    expect([424, 502, 503, 504].map(serverAnswered)).toEqual([
      false,
      false,
      false,
      false
    ]);
  });
});

describe('server watch', () => {
  class FakeConnection implements IWatchedConnection {
    state: ConnectionState = 'connected';
    isDisposed = false;
    stateChanged = new Signal<this, ConnectionState>(this);
    set(state: ConnectionState): void {
      this.state = state;
      this.stateChanged.emit(state);
    }
  }

  let answers: boolean[];
  let probes: number;
  let events: string[];
  let watch: ServerWatch;

  beforeEach(() => {
    jest.useFakeTimers();
    answers = [];
    probes = 0;
    events = [];
    watch = new ServerWatch({
      probe: async () => {
        probes++;
        return answers.shift() ?? true;
      },
      onLost: () => events.push('lost'),
      onBack: () => events.push('back'),
      interval: 3000
    });
  });

  afterEach(() => {
    watch.dispose();
    jest.useRealTimers();
  });

  /** Lets the probe's promise settle. */
  async function settle(): Promise<void> {
    for (let i = 0; i < 5; i++) {
      await Promise.resolve();
    }
  }

  /** A watched document whose socket drops now; the probes answer `replies` in turn. */
  async function dropped(...replies: boolean[]): Promise<FakeConnection> {
    const connection = new FakeConnection();
    watch.track(connection);
    answers = replies;
    connection.set('reconnecting');
    await settle();
    return connection;
  }

  it('asks nothing while the sockets are live', async () => {
    const connection = new FakeConnection();
    watch.track(connection);
    connection.set('connecting');
    connection.set('connected');
    await jest.advanceTimersByTimeAsync(30000);
    expect(probes).toBe(0);
  });

  it('says the server is lost at once when a socket drops and the probe fails', async () => {
    await dropped(false);
    expect(probes).toBe(1);
    expect(events).toEqual(['lost']);
  });

  it('keeps asking while a socket reconnects, once per interval, and says it once', async () => {
    const first = new FakeConnection();
    const second = new FakeConnection();
    watch.track(first);
    watch.track(second);
    // The first probe still finds the server (it was going down): the next one does not.
    answers = [true, false, false, false];
    first.set('reconnecting');
    second.set('reconnecting');
    await settle();
    expect(probes).toBe(1);
    expect(events).toEqual([]);
    await jest.advanceTimersByTimeAsync(3000);
    expect(probes).toBe(2);
    expect(events).toEqual(['lost']);
    await jest.advanceTimersByTimeAsync(6000);
    expect(probes).toBe(4);
    expect(events).toEqual(['lost']);
  });

  it('says the server is back when the probe answers or the sockets are live', async () => {
    const connection = await dropped(false, true);
    await jest.advanceTimersByTimeAsync(3000);
    expect(events).toEqual(['lost', 'back']);

    answers = [false];
    await jest.advanceTimersByTimeAsync(3000);
    expect(events).toEqual(['lost', 'back', 'lost']);
    connection.set('connected');
    await jest.advanceTimersByTimeAsync(3000);
    expect(events).toEqual(['lost', 'back', 'lost', 'back']);
    const asked = probes;
    await jest.advanceTimersByTimeAsync(30000);
    expect(probes).toBe(asked);
  });

  it('reads a probe that throws as no server', async () => {
    const throwing = new ServerWatch({
      probe: () => Promise.reject(new TypeError('Failed to fetch')),
      onLost: () => events.push('lost'),
      onBack: () => events.push('back')
    });
    const connection = new FakeConnection();
    throwing.track(connection);
    connection.set('reconnecting');
    await settle();
    expect(events).toEqual(['lost']);
    throwing.dispose();
  });

  it('asks once more when the last reconnecting document closes, then stops', async () => {
    const connection = await dropped(false, false);
    connection.isDisposed = true;
    await jest.advanceTimersByTimeAsync(3000);
    expect(probes).toBe(2);
    // Still no server: the notice stays; JupyterLab's own polls go on from here.
    expect(events).toEqual(['lost']);
    await jest.advanceTimersByTimeAsync(30000);
    expect(probes).toBe(2);
  });

  it('stops asking once disposed', async () => {
    await dropped(false, false, false);
    watch.dispose();
    await jest.advanceTimersByTimeAsync(30000);
    expect(probes).toBe(1);
  });
});

describe('liveness probe', () => {
  /**
   * Settings whose fetch answers `status`, fails like a refused connection (null), or
   * never answers ('silent', as on a cut network) until the request is aborted.
   */
  function settings(status: number | null | 'silent', urls: string[] = []) {
    return ServerConnection.makeSettings({
      baseUrl: 'http://lab.test/base/',
      Request: class {
        constructor(url: string, init: RequestInit) {
          urls.push(url);
          this.signal = init.signal;
        }
        headers = new Map();
        signal: AbortSignal | null | undefined;
      } as any,
      fetch: (async (request: { signal: AbortSignal }) => {
        if (status === 'silent') {
          await new Promise((_, reject) =>
            request.signal.addEventListener('abort', () =>
              reject(new DOMException('aborted', 'AbortError'))
            )
          );
        }
        if (status === null) {
          throw new TypeError('Failed to fetch');
        }
        return { status } as Response;
      }) as any
    });
  }

  it("asks the server's live endpoint, not cached", async () => {
    const urls: string[] = [];
    expect(await probeLive(settings(200, urls))).toBe(true);
    expect(urls[0]).toMatch(
      /^http:\/\/lab\.test\/base\/api\/collab-docs\/live\?\d+$/
    );
  });

  it('says no server when the request fails or a gateway answers', async () => {
    expect(await probeLive(settings(null))).toBe(false);
    expect(await probeLive(settings(503))).toBe(false);
    expect(await probeLive(settings(403))).toBe(true);
  });

  it('gives up on a server that does not answer', async () => {
    jest.useFakeTimers();
    try {
      const probe = probeLive(settings('silent'), 10000);
      await jest.advanceTimersByTimeAsync(10000);
      expect(await probe).toBe(false);
    } finally {
      jest.useRealTimers();
    }
  });
});
