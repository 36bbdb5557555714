-- Full-text search over titles and finished messages. Written by hand (drizzle-kit generate
-- --custom) and left out of src/db/schema.ts on purpose: declared there, every select of a
-- message would carry its tsvector. A streaming answer is indexed once, when it ends (its
-- progress saves would otherwise re-index the whole text every second); only the first
-- 100,000 characters are indexed, as a tsvector cannot exceed 1 MB.
ALTER TABLE "messages" ADD COLUMN "search" tsvector GENERATED ALWAYS AS (CASE WHEN "status" = 'streaming' THEN NULL ELSE to_tsvector('english'::regconfig, left("content", 100000)) END) STORED;
--> statement-breakpoint
CREATE INDEX "messages_search_idx" ON "messages" USING gin ("search");
--> statement-breakpoint
ALTER TABLE "chats" ADD COLUMN "search" tsvector GENERATED ALWAYS AS (to_tsvector('english'::regconfig, "title")) STORED;
--> statement-breakpoint
CREATE INDEX "chats_search_idx" ON "chats" USING gin ("search");
