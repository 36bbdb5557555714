-- Search finds a chat by its attachments: a file's name (split into words: "q3-report.pdf" is
-- found by "report") and, for text files, the first 100,000 characters of their text, as for
-- messages in 0004. Kept out of src/db/schema.ts for the same reason: no select of a file should
-- carry it. A trigger rather than a generated column because decoding bytes (convert_from) is not
-- immutable; the text type guarantees valid UTF-8 (src/files/kinds.ts).
ALTER TABLE "files" ADD COLUMN "search" tsvector;
--> statement-breakpoint
CREATE FUNCTION "file_text_head"("bytes" bytea, "most" integer) RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
  "cut" integer := least(octet_length("bytes"), "most");
BEGIN
  -- Steps back over UTF-8 continuation bytes so the cut falls between characters: only the head
  -- of a 20 MB log is decoded.
  WHILE "cut" > 0 AND "cut" < octet_length("bytes") AND get_byte("bytes", "cut") & 192 = 128 LOOP
    "cut" := "cut" - 1;
  END LOOP;
  RETURN convert_from(substring("bytes" FROM 1 FOR "cut"), 'UTF8');
END
$$;
--> statement-breakpoint
CREATE FUNCTION "files_search"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW."search" := to_tsvector('english'::regconfig,
    regexp_replace(NEW."name", '[^[:alnum:]]+', ' ', 'g') || ' ' ||
    CASE WHEN NEW."type" = 'text/plain' THEN left("file_text_head"(NEW."bytes", 400000), 100000) ELSE '' END);
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER "files_search" BEFORE INSERT OR UPDATE OF "name", "type", "bytes" ON "files" FOR EACH ROW EXECUTE FUNCTION "files_search"();
--> statement-breakpoint
UPDATE "files" SET "name" = "name";
--> statement-breakpoint
CREATE INDEX "files_search_idx" ON "files" USING gin ("search");
