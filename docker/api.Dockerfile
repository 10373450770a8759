# syntax=docker/dockerfile:1
# Gridline api. Build from the repository root: docker build -f docker/api.Dockerfile .
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
 # the api never runs llama.cpp: drop node-llama-cpp and its prebuilt binaries
 && rm -rf node_modules/node-llama-cpp node_modules/@node-llama-cpp

FROM node:20-bookworm-slim
ENV NODE_ENV=production LOG_FORMAT=json
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
USER node
ENV PORT=8080 HOST=0.0.0.0
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/apps/api/src/main.js"]
