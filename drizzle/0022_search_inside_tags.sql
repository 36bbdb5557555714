-- Postgres's text search parser reads `<…>` as an HTML tag and leaves it out, and leaves out as
-- blank whatever stands between <script> and </script>: a message, title or text file with HTML
-- or code in it was not found by the words inside (`pwned` in `<script>window.__pwned=1</script>`,
-- `otters` in `<div class="otters">`). Angle brackets are read as spaces before indexing now, so
-- every word is a word. Searches reach to_tsquery as letters and digits only and need nothing.
-- The indexer's statement (src/search/repo.ts, indexWaiting) reads the same expression.
CREATE OR REPLACE FUNCTION "messages_search"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW."search" := to_tsvector('english'::regconfig, translate(left(NEW."content", 100000), '<>', '  '));
  RETURN NEW;
END
$$;
--> statement-breakpoint
-- Indexed again by the indexer, as messages waiting since 0021 are (a search first indexes the
-- searcher's own waiting messages, so none is missed meanwhile).
UPDATE "messages" SET "search" = NULL WHERE "search" IS NOT NULL AND strpos("content", '<') > 0;
--> statement-breakpoint
ALTER TABLE "chats" DROP COLUMN "search";
--> statement-breakpoint
ALTER TABLE "chats" ADD COLUMN "search" tsvector GENERATED ALWAYS AS (to_tsvector('english'::regconfig, translate("title", '<>', '  '))) STORED;
--> statement-breakpoint
CREATE INDEX "chats_search_idx" ON "chats" USING gin ("search");
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "files_search"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW."search" := to_tsvector('english'::regconfig,
    regexp_replace(NEW."name", '[^[:alnum:]]+', ' ', 'g') || ' ' ||
    CASE WHEN NEW."type" = 'text/plain' THEN translate(left("file_text_head"(NEW."bytes", 400000), 100000), '<>', '  ') ELSE '' END);
  RETURN NEW;
END
$$;
--> statement-breakpoint
UPDATE "files" SET "name" = "name" WHERE "type" = 'text/plain';
