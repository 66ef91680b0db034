import {
  documentPath,
  extensionOf,
  fileNameFor,
  isDrivePath,
  nameFromFileName,
  parsePath,
  typeForFile
} from '../paths';

describe('path scheme', () => {
  it('formats notebooks with .ipynb and files with their own extension', () => {
    expect(fileNameFor('Weekly report', 'notebook')).toBe(
      'Weekly report.ipynb'
    );
    expect(fileNameFor('analysis.ipynb', 'notebook')).toBe('analysis.ipynb');
    expect(fileNameFor('Notes', 'file')).toBe('Notes.txt');
    expect(fileNameFor('README.md', 'file')).toBe('README.md');
    expect(fileNameFor('script.py', 'file')).toBe('script.py');
    expect(fileNameFor('v1.0 final', 'file')).toBe('v1.0 final.txt');
  });

  it('never lets a slash in a name add a path segment', () => {
    const path = documentPath('abc', 'Q1/Q2 plan', 'notebook');
    expect(path).toBe('CollabDocs:abc/Q1\u2215Q2 plan.ipynb');
    expect(parsePath(path)).toEqual({
      id: 'abc',
      fileName: 'Q1\u2215Q2 plan.ipynb'
    });
    expect(
      nameFromFileName('Q1\u2215Q2 plan.ipynb', 'notebook', 'Q1/Q2 plan')
    ).toBe('Q1/Q2 plan');
  });

  it('parses global and local paths', () => {
    expect(parsePath('CollabDocs:9f1c/Report.ipynb')).toEqual({
      id: '9f1c',
      fileName: 'Report.ipynb'
    });
    expect(parsePath('9f1c/Report.ipynb')).toEqual({
      id: '9f1c',
      fileName: 'Report.ipynb'
    });
    expect(parsePath('/9f1c/')).toEqual({ id: '9f1c', fileName: '' });
    expect(parsePath('CollabDocs:')).toEqual({ id: '', fileName: '' });
    expect(parsePath('')).toEqual({ id: '', fileName: '' });
  });

  it('round-trips names through file names', () => {
    for (const [name, type] of [
      ['Weekly report', 'notebook'],
      ['analysis.ipynb', 'notebook'],
      ['Notes', 'file'],
      ['notes.txt', 'file'],
      ['README.md', 'file']
    ] as const) {
      expect(nameFromFileName(fileNameFor(name, type), type, name)).toBe(name);
    }
  });

  it('takes off the added extension when a tab is renamed', () => {
    expect(nameFromFileName('Summary.ipynb', 'notebook', 'Report')).toBe(
      'Summary'
    );
    expect(nameFromFileName('Summary.ipynb', 'notebook', 'Report.ipynb')).toBe(
      'Summary.ipynb'
    );
    expect(nameFromFileName('todo.txt', 'file', 'Notes')).toBe('todo');
    expect(nameFromFileName('todo.md', 'file', 'Notes')).toBe('todo.md');
  });

  it('knows its own paths and types', () => {
    expect(isDrivePath('CollabDocs:x/y.txt')).toBe(true);
    expect(isDrivePath('x/y.txt')).toBe(false);
    expect(typeForFile('a.ipynb')).toBe('notebook');
    expect(typeForFile('a.txt')).toBe('file');
    expect(typeForFile('a.ipynb', 'file')).toBe('file');
    expect(extensionOf('.bashrc')).toBe('');
    expect(extensionOf('name.')).toBe('');
    expect(extensionOf('a.tar.gz')).toBe('.gz');
  });
});
