CREATE TABLE "projects" (
	"id" uuid PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"name" text NOT NULL,
	"model" text,
	"system_prompt" text,
	"temperature" double precision,
	"max_tokens" integer,
	"reasoning_effort" text,
	"pdf_engine" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "chats" ADD COLUMN "project_id" uuid;--> statement-breakpoint
ALTER TABLE "chats" ADD COLUMN "pinned_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "chats" ADD COLUMN "archived_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "chats" ADD COLUMN "temporary" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "projects" ADD CONSTRAINT "projects_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "projects_user_name_idx" ON "projects" USING btree ("user_id","name");--> statement-breakpoint
ALTER TABLE "chats" ADD CONSTRAINT "chats_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "chats_user_listed_idx" ON "chats" USING btree ("user_id","updated_at" DESC NULLS FIRST,"id" DESC NULLS FIRST) WHERE "chats"."archived_at" is null and not "chats"."temporary";--> statement-breakpoint
CREATE INDEX "chats_user_archived_idx" ON "chats" USING btree ("user_id","archived_at" DESC NULLS FIRST,"id" DESC NULLS FIRST) WHERE "chats"."archived_at" is not null;--> statement-breakpoint
CREATE INDEX "chats_project_idx" ON "chats" USING btree ("project_id","updated_at" DESC NULLS FIRST,"id" DESC NULLS FIRST) WHERE "chats"."project_id" is not null;--> statement-breakpoint
CREATE INDEX "chats_temporary_idx" ON "chats" USING btree ("created_at") WHERE "chats"."temporary";