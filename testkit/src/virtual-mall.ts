import { type Logger, pino } from 'pino';
import type { Layout, Sensor } from '../../core/src/layout.ts';
import type { BleReading } from '../../core/src/messages.ts';
import { normalizeMac, pseudonymize } from '../../core/src/privacy.ts';
import type { RawBleInput, RawWifiInput } from '../../gateway/src/gateway.ts';
import { createRng, type Rng } from '../../simulators/src/rng.ts';
import { createVirtualClock, type Duration, parseDuration, type VirtualClock } from './duration.ts';
import type { TestBroker } from './test-broker.ts';
import { createVirtualGateway, type VirtualGateway } from './virtual-gateway.ts';

// Virtual devices placed in a layout's zones, heard by that layout's sensors, published through
// real gateways (one per floor), on a virtual clock. A device in a zone is heard by the sensors of
// that zone at about -50 dBm and by those of the neighbouring zones at about -78 dBm; a zone
// without a sensor of its own is therefore seen as its strongest neighbour.
//
// advance(d): emits every probe burst and advertisement due before now + d, in time order, then
// flushes every gateway and sends a heartbeat stamped with the new time, and resolves when the
// broker has acknowledged all of it.

const PROBE_INTERVAL_MS = { on: 20_000, off: 60_000 } as const;
const IN_ZONE_RSSI_DBM = -50;
const NEIGHBOUR_RSSI_DBM = -78;

export type ScreenState = keyof typeof PROBE_INTERVAL_MS;

interface Emitter {
  zoneId: string | undefined;
  nextAtMs: number;
  emit(atMs: number): void;
}

export interface VirtualPhone {
  readonly id: string;
  /** The MAC the phone uses now (raw: it never leaves the gateway). */
  readonly mac: string;
  /** What analytics sees for the current MAC. */
  readonly pseudonym: string;
  /** Every pseudonym this phone has used (one per MAC rotation). */
  readonly pseudonyms: readonly string[];
  readonly zoneId: string | undefined;
  moveTo(zoneId: string): void;
  leave(): void;
  setScreen(state: ScreenState): void;
}

export interface PhoneOptions {
  id?: string;
  /** A fixed MAC; default: drawn from the mall's seed (randomized or not, as below). */
  mac?: string;
  /** Use locally administered MACs that rotate every `rotateEvery`. Default false. */
  randomizedMac?: boolean;
  rotateEvery?: Duration;
  screen?: ScreenState;
  zone?: string;
}

export type BeaconFrame = NonNullable<BleReading['beacon']>;

export interface VirtualTag {
  readonly id: string;
  readonly pseudonym: string;
  readonly zoneId: string | undefined;
  moveTo(zoneId: string): void;
  leave(): void;
}

export interface TagOptions {
  id?: string;
  mac?: string;
  /** iBeacon or Eddystone-UID frame the tag advertises. */
  beacon: BeaconFrame;
  /** Advertising interval. Default 10 s. */
  every?: Duration;
  zone?: string;
}

export interface VirtualScale {
  readonly sensorId: string;
  /** A stabilised weigh-in, published at the current virtual time. */
  weigh(reading: { weightKg: number; impedanceOhm?: number; memberId?: string }): void;
}

export interface VirtualMall {
  layout: Layout;
  clock: VirtualClock;
  /** Gateway per floor id. */
  gateways: Map<string, VirtualGateway>;
  phone(options?: PhoneOptions): VirtualPhone;
  bleTag(options: TagOptions): VirtualTag;
  scale(sensorId: string): VirtualScale;
  /** Runs virtual time forward by `d` (e.g. '12m'); resolves when everything due was acknowledged. */
  advance(d: Duration): Promise<void>;
  /** What analytics sees for a MAC at this site. */
  pseudonymOf(mac: string): string;
  close(): Promise<void>;
}

export interface VirtualMallOptions {
  layout: Layout;
  broker: TestBroker;
  siteSecret: string;
  /** Virtual start time: epoch ms or an ISO string. */
  start: number | string;
  seed?: number;
  batchMaxReadings?: number;
  /** Gateway ids are `{prefix}-{floor}`; give each mall on one broker its own. Default 'gw'. */
  gatewayPrefix?: string;
  /** One gateway with this id for the whole mall instead of one per floor. */
  singleGatewayId?: string;
  logger?: Logger;
}

