export { EventBus, EventHub, DEFAULT_RING_LIMITS } from './bus'
export type { BusEvent, EventPayload, EventListener, ReplayResult, RingLimits } from './bus'
export { OutputStreamer, DEFAULT_OUTPUT_STREAM_LIMITS } from './output-stream'
export type { OutputStreamLimits } from './output-stream'
