export { EventBus, EventHub, DEFAULT_RING_LIMITS } from './bus'
export type { BusEvent, EventPayload, EventListener, ReplayResult, RingLimits } from './bus'
