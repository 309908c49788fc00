// Published BLE advertisements and scale frames used by the gateway BLE tests, with their sources.
// Each is the advertising payload (AD structures) in hex unless named otherwise; HCI event headers
// and trailing RSSI bytes of the originals are cut off.
import { parseHex } from '../../gateway/src/ble/hex-bytes.ts';

export function bytes(hex: string): Uint8Array {
  const b = parseHex(hex.replace(/\s+/g, ''));
  if (!b) throw new Error(`bad test vector: ${hex}`);
  return b;
}

// --- iBeacon ---
/**
 * Apple's AirLocate sample UUID, major 0, minor 0, measured power −59 dBm: the advertisement from
 * the answer to stackoverflow.com/questions/18906988 ("What is the iBeacon Bluetooth Profile"),
 * laid out as in Apple's Proximity Beacon Specification R1, Table 2-1.
 */
export const AIRLOCATE_IBEACON = '02011a1aff4c000215e2c56db5dffb48d2b060d0f5a71096e000000000c5';
/** custom-components/ble_monitor test_ibeacon_parser.py: same UUID, major 100, minor 0, −59 dBm. */
export const BLE_MONITOR_IBEACON = '02011a1aff4c000215e2c56db5dffb48d2b060d0f5a71096e000640000c5';
/** ble_monitor test_ibeacon_parser.py: an iPhone's Apple "nearby" frame (type 0x0F), not an iBeacon. */
export const IPHONE_NEARBY = '02011a020a0c0fff4c000f06a033bd08c5001002440c';

// Blue Charm BC011 captures from AOSP frameworks/base ScanRecordTest.java (also Theengs Decoder's
// iBeacon test: major 3838, minor 4949, txpower −59). Legacy 31-octet payloads padded with zeros.
export const BLUECHARM_IBEACON =
  '0201061aff4c000215426c7565436861726d426561636f6e730efe1355c509168020691e0efe13551109426c7565436861726d5f31363936383500000000';
export const BLUECHARM_URL =
  '0201060303aafe1716aafe10ee01626c7565636861726d626561636f6e730009168020691e0efe13551109426c7565436861726d5f313639363835000000';
export const BLUECHARM_UID =
  '0201060303aafe1716aafe00ee626c7565636861726d31000000000001000009168020691e0efe13551109426c7565436861726d5f313639363835000000';
export const BLUECHARM_TLM =
  '0201060303aafe1116aafe20000bf017000008874803fb93540916802069080efe13551109426c7565436861726d5f313639363835000000000000000000';

// --- Eddystone ---
/** AltBeacon android-beacon-library GattBeaconTest.testDetectsEddystoneUID (UID without RFU). */
export const ALTBEACON_UID =
  '0201060303aafe1516aafe00e700010203040506070809010203040506000000000000000000000000000000000000000000000000000000000000000000';
/** ruuvitag-sensor tests: RuuviTag in Eddystone-URL mode, https://ruu.vi/#AjwYAMFc. */
export const RUUVI_URL = '0201060303aafe1616aafe10ee037275752e76692f23416a7759414d4663';
/** reelyactive/advlib-ble-services README: Eddystone-URL service data (after 0xFEAA), "https://getpareto.com". */
export const ADVLIB_URL_FRAME = '10000367657470617265746f07';
/** ble_monitor test_eddystone_tlm_parser.py: 3183 mV, 30.0 °C, count 131181. */
export const BLE_MONITOR_TLM = '0201060303aafe1116aafe20000c6f1e000002006d41db9ab6';
/** ble_monitor test_eddystone_tlm_parser.py: battery 0 and temperature 0x8000 (not supported). */
export const BLE_MONITOR_TLM_UNSUPPORTED = '0201060303aafe1116aafe2000000080000002006d41db9ab6';

// --- Xiaomi scales (ble_monitor test_miscale_parser.py) ---
/** Mi Scale V1 (0x181D), stabilised and load removed, 87.2 kg, clock 1970-01-01 10:26:21. */
export const MI1_REMOVED = '02010603021d1809ff5701c8478cc095890d161d18a22044b20701010a1a15';
/** Mi Scale V1 extended advertisement, stabilised, 86.55 kg, clock 2021-04-11 16:19:01. */
export const MI1_STABLE = '02010603021d1809ff5701c8478cc095890d161d18229e43e507040b101301';
/** Mi Scale V1, load removed, not stabilised, 0.1 kg. */
export const MI1_EMPTY = '02010603021d1809ff5701c8478cc095890d161d18821400e507040b101708';
/** ble_monitor issue 366: the stale frame a Mi Scale V1 sends on waking (87.8 kg, removed). */
export const MI1_STALE = '02010603021d1809ff5701c8478cc095890d161d18a29844e507051b162135';
/** ble_monitor issue 366: live, not stabilised, 87.4 kg. */
export const MI1_LIVE = '02010603021d1809ff5701c8478cc095890d161d18024844e507051c110c09';
/** Mi Scale V2 (0x181B), not stabilised, 105.8 kg. */
export const MI2_UNSETTLED = '02010603021b1810161b180204b207010112101a0000a852';
/** Mi Scale V2, stabilised with impedance 428 Ω, 85.15 kg, clock 1970-05-04 15:02:01. */
export const MI2_IMPEDANCE = '02010603021b1810161b180226b20705040f0201ac018642';
// ble_monitor issue 1094, one weigh-in of a Mi Body Composition Scale 2 ("MIBCS"):
/** Not stabilised, 94.3 kg, clock 1970-01-03 19:26:19. */
export const MIBCS_UNSETTLED =
  '02010603021b1810161b180204b2070103131a130000ac4906094d4942435309ff5701f146e35515c8';
/** Stabilised, impedance 486 Ω, 95.2 kg, clock 1970-01-03 19:26:21. */
export const MIBCS_SETTLED =
  '02010603021b1810161b180226b2070103131a15e601604a06094d4942435309ff5701f146e35515c8';
/** The same reading with "load removed". */
export const MIBCS_REMOVED =
  '02010603021b1810161b1802a6b2070103131a15e601604a06094d4942435309ff5701f146e35515c8';
/**
 * Derived from MIBCS_SETTLED (not captured): the frame before the impedance is measured, control
 * byte 0x24 (stabilised, impedance bit clear, impedance 0). The sequence stabilised-weight-first,
 * impedance-later is what ble_monitor's parser (weight only once the impedance bit is set) and
 * miscale2garmin ("Reading BLE data incomplete") handle.
 */
export const MIBCS_SETTLED_NO_IMPEDANCE =
  '02010603021b1810161b180224b2070103131a150000604a06094d4942435309ff5701f146e35515c8';
/** Derived: the same weigh-in with "load removed" before any impedance (control byte 0xA4). */
export const MIBCS_REMOVED_NO_IMPEDANCE =
  '02010603021b1810161b1802a4b2070103131a150000604a06094d4942435309ff5701f146e35515c8';
