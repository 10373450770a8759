import { IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, Min } from 'class-validator';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { RedisConfig, WithMetricsListener } from '@gridline/common';

/** The metrics listener's port when GRIDLINE_METRICS_PORT is unset. */
export const AGENT_METRICS_PORT = 9465;

export class AgentConfig extends WithMetricsListener(RedisConfig) {
  /** Node name; registration is idempotent by name. */
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, { message: 'must be 1-63 letters, digits, . _ -' })
  GRIDLINE_NODE_NAME = hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 63) || 'node';

  /** The control plane (the api's URL): where the agent joins and heartbeats. */
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true }, { message: 'must be an http:// or https:// URL' })
  GRIDLINE_SERVER = 'http://127.0.0.1:8080';

  /** Join token an admin created; used once, to get the node's own credential (kept in the data directory). */
  @IsOptional()
  @IsString()
  GRIDLINE_JOIN_TOKEN?: string = undefined;

  /** The node credential, the model store and their state live here. */
  @IsString()
  GRIDLINE_DATA_DIR = join(homedir(), '.gridline-agent');

  /** Labels the node joins with: `key=value,key2=value2`. */
  @IsString()
  GRIDLINE_NODE_LABELS = '';

  /** Taints the node joins with: `key=value:Effect,key2:Effect` (NoSchedule, PreferNoSchedule, NoExecute). */
  @IsString()
  GRIDLINE_NODE_TAINTS = '';

  /** Pretend GPUs, e.g. `2xH100-80GB` or `1xL4-24GB,2xA100-40GB`: reported (marked simulated) while models run on the CPU. */
  @IsOptional()
  @IsString()
  GRIDLINE_SIMULATE_GPUS?: string = undefined;

  /** Size cap of the model store; least recently used files that no replica holds are evicted past it. */
  @IsInt()
  @Min(0)
  GRIDLINE_MODEL_STORE_MAX_BYTES = 200 * 1024 ** 3;

  /** GGUF file this agent serves from start, besides what the control plane asks it to load. */
  @IsOptional()
  @IsString()
  GRIDLINE_MODEL_PATH?: string = undefined;

  /** Model id clients use; defaults to the file name without `.gguf`. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/, { message: 'must be 1-128 letters, digits, . _ : / -' })
  GRIDLINE_MODEL_NAME?: string = undefined;

  /** Where `npm run llama:build-rpc` installs llama.cpp's RPC binaries; empty means `~/.cache/gridline/llama`. */
  @IsString()
  GRIDLINE_LLAMA_CACHE = '';

  /**
   * The address other nodes reach this node's replica-group tunnels at (spanning replicas); empty:
   * the host's first non-internal IPv4 address, else 127.0.0.1.
   */
  @IsOptional()
  @Matches(/^[A-Za-z0-9.:_-]*$/, { message: 'must be a host name or an IP address' })
  GRIDLINE_RPC_ADDRESS = '';

  /** Where the tunnels listen (all interfaces by default; the RPC servers behind them listen on loopback only). */
  @IsString()
  GRIDLINE_RPC_BIND = '0.0.0.0';

  /** The ports the control plane may assign to this node's replica-group tunnels: `first-last`. */
  @Matches(/^\d{1,5}-\d{1,5}$/, { message: 'must be a port range, first-last (e.g. 7400-7499)' })
  GRIDLINE_RPC_PORTS = '7400-7499';

  @IsIn(['auto', 'cuda', 'vulkan', 'metal', 'cpu'])
  GRIDLINE_GPU: 'auto' | 'cuda' | 'vulkan' | 'metal' | 'cpu' = 'auto';

  /** Layers offloaded to the GPU: a number, `auto` (fit free VRAM) or `max`. */
  @Matches(/^(auto|max|\d+)$/, { message: 'must be auto, max or a number' })
  GRIDLINE_GPU_LAYERS = 'auto';

  /** CPU threads for generation; 0 lets llama.cpp choose. */
  @IsInt()
  @Min(0)
  @Max(1024)
  GRIDLINE_THREADS = 0;

  @IsInt()
  @Min(64)
  GRIDLINE_CONTEXT_SIZE = 4096;

  /** Sequences generated in parallel (the replica's slots); the context is shared among them. */
  @IsInt()
  @Min(1)
  @Max(64)
  GRIDLINE_PARALLEL = 4;

  /** A runner that has not loaded its model after this long is stopped and its replica failed (a hung driver, a stuck file system). */
  @IsInt()
  @Min(10)
  GRIDLINE_LOAD_TIMEOUT_SECONDS = 900;
}
