/**
 * Commands that must not act on some document widgets: JupyterLab's own notebook
 * commands ("Trust Notebook" on a shared notebook, running code in a notebook whose
 * user may run none). A guarded command is disabled for those widgets (menus, palette
 * and key bindings skip it) and does nothing if executed anyway.
 *
 * Lumino's CommandRegistry has no public way to change a command another plugin
 * registered, so its stored definition is wrapped in place.
 */

import type { CommandRegistry } from '@lumino/commands';
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';

/** Whether a command must refuse to act, given its arguments. */
export type Refusal = (id: string, args: ReadonlyPartialJSONObject) => boolean;

interface IStoredCommand {
  execute: (args: ReadonlyPartialJSONObject) => unknown;
  isEnabled: (args: ReadonlyPartialJSONObject) => boolean;
}

const WRAPPED = Symbol('jupyter-collab-docs guarded');

/**
 * Guard the given commands with `refuse`. Commands not registered yet are guarded
 * on a later call (call again once every plugin has started); returns the ids guarded
 * so far. Each command is wrapped once, with every refusal given for it.
 */
export function guardCommands(
  commands: CommandRegistry,
  ids: readonly string[],
  refuse: Refusal
): string[] {
  const stored = (commands as unknown as { _commands?: unknown })._commands;
  if (!(stored instanceof Map)) {
    console.warn(
      'jupyter-collab-docs: cannot guard JupyterLab commands in this version'
    );
    return [];
  }
  const guarded: string[] = [];
  for (const id of ids) {
    const command = stored.get(id) as
      (IStoredCommand & { [WRAPPED]?: Refusal[] }) | undefined;
    if (!command) {
      continue;
    }
    guarded.push(id);
    const refusals = command[WRAPPED];
    if (refusals) {
      if (!refusals.includes(refuse)) {
        refusals.push(refuse);
      }
      continue;
    }
    const all: Refusal[] = [refuse];
    const refused = (args: ReadonlyPartialJSONObject): boolean =>
      all.some(r => r(id, args ?? {}));
    const { execute, isEnabled } = command;
    command.isEnabled = args => !refused(args) && isEnabled(args);
    command.execute = args => (refused(args) ? undefined : execute(args));
    command[WRAPPED] = all;
    commands.notifyCommandChanged(id);
  }
  return guarded;
}
