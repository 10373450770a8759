/** Node inventory shapes shared by agents, the scheduler and the database layer. */
export interface NodeGpu {
  index: number;
  name: string;
  vendor: string;
  totalMemoryBytes: number;
  freeMemoryBytes: number;
}

export interface LoadedModel {
  name: string;
  sha256: string | null;
  parallel: number;
}

/** A job an agent is running, as its heartbeat lists it. */
export interface RunningJob {
  jobId: string;
  attempt: number;
}
