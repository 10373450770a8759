import { MigrationInterface, QueryRunner } from "typeorm";

export class QuotaLimits1796162797121 implements MigrationInterface {
    name = 'QuotaLimits1796162797121'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "quota_limits" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "team_id" uuid NOT NULL, "keypair_id" uuid, "api_token_id" uuid, "model" text, "max_concurrent_jobs" integer, "max_queued_jobs" integer, "requests_per_minute" integer, "tokens_per_minute" bigint, "tokens_per_day" bigint, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "quota_limits_one_subject" CHECK ((CASE WHEN keypair_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN api_token_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN model IS NULL THEN 0 ELSE 1 END) <= 1), CONSTRAINT "PK_8cf022023f8a5ac0922237fa166" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE UNIQUE INDEX "quota_limits_model" ON "quota_limits" ("team_id", "model") WHERE model IS NOT NULL`);
        await queryRunner.query(`CREATE UNIQUE INDEX "quota_limits_api_token" ON "quota_limits" ("api_token_id") WHERE api_token_id IS NOT NULL`);
        await queryRunner.query(`CREATE UNIQUE INDEX "quota_limits_keypair" ON "quota_limits" ("keypair_id") WHERE keypair_id IS NOT NULL`);
        await queryRunner.query(`CREATE UNIQUE INDEX "quota_limits_team_scope" ON "quota_limits" ("team_id") WHERE keypair_id IS NULL AND api_token_id IS NULL AND model IS NULL`);
        // The teams' concurrency quotas move to their team-scope rows (the column was never enforced; now it is).
        await queryRunner.query(`INSERT INTO "quota_limits" ("team_id", "max_concurrent_jobs") SELECT "id", "quota_concurrent_jobs" FROM "teams" WHERE "quota_concurrent_jobs" IS NOT NULL`);
        await queryRunner.query(`ALTER TABLE "teams" DROP COLUMN "quota_concurrent_jobs"`);
        await queryRunner.query(`ALTER TABLE "jobs" ADD "quota" jsonb`);
        await queryRunner.query(`ALTER TABLE "quota_limits" ADD CONSTRAINT "FK_faf1ccacc56ffd8633069200702" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "quota_limits" ADD CONSTRAINT "FK_0350edeb53ad812a95b07524246" FOREIGN KEY ("keypair_id") REFERENCES "keypairs"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "quota_limits" ADD CONSTRAINT "FK_842cd4f39884bb6b4e299b8bee6" FOREIGN KEY ("api_token_id") REFERENCES "api_tokens"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "quota_limits" DROP CONSTRAINT "FK_842cd4f39884bb6b4e299b8bee6"`);
        await queryRunner.query(`ALTER TABLE "quota_limits" DROP CONSTRAINT "FK_0350edeb53ad812a95b07524246"`);
        await queryRunner.query(`ALTER TABLE "quota_limits" DROP CONSTRAINT "FK_faf1ccacc56ffd8633069200702"`);
        await queryRunner.query(`ALTER TABLE "jobs" DROP COLUMN "quota"`);
        await queryRunner.query(`ALTER TABLE "teams" ADD "quota_concurrent_jobs" integer`);
        await queryRunner.query(`UPDATE "teams" t SET "quota_concurrent_jobs" = q."max_concurrent_jobs" FROM "quota_limits" q WHERE q."team_id" = t."id" AND q."keypair_id" IS NULL AND q."api_token_id" IS NULL AND q."model" IS NULL`);
        await queryRunner.query(`DROP INDEX "public"."quota_limits_team_scope"`);
        await queryRunner.query(`DROP INDEX "public"."quota_limits_keypair"`);
        await queryRunner.query(`DROP INDEX "public"."quota_limits_api_token"`);
        await queryRunner.query(`DROP INDEX "public"."quota_limits_model"`);
        await queryRunner.query(`DROP TABLE "quota_limits"`);
    }

}
