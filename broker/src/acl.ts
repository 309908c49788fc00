import { ID_PATTERN } from '../../core/src/ids.ts';
import { gatewayPrefix, gatewayTopic, parseGatewayTopic, TOPIC_ROOT } from '../../core/src/topics.ts';
import type { Account } from './accounts.ts';

// Who may publish and subscribe where. Pure functions of (account, topic): the broker calls
// them from Aedes' authorize hooks. Everything not allowed below is refused, including `#`,
// `$SYS/...` and `$share/...`.
//
//   gateway    publish   mallflow/v1/{its mall}/gw/{its gateway}/{wifi|ble|scale|status}
//              subscribe nothing
//   analytics  publish   nothing
//              subscribe mallflow/v1/+/gw/+/+ or a narrowing of it (a mall, a gateway, a kind);
//              with `mallId` set on the account, only filters naming that mall
//   dashboard  publish   nothing
//              subscribe mallflow/v1/+/gw/+/status or a narrowing of it (same mall rule)

const KINDS: ReadonlySet<string> = new Set(['wifi', 'ble', 'scale', 'status']);

// mayPublish runs once per incoming message: build (and check) each gateway's prefix once.
// null: the account's ids are not valid topic levels, so it may publish nothing.
const prefixByAccount = new WeakMap<Account, string | null>();

/** The topic a gateway's last will must use: its own retained status. */
export function willTopicOf(account: Account): string | undefined {
  if (account.role !== 'gateway' || !account.mallId || !account.gatewayId) return undefined;
  return gatewayTopic(account.mallId, account.gatewayId, 'status');
}

/** True when `account` may publish to `topic` (a concrete topic: wildcards are always refused). */
export function mayPublish(account: Account, topic: string): boolean {
  if (account.role !== 'gateway' || !account.mallId || !account.gatewayId) return false;
  let prefix = prefixByAccount.get(account);
  if (prefix === undefined) {
    const valid = ID_PATTERN.test(account.mallId) && ID_PATTERN.test(account.gatewayId);
    prefix = valid ? gatewayPrefix(account.mallId, account.gatewayId) : null;
    prefixByAccount.set(account, prefix);
  }
  // The prefix holds valid ids only and the rest must be exactly a kind, so no wildcard or extra
  // level can slip through.
  return prefix !== null && topic.startsWith(prefix) && KINDS.has(topic.slice(prefix.length));
}

/** A filter level that is `+` or a valid id (so never `#`, `$...` or a partial wildcard). */
function isIdOrPlus(level: string | undefined): boolean {
  return level === '+' || (level !== undefined && ID_PATTERN.test(level));
}

/**
 * True when `account` may subscribe to `filter`: only filters that match a subset of what the
 * role may read. Called once per SUBSCRIBE, so splitting the filter is fine here.
 */
export function maySubscribe(account: Account, filter: string): boolean {
  if (account.role === 'gateway') return false;
  const levels = filter.split('/');
  if (levels.length !== 6) return false;
  const [root, version, mall, gw, gateway, kind] = levels;
  if (`${root}/${version}` !== TOPIC_ROOT || gw !== 'gw') return false;
  if (account.mallId !== undefined ? mall !== account.mallId : !isIdOrPlus(mall)) return false;
  if (!isIdOrPlus(gateway)) return false;
  if (account.role === 'dashboard') return kind === 'status';
  return kind === '+' || (kind !== undefined && KINDS.has(kind));
}

/**
 * True when a message on the concrete `topic` may be delivered to `account`. The broker checks
 * this on every delivery as a second line behind `maySubscribe` (for example for messages queued
 * in a persistent session that another account took over), so it parses with indexOf/slice.
 */
export function mayReceive(account: Account, topic: string): boolean {
  if (account.role === 'gateway') return false;
  const parsed = parseGatewayTopic(topic);
  if (!parsed) return false;
  if (account.mallId !== undefined && parsed.mallId !== account.mallId) return false;
  return account.role === 'analytics' || parsed.kind === 'status';
}
