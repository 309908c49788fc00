import { prepareTemplates } from './helpers/db.ts';

/** Builds the migrated database templates once per run; each test file clones one. */
export default async function setup(): Promise<void> {
  await prepareTemplates();
}
