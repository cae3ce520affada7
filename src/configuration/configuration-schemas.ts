import { z } from 'zod';

/** Models an owner may choose; the chat feature passes the choice to OpenAI as-is. */
export const SUPPORTED_MODELS = ['gpt-4o-mini', 'gpt-4o', 'gpt-4.1', 'gpt-4.1-mini', 'gpt-4.1-nano', 'gpt-5', 'gpt-5-mini', 'gpt-5-nano'] as const;
export type SupportedModel = (typeof SUPPORTED_MODELS)[number];

/** What a configuration holds when the owner leaves a field out (the same as the column defaults in db/schema.ts). */
export const CONFIGURATION_DEFAULTS = {
  widgetColor: '#007bff',
  model: 'gpt-4o-mini' satisfies SupportedModel,
  title: 'Questions? Ask us',
  greeting: 'Hi! Ask me anything about our service.',
  fallbackText: "Sorry, I don't have an answer to that. Please contact us directly.",
  allowedOrigins: [] as string[],
  dailyMessageLimit: null as number | null,
} as const;

export const CONFIGURATION_LIMITS = {
  faqTextMaxChars: 100_000,
  titleMaxChars: 80,
  greetingMaxChars: 500,
  fallbackTextMaxChars: 500,
  allowedOriginsMax: 50,
  originMaxChars: 300,
  openAiApiKeyMinChars: 20,
  openAiApiKeyMaxChars: 300,
  dailyMessageLimitMax: 1_000_000,
} as const;

const L = CONFIGURATION_LIMITS;

/** PostgreSQL text cannot hold U+0000; refuse it as bad input instead of failing at insert. */
const noNul = /^[^\u0000]*$/;
const noNulMessage = { error: 'must not contain NUL characters' };

export const faqTextSchema = z
  .string()
  .trim()
  .min(1, { error: 'must not be empty' })
  .max(L.faqTextMaxChars, { error: `must be at most ${L.faqTextMaxChars} characters` })
  .regex(noNul, noNulMessage)
  .meta({ description: `The FAQ the assistant answers from (1–${L.faqTextMaxChars} characters)`, example: 'Q: Do you ship abroad?\nA: Yes, to all EU countries.' });

export const widgetColorSchema = z
  .string()
  .regex(/^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/, { error: 'must be #rgb or #rrggbb' })
  .toLowerCase()
  .meta({ description: 'Bubble and header colour, #rgb or #rrggbb (stored lower-case)', example: '#0a7d5a' });

export const openAiApiKeySchema = z
  .string()
  .min(L.openAiApiKeyMinChars, { error: `must be ${L.openAiApiKeyMinChars}–${L.openAiApiKeyMaxChars} characters` })
  .max(L.openAiApiKeyMaxChars, { error: `must be ${L.openAiApiKeyMinChars}–${L.openAiApiKeyMaxChars} characters` })
  .regex(/^sk-[\x21-\x7e]+$/, { error: 'must start with sk- and contain no spaces' })
  .meta({ description: 'Your OpenAI API key; stored encrypted and never returned in full', example: 'sk-proj-abc123def456ghi789jkl0' });

export const modelSchema = z.enum(SUPPORTED_MODELS).meta({ description: 'OpenAI model used for answers', example: 'gpt-4o-mini' });

const textField = (max: number, description: string, example: string) =>
  z
    .string()
    .trim()
    .min(1, { error: 'must not be empty' })
    .max(max, { error: `must be at most ${max} characters` })
    .regex(noNul, noNulMessage)
    .meta({ description, example });

export const titleSchema = textField(L.titleMaxChars, 'Heading of the chat panel', 'Questions? Ask us');
export const greetingSchema = textField(L.greetingMaxChars, 'First message the widget shows', 'Hi! Ask me anything about our shop.');
export const fallbackTextSchema = textField(
  L.fallbackTextMaxChars,
  'What the assistant says when the FAQ does not cover a question',
  'Sorry, I do not know. Write to help@example.com.',
);

