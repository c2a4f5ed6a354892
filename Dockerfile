# Qamqor bot — Node 22, compiled JavaScript, runs as a non-root user with node as PID 1.
# Build: docker build -t qamqor .   Run: see compose.yaml (needs BOT_TOKEN, LOG_SALT, a Redis password).

# Pin by digest in production (docker buildx imagetools inspect node:22-bookworm-slim).
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY flows ./flows
# main.ts and what it imports, nothing else (tests, bench): the layout of src/ and flows/ is kept under dist/.
RUN npx tsc src/main.ts --ignoreConfig --outDir dist --rootDir . --module NodeNext --moduleResolution NodeNext \
      --target ES2022 --esModuleInterop --resolveJsonModule --skipLibCheck --types node --strict
# The stores' Lua scripts are read at run time next to the compiled code (src/store/lua.ts).
RUN cd src && find . -name '*.lua' -exec cp --parents {} ../dist/src/ \;

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=8080
WORKDIR /app
# Root-owned and read-only for the user that runs the bot.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /app/dist ./dist
# The catalogue, cues and texts are read at run time next to the compiled code (src/catalogue/load.ts: ../../flows).
COPY flows ./dist/flows
COPY locales ./dist/locales
USER node
EXPOSE 8080
# /healthz: 200 when the bot is up and Redis answers within 2 s; 503 otherwise and while stopping.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Exec form, no npm or shell wrapper: SIGTERM from `docker stop` reaches node, which finishes the updates in hand.
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/main.js"]
