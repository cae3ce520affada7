import { randomUUID } from 'node:crypto';
import type { Configuration } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { WidgetKeyCache } from '../plugins/widget-key-cache.js';
import { DecryptionError, type SecretBox } from '../secrets/secret-box.js';
import type { ConfigurationRepository } from './configuration-repository.js';
import { CONFIGURATION_DEFAULTS, type ConfigurationView, type PatchConfigurationInput, type PutConfigurationInput } from './configuration-schemas.js';

/** What GET shows instead of a key the server can no longer decrypt (SECRET_KEY changed). */
export const UNREADABLE_KEY_MASK = 'sk-…????';

/** `sk-…` and the last four characters: enough to recognise a key, useless to use it. */
export const maskOpenAiApiKey = (key: string): string => `sk-…${key.slice(-4)}`;

export const createConfigurationService = (deps: {
  repository: ConfigurationRepository;
  secretBox: SecretBox;
  widgetKeys: Pick<WidgetKeyCache, 'invalidate'>;
  log?: { warn(object: object, message: string): void };
}) => {
  const { repository, secretBox } = deps;

  const toView = (row: Configuration): ConfigurationView => {
    let masked = UNREADABLE_KEY_MASK;
    try {
      masked = maskOpenAiApiKey(secretBox.decrypt(row.openAiApiKey, row.id));
    } catch (error) {
      if (!(error instanceof DecryptionError)) throw error;
      deps.log?.warn({ configurationId: row.id }, 'stored OpenAI key cannot be decrypted; the owner must PUT a new one');
    }
    return {
      faqText: row.faqText,
      widgetColor: row.widgetColor,
      openAiApiKey: masked,
      model: row.model,
      title: row.title,
      greeting: row.greeting,
      fallbackText: row.fallbackText,
      allowedOrigins: row.allowedOrigins,
      dailyMessageLimit: row.dailyMessageLimit,
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
    };
  };

  /** Every write changes what the widget shows: drop cached contexts so the next public request sees it. */
  const written = (row: Configuration): ConfigurationView => {
    deps.widgetKeys.invalidate();
    return toView(row);
  };

  const notFound = () => new AppError('NOT_FOUND', 'No configuration yet; create one with PUT /v1/configuration');

  return {
    async get(userId: string): Promise<ConfigurationView> {
      const row = await repository.findByUserId(userId);
      if (!row) throw notFound();
      return toView(row);
    },

    /** Creates (created: true) or replaces the owner's configuration. */
    async put(userId: string, input: PutConfigurationInput): Promise<{ created: boolean; configuration: ConfigurationView }> {
      const { openAiApiKey, ...rest } = input;
      const full = { ...CONFIGURATION_DEFAULTS, ...rest, allowedOrigins: rest.allowedOrigins ?? [], dailyMessageLimit: rest.dailyMessageLimit ?? null };

      if (!(await repository.findByUserId(userId))) {
        if (!openAiApiKey) {
          throw new AppError('VALIDATION_FAILED', 'body.openAiApiKey: required when creating the configuration');
        }
        // The id is bound into the ciphertext (AAD), so it is chosen here rather than by the database.
        const id = randomUUID();
        const inserted = await repository.insertIfAbsent({ id, userId, ...full, openAiApiKey: secretBox.encrypt(openAiApiKey, id) });
        if (inserted) return { created: true, configuration: written(inserted) };
        // A concurrent PUT created it first: fall through and replace it.
      }

      const existing = await repository.findByUserId(userId);
      if (!existing) throw notFound(); // deleted between the two statements
      const updated = await repository.updateByUserId(userId, {
        ...full,
        ...(openAiApiKey ? { openAiApiKey: secretBox.encrypt(openAiApiKey, existing.id) } : {}),
      });
      if (!updated) throw notFound();
      return { created: false, configuration: written(updated) };
    },

    async patch(userId: string, input: PatchConfigurationInput): Promise<ConfigurationView> {
      const existing = await repository.findByUserId(userId);
      if (!existing) throw notFound();
      const { openAiApiKey, ...rest } = input;
      const changes = Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined));
      const updated = await repository.updateByUserId(userId, {
        ...changes,
        ...(openAiApiKey ? { openAiApiKey: secretBox.encrypt(openAiApiKey, existing.id) } : {}),
      });
      if (!updated) throw notFound();
      return written(updated);
    },
  };
};

export type ConfigurationService = ReturnType<typeof createConfigurationService>;
