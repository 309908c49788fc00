import { describe, expect, it } from 'vitest';
import {
  createCaptureDecoder,
  InvalidCaptureOptionsError,
} from '../../gateway/src/capture/capture-decoder.ts';
import type { RawWifiInput } from '../../gateway/src/gateway.ts';
import { countedFrames } from '../helpers/capture-counters.ts';
import {
  androidProbeElements,
  concatBytes,
  makeSyntheticCapture,
  type Packet,
  probeRequest,
  radiotap,
  withFcs,
  writePcap,
  writePcapng,
} from '../helpers/capture-writer.ts';

const T0 = 1_763_722_800_000_000_000n;
const PHONE = 'da:a1:19:01:02:03';

function decode(bytes: Uint8Array, sensorByInterface?: Record<string, string>) {
  const decoder = createCaptureDecoder({ sensorId: 'sniffer-1', sensorByInterface });
  const readings = [...decoder.feed(bytes), ...decoder.end()];
  return { readings, stats: decoder.stats() };
}

function probePacket(spec: Parameters<typeof radiotap>[0], frame?: Uint8Array, timeNs = T0): Packet {
  const f = frame ?? probeRequest({ transmitter: PHONE, seq: 77, body: androidProbeElements('', 6) });
  return { timeNs, data: concatBytes(radiotap(spec), (spec.flags ?? 0) & 0x10 ? withFcs(f) : f) };
}

