CREATE TABLE "presets" (
	"id" uuid PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"name" text NOT NULL,
	"model" text NOT NULL,
	"system_prompt" text,
	"temperature" double precision,
	"max_tokens" integer,
	"reasoning_effort" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "chats" ADD COLUMN "system_prompt" text;--> statement-breakpoint
ALTER TABLE "chats" ADD COLUMN "temperature" double precision;--> statement-breakpoint
ALTER TABLE "chats" ADD COLUMN "max_tokens" integer;--> statement-breakpoint
ALTER TABLE "chats" ADD COLUMN "reasoning_effort" text;--> statement-breakpoint
ALTER TABLE "presets" ADD CONSTRAINT "presets_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "presets_user_name_idx" ON "presets" USING btree ("user_id","name");