import { ServerConnection } from '@jupyterlab/services';

import { CollabDocsClient, IDocumentModel } from '../api';
import { CollabDocsDrive, downloadUrl } from '../drive';

const settings = ServerConnection.makeSettings({
  baseUrl: 'http://localhost:8888/base/',
  wsUrl: 'ws://localhost:8888/base/'
});

function model(name: string): IDocumentModel {
  return {
    id: 'doc1',
    name,
    type: 'notebook',
    role: 'editor',
    owner: 'alice',
    created: '',
    modified: ''
  } as IDocumentModel;
}

describe('downloadUrl', () => {
  const url = 'http://localhost:8888/base/api/collab-docs/documents/d1/content';

  it('asks for the file itself', () => {
    expect(downloadUrl(url, { token: '', appendToken: false })).toBe(
      `${url}?format=file`
    );
  });

  it('carries the token only when JupyterLab puts it in URLs', () => {
    expect(
      downloadUrl(url, { token: 'secret', appendToken: false })
    ).not.toContain('secret');
    expect(downloadUrl(url, { token: 'a b&c', appendToken: true })).toBe(
      `${url}?format=file&token=a+b%26c`
    );
  });
});

describe('CollabDocsDrive.checkNames', () => {
  function driveAnswering(name: string | Error) {
    const asked: string[] = [];
    const client = new CollabDocsClient({ serverSettings: settings });
    client.getDocument = async (id: string) => {
      asked.push(id);
      if (name instanceof Error) {
        throw name;
      }
      return model(name);
    };
    const drive = new CollabDocsDrive({ client });
    const refreshed: string[] = [];
    const conn = {
      id: 'doc1',
      model: model('Old'),
      refreshRole: async () => {
        refreshed.push('doc1');
        return null;
      }
    };
    // Two tabs of one document: one request, one rename.
    (drive as any)._connections.add(conn);
    (drive as any)._connections.add({ ...conn });
    const renames: unknown[] = [];
    drive.fileChanged.connect((_, change) => renames.push(change));
    return { drive, asked, renames, refreshed };
  }

  it('renames the open tabs of a document renamed elsewhere', async () => {
    const { drive, asked, renames, refreshed } = driveAnswering('New');
    await drive.checkNames();
    expect(asked).toEqual(['doc1']);
    expect(renames).toHaveLength(1);
    expect(renames[0]).toMatchObject({
      type: 'rename',
      oldValue: { path: 'doc1/Old.ipynb' },
      newValue: { path: 'doc1/New.ipynb' }
    });
    expect(refreshed).toEqual(['doc1', 'doc1']);
  });

  it('does nothing when the name is the same or the server does not answer', async () => {
    for (const answer of ['Old', new Error('offline')]) {
      const { drive, renames, refreshed } = driveAnswering(answer);
      await drive.checkNames();
      expect(renames).toHaveLength(0);
      expect(refreshed).toHaveLength(0);
    }
  });
});
