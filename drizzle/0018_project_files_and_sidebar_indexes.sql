CREATE TABLE "project_files" (
	"id" uuid PRIMARY KEY NOT NULL,
	"project_id" uuid NOT NULL,
	"file_id" uuid NOT NULL,
	"position" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
DROP INDEX "chats_user_listed_idx";--> statement-breakpoint
ALTER TABLE "project_files" ADD CONSTRAINT "project_files_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project_files" ADD CONSTRAINT "project_files_file_id_files_id_fk" FOREIGN KEY ("file_id") REFERENCES "public"."files"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "project_files_project_file_idx" ON "project_files" USING btree ("project_id","file_id");--> statement-breakpoint
CREATE INDEX "project_files_file_idx" ON "project_files" USING btree ("file_id");--> statement-breakpoint
CREATE INDEX "chats_user_pinned_idx" ON "chats" USING btree ("user_id","pinned_at" DESC NULLS FIRST,"id" DESC NULLS FIRST) WHERE "chats"."pinned_at" is not null;--> statement-breakpoint
CREATE INDEX "chats_user_listed_idx" ON "chats" USING btree ("user_id","updated_at" DESC NULLS FIRST,"id" DESC NULLS FIRST) WHERE "chats"."archived_at" is null and not "chats"."temporary" and "chats"."project_id" is null;