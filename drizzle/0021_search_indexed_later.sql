-- An answer's words are indexed for search just after its end is saved, by a statement of their
-- own (src/search/indexer.ts), no longer by the statement that saves the end: indexing was
-- 80-87% of the Postgres time of saving 200 answers' ends (to_tsvector of each text and the GIN
-- index's upkeep; 366 -> 62 ms for 200-token answers, 587 -> 77 ms for 10,000 characters), and
-- every answer ending in that moment waited for it before it was shown whole. A message stored
-- finished (a question, an import) is still indexed by its insert, as 0004's generated column
-- did. NULL now means "not indexed yet" for a finished message; the values 0004 computed stay.
ALTER TABLE "messages" ALTER COLUMN "search" DROP EXPRESSION;
--> statement-breakpoint
CREATE FUNCTION "messages_search"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW."search" := to_tsvector('english'::regconfig, left(NEW."content", 100000));
  RETURN NEW;
END
$$;
--> statement-breakpoint
-- Not for an answer inserted to be written (streaming), nor a copy that brings its vector.
CREATE TRIGGER "messages_search" BEFORE INSERT ON "messages" FOR EACH ROW
  WHEN (NEW."status" <> 'streaming' AND NEW."search" IS NULL)
  EXECUTE FUNCTION "messages_search"();
--> statement-breakpoint
-- Text that changes after it was indexed is indexed again. The WHEN keeps the trigger off the
-- progress saves of a streaming answer, which is never indexed.
CREATE FUNCTION "messages_search_stale"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW."search" := NULL;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER "messages_search_stale" BEFORE UPDATE OF "content" ON "messages" FOR EACH ROW
  WHEN (OLD."search" IS NOT NULL AND NEW."content" IS DISTINCT FROM OLD."content")
  EXECUTE FUNCTION "messages_search_stale"();
--> statement-breakpoint
-- What the indexer and a search's catch-up look for: small, as it holds only what waits.
CREATE INDEX "messages_unindexed_idx" ON "messages" ("chat_id") WHERE "search" IS NULL AND "status" <> 'streaming';
