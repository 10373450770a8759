import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { assertShape } from '@gridline/contract';
import { AgentRpc, NodeBeat } from '@gridline/scheduling';
import { ReplicaRegistry } from '../replicas/replica-registry';
import { SchedulerConfig } from '../scheduler.config';

/** Node beats from the api (after it verified a node's heartbeat, or an admin changed the node) feed routing. */
@Controller()
export class NodeBeatsController {
  private readonly logger = new Logger('Nodes');

  constructor(
    private readonly config: SchedulerConfig,
    private readonly replicas: ReplicaRegistry,
  ) {}

  @EventPattern(AgentRpc.NodeBeat)
  beat(@Payload() beat: NodeBeat): void {
    try {
      assertShape('node beat', beat, { nodeId: 'string', at: 'number', schedulable: 'boolean', replicas: 'array' });
    } catch (e) {
      this.logger.warn(`ignored a malformed node beat: ${(e as Error).message}`);
      return;
    }
    this.replicas.beat(beat, this.config.GRIDLINE_HEARTBEAT_SECONDS * 2000);
  }
}
