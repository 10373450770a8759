import { Initial1795326100325 } from './1795326100325-Initial';
import { Tenancy1795329367765 } from './1795329367765-Tenancy';
import { JobLifecycle1796120588147 } from './1796120588147-JobLifecycle';
import { ModelCatalog1796128986812 } from './1796128986812-ModelCatalog';
import { Deployments1796129235801 } from './1796129235801-Deployments';
import { ModelMemoryOverride1796130366032 } from './1796130366032-ModelMemoryOverride';
import { JobCachedPromptTokens1796134065557 } from './1796134065557-JobCachedPromptTokens';
import { AgentNodes1796134529553 } from './1796134529553-AgentNodes';
import { SchedulerLeadership1796143505422 } from './1796143505422-SchedulerLeadership';
import { JobPriority1796145145342 } from './1796145145342-JobPriority';
import { ReplicaGroups1796150000000 } from './1796150000000-ReplicaGroups';
import { JobUsage1796157258870 } from './1796157258870-JobUsage';
import { QuotaLimits1796162797121 } from './1796162797121-QuotaLimits';
import { Endpoints1796187429272 } from './1796187429272-Endpoints';

/** Every migration, in order. New ones are generated with `npm run db:generate -- NAME` and added here. */
export const MIGRATIONS = [Initial1795326100325, Tenancy1795329367765, JobLifecycle1796120588147, ModelCatalog1796128986812, Deployments1796129235801, ModelMemoryOverride1796130366032, JobCachedPromptTokens1796134065557, AgentNodes1796134529553, SchedulerLeadership1796143505422, JobPriority1796145145342, ReplicaGroups1796150000000, JobUsage1796157258870, QuotaLimits1796162797121, Endpoints1796187429272];
