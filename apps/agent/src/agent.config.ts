import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { hostname } from 'node:os';
import { RedisConfig } from '@gridline/common';

export class AgentConfig extends RedisConfig {
  /** Node name; registration is idempotent by name. */
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, { message: 'must be 1-63 letters, digits, . _ -' })
  GRIDLINE_NODE_NAME = hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 63) || 'node';

  /** GGUF file this agent serves. */
  @IsOptional()
  @IsString()
  GRIDLINE_MODEL_PATH?: string = undefined;

  /** Model id clients use; defaults to the file name without `.gguf`. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/, { message: 'must be 1-128 letters, digits, . _ : / -' })
  GRIDLINE_MODEL_NAME?: string = undefined;

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
}
