import type { z } from 'zod';
import { type AnyBatch, type GatewayStatus, MESSAGES } from './messages.ts';
import { type ParsedTopic, parseGatewayTopic } from './topics.ts';
import { isPlainWifiBatch } from './wifi-batch-check.ts';

// Turning an MQTT message into a typed batch, or into the reason it is not one. A bad device
// message is data, not an exception: the shell dead-letters it with this reason and moves on.

export type Decoded =
  | { ok: true; topic: ParsedTopic & { kind: 'wifi' | 'ble' | 'scale' }; batch: AnyBatch }
  | { ok: true; topic: ParsedTopic & { kind: 'status' }; status: GatewayStatus }
  | { ok: false; topic: ParsedTopic | undefined; reason: string };

const MAX_ISSUES_IN_REASON = 5;

export function describeIssues(error: z.ZodError): string {
  const shown = error.issues
    .slice(0, MAX_ISSUES_IN_REASON)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  const more = error.issues.length - shown.length;
  return shown.join('; ') + (more > 0 ? `; and ${more} more` : '');
}

export function decodeGatewayMessage(topicName: string, payload: string): Decoded {
  const topic = parseGatewayTopic(topicName);
  if (!topic)
    return {
      ok: false,
      topic,
      reason: 'topic is not mallflow/v1/{mall}/gw/{gateway}/{wifi|ble|scale|status}',
    };
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch (err) {
    return { ok: false, topic, reason: `invalid JSON: ${(err as Error).message}` };
  }
  let message: AnyBatch | GatewayStatus;
  if (topic.kind === 'wifi' && isPlainWifiBatch(json)) message = json;
  else {
    const parsed = MESSAGES[topic.kind].safeParse(json);
    if (!parsed.success) return { ok: false, topic, reason: `schema: ${describeIssues(parsed.error)}` };
    message = parsed.data as AnyBatch | GatewayStatus;
  }
  if (message.gw !== topic.gatewayId) {
    return {
      ok: false,
      topic,
      reason: `gw "${message.gw}" does not match the topic's gateway "${topic.gatewayId}"`,
    };
  }
  if (topic.kind === 'status')
    return { ok: true, topic: { ...topic, kind: 'status' }, status: message as GatewayStatus };
  return { ok: true, topic: { ...topic, kind: topic.kind }, batch: message as AnyBatch };
}
