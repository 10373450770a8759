# syntax=docker/dockerfile:1
# Gridline agent, CPU build (llama.cpp from node-llama-cpp's prebuilt linux-x64 binary).
# Build from the repository root: docker build -f docker/agent.Dockerfile -t gridline-agent .
# Run: docker run -e GRIDLINE_SERVER=https://gridline.example.com -e GRIDLINE_JOIN_TOKEN=... \
#        -e REDIS_URL=redis://... -e GRIDLINE_NODE_NAME=cpu-1 -v gridline-agent:/data gridline-agent
# GRIDLINE_SIMULATE_GPUS=2xH100-80GB makes it report GPUs it does not have (models still run on the CPU).
# For NVIDIA GPUs use docker/agent-cuda.Dockerfile.
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
 # CPU image: keep only the plain linux-x64 llama.cpp binary
 && find node_modules/@node-llama-cpp -mindepth 1 -maxdepth 1 ! -name linux-x64 -exec rm -rf {} +

FROM node:20-bookworm-slim
# The node credential, the model store and the demo model live in GRIDLINE_DATA_DIR: keep it on a volume.
ENV NODE_ENV=production LOG_FORMAT=json GRIDLINE_GPU=cpu NODE_LLAMA_CPP_SKIP_DOWNLOAD=true GRIDLINE_DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
# With GRIDLINE_DEMO_MODEL=true and no file at GRIDLINE_MODEL_PATH, a tiny demo model is written first.
CMD ["sh", "-c", "if [ \"$GRIDLINE_DEMO_MODEL\" = true ] && [ -n \"$GRIDLINE_MODEL_PATH\" ] && [ ! -f \"$GRIDLINE_MODEL_PATH\" ]; then node dist/libs/models/src/cli/model.cli.js --out \"$GRIDLINE_MODEL_PATH\"; fi; exec node dist/apps/agent/src/main.js"]
