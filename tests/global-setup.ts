// Filled in by the database test helpers: builds the migrated templates once per run.
export default async function setup(): Promise<void> {}
