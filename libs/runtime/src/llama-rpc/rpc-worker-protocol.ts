/**
 * Messages between an agent and its RPC worker child (rpc-worker.ts), over Node's IPC channel
 * as JSON. Types only.
 */

export interface RpcWorkerOptions {
  /** The RPC server binary (`rpcBinaries(...).paths['rpc-server']`). */
  rpcServerBinary: string;
  /** Where the group's tunnel listens (the node's address; 0.0.0.0 allowed) and its port (assigned by the control plane; 0: any). */
  listenHost: string;
  listenPort: number;
  /** CPU threads of the RPC server's CPU device. */
  threads: number;
  /**
   * Memory the RPC server advertises (the plan's share for this member), when given. The RPC
   * server of llama.cpp's current release has no option for it: the share is the control
   * plane's accounting, and this field is kept for releases that can enforce it.
   */
  memoryBytes?: number;
  /** The one identity let in (the group leader's tunnelIdentity) and its key as hex. */
  leaderIdentity: string;
  keyHex: string;
}

export type RpcWorkerRequest = { type: 'start'; options: RpcWorkerOptions } | { type: 'stop' };

export type RpcWorkerEvent =
  | { type: 'started'; port: number; rpcServerPid: number | null }
  | { type: 'refused'; why: string }
  /** Start failed, or the RPC server died: the child exits non-zero after it. */
  | { type: 'failed'; message: string };
