# Qamqor bot — Node 22, multi-stage, runs as a non-root user.
# Build: docker build -t qamqor .   Run: see compose.yaml (needs BOT_TOKEN, REDIS_URL, LOG_SALT).

FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; tsx runs the TypeScript sources (no separate build step to drift).
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=8080
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY src ./src
COPY flows ./flows
COPY locales ./locales
USER node
EXPOSE 8080
# /healthz answers 200 when the bot is up and Redis answers PING.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--import", "tsx", "src/main.ts"]
