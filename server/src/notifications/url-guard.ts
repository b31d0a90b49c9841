import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Addresses a webhook target set in the admin panel may not point at in production: the host
 * itself, private networks, link-local (cloud metadata services answer on 169.254.169.254) and
 * the like. Strapi refuses such webhook URLs in production too. An admin who may edit settings
 * could otherwise make the server call into its own network, and "Send a test" would report the
 * answer. Targets written in config/plugins.ts are the operator's and are not checked.
 */
const INTERNAL = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
] as const) {
  INTERNAL.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const) {
  INTERNAL.addSubnet(network, prefix, 'ipv6');
}

/** Whether an IP address (v4, v6, or v4-mapped v6) is internal. */
export const isInternalAddress = (address: string): boolean => {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return INTERNAL.check(mapped[1], 'ipv4');
  const family = isIP(address);
  if (family === 4) return INTERNAL.check(address, 'ipv4');
  if (family === 6) return INTERNAL.check(address, 'ipv6');
  return false;
};

/**
 * Why a webhook URL may not be used, or null: its host is, or resolves to, an internal address.
 * A host that does not resolve is let through (the delivery will say it failed).
 */
export const internalTargetReason = async (url: string, resolve: typeof lookup = lookup): Promise<string | null> => {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return `${host} is this server`;
  if (isIP(host)) return isInternalAddress(host) ? `${host} is an internal address` : null;
  let addresses: Array<{ address: string }>;
  try {
    addresses = await resolve(host, { all: true, verbatim: true });
  } catch {
    return null;
  }
  const internal = addresses.find((a) => isInternalAddress(a.address));
  return internal ? `${host} resolves to the internal address ${internal.address}` : null;
};
