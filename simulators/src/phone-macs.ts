// MAC addresses as phones and BLE advertisers send them: universal phone MACs under vendor-like
// OUIs, locally administered (randomized) phone MACs, and BLE static and rotating addresses.

import type { Rng } from './rng.ts';
import { int } from './rng.ts';

/** OUIs of the kind phone vendors use; all universally administered (bits 0x02 and 0x01 clear). */
const PHONE_OUIS = [
  'a4:83:e7',
  'f0:18:98',
  '3c:22:fb',
  '8c:f5:a3',
  '64:cc:2e',
  'ac:bc:32',
  '98:09:cf',
  '40:4e:36',
];

function hex2(n: number): string {
  return (n & 0xff).toString(16).padStart(2, '0');
}

/** A universal phone MAC: a vendor OUI, the rest random. */
export function stableMac(rng: Rng): string {
  const oui = PHONE_OUIS[Math.floor(rng.next() * PHONE_OUIS.length)]!;
  return `${oui}:${hex2(int(rng, 0, 255))}:${hex2(int(rng, 0, 255))}:${hex2(int(rng, 0, 255))}`;
}

/** The first octet given, the other five random. */
function macWithFirstOctet(rng: Rng, first: number): string {
  let mac = hex2(first);
  for (let i = 0; i < 5; i++) mac += `:${hex2(int(rng, 0, 255))}`;
  return mac;
}

/** Locally administered (0x02 set), unicast (0x01 clear), the rest random: what phones send. */
export function randomMac(rng: Rng): string {
  return macWithFirstOctet(rng, (int(rng, 0, 255) & 0xfc) | 0x02);
}

/** BLE static random address (top bits 11); 0x02 clear, so the gateway treats it as stable. */
export function bleStaticMac(rng: Rng): string {
  return macWithFirstOctet(rng, (int(rng, 0, 255) & 0x3c) | 0xc0);
}

/** BLE resolvable private address (top bits 01), marked locally administered: it rotates. */
export function bleRotatingMac(rng: Rng): string {
  return macWithFirstOctet(rng, (int(rng, 0, 255) & 0x3c) | 0x42);
}
