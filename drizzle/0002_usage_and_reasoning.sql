ALTER TABLE "messages" ADD COLUMN "reasoning" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "reasoning_tokens" integer;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "cached_tokens" integer;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "finish_reason" text;