// The raw readings the mall simulation produces — WiFi probe sightings, BLE advertisements and
// smart-scale weigh-ins, as the sensors hear them before any gateway — and the orders
// `stepAll` returns them in.

/** One probe frame heard by one sensor, before the gateway: the MAC is still raw. */
export interface RawWifiSighting {
  sensorId: string;
  /** Epoch ms. */
  heardAt: number;
  /** Integer dBm. */
  rssiDbm: number;
  /** Raw transmitter MAC, `aa:bb:cc:dd:ee:ff`. */
  mac: string;
  /** 12-bit 802.11 sequence number (0-4095), per phone, incremented per frame. */
  frameSeq: number;
}

export interface IBeaconFrame {
  kind: 'ibeacon';
  uuid: string;
  major: number;
  minor: number;
  /** Calibrated RSSI at 1 m, as the frame announces it. */
  txPowerDbm: number;
}

/** An Eddystone-UID frame: a 10-byte namespace and a 6-byte instance, as hex. */
export interface EddystoneUidFrame {
  kind: 'eddystone-uid';
  namespace: string;
  instance: string;
}

/** One BLE advertisement heard by one 'wifi+ble' or 'ble' sensor. The beacon object is shared: read-only. */
export interface RawBleSighting {
  sensorId: string;
  heardAt: number;
  rssiDbm: number;
  /** Raw advertiser address, `aa:bb:cc:dd:ee:ff`. */
  mac: string;
  /** The mall app advertises iBeacon; physical tags advertise Eddystone-UID. */
  beacon: IBeaconFrame | EddystoneUidFrame;
}

/** A stabilised weigh-in on a smart scale by a member who linked it. */
export interface RawScaleReading {
  sensorId: string;
  measuredAt: number;
  /** 0.1 kg resolution. */
  weightKg: number;
  /** Bioimpedance, whole ohms. */
  impedanceOhm: number;
  memberId: string;
}

export interface SimReadings {
  /** Sorted by heardAt, then mac, sensorId, frameSeq. */
  wifi: RawWifiSighting[];
  /** Sorted by heardAt, then mac, sensorId. */
  ble: RawBleSighting[];
  /** Sorted by measuredAt, then sensorId. */
  scale: RawScaleReading[];
}

export function byHeardAt(a: RawWifiSighting, b: RawWifiSighting): number {
  if (a.heardAt !== b.heardAt) return a.heardAt - b.heardAt;
  if (a.mac !== b.mac) return a.mac < b.mac ? -1 : 1;
  if (a.sensorId !== b.sensorId) return a.sensorId < b.sensorId ? -1 : 1;
  return a.frameSeq - b.frameSeq;
}

export function bleByHeardAt(a: RawBleSighting, b: RawBleSighting): number {
  if (a.heardAt !== b.heardAt) return a.heardAt - b.heardAt;
  if (a.mac !== b.mac) return a.mac < b.mac ? -1 : 1;
  if (a.sensorId !== b.sensorId) return a.sensorId < b.sensorId ? -1 : 1;
  return 0;
}

export function scaleByMeasuredAt(a: RawScaleReading, b: RawScaleReading): number {
  if (a.measuredAt !== b.measuredAt) return a.measuredAt - b.measuredAt;
  if (a.sensorId !== b.sensorId) return a.sensorId < b.sensorId ? -1 : 1;
  return a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0;
}
