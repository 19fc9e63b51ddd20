export {
  awaitFleetApplied,
  describeFleetWait,
  type FleetWaitOptions,
  type FleetWaitResult,
  type FleetWaitSidecar,
  isStale,
  STALE_HEARTBEATS,
} from './await-applied.js';
export { FleetMember, type FleetMemberDeps, sidecarRecord } from './member.js';
