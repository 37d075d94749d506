ALTER TABLE "emails" ADD COLUMN "attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "emails" ADD COLUMN "last_attempt_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "memberships" ADD COLUMN "reviews_updates" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "emails_unsent" ON "emails" USING btree ("created_at") WHERE "emails"."sent_at" is null and "emails"."transport" = 'smtp';--> statement-breakpoint
-- Messages handed to the mail server before tries were counted were tried once.
UPDATE "emails" SET "attempts" = 1, "last_attempt_at" = COALESCE("sent_at", "created_at") WHERE "transport" = 'smtp' AND ("sent_at" IS NOT NULL OR "error" IS NOT NULL);
