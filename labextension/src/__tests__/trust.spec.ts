import { YNotebook } from '@jupyter/ydoc';
import type { ICodeCellModel } from '@jupyterlab/cells';
import { NotebookModel } from '@jupyterlab/notebook';
import { CommandRegistry } from '@lumino/commands';

import { guardCommands } from '../commandguard';
import {
  untrustedNotebookContent,
  untrustNotebookModel,
  untrustSharedNotebook
} from '../trust';

const HOSTILE = {
  output_type: 'display_data',
  data: { 'text/html': '<img src=x onerror="window.__pwned = 1">' },
  metadata: {}
};

/** A shared notebook guarded as the drive and the widget extension guard it. */
function guardedNotebook(): { shared: YNotebook; model: NotebookModel } {
  const shared = new YNotebook({ disableDocumentWideUndoRedo: true });
  untrustSharedNotebook(shared);
  const model = new NotebookModel({ sharedModel: shared });
  untrustNotebookModel(model);
  return { shared, model };
}

function codeCell(model: NotebookModel, index: number): ICodeCellModel {
  return model.cells.get(index) as ICodeCellModel;
}

describe('trust', () => {
  it('builds cells that claim to be trusted untrusted, with untrusted outputs', () => {
    const { shared, model } = guardedNotebook();
    shared.insertCell(0, {
      cell_type: 'code',
      source: '',
      metadata: { trusted: true },
      outputs: [HOSTILE]
    } as any);
    const cell = codeCell(model, 0);
    expect(cell.trusted).toBe(false);
    expect(cell.outputs.trusted).toBe(false);
    expect(cell.outputs.get(0).trusted).toBe(false);
  });

  it('keeps a new cell untrusted when outputs arrive after it', () => {
    const { shared, model } = guardedNotebook();
    // What JupyterLab's "insert cell below" writes.
    shared.insertCell(0, {
      cell_type: 'code',
      source: '',
      metadata: { trusted: true }
    } as any);
    const cell = codeCell(model, 0);
    cell.clearExecution(); // JupyterLab trusts a cell whose outputs it cleared
    cell.trusted = true; // as "Trust Notebook" does
    expect(cell.trusted).toBe(false);
    (shared.getCell(0) as any).setOutputs([HOSTILE]);
    expect(cell.outputs.length).toBe(1);
    expect(cell.outputs.get(0).trusted).toBe(false);
    cell.outputs.trusted = true;
    expect(cell.outputs.get(0).trusted).toBe(false);
  });

  it('writes no trust into the shared document', () => {
    const { shared, model } = guardedNotebook();
    shared.insertCell(0, { cell_type: 'code', source: '' } as any);
    const cell = codeCell(model, 0);
    cell.clearExecution();
    cell.trusted = true;
    expect(shared.getCell(0).getMetadata()).not.toHaveProperty('trusted');
  });

  it('guards cells that were there before the models were built', () => {
    const shared = new YNotebook({ disableDocumentWideUndoRedo: true });
    shared.insertCell(0, {
      cell_type: 'code',
      source: '',
      metadata: { trusted: true },
      outputs: [HOSTILE]
    } as any);
    untrustSharedNotebook(shared);
    const model = new NotebookModel({ sharedModel: shared });
    untrustNotebookModel(model);
    expect(codeCell(model, 0).trusted).toBe(false);
    expect(codeCell(model, 0).outputs.get(0).trusted).toBe(false);
  });

  it('drops trusted from notebook content read over REST', () => {
    const content = {
      nbformat: 4,
      cells: [
        { cell_type: 'code', metadata: { trusted: true, tags: ['a'] } },
        { cell_type: 'markdown', metadata: {} },
        'not a cell'
      ]
    };
    const cleaned = untrustedNotebookContent(content) as any;
    expect(cleaned.cells[0].metadata).toEqual({ tags: ['a'] });
    expect(cleaned.cells[1].metadata).toEqual({});
    expect(cleaned.cells[2]).toBe('not a cell');
    expect((content.cells[0] as any).metadata).toHaveProperty('trusted', true);
    expect(untrustedNotebookContent('text')).toBe('text');
  });
});

describe('guardCommands', () => {
  it('disables a command and makes it do nothing while refused', () => {
    const commands = new CommandRegistry();
    let runs = 0;
    commands.addCommand('test:trust', {
      execute: () => {
        runs += 1;
      }
    });
    let refuse = true;
    expect(
      guardCommands(commands, ['test:trust', 'test:missing'], () => refuse)
    ).toEqual(['test:trust']);
    expect(commands.isEnabled('test:trust')).toBe(false);
    void commands.execute('test:trust');
    expect(runs).toBe(0);
    refuse = false;
    expect(commands.isEnabled('test:trust')).toBe(true);
    void commands.execute('test:trust');
    expect(runs).toBe(1);
  });

  it('wraps a command once, with every refusal given for it', () => {
    const commands = new CommandRegistry();
    commands.addCommand('test:run', { execute: () => undefined });
    let first = false;
    let second = false;
    const a = (): boolean => first;
    const b = (): boolean => second;
    guardCommands(commands, ['test:run'], a);
    guardCommands(commands, ['test:run'], a);
    guardCommands(commands, ['test:run'], b);
    expect(commands.isEnabled('test:run')).toBe(true);
    second = true;
    expect(commands.isEnabled('test:run')).toBe(false);
    second = false;
    first = true;
    expect(commands.isEnabled('test:run')).toBe(false);
  });
});
