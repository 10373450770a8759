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
