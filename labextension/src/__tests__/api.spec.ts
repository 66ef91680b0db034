import { ServerConnection } from '@jupyterlab/services';

import { ApiError, CollabDocsClient, errorMessage } from '../api';

const settings = ServerConnection.makeSettings({
  baseUrl: 'http://localhost:8888/base/',
  wsUrl: 'ws://localhost:8888/base/'
});

function reply(status: number, body?: unknown, statusText = ''): Response {
  const text =
    body === undefined
      ? null
      : typeof body === 'string'
        ? body
        : JSON.stringify(body);
  return new Response(text, { status, statusText });
}

function client(
  answer: (url: string, init: RequestInit) => Response | Promise<Response>
) {
  const calls: { url: string; init: RequestInit }[] = [];
  const api = new CollabDocsClient({
    serverSettings: settings,
    request: async (url, init) => {
      calls.push({ url, init });
      return answer(url, init);
    }
  });
  return { api, calls };
}

describe('CollabDocsClient', () => {
  it('builds REST and room URLs under the base URL', () => {
    const { api } = client(() => reply(200, {}));
    expect(api.url('documents')).toBe(
      'http://localhost:8888/base/api/collab-docs/documents'
    );
    expect(api.roomsUrl).toBe('ws://localhost:8888/base/api/collab-docs/rooms');
  });

  it('sends JSON and parses the answer', async () => {
    const { api, calls } = client(() =>
      reply(201, { id: 'd1', name: 'N', type: 'file', role: 'owner' })
    );
    const doc = await api.createDocument('N', 'file', 'hello');
    expect(doc.id).toBe('d1');
    expect(calls[0].init.method).toBe('POST');
    expect(JSON.parse(calls[0].init.body as string)).toEqual({
      name: 'N',
      type: 'file',
      content: 'hello'
    });
  });

  it('encodes principals and ids in paths', async () => {
    const { api, calls } = client(() =>
      reply(200, { principal: 'user:bob', role: 'editor' })
    );
    await api.setShare('a/b', 'user:bob', 'editor');
    expect(calls[0].url).toBe(
      'http://localhost:8888/base/api/collab-docs/documents/a%2Fb/shares/user%3Abob'
    );
  });

  it('resolves 204 with nothing', async () => {
    const { api } = client(() => new Response(null, { status: 204 }));
    await expect(api.deleteDocument('d1')).resolves.toBeUndefined();
  });

  it("rejects with the server's message and status", async () => {
    const { api } = client(() =>
      reply(403, { message: 'editors may not grant owner' })
    );
    const error = await api.setShare('d1', 'user:bob', 'owner').catch(e => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(403);
    expect(error.forbidden).toBe(true);
    expect(error.message).toBe('editors may not grant owner');
  });

  it('falls back to the status text when the body is not JSON', async () => {
    const { api } = client(() =>
      reply(502, '<html>bad gateway</html>', 'Bad Gateway')
    );
    const error = await api.listDocuments().catch(e => e);
    expect(error.status).toBe(502);
    expect(error.message).toBe('Bad Gateway');
  });

  it('reports a 404 as not found', async () => {
    const { api } = client(() => reply(404, { message: 'document not found' }));
    const error = await api.getDocument('nope').catch(e => e);
    expect(error.notFound).toBe(true);
  });

  it('turns a network failure into status 0', async () => {
    const { api } = client(() => {
      throw new TypeError('Failed to fetch');
    });
    const error = await api.listDocuments().catch(e => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(0);
    expect(error.message).toMatch(/Failed to fetch/);
  });

  it('rejects invalid JSON in a success answer', async () => {
    const { api } = client(() => reply(200, 'not json'));
    const error = await api.listDocuments().catch(e => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.message).toMatch(/invalid JSON/);
  });

  it('reads error messages', async () => {
    expect(await errorMessage(reply(400, { message: 'bad name' }))).toBe(
      'bad name'
    );
    expect(await errorMessage(reply(500, { other: 1 }, 'Server Error'))).toBe(
      'Server Error'
    );
    expect(await errorMessage(reply(500))).toBe('HTTP 500');
  });
});
