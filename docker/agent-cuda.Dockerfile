# syntax=docker/dockerfile:1
# Gridline agent for NVIDIA GPUs: llama.cpp from node-llama-cpp's prebuilt CUDA binaries (the optional packages
# @node-llama-cpp/linux-x64-cuda and linux-x64-cuda-ext, linked against the CUDA 13 runtime), on NVIDIA's CUDA
# runtime image, which supplies libcudart and cuBLAS. Nothing is compiled. The host needs an NVIDIA driver for
# CUDA 13 (580 or newer) and the NVIDIA Container Toolkit.
#
# Build from the repository root: docker build -f docker/agent-cuda.Dockerfile -t gridline-agent-cuda .
# Run:  docker run --gpus all -e GRIDLINE_SERVER=https://gridline.example.com -e GRIDLINE_JOIN_TOKEN=... \
#         -e REDIS_URL=redis://... -e GRIDLINE_NODE_NAME=gpu-1 -v gridline-agent:/data gridline-agent-cuda
#       (--gpus '"device=0,1"' gives it two GPUs only)
# Compose: under the service,
#   deploy: { resources: { reservations: { devices: [{ driver: nvidia, count: all, capabilities: [gpu] }] } } }
FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV NX_NO_CLOUD=true NX_DAEMON=false NODE_LLAMA_CPP_SKIP_DOWNLOAD=true
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.build.json tsconfig.json nx.json ./
COPY apps apps
COPY libs libs
COPY tools tools
RUN npm run build && npm prune --omit=dev \
 # CUDA image: keep the CUDA binaries (and the plain linux-x64 one, llama.cpp's fallback when no GPU is visible)
 && find node_modules/@node-llama-cpp -mindepth 1 -maxdepth 1 ! -name linux-x64 ! -name linux-x64-cuda ! -name linux-x64-cuda-ext -exec rm -rf {} + \
 && test -f node_modules/@node-llama-cpp/linux-x64-cuda/bins/linux-x64-cuda/llama-addon.node

FROM nvidia/cuda:13.0.1-runtime-ubuntu22.04
# The official Node binary only needs glibc 2.28; Ubuntu 22.04 (what the CUDA binaries were built on) has 2.35.
COPY --from=build /usr/local/bin/node /usr/local/bin/node
# compute for CUDA, utility for nvidia-smi (the agent reports per-GPU memory, utilisation and temperature from it).
ENV NVIDIA_VISIBLE_DEVICES=all NVIDIA_DRIVER_CAPABILITIES=compute,utility \
    NODE_ENV=production LOG_FORMAT=json GRIDLINE_GPU=cuda NODE_LLAMA_CPP_SKIP_DOWNLOAD=true GRIDLINE_DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json ./
# node_modules holds the CUDA binaries the build stage kept
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
RUN useradd --system --user-group --uid 10001 --home-dir /data --shell /usr/sbin/nologin gridline \
 && mkdir -p /data && chown gridline:gridline /data
USER gridline
VOLUME ["/data"]
CMD ["node", "dist/apps/agent/src/main.js"]
