// mallflow/testkit: script virtual phones, tags, scales and gateways against a real in-process
// broker (or an external one), on a virtual clock, and read back what analytics concluded.

export { createVirtualClock, type Duration, parseDuration, type VirtualClock } from './duration.ts';
export { type LinkProxy, startLinkProxy } from './link-proxy.ts';
export { createReadBack, type ReadBack, type StoredVisit, type StoredZoneStay } from './read-back.ts';
export { type RecordedMessage, type Recorder, recordBroker, type WaitOptions } from './recorder.ts';
export {
  type GatewayLogin,
  type Login,
  startTestBroker,
  type TestBroker,
  type TestBrokerOptions,
  tryLogin,
  useExternalBroker,
} from './test-broker.ts';
export { STORY_OCCUPANCY, startTestSystem, type TestSystem, type TestSystemOptions } from './test-system.ts';
export type { SentBatch, VirtualGateway } from './virtual-gateway.ts';
export {
  type BeaconFrame,
  createVirtualMall,
  type PhoneOptions,
  type ScreenState,
  type TagOptions,
  type VirtualMall,
  type VirtualMallOptions,
  type VirtualPhone,
  type VirtualScale,
  type VirtualTag,
} from './virtual-mall.ts';
