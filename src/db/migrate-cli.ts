// `npm run db:migrate`: applies drizzle/ to DATABASE_URL, or to the embedded database in DATA_DIR.
import { z } from 'zod';
import { ConfigError } from '../config.js';
import { openDatabase } from './client.js';

const env = z
  .object({
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' }).optional(),
    DATA_DIR: z.string().trim().min(1).default('./data'),
  })
  .safeParse(Object.fromEntries(Object.entries(process.env).filter(([, value]) => value !== '')));

if (!env.success) {
  console.error(new ConfigError(env.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)).message);
  process.exit(1);
}

try {
  const database = await openDatabase(env.data);
  try {
    await database.migrate();
    console.log(`migrations applied to the ${database.kind} database at ${database.location}`);
  } finally {
    await database.close();
  }
} catch (error) {
  const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
  console.error(`migrations not applied: the database is not usable (${cause})`);
  process.exit(1);
}