function macFrom(rng: Rng, randomized: boolean): string {
  const octets = Array.from({ length: 6 }, () => Math.floor(rng.next() * 256));
  octets[0] = randomized ? (octets[0]! & 0xfc) | 0x02 : octets[0]! & 0xfc;
  return octets.map((o) => o.toString(16).padStart(2, '0')).join(':');
}

export async function createVirtualMall(options: VirtualMallOptions): Promise<VirtualMall> {
  const { layout } = options;
  const startMs = typeof options.start === 'number' ? options.start : Date.parse(options.start);
  if (!Number.isFinite(startMs)) throw new RangeError(`start "${options.start}": not a time`);
  const clock = createVirtualClock(startMs);
  const rng = createRng(options.seed ?? 1);
  const logger = options.logger ?? pino({ level: 'silent' });
  const gateways = new Map<string, VirtualGateway>();
  const connect = async (gatewayId: string) =>
    createVirtualGateway({
      url: options.broker.url,
      login: await options.broker.addGateway(layout.id, gatewayId),
      siteSecret: options.siteSecret,
      clock,
      batchMaxReadings: options.batchMaxReadings ?? 500,
      logger,
    });
  const single = options.singleGatewayId === undefined ? undefined : await connect(options.singleGatewayId);
  for (const floor of layout.floors) {
    gateways.set(floor.id, single ?? (await connect(`${options.gatewayPrefix ?? 'gw'}-${floor.id}`)));
  }
  const sensorsHearing = (kind: 'wifi' | 'ble') =>
    layout.sensors.filter((s) => s.kind === kind || s.kind === 'wifi+ble');
  const wifiSensors = sensorsHearing('wifi');
  const bleSensors = sensorsHearing('ble');
  const emitters: Emitter[] = [];
  let deviceCount = 0;

  const zoneOrThrow = (zoneId: string) => {
    if (!layout.zoneById.has(zoneId)) {
      throw new RangeError(
        `zone "${zoneId}" is not in layout ${layout.id} (zones: ${[...layout.zoneById.keys()].join(', ')})`,
      );
    }
    return zoneId;
  };
  /** Sensors that hear a device in `zoneId`, with the RSSI they hear it at. */
  const hearing = (sensors: readonly Sensor[], zoneId: string): [Sensor, number][] => {
    const neighbours = new Set(layout.neighbours.get(zoneId) ?? []);
    const out: [Sensor, number][] = [];
    for (const s of sensors) {
      if (s.zone === zoneId) out.push([s, IN_ZONE_RSSI_DBM]);
      else if (neighbours.has(s.zone)) out.push([s, NEIGHBOUR_RSSI_DBM]);
    }
    return out;
  };
  const gatewayOf = (sensor: Sensor) => gateways.get(sensor.floor)!.gateway;

  return {
    layout,
    clock,
    gateways,
    pseudonymOf: (mac) => pseudonymize(normalizeMac(mac) ?? mac, options.siteSecret),

    phone(o = {}) {
      const id = o.id ?? `phone-${++deviceCount}`;
      const randomized = o.randomizedMac ?? false;
      const rotateMs = parseDuration(o.rotateEvery ?? '15m');
      let mac = o.mac ?? macFrom(rng, randomized);
      let macSinceMs = clock.now();
      let screen: ScreenState = o.screen ?? 'on';
      let frameSeq = Math.floor(rng.next() * 4096);
      const pseudonyms = [pseudonymize(normalizeMac(mac) ?? mac, options.siteSecret)];
      const emitter: Emitter = {
        zoneId: undefined,
        nextAtMs: Number.POSITIVE_INFINITY,
        emit(atMs) {
          if (randomized && atMs - macSinceMs >= rotateMs) {
            mac = macFrom(rng, true);
            macSinceMs = atMs;
            pseudonyms.push(pseudonymize(mac, options.siteSecret));
          }
          const heard = hearing(wifiSensors, emitter.zoneId!);
          const byGateway = new Map<ReturnType<typeof gatewayOf>, RawWifiInput[]>();
          heard.forEach(([sensor, rssi], i) => {
            const reading: RawWifiInput = {
              sensorId: sensor.id,
              heardAt: atMs + i * 20,
              rssiDbm: rssi + Math.round((rng.next() - 0.5) * 4),
              mac,
              frameSeq,
            };
            const g = gatewayOf(sensor);
            byGateway.get(g)?.push(reading) ?? byGateway.set(g, [reading]);
          });
          frameSeq = (frameSeq + 1) % 4096;
          for (const [g, readings] of byGateway) g.pushWifi(readings);
          emitter.nextAtMs = atMs + Math.round(PROBE_INTERVAL_MS[screen] * (0.9 + rng.next() * 0.2));
        },
      };
      emitters.push(emitter);
      const phone: VirtualPhone = {
        id,
        get mac() {
          return mac;
        },
        get pseudonym() {
          return pseudonyms.at(-1)!;
        },
        pseudonyms,
        get zoneId() {
          return emitter.zoneId;
        },
        moveTo(zoneId) {
          const arriving = emitter.zoneId === undefined;
          emitter.zoneId = zoneOrThrow(zoneId);
          if (arriving) emitter.nextAtMs = clock.now() + 1_000; // a phone probes soon after it arrives
        },
        leave() {
          emitter.zoneId = undefined;
          emitter.nextAtMs = Number.POSITIVE_INFINITY;
        },
        setScreen(state) {
          screen = state;
        },
      };
      if (o.zone) phone.moveTo(o.zone);
      return phone;
    },

    bleTag(o) {
      const id = o.id ?? `tag-${++deviceCount}`;
      const mac = o.mac ?? macFrom(rng, false);
      const everyMs = parseDuration(o.every ?? '10s');
      const emitter: Emitter = {
        zoneId: undefined,
        nextAtMs: Number.POSITIVE_INFINITY,
        emit(atMs) {
          for (const [sensor, rssi] of hearing(bleSensors, emitter.zoneId!)) {
            const reading: RawBleInput = {
              sensorId: sensor.id,
              heardAt: atMs,
              rssiDbm: rssi,
              mac,
              beacon: o.beacon,
            };
            gatewayOf(sensor).pushBle([reading]);
          }
          emitter.nextAtMs = atMs + everyMs;
        },
      };
      emitters.push(emitter);
      const tag: VirtualTag = {
        id,
        pseudonym: pseudonymize(normalizeMac(mac) ?? mac, options.siteSecret),
        get zoneId() {
          return emitter.zoneId;
        },
        moveTo(zoneId) {
          const arriving = emitter.zoneId === undefined;
          emitter.zoneId = zoneOrThrow(zoneId);
          if (arriving) emitter.nextAtMs = clock.now();
        },
        leave() {
          emitter.zoneId = undefined;
          emitter.nextAtMs = Number.POSITIVE_INFINITY;
        },
      };
      if (o.zone) tag.moveTo(o.zone);
      return tag;
    },

    scale(sensorId) {
      const sensor = layout.sensorById.get(sensorId);
      if (sensor?.kind !== 'scale')
        throw new RangeError(`"${sensorId}" is not a scale sensor of layout ${layout.id}`);
      return {
        sensorId,
        weigh(r) {
          gatewayOf(sensor).pushScale([{ sensorId, measuredAt: clock.now(), ...r }]);
        },
      };
    },

    async advance(d) {
      const targetMs = clock.now() + parseDuration(d);
      for (;;) {
        let next: Emitter | undefined;
        for (const e of emitters)
          if (e.nextAtMs < targetMs && (!next || e.nextAtMs < next.nextAtMs)) next = e;
        if (!next) break;
        clock.set(next.nextAtMs);
        next.emit(next.nextAtMs);
      }
      clock.set(targetMs);
      await Promise.all(
        [...new Set(gateways.values())].map(async (g) => {
          await g.gateway.flush(); // includes batches the kit holds or reorders
          await g.gateway.heartbeat();
        }),
      );
    },

    async close() {
      for (const g of new Set(gateways.values())) await g.close();
    },
  };
}
