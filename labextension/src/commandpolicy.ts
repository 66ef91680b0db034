/**
 * What JupyterLab's own commands may do here: never "Trust Notebook" on a shared
 * notebook (outputs come from every editor, see trust.ts); and for a user the server
 * lets run no code (`can_run_code: false`, the standalone server's non-administrators)
 * no kernel: shared notebooks open without one, the commands that would run cells or
 * start, change or restart a kernel are disabled there, and so are the commands that
 * open a terminal or create files in the server's own file system (the launcher's
 * cards). Each would only end in a refused request and an error dialog.
 */

import type { ISessionContext } from '@jupyterlab/apputils';
import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import type { CommandRegistry } from '@lumino/commands';
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { guardCommands } from './commandguard';
import { isDrivePath } from './paths';

/** Commands that make a notebook's outputs trusted. */
export const TRUST_COMMANDS = ['notebook:trust'];

/** Commands that need a kernel whatever the selected cells are. */
export const KERNEL_COMMANDS = [
  'notebook:run-all-cells',
  'notebook:run-all-above',
  'notebook:run-all-below',
  'notebook:run-in-console',
  'notebook:restart-kernel',
  'notebook:restart-clear-output',
  'notebook:restart-run-all',
  'notebook:restart-and-run-to-selected',
  'notebook:interrupt-kernel',
  'notebook:change-kernel',
  'notebook:reconnect-to-kernel',
  'notebook:shutdown-kernel',
  'notebook:create-console',
  'notebook:create-subshell-console'
];

/** Commands that run the selected cells: Markdown cells still render without a kernel. */
export const CELL_RUN_COMMANDS = [
  'notebook:run-cell',
  'notebook:run-cell-and-select-next',
  'notebook:run-cell-and-insert-below'
];

/** Commands that use the server's terminals or file system, whatever the widget. */
export const SERVER_COMMANDS = [
  'terminal:create-new',
  'notebook:create-new',
  'console:create',
  'fileeditor:create-new',
  'fileeditor:create-new-markdown-file'
];

/**
 * Commands that change a notebook's cells: a shared notebook the user may only read
 * (viewer, commenter, or the room read-only) gets them disabled, like the commands
 * that run cells or use its kernel (their outputs could not be stored either).
 */
export const EDIT_COMMANDS = [
  'notebook:cut-cell',
  'notebook:paste-cell-above',
  'notebook:paste-cell-below',
  'notebook:paste-and-replace-cell',
  'notebook:delete-cell',
  'notebook:split-cell-at-cursor',
  'notebook:merge-cells',
  'notebook:merge-cell-above',
  'notebook:merge-cell-below',
  'notebook:insert-cell-above',
  'notebook:insert-cell-below',
  'notebook:insert-heading-above',
  'notebook:insert-heading-below',
  'notebook:duplicate-below',
  'notebook:move-cell-up',
  'notebook:move-cell-down',
  'notebook:clear-cell-output',
  'notebook:clear-all-cell-outputs',
  'notebook:change-cell-to-code',
  'notebook:change-cell-to-markdown',
  'notebook:change-cell-to-raw',
  'notebook:change-cell-to-heading-1',
  'notebook:change-cell-to-heading-2',
  'notebook:change-cell-to-heading-3',
  'notebook:change-cell-to-heading-4',
  'notebook:change-cell-to-heading-5',
  'notebook:change-cell-to-heading-6',
  'notebook:undo-cell-action',
  'notebook:redo-cell-action',
  'notebook:replace-selection'
];

/** The class of a shared document's widget the user may not edit (docwidget.ts). */
export const READ_ONLY_CLASS = 'jp-CollabDocs-readOnly';

/** The class of a shared notebook's widget that has no kernel (CSS hides run buttons). */
export const NO_KERNEL_CLASS = 'jp-CollabDocs-noKernel';

/** Never start a kernel for this session context (and never ask for one). */
export function withoutKernel(sessionContext: ISessionContext): void {
  sessionContext.kernelPreference = {
    ...sessionContext.kernelPreference,
    shouldStart: false,
    canStart: false,
    autoStartDefault: false
  };
}

/** Whether a notebook widget shows a document of the CollabDocs drive. */
export function isSharedNotebook(widget: NotebookPanel): boolean {
  return isDrivePath(widget.context.path);
}

/** Whether a notebook widget shows a shared document the user may not edit. */
export function isReadOnlyShared(widget: NotebookPanel): boolean {
  return isSharedNotebook(widget) && widget.hasClass(READ_ONLY_CLASS);
}

/**
 * The notebooks a command would act on: those its arguments name (by widget or trust
 * boundary id), else the current one.
 */
export function commandTargets(
  tracker: INotebookTracker,
  args: ReadonlyPartialJSONObject
): NotebookPanel[] {
  const names = Object.values(args).filter(
    (value): value is string => typeof value === 'string'
  );
  if (names.length > 0) {
    const named = tracker.filter(
      w => names.includes(w.id) || names.includes(w.content.node.id)
    );
    if (named.length > 0) {
      return named;
    }
  }
  return tracker.currentWidget ? [tracker.currentWidget] : [];
}

export interface ICommandPolicyOptions {
  commands: CommandRegistry;
  tracker: INotebookTracker;
  /** Whether the user may run code (read when a command is evaluated). */
  canRunCode: () => boolean;
  /** Resolves once every plugin has started: commands added late are guarded then. */
  started: Promise<unknown>;
}

/** Guard the commands, now and (for those added later) once started. */
export function installCommandPolicy(options: ICommandPolicyOptions): void {
  const { commands, tracker, canRunCode, started } = options;
  const kernelLess = (w: NotebookPanel): boolean =>
    isSharedNotebook(w) && !canRunCode();
  const apply = (): void => {
    guardCommands(commands, TRUST_COMMANDS, refuseTrust);
    guardCommands(commands, KERNEL_COMMANDS, refuseKernel);
    guardCommands(commands, CELL_RUN_COMMANDS, refuseCellRun);
    guardCommands(commands, SERVER_COMMANDS, refuseServer);
    guardCommands(
      commands,
      [...EDIT_COMMANDS, ...KERNEL_COMMANDS, ...CELL_RUN_COMMANDS],
      refuseReadOnly
    );
  };
  apply();
  void started.then(apply);

  function refuseTrust(_: string, args: ReadonlyPartialJSONObject): boolean {
    return commandTargets(tracker, args).some(isSharedNotebook);
  }

  function refuseKernel(_: string, args: ReadonlyPartialJSONObject): boolean {
    return commandTargets(tracker, args).some(kernelLess);
  }

  function refuseReadOnly(_: string, args: ReadonlyPartialJSONObject): boolean {
    return commandTargets(tracker, args).some(isReadOnlyShared);
  }

  function refuseServer(): boolean {
    return !canRunCode();
  }

  function refuseCellRun(_: string, args: ReadonlyPartialJSONObject): boolean {
    return commandTargets(tracker, args).some(
      w =>
        kernelLess(w) &&
        w.content.widgets.some(
          cell =>
            cell.model.type === 'code' && w.content.isSelectedOrActive(cell)
        )
    );
  }
}
