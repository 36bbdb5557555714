CREATE TABLE "favourite_models" (
	"id" uuid PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"model" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "chats" ADD COLUMN "import_hash" text;--> statement-breakpoint
ALTER TABLE "favourite_models" ADD CONSTRAINT "favourite_models_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "favourite_models_user_model_idx" ON "favourite_models" USING btree ("user_id","model");--> statement-breakpoint
CREATE INDEX "chats_user_import_idx" ON "chats" USING btree ("user_id","import_hash") WHERE "chats"."import_hash" is not null;