import { eq, type SQL, sql } from 'drizzle-orm';
import t from 'tap';
import type { DatabaseHandle } from '../../src/db/client.js';
import { apiKeys, configurations, users } from '../../src/db/schema.js';
import { databaseKinds, openTestDatabase } from '../helpers/app.js';

type Row = Record<string, unknown>;

/** PGlite's drizzle returns { rows }, postgres.js an array of rows. */
const query = async (database: DatabaseHandle, statement: SQL): Promise<Row[]> => {
  const result = (await database.db.execute(statement)) as unknown;
  return Array.isArray(result) ? (result as Row[]) : ((result as { rows: Row[] }).rows ?? []);
};

const TEXT = 'text';
const TIMESTAMPTZ = 'timestamp with time zone';

/** The documented columns: [data_type, is_nullable]. More columns may exist; these must. */
const documentedColumns: Record<string, Record<string, [string, 'YES' | 'NO']>> = {
  users: {
    id: [TEXT, 'NO'],
    email: [TEXT, 'NO'],
    password: [TEXT, 'NO'],
    created_at: [TIMESTAMPTZ, 'NO'],
    updated_at: [TIMESTAMPTZ, 'NO'],
  },
  configurations: {
    id: [TEXT, 'NO'],
    faq_text: [TEXT, 'NO'],
    widget_color: [TEXT, 'NO'],
    open_ai_api_key: [TEXT, 'NO'],
    created_at: [TIMESTAMPTZ, 'NO'],
    updated_at: [TIMESTAMPTZ, 'NO'],
    user_id: [TEXT, 'NO'],
  },
  api_keys: {
    id: [TEXT, 'NO'],
    key: [TEXT, 'NO'],
    status: [TEXT, 'NO'],
    created_at: [TIMESTAMPTZ, 'NO'],
    configuration_id: [TEXT, 'NO'],
  },
  sessions: {
    id: [TEXT, 'NO'],
    user_id: [TEXT, 'NO'],
    token_hash: [TEXT, 'NO'],
    created_at: [TIMESTAMPTZ, 'NO'],
    expires_at: [TIMESTAMPTZ, 'NO'],
    revoked_at: [TIMESTAMPTZ, 'YES'],
  },
};

for (const kind of databaseKinds()) {
  t.test(`schema after migrating (${kind})`, async (t) => {
    const database = await openTestDatabase(t, kind);
    t.teardown(() => database.close());

    const columns = await query(
      database,
      sql`select table_name, column_name, data_type, is_nullable, column_default
          from information_schema.columns where table_schema = 'public'`,
    );
    const column = (table: string, name: string) => columns.find((row) => row.table_name === table && row.column_name === name);

    t.test('tables and documented columns', async (t) => {
      for (const [table, expected] of Object.entries(documentedColumns)) {
        t.ok(columns.some((row) => row.table_name === table), `table ${table} exists`);
        for (const [name, [dataType, nullable]] of Object.entries(expected)) {
          t.match(column(table, name), { data_type: dataType, is_nullable: nullable }, `${table}.${name} is ${dataType}, nullable ${nullable}`);
        }
      }
    });

    t.test('defaults', async (t) => {
      t.match(column('configurations', 'widget_color')?.column_default, /'#007bff'/);
      t.match(column('api_keys', 'status')?.column_default, /'ACTIVE'/);
      for (const table of ['users', 'configurations', 'api_keys']) {
        t.match(column(table, 'created_at')?.column_default, /now\(\)/, `${table}.created_at defaults to now()`);
        t.match(column(table, 'id')?.column_default, /gen_random_uuid\(\)/, `${table}.id is generated`);
      }
    });

    const constraints = await query(
      database,
      sql`select tc.table_name, tc.constraint_name, tc.constraint_type, kcu.column_name
          from information_schema.table_constraints tc
          join information_schema.key_column_usage kcu
            on kcu.constraint_schema = tc.constraint_schema and kcu.constraint_name = tc.constraint_name
          where tc.table_schema = 'public'`,
    );
    /** The single-column constraints of a type, as "table.column". */
    const singleColumn = (type: string): string[] => {
      const byName = new Map<string, Row[]>();
      for (const row of constraints.filter((row) => row.constraint_type === type)) {
        byName.set(String(row.constraint_name), [...(byName.get(String(row.constraint_name)) ?? []), row]);
      }
      return [...byName.values()].filter((rows) => rows.length === 1).map(([row]) => `${row!.table_name}.${row!.column_name}`);
    };

    t.test('primary keys and unique constraints', async (t) => {
      const primary = singleColumn('PRIMARY KEY');
      for (const table of ['users', 'configurations', 'api_keys', 'sessions']) t.ok(primary.includes(`${table}.id`), `${table}.id is the primary key`);
      const unique = singleColumn('UNIQUE');
      for (const expected of ['users.email', 'configurations.user_id', 'api_keys.key', 'api_keys.configuration_id', 'sessions.token_hash']) {
        t.ok(unique.includes(expected), `${expected} is unique`);
      }
    });

    t.test('foreign keys cascade on delete', async (t) => {
      const foreignKeys = await query(
        database,
        sql`select kcu.table_name, kcu.column_name, ref.table_name as referenced_table, ref.column_name as referenced_column,
                   rc.delete_rule
            from information_schema.referential_constraints rc
            join information_schema.key_column_usage kcu
              on kcu.constraint_schema = rc.constraint_schema and kcu.constraint_name = rc.constraint_name
            join information_schema.key_column_usage ref
              on ref.constraint_schema = rc.unique_constraint_schema and ref.constraint_name = rc.unique_constraint_name
             and ref.ordinal_position = kcu.position_in_unique_constraint
            where rc.constraint_schema = 'public'`,
      );
      const expected = [
        ['configurations', 'user_id', 'users', 'id'],
        ['api_keys', 'configuration_id', 'configurations', 'id'],
        ['sessions', 'user_id', 'users', 'id'],
      ];
      for (const [table, columnName, referencedTable, referencedColumn] of expected) {
        const found = foreignKeys.filter((row) => row.table_name === table && row.column_name === columnName);
        t.equal(found.length, 1, `one foreign key on ${table}.${columnName}`);
        t.match(found[0], { referenced_table: referencedTable, referenced_column: referencedColumn, delete_rule: 'CASCADE' }, `${table}.${columnName} → ${referencedTable}.${referencedColumn} on delete cascade`);
      }
    });

    t.test('behaviour: defaults, uniqueness and cascade', async (t) => {
      const { db } = database;
      const [user] = await db.insert(users).values({ email: 'owner@example.com', password: 'scrypt$…' }).returning();
      t.ok(user?.id, 'the user id is generated');
      t.ok(user?.createdAt instanceof Date && user.updatedAt instanceof Date, 'timestamps are set');
      const [configuration] = await db.insert(configurations).values({ faqText: 'Q: hours? A: 9-5', openAiApiKey: 'v1.x.y.z', userId: user!.id }).returning();
      t.equal(configuration?.widgetColor, '#007bff');
      const [apiKey] = await db.insert(apiKeys).values({ key: 'pk_schema_test', configurationId: configuration!.id }).returning();
      t.equal(apiKey?.status, 'ACTIVE');

      await t.rejects(db.insert(users).values({ email: 'owner@example.com', password: 'p' }), 'a second user with the same email is refused');
      await t.rejects(
        db.insert(configurations).values({ faqText: 'again', openAiApiKey: 'v1.x.y.z', userId: user!.id }),
        'a second configuration for the same user is refused',
      );
      await t.rejects(db.insert(configurations).values({ faqText: 'orphan', openAiApiKey: 'v1.x.y.z', userId: 'no-such-user' }), 'a configuration needs a user');

      const [other] = await db.insert(users).values({ email: 'other@example.com', password: 'p' }).returning();
      await db.delete(users).where(eq(users.id, user!.id));
      t.same(await db.select().from(configurations).where(eq(configurations.userId, user!.id)), [], 'the configuration went with its user');
      t.same(await db.select().from(apiKeys).where(eq(apiKeys.id, apiKey!.id)), [], 'and so did its api key');
      t.equal((await db.select().from(users).where(eq(users.id, other!.id))).length, 1, 'other users are untouched');
    });
  });
}
