CREATE TABLE "login_throttles" (
	"email_hash" text PRIMARY KEY NOT NULL,
	"failures" integer DEFAULT 0 NOT NULL,
	"locked_until" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "last_used_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "configurations" ADD COLUMN "model" text DEFAULT 'gpt-4o-mini' NOT NULL;--> statement-breakpoint
ALTER TABLE "configurations" ADD COLUMN "title" text DEFAULT 'Questions? Ask us' NOT NULL;--> statement-breakpoint
ALTER TABLE "configurations" ADD COLUMN "greeting" text DEFAULT 'Hi! Ask me anything about our service.' NOT NULL;--> statement-breakpoint
ALTER TABLE "configurations" ADD COLUMN "fallback_text" text DEFAULT 'Sorry, I don''t have an answer to that. Please contact us directly.' NOT NULL;--> statement-breakpoint
ALTER TABLE "configurations" ADD COLUMN "allowed_origins" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "configurations" ADD COLUMN "daily_message_limit" integer;