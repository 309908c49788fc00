import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabt from 'wabt';

export const RADIO_SCORE_WAT = fileURLToPath(new URL('../core/src/radio-score.wat', import.meta.url));
export const RADIO_SCORE_TS = fileURLToPath(new URL('../core/src/radio-score-wasm.ts', import.meta.url));

/** The module core/src/radio-score.wat assembles to, as base64. */
export async function assembleRadioScore(): Promise<string> {
  const w = await wabt();
  const module = w.parseWat(RADIO_SCORE_WAT, readFileSync(RADIO_SCORE_WAT, 'utf8'));
  try {
    return Buffer.from(module.toBinary({}).buffer).toString('base64');
  } finally {
    module.destroy();
  }
}
