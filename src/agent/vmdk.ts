/**
 * Reads a VMDK text descriptor of type monolithicFlat: one flat extent, raw sectors, which is
 * all `vm import --vmdk` needs (the extent is copied as the VM's raw disk).
 */
import { AgentError } from './errors.js';

export interface VmdkDescriptor {
  readonly createType: string;
  readonly extentFile: string;
  readonly sizeBytes: number;
}

const EXTENT_RE = /^(RW|RDONLY|NOACCESS)\s+(\d+)\s+(FLAT|SPARSE|ZERO|VMFS|VMFSSPARSE|VMFSRDM|VMFSRAW)\s+"([^"]+)"(?:\s+(\d+))?\s*$/;

export function parseVmdkDescriptor(text: string): VmdkDescriptor {
  if (text.length > 64 * 1024 || !/^#\s*Disk DescriptorFile/m.test(text)) {
    throw new AgentError('invalid_request', 'not a VMDK text descriptor (no "# Disk DescriptorFile" line)');
  }
  let createType = '';
  const extents: { sectors: number; type: string; file: string; offset: number }[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const ct = /^createType\s*=\s*"([^"]*)"$/.exec(line);
    if (ct) {
      createType = ct[1] ?? '';
      continue;
    }
    const m = EXTENT_RE.exec(line);
    if (m) extents.push({ sectors: Number(m[2]), type: m[3] ?? '', file: m[4] ?? '', offset: Number(m[5] ?? 0) });
  }
  if (createType !== 'monolithicFlat') {
    throw new AgentError('not_supported', `VMDK createType "${createType}" is not supported: only monolithicFlat`);
  }
  const [e] = extents;
  if (extents.length !== 1 || !e || e.type !== 'FLAT' || e.offset !== 0) {
    throw new AgentError('not_supported', 'only a single FLAT extent at offset 0 is supported');
  }
  if (e.file.includes('/') || e.file.includes('\\')) throw new AgentError('invalid_request', 'the VMDK extent must sit beside its descriptor');
  return { createType, extentFile: e.file, sizeBytes: e.sectors * 512 };
}
