ALTER TABLE "aims" ADD COLUMN "published_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "aims" ADD COLUMN "published_by" integer;--> statement-breakpoint
ALTER TABLE "progress_updates" ADD COLUMN "public_text" text;--> statement-breakpoint
ALTER TABLE "aims" ADD CONSTRAINT "aims_published_by_users_id_fk" FOREIGN KEY ("published_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;