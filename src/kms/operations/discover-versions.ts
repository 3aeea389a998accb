import { Tag, asInt, child, children, int, struct, type TtlvItem } from '../../kmip/index.js';
import type { Operation } from './context.js';

/**
 * DiscoverVersions: the versions both sides speak, in the client's order; without a list, ours up
 * to the request's version (a 1.4 client is not offered 2.x, as the OASIS TC-Q-S2C vectors expect).
 */
export const discoverVersions: Operation = {
  name: 'DiscoverVersions',
  durableAudit: false,
  async run(payload, ctx) {
    const ours = ctx.server.versions;
    const asked = children(payload, Tag.ProtocolVersion).map((pv) => ({
      major: asInt(child(pv, Tag.ProtocolVersionMajor) ?? int(Tag.ProtocolVersionMajor, -1)),
      minor: asInt(child(pv, Tag.ProtocolVersionMinor) ?? int(Tag.ProtocolVersionMinor, -1)),
    }));
    const upTo = ours.filter((o) => o.major < ctx.version.major || (o.major === ctx.version.major && o.minor <= ctx.version.minor));
    const list = asked.length === 0 ? upTo : asked.filter((a) => ours.some((o) => o.major === a.major && o.minor === a.minor));
    return list.map(
      (v): TtlvItem => struct(Tag.ProtocolVersion, [int(Tag.ProtocolVersionMajor, v.major), int(Tag.ProtocolVersionMinor, v.minor)]),
    );
  },
};
