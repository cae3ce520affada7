import { nanoid } from 'nanoid';
import type { ApiKey } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { WidgetKeyCache } from '../plugins/widget-key-cache.js';
import type { WidgetKeysRepository } from './widget-keys-repository.js';
import type { WidgetKeyView } from './widget-keys-schemas.js';

/** `pk_` + 21 nanoid characters (126 random bits, URL- and HTML-attribute-safe). */
export const generateWidgetKey = (): string => `pk_${nanoid()}`;

/** Exactly what the owner pastes into their website. */
export const widgetSnippet = (publicUrl: string, key: string): string => `<script src="${publicUrl}/widget.js" data-key="${key}" async></script>`;

export const createWidgetKeysService = (deps: {
  repository: WidgetKeysRepository;
  widgetKeys: Pick<WidgetKeyCache, 'invalidate'>;
  publicUrl: string;
}) => {
  const { repository } = deps;

  const toView = (row: ApiKey): WidgetKeyView => ({
    key: row.key,
    status: row.status,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    snippet: widgetSnippet(deps.publicUrl, row.key),
  });

  const requireConfiguration = async (userId: string): Promise<string> => {
    const configurationId = await repository.findConfigurationId(userId);
    if (!configurationId) {
      throw new AppError('CONFIGURATION_REQUIRED', 'Create your configuration with PUT /v1/configuration first, then create the widget key');
    }
    return configurationId;
  };

  const noKey = () => new AppError('NOT_FOUND', 'No widget key yet; create one with POST /v1/api-key');
  const changedMeanwhile = () => new AppError('CONFLICT', 'The widget key changed during this request; read it again with GET /v1/api-key');

  return {
    async get(userId: string): Promise<WidgetKeyView> {
      const configurationId = await repository.findConfigurationId(userId);
      const row = configurationId ? await repository.findByConfigurationId(configurationId) : null;
      if (!row) throw noKey();
      return toView(row);
    },

    /** A new ACTIVE key. A REVOKED key is replaced by the new one (one key per configuration); an ACTIVE one is a 409. */
    async create(userId: string): Promise<WidgetKeyView> {
      const configurationId = await requireConfiguration(userId);
      const existing = await repository.findByConfigurationId(configurationId);
      if (existing?.status === 'ACTIVE') {
        throw new AppError('API_KEY_EXISTS', 'You already have an active widget key; rotate it with POST /v1/api-key/rotate or revoke it with DELETE /v1/api-key');
      }
      const row = existing
        ? await repository.replaceKey(configurationId, existing.key, 'REVOKED', generateWidgetKey(), true)
        : await repository.insertIfAbsent(configurationId, generateWidgetKey());
      if (!row) throw new AppError('API_KEY_EXISTS', 'A widget key was created by a concurrent request; read it with GET /v1/api-key');
      if (existing) deps.widgetKeys.invalidate(existing.key);
      return toView(row);
    },

    /** A new value for the ACTIVE key; the old value stops working on the next request. */
    async rotate(userId: string): Promise<WidgetKeyView> {
      const configurationId = await requireConfiguration(userId);
      const existing = await repository.findByConfigurationId(configurationId);
      if (!existing) throw noKey();
      if (existing.status !== 'ACTIVE') {
        throw new AppError('CONFLICT', 'The widget key is revoked; create a new one with POST /v1/api-key');
      }
      const row = await repository.replaceKey(configurationId, existing.key, 'ACTIVE', generateWidgetKey(), false);
      deps.widgetKeys.invalidate(existing.key);
      if (!row) throw changedMeanwhile();
      return toView(row);
    },

    /** Marks the key REVOKED (idempotent); the widget stops answering on the next request. */
    async revoke(userId: string): Promise<WidgetKeyView> {
      const configurationId = await repository.findConfigurationId(userId);
      const row = configurationId ? await repository.revoke(configurationId) : null;
      if (!row) throw noKey();
      deps.widgetKeys.invalidate(row.key);
      return toView(row);
    },
  };
};

export type WidgetKeysService = ReturnType<typeof createWidgetKeysService>;
