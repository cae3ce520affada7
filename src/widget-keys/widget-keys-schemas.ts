import { z } from 'zod';

export const widgetKeySchema = z
  .object({
    key: z.string().meta({ description: 'Public widget key (pk_…); it appears in your website source' }),
    status: z.enum(['ACTIVE', 'REVOKED']),
    createdAt: z.iso.datetime(),
    lastUsedAt: z.iso.datetime().nullable(),
    snippet: z.string().meta({ description: 'The script tag to paste into your website' }),
  })
  .meta({
    id: 'WidgetKey',
    example: {
      key: 'pk_V1StGXR8_Z5jdHi6B-myT',
      status: 'ACTIVE',
      createdAt: '2026-01-01T12:00:00.000Z',
      lastUsedAt: null,
      snippet: '<script src="https://chat.example.com/widget.js" data-key="pk_V1StGXR8_Z5jdHi6B-myT" async></script>',
    },
  });

export type WidgetKeyView = z.infer<typeof widgetKeySchema>;
