/** Node inventory shapes shared by agents, the scheduler and the database layer. */
export interface NodeGpu {
  index: number;
  name: string;
  vendor: string;
  /** The driver's stable id (nvidia-smi's GPU UUID) where known. */
  uuid?: string | null;
  totalMemoryBytes: number;
  freeMemoryBytes: number;
  /** Where the driver reports them (nvidia-smi). */
  utilizationPercent?: number | null;
  temperatureC?: number | null;
  /** A GPU the agent was told to pretend it has (GRIDLINE_SIMULATE_GPUS): its memory is accounted, models run on the CPU. */
  simulated?: boolean;
}

/** A job an agent is running, as its heartbeat lists it. */
export interface RunningJob {
  jobId: string;
  attempt: number;
  /** The replica running it. */
  replicaId?: string;
}
