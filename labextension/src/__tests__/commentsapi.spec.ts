import { ServerConnection } from '@jupyterlab/services';

import { CollabDocsClient } from '../api';
import { CommentsApi } from '../commentsapi';

const settings = ServerConnection.makeSettings({
  baseUrl: 'http://localhost:8888/base/',
  wsUrl: 'ws://localhost:8888/base/'
});

function api(answers: Response[]) {
  const calls: { url: string; init: RequestInit }[] = [];
  const client = new CollabDocsClient({
    serverSettings: settings,
    request: async (url, init) => {
      calls.push({ url, init });
      return answers.shift() ?? new Response(null, { status: 500 });
    }
  });
  return { comments: new CommentsApi(client, 1), calls };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status });

const ANCHOR = { kind: 'text' as const, start: 'AAA=', end: 'AAA=' };

describe('CommentsApi', () => {
  it('posts a thread under the document, its id escaped', async () => {
    const { comments, calls } = api([json(201, { id: 't' })]);
    await comments.create('a/b', ANCHOR, 'Why?');
    expect(calls[0].url).toBe(
      'http://localhost:8888/base/api/collab-docs/documents/a%2Fb/threads'
    );
    expect(JSON.parse(String(calls[0].init.body))).toEqual({
      anchor: ANCHOR,
      body: 'Why?'
    });
  });

  it('tries again while the server lacks the edits the anchor names', async () => {
    const missing = {
      message:
        'the anchor names positions that are not in the document, or deleted text'
    };
    const { comments, calls } = api([
      json(400, missing),
      json(400, missing),
      json(201, { id: 't' })
    ]);
    await expect(comments.create('d', ANCHOR, 'x')).resolves.toEqual({
      id: 't'
    });
    expect(calls).toHaveLength(3);
  });

  it('does not try again on other refusals', async () => {
    const { comments, calls } = api([
      json(400, { message: 'the comment is empty' })
    ]);
    await expect(comments.create('d', ANCHOR, ' ')).rejects.toThrow(
      'the comment is empty'
    );
    expect(calls).toHaveLength(1);
  });
});
