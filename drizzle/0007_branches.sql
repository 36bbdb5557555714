ALTER TABLE "messages" ADD COLUMN "parent_id" uuid;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "active" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_parent_id_messages_id_fk" FOREIGN KEY ("parent_id") REFERENCES "public"."messages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "messages_parent_idx" ON "messages" USING btree ("chat_id","parent_id");--> statement-breakpoint
-- Chats written before branches were one line: each message follows the one before it.
UPDATE "messages" AS m SET "parent_id" = (
  SELECT p."id" FROM "messages" AS p WHERE p."chat_id" = m."chat_id" AND p."id" < m."id" ORDER BY p."id" DESC LIMIT 1
);
