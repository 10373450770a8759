import { Injectable } from '@nestjs/common';

/** The node id the scheduler gave this agent at registration. */
@Injectable()
export class NodeIdentity {
  private value: string | null = null;

  get id(): string {
    if (!this.value) throw new Error('the node has not registered yet');
    return this.value;
  }

  set(id: string): void {
    this.value = id;
  }
}
