import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Layout } from '../../core/src/layout.ts';
import { loadLayoutFile, loadShippedLayout, SHIPPED_LAYOUTS } from '../../simulators/src/load-layout.ts';
import { parseDuration } from './duration.ts';
import type { VirtualMall, VirtualPhone, VirtualScale, VirtualTag } from './virtual-mall.ts';

// A story in a file, for suites in other languages: devices, then steps (move, leave, wait,
// weigh, screen). The same calls a TypeScript test makes, validated up front so a typo names
// its step instead of failing halfway through.
//
//   mall: small-store                      # a shipped layout, or a layout file path
//   start: 2026-11-21T10:00:00+08:00
//   devices:
//     alice: { type: phone, screen: on }
//   steps:
//     - move: { alice: g-fashion }
//     - wait: 12m
//     - leave: [alice]

const DurationText = z.string().refine(
  (d) => {
    try {
      parseDuration(d);
      return true;
    } catch {
      return false; // parseDuration's RangeError: reported below as the zod issue
    }
  },
  { message: 'expected a duration such as "12m", "1h30m" or "45s"' },
);

const Device = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('phone'),
    mac: z.string().optional(),
    randomizedMac: z.boolean().optional(),
    rotateEvery: DurationText.optional(),
    screen: z.enum(['on', 'off']).optional(),
  }),
  z.object({
    type: z.literal('ble-tag'),
    mac: z.string().optional(),
    every: DurationText.optional(),
    beacon: z.discriminatedUnion('kind', [
      z.object({
        kind: z.literal('ibeacon'),
        uuid: z.string(),
        major: z.number().int(),
        minor: z.number().int(),
        txPowerDbm: z.number().int(),
      }),
      z.object({ kind: z.literal('eddystone-uid'), namespace: z.string(), instance: z.string() }),
    ]),
  }),
  z.object({ type: z.literal('scale'), sensor: z.string() }),
]);

const Step = z.union([
  z.object({ move: z.record(z.string(), z.string()) }).strict(),
  z.object({ leave: z.array(z.string()) }).strict(),
  z.object({ wait: DurationText }).strict(),
  z.object({ screen: z.record(z.string(), z.enum(['on', 'off'])) }).strict(),
  z
    .object({
      weigh: z.record(
        z.string(),
        z.object({
          weightKg: z.number(),
          impedanceOhm: z.number().optional(),
          memberId: z.string().optional(),
        }),
      ),
    })
    .strict(),
]);

export const Story = z.object({
  mall: z.string().min(1),
  start: z.string().refine((s) => Number.isFinite(Date.parse(s)), { message: 'expected an ISO time' }),
  seed: z.number().int().optional(),
  devices: z.record(z.string(), Device),
  steps: z.array(Step).min(1),
});
export type Story = z.infer<typeof Story>;

export class InvalidStoryError extends Error {
  readonly code = 'INVALID_STORY';
}

/** Reads and validates a story file; every problem names its path (e.g. `steps.3.wait`). */
export function loadStory(path: string): Story {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InvalidStoryError(`${path}: ${(err as Error).message}`, { cause: err });
  }
  const parsed = Story.safeParse(doc);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new InvalidStoryError(`${path}: invalid story\n${lines.join('\n')}`);
  }
  return parsed.data;
}

export function storyLayout(story: Story): Layout {
  return story.mall in SHIPPED_LAYOUTS
    ? loadShippedLayout(story.mall as keyof typeof SHIPPED_LAYOUTS)
    : loadLayoutFile(story.mall);
}

/** Plays a story on a virtual mall; `onStep` sees each step as it completes. */
export async function playStory(
  story: Story,
  mall: VirtualMall,
  onStep?: (i: number, step: unknown) => void,
): Promise<{
  phones: Map<string, VirtualPhone>;
  tags: Map<string, VirtualTag>;
}> {
  const phones = new Map<string, VirtualPhone>();
  const tags = new Map<string, VirtualTag>();
  const scales = new Map<string, VirtualScale>();
  for (const [id, d] of Object.entries(story.devices)) {
    if (d.type === 'phone') phones.set(id, mall.phone({ id, ...d }));
    else if (d.type === 'ble-tag') tags.set(id, mall.bleTag({ id, ...d }));
    else scales.set(id, mall.scale(d.sensor));
  }
  const device = (id: string, i: number) => {
    const d = phones.get(id) ?? tags.get(id);
    if (!d) throw new InvalidStoryError(`steps.${i}: no phone or tag "${id}" among the devices`);
    return d;
  };
  for (const [i, step] of story.steps.entries()) {
    if ('move' in step) for (const [id, zone] of Object.entries(step.move)) device(id, i).moveTo(zone);
    else if ('leave' in step) for (const id of step.leave) device(id, i).leave();
    else if ('wait' in step) await mall.advance(step.wait);
    else if ('screen' in step) {
      for (const [id, state] of Object.entries(step.screen)) {
        const phone = phones.get(id);
        if (!phone) throw new InvalidStoryError(`steps.${i}: no phone "${id}"`);
        phone.setScreen(state);
      }
    } else {
      for (const [id, reading] of Object.entries(step.weigh)) {
        const scale = scales.get(id);
        if (!scale) throw new InvalidStoryError(`steps.${i}: no scale "${id}"`);
        scale.weigh(reading);
      }
    }
    onStep?.(i, step);
  }
  await mall.advance(0); // flush whatever the last steps produced
  return { phones, tags };
}
