import { JobEntity } from './job.entity';
import { KeypairEntity } from './keypair.entity';
import { ModelEntity } from './model.entity';
import { NodeEntity } from './node.entity';
import { TeamEntity } from './team.entity';
import { UserEntity } from './user.entity';

export { JobEntity, KeypairEntity, ModelEntity, NodeEntity, TeamEntity, UserEntity };
export type { JobStatus } from './job.entity';
export type { ModelFileFacts } from './model.entity';
export type { NodeStatus } from './node.entity';

export const ENTITIES = [TeamEntity, UserEntity, KeypairEntity, ModelEntity, NodeEntity, JobEntity];
