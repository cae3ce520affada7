// `npm run db:migrate`: applies drizzle/ to DATABASE_URL, or to the embedded database in DATA_DIR.
import { ConfigError } from '../config.js';
import { openDatabase } from './client.js';
import { z } from 'zod';

const env = z
  .object({
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
    DATA_DIR: z.string().default('./data'),
  })
  .safeParse(process.env);

if (!env.success) {
  console.error(new ConfigError(env.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)).message);
  process.exit(1);
}

const database = await openDatabase(env.data);
try {
  await database.migrate();
  console.log(`migrations applied to ${database.kind} database at ${database.location}`);
} finally {
  await database.close();
}
