import { ID_PATTERN } from './ids.ts';
import type { MessageKind } from './messages.ts';

export const TOPIC_ROOT = 'mallflow/v1';
const KINDS: ReadonlySet<string> = new Set(['wifi', 'ble', 'scale', 'status']);

/** `mallflow/v1/{mallId}/gw/{gatewayId}/{kind}` */
export function gatewayTopic(mallId: string, gatewayId: string, kind: MessageKind): string {
  return `${TOPIC_ROOT}/${mallId}/gw/${gatewayId}/${kind}`;
}

/** Everything a gateway may publish under. */
export function gatewayPrefix(mallId: string, gatewayId: string): string {
  return `${TOPIC_ROOT}/${mallId}/gw/${gatewayId}/`;
}

/** Subscription filter for every gateway message of one mall, or of all malls with `+`. */
export function gatewayFilter(mallId = '+'): string {
  return `${TOPIC_ROOT}/${mallId}/gw/+/+`;
}

export interface ParsedTopic {
  mallId: string;
  gatewayId: string;
  kind: MessageKind;
}

/** Parses a gateway topic with indexOf/slice (this runs once per message). Undefined if it is not one. */
export function parseGatewayTopic(topic: string): ParsedTopic | undefined {
  if (!topic.startsWith(`${TOPIC_ROOT}/`)) return undefined;
  const rest = topic.slice(TOPIC_ROOT.length + 1);
  const a = rest.indexOf('/');
  if (a < 0) return undefined;
  const mallId = rest.slice(0, a);
  if (!rest.startsWith('gw/', a + 1)) return undefined;
  const b = a + 4;
  const c = rest.indexOf('/', b);
  if (c < 0) return undefined;
  const gatewayId = rest.slice(b, c);
  const kind = rest.slice(c + 1);
  if (!KINDS.has(kind) || !ID_PATTERN.test(mallId) || !ID_PATTERN.test(gatewayId)) return undefined;
  return { mallId, gatewayId, kind: kind as MessageKind };
}
