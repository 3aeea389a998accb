/**
 * Every task kind center runs, registered with the TaskService on start. One line per module
 * that defines kinds (its own file exports a `readonly TaskKind[]`).
 */
import type { TaskKind } from './tasks.js';
import { VM_TASKS } from './vm-tasks.js';
import { MOVE_TASKS } from './vm-move.js';
import { POLICY_TASKS } from './reconciler.js';

export const TASK_KINDS: readonly TaskKind[] = [...VM_TASKS, ...MOVE_TASKS, ...POLICY_TASKS];
