CREATE TABLE "message_annotations" (
	"message_id" uuid PRIMARY KEY NOT NULL,
	"engine" text NOT NULL,
	"files" jsonb NOT NULL
);
--> statement-breakpoint
ALTER TABLE "chats" ADD COLUMN "pdf_engine" text;--> statement-breakpoint
ALTER TABLE "presets" ADD COLUMN "pdf_engine" text;--> statement-breakpoint
ALTER TABLE "message_annotations" ADD CONSTRAINT "message_annotations_message_id_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."messages"("id") ON DELETE cascade ON UPDATE no action;