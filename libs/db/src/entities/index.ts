import { ApiTokenEntity } from './api-token.entity';
import { AuditEntryEntity } from './audit-entry.entity';
import { DeploymentEntity } from './deployment.entity';
import { JobEntity } from './job.entity';
import { KeypairEntity } from './keypair.entity';
import { MembershipEntity } from './membership.entity';
import { ModelEntity } from './model.entity';
import { JoinTokenEntity } from './join-token.entity';
import { ModelLoadEntity } from './model-load.entity';
import { NodeEntity } from './node.entity';
import { QuotaLimitEntity } from './quota-limit.entity';
import { ReplicaEntity } from './replica.entity';
import { SchedulerLeaseEntity } from './scheduler-lease.entity';
import { TeamEntity } from './team.entity';
import { UserEntity } from './user.entity';

export { ApiTokenEntity, AuditEntryEntity, DeploymentEntity, JobEntity, KeypairEntity, MembershipEntity, ModelEntity, NodeEntity, TeamEntity, UserEntity, JoinTokenEntity, ReplicaEntity, ModelLoadEntity, SchedulerLeaseEntity, QuotaLimitEntity };
export type { TeamRole } from './membership.entity';
export type { TokenScope } from './api-token.entity';
export type { JobKind, JobMode, JobQuotaHold, JobQuotaHolds } from './job.entity';
export type { ModelFileFacts } from './model.entity';
export type { DeploymentCondition, DeploymentPhase, DeploymentEvent, DeploymentStatus, DeploymentMember } from './deployment.entity';
export type { NodeStatus, NodeInventoryFacts } from './node.entity';
export type { ReplicaSettings, ReplicaGpuShare, ReplicaGroup, ReplicaGroupWorker } from './replica.entity';

export const ENTITIES = [TeamEntity, UserEntity, MembershipEntity, KeypairEntity, ApiTokenEntity, AuditEntryEntity, ModelEntity, NodeEntity, JobEntity, DeploymentEntity, JoinTokenEntity, ReplicaEntity, ModelLoadEntity, SchedulerLeaseEntity, QuotaLimitEntity];
