import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { ConfigError, type AppConfig, loadConfig } from './config.js';
import { openDatabase } from './db/client.js';

let config: Readonly<AppConfig>;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`faqchat cannot start.\n${error.message}\nSee the README's configuration table.`);
  process.exit(1);
}

let database;
try {
  database = await openDatabase(config);
  await database.migrate();
} catch (error) {
  console.error(`faqchat cannot start: the database is not usable (${(error as Error).message}).`);
  process.exit(1);
}

const app = await buildApp(config, { database });

closeWithGrace({ delay: config.SHUTDOWN_TIMEOUT_MS }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'shutting down after an unexpected error');
  else app.log.info({ signal }, 'shutting down: finishing in-flight requests');
  await app.close();
});

try {
  await app.listen({ port: config.PORT, host: config.HOST });
} catch (error) {
  app.log.fatal({ err: error }, 'cannot listen');
  await app.close();
  process.exit(1);
}

app.log.info(
  {
    url: config.PUBLIC_URL,
    database: database.kind === 'embedded' ? `embedded PostgreSQL (PGlite) in ${database.location}` : `PostgreSQL at ${database.location}`,
    secretKey: config.secretKeySource,
  },
  `faqchat is running at ${config.PUBLIC_URL} — API docs at ${config.PUBLIC_URL}/docs; start with the README's walk-through (sign up, configure, create a widget key)`,
);
