import { readFileSync, writeFileSync } from 'node:fs';
import { assembleRadioScore, RADIO_SCORE_TS } from './radio-score-source.ts';

// Assembles core/src/radio-score.wat into core/src/radio-score-wasm.ts (the bytes, base64), so the
// engine needs no build step at run time. tests/unit/radio-score.test.ts checks they agree.
const base64 = await assembleRadioScore();
const text = readFileSync(RADIO_SCORE_TS, 'utf8').replace(/'[A-Za-z0-9+/=]+'/, `'${base64}'`);
writeFileSync(RADIO_SCORE_TS, text);
console.log(`${RADIO_SCORE_TS}: ${Buffer.from(base64, 'base64').length} bytes`);
