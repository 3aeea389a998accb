import type { Operation } from './context.js';

/** Interop and Log: accepted and answered with an empty payload (the profiles' test hooks). */
export const interop: Operation = { name: 'Interop', durableAudit: false, run: async () => [] };
export const log: Operation = { name: 'Log', durableAudit: false, run: async () => [] };
