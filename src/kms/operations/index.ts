import { activate } from './activate.js';
import { addAttribute } from './add-attribute.js';
import { check } from './check.js';
import type { Operation } from './context.js';
import { create } from './create.js';
import { deleteAttribute } from './delete-attribute.js';
import { destroy } from './destroy.js';
import { discoverVersions } from './discover-versions.js';
import { get } from './get.js';
import { getAttributeList, getAttributes } from './get-attributes.js';
import { locate } from './locate.js';
import { modifyAttribute } from './modify-attribute.js';
import { interop, log } from './no-ops.js';
import { makeQuery } from './query.js';
import { register } from './register.js';
import { rekey } from './rekey.js';
import { revoke } from './revoke.js';
import { setAttribute } from './set-attribute.js';

/** Every operation the KMS serves, by KMIP Operation name; anything else is Operation Not Supported. */
const list: Operation[] = [
  discoverVersions,
  create,
  register,
  get,
  getAttributes,
  getAttributeList,
  addAttribute,
  modifyAttribute,
  deleteAttribute,
  setAttribute,
  activate,
  revoke,
  destroy,
  locate,
  rekey,
  check,
  interop,
  log,
];
list.push(makeQuery(() => [...OPERATIONS.keys()]));

export const OPERATIONS: ReadonlyMap<string, Operation> = new Map(list.map((o) => [o.name, o]));

export type { OpContext, Operation, ServerInfo } from './context.js';
