# syntax=docker/dockerfile:1
# faqchat: the Fastify server, its migrations and the widget bundle. Runs as `node`, never root.
#   docker build -t faqchat .
#   docker run -p 3000:3000 -e DATABASE_URL=postgres://… -e SECRET_KEY=$(openssl rand -base64 32) -e PUBLIC_URL=https://chat.example.com faqchat

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY widget ./widget
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# Paths the server resolves next to dist/: ../drizzle (migrations, applied at start) and ../widget/dist.
COPY --from=build /app/dist ./dist
COPY drizzle ./drizzle
COPY --from=build /app/widget/dist ./widget/dist
# Embedded mode (no DATABASE_URL) keeps PGlite and the generated secret.key here; mount a volume.
RUN mkdir -p /data && chown node:node /data
VOLUME /data
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/server.js"]
