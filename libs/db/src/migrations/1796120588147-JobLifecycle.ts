import { MigrationInterface, QueryRunner } from "typeorm";

export class JobLifecycle1796120588147 implements MigrationInterface {
    name = 'JobLifecycle1796120588147'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "public"."IDX_a0c30e3eb9649fe7fbcd336a63"`);
        await queryRunner.query(`ALTER TABLE "jobs" ADD "mode" text NOT NULL DEFAULT 'sync'`);
        await queryRunner.query(`ALTER TABLE "jobs" ADD "attempt" integer NOT NULL DEFAULT '1'`);
        await queryRunner.query(`ALTER TABLE "jobs" ADD "replica_id" text`);
        await queryRunner.query(`ALTER TABLE "jobs" ADD "idempotency_key" text`);
        await queryRunner.query(`ALTER TABLE "jobs" ADD "request_hash" text`);
        // Jobs from before the lifecycle: the request timeout's default bounds them; the sweeper ends them.
        await queryRunner.query(`ALTER TABLE "jobs" ADD "deadline_at" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`UPDATE "jobs" SET "deadline_at" = "created_at" + interval '300 seconds', "kind" = 'chat'`);
        await queryRunner.query(`ALTER TABLE "jobs" ALTER COLUMN "deadline_at" SET NOT NULL`);
        await queryRunner.query(`ALTER TABLE "jobs" ADD "started_at" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`ALTER TABLE "jobs" ADD "first_token_at" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`CREATE UNIQUE INDEX "UQ_jobs_team_idempotency_key" ON "jobs" ("team_id", "idempotency_key") WHERE "idempotency_key" IS NOT NULL`);
        await queryRunner.query(`CREATE INDEX "IDX_976928f46b0adfa046b0fd7203" ON "jobs" ("status", "deadline_at") `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "public"."IDX_976928f46b0adfa046b0fd7203"`);
        await queryRunner.query(`DROP INDEX "public"."UQ_jobs_team_idempotency_key"`);
        await queryRunner.query(`ALTER TABLE "jobs" DROP COLUMN "first_token_at"`);
        await queryRunner.query(`ALTER TABLE "jobs" DROP COLUMN "started_at"`);
        await queryRunner.query(`ALTER TABLE "jobs" DROP COLUMN "deadline_at"`);
        await queryRunner.query(`ALTER TABLE "jobs" DROP COLUMN "request_hash"`);
        await queryRunner.query(`ALTER TABLE "jobs" DROP COLUMN "idempotency_key"`);
        await queryRunner.query(`ALTER TABLE "jobs" DROP COLUMN "replica_id"`);
        await queryRunner.query(`ALTER TABLE "jobs" DROP COLUMN "attempt"`);
        await queryRunner.query(`ALTER TABLE "jobs" DROP COLUMN "mode"`);
        await queryRunner.query(`CREATE INDEX "IDX_a0c30e3eb9649fe7fbcd336a63" ON "jobs" ("status") `);
    }

}
