export * from './config.ts';
export * from './decode.ts';
export * from './ids.ts';
export * from './layout.ts';
export * from './messages.ts';
export * from './occupancy.ts';
export * from './privacy.ts';
export * from './topics.ts';
