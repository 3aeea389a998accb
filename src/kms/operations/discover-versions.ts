import { Tag, asInt, child, children, int, struct, type TtlvItem } from '../../kmip/index.js';
import type { Operation } from './context.js';

/** DiscoverVersions: the versions both sides speak, in the client's order, or all of ours. */
export const discoverVersions: Operation = {
  name: 'DiscoverVersions',
  durableAudit: false,
  async run(payload, ctx) {
    const ours = ctx.server.versions;
    const asked = children(payload, Tag.ProtocolVersion).map((pv) => ({
      major: asInt(child(pv, Tag.ProtocolVersionMajor) ?? int(Tag.ProtocolVersionMajor, -1)),
      minor: asInt(child(pv, Tag.ProtocolVersionMinor) ?? int(Tag.ProtocolVersionMinor, -1)),
    }));
    const list = asked.length === 0 ? ours : asked.filter((a) => ours.some((o) => o.major === a.major && o.minor === a.minor));
    return list.map(
      (v): TtlvItem => struct(Tag.ProtocolVersion, [int(Tag.ProtocolVersionMajor, v.major), int(Tag.ProtocolVersionMinor, v.minor)]),
    );
  },
};