/** scheme://host[:port] and nothing else: no path, query, fragment, credentials or wildcard. */
const originShape = /^https?:\/\/[^/?#@*\s]+\/?$/i;

export const originSchema = z
  .string()
  .trim()
  .max(L.originMaxChars)
  .transform((value, context) => {
    let url: URL | undefined;
    if (originShape.test(value)) {
      try {
        url = new URL(value);
      } catch {
        url = undefined;
      }
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) {
      context.addIssue({ code: 'custom', message: `"${value.slice(0, 80)}" is not an exact origin like https://shop.example.com (no path, query or wildcard)` });
      return z.NEVER;
    }
    return url.origin;
  });

export const allowedOriginsSchema = z
  .array(originSchema)
  .max(L.allowedOriginsMax, { error: `at most ${L.allowedOriginsMax} origins` })
  .transform((origins) => [...new Set(origins)])
  .meta({
    description: 'Exact origins allowed to use the widget (normalised, de-duplicated); empty means any website',
    example: ['https://shop.example.com', 'http://localhost:8080'],
  });

export const dailyMessageLimitSchema = z
  .number()
  .int()
  .positive()
  .max(L.dailyMessageLimitMax)
  .nullable()
  .meta({ description: 'Visitor messages accepted per UTC day; null means no cap', example: 500 });

const fields = {
  faqText: faqTextSchema,
  widgetColor: widgetColorSchema,
  openAiApiKey: openAiApiKeySchema,
  model: modelSchema,
  title: titleSchema,
  greeting: greetingSchema,
  fallbackText: fallbackTextSchema,
  allowedOrigins: allowedOriginsSchema,
  dailyMessageLimit: dailyMessageLimitSchema,
};

/** PUT: the whole configuration. Omitted fields take their defaults; omitted openAiApiKey keeps the stored one (required on create). */
export const putConfigurationSchema = z
  .strictObject({
    ...fields,
    openAiApiKey: fields.openAiApiKey.optional(),
    widgetColor: fields.widgetColor.optional(),
    model: fields.model.optional(),
    title: fields.title.optional(),
    greeting: fields.greeting.optional(),
    fallbackText: fields.fallbackText.optional(),
    allowedOrigins: fields.allowedOrigins.optional(),
    dailyMessageLimit: fields.dailyMessageLimit.optional(),
  })
  .meta({ id: 'ConfigurationPut' });

/** PATCH: any subset; omitted fields keep their stored values. */
export const patchConfigurationSchema = z.strictObject(fields).partial().meta({ id: 'ConfigurationPatch' });

export const configurationSchema = z
  .object({
    faqText: z.string(),
    widgetColor: z.string(),
    openAiApiKey: z.string().meta({ description: 'Masked: sk-… and the last four characters' }),
    model: z.string(),
    title: z.string(),
    greeting: z.string(),
    fallbackText: z.string(),
    allowedOrigins: z.array(z.string()),
    dailyMessageLimit: z.number().int().nullable(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({
    id: 'Configuration',
    example: {
      faqText: 'Q: Do you ship abroad?\nA: Yes, to all EU countries.',
      widgetColor: '#0a7d5a',
      openAiApiKey: 'sk-…l0ab',
      model: 'gpt-4o-mini',
      title: 'Questions? Ask us',
      greeting: 'Hi! Ask me anything about our shop.',
      fallbackText: 'Sorry, I do not know. Write to help@example.com.',
      allowedOrigins: ['https://shop.example.com'],
      dailyMessageLimit: 500,
      createdAt: '2026-01-01T12:00:00.000Z',
      updatedAt: '2026-01-02T08:30:00.000Z',
    },
  });

export type PutConfigurationInput = z.output<typeof putConfigurationSchema>;
export type PatchConfigurationInput = z.output<typeof patchConfigurationSchema>;
export type ConfigurationView = z.infer<typeof configurationSchema>;