describe('capture decoder', () => {
  it('turns the probe requests of a mixed capture into readings and counts the rest', () => {
    const cap = makeSyntheticCapture(300);
    const { readings, stats } = decode(writePcap(cap.packets));
    expect(
      readings.map((r) => ({ mac: r.mac, heardAt: r.heardAt, rssiDbm: r.rssiDbm, frameSeq: r.frameSeq })),
    ).toEqual(
      cap.expected.map((e) => ({ mac: e.mac, heardAt: e.heardAtMs, rssiDbm: e.rssiDbm, frameSeq: e.seq })),
    );
    expect(readings.every((r) => r.sensorId === 'sniffer-1')).toBe(true);
    expect(stats).toMatchObject({
      records: 300,
      probes: cap.counts.probes,
      otherFrames: cap.counts.otherFrames,
      badFcs: cap.counts.badFcs,
      truncated: 0,
      corrupt: 0,
    });
    expect(cap.counts.badFcs).toBeGreaterThan(0);
    expect(stats.radiotapUnknownField).toBeGreaterThan(0);
    expect(stats.multiChainSignal).toBeGreaterThan(0);
    expect(countedFrames(stats)).toBe(stats.records);
  });

  it('gives one fingerprint per phone model whatever the SSID, channel, FCS or radiotap layout', () => {
    const cap = makeSyntheticCapture(300);
    const { readings } = decode(writePcap(cap.packets));
    const byProfile = new Map<string, Set<string | undefined>>();
    readings.forEach((r, i) => {
      const profile = cap.expected[i]!.profile;
      const set = byProfile.get(profile) ?? new Set();
      set.add(r.ieFingerprint);
      byProfile.set(profile, set);
    });
    expect([...byProfile.values()].map((s) => s.size)).toEqual([1, 1]);
    const [a, b] = [...byProfile.values()].map((s) => [...s][0]);
    expect(a).not.toBe(b);
  });

  it('strips the FCS only when the frame was captured whole', () => {
    const frame = probeRequest({ transmitter: PHONE, seq: 5, body: androidProbeElements('', 1) });
    const whole = decode(writePcap([probePacket({ flags: 0x10, signalDbm: -50 }, frame)]));
    const plain = decode(writePcap([probePacket({ flags: 0, signalDbm: -50 }, frame)]));
    expect(whole.readings[0]!.ieFingerprint).toBe(plain.readings[0]!.ieFingerprint);
    // Snapped at the frame end: the FCS is not in the capture, the elements are whole.
    const rt = radiotap({ flags: 0x10, signalDbm: -50 });
    const snapped: Packet = {
      timeNs: T0,
      data: concatBytes(rt, frame),
      originalLength: rt.length + frame.length + 4,
    };
    const cut = decode(writePcap([snapped]));
    expect(cut.readings[0]!.ieFingerprint).toBe(plain.readings[0]!.ieFingerprint);
  });

  it('counts probes on linktype 105 (no radiotap) as without signal, other frames as other frames', () => {
    const frame = probeRequest({ transmitter: PHONE, seq: 5, body: androidProbeElements('', 1) });
    const { readings, stats } = decode(writePcap([{ timeNs: T0, data: frame }], { linktype: 105 }));
    expect(readings).toEqual([]);
    expect(stats).toMatchObject({ records: 1, noSignal: 1 });
  });

  it('counts records of other linktypes, out-of-range signals, bad times and cut frames', () => {
    const ok = probePacket({ flags: 0, signalDbm: -60 });
    const ethernet = decode(writePcap([ok], { linktype: 1 }));
    expect(ethernet.stats).toMatchObject({ records: 1, unsupportedLinktype: 1, probes: 0 });

    const bytes = writePcap([
      ok,
      probePacket({ flags: 0, signalDbm: 30 }),
      probePacket({ flags: 0, signalDbm: -128 }),
      probePacket({ flags: 0 }),
      probePacket({ flags: 0, signalDbm: -60 }, undefined, 1_000_000_000n), // 1970
      { timeNs: T0, data: radiotap({ flags: 0, signalDbm: -60 }) }, // no 802.11 frame at all
      { timeNs: T0, data: Uint8Array.of(0, 0, 40, 0, 0, 0, 0, 0) }, // radiotap longer than the record
      { timeNs: T0, data: Uint8Array.of(5, 0, 8, 0, 0, 0, 0, 0, 0x40, 0) }, // radiotap version 5
    ]);
    const { readings, stats } = decode(bytes);
    expect(readings.map((r) => r.rssiDbm)).toEqual([-60]);
    expect(stats).toMatchObject({
      records: 8,
      probes: 1,
      rssiOutOfRange: 2,
      noSignal: 1,
      badTimestamp: 1,
      truncated: 2,
      corrupt: 1,
    });
    expect(countedFrames(stats)).toBe(stats.records);
  });

  it('maps pcapng interface names to sensor ids, others to the default sensor', () => {
    const frame = probeRequest({ transmitter: PHONE, seq: 5, body: androidProbeElements('', 1) });
    const data = concatBytes(radiotap({ flags: 0, signalDbm: -55 }), frame);
    const bytes = writePcapng([
      {
        interfaces: [
          { linktype: 127, name: 'wlan0mon' },
          { linktype: 127, name: 'wlan1mon', tsresol: 9 },
          { linktype: 127 },
        ],
        blocks: [0, 1, 2].map((i) => ({
          kind: 'epb' as const,
          interfaceId: i,
          timeNs: T0 + 1_500_000n,
          data,
        })),
      },
    ]);
    const { readings } = decode(bytes, { wlan0mon: 'entrance-a', wlan1mon: 'food-court' });
    expect(readings.map((r: RawWifiInput) => [r.sensorId, r.heardAt])).toEqual([
      ['entrance-a', 1_763_722_800_001],
      ['food-court', 1_763_722_800_001],
      ['sniffer-1', 1_763_722_800_001],
    ]);
  });

  it('refuses sensor ids that would not pass the message schema', () => {
    expect(() => createCaptureDecoder({ sensorId: 'Sniffer 1' })).toThrow(InvalidCaptureOptionsError);
    expect(() => createCaptureDecoder({ sensorId: 's1', sensorByInterface: { wlan0: 'a/b' } })).toThrow(
      InvalidCaptureOptionsError,
    );
  });
});
