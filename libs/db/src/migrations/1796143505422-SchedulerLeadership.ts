import { MigrationInterface, QueryRunner } from "typeorm";

export class SchedulerLeadership1796143505422 implements MigrationInterface {
    name = 'SchedulerLeadership1796143505422'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "scheduler_leases" ("name" text NOT NULL, "holder" text NOT NULL, "token" bigint NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "acquired_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_1b6092e67e7e8d1fb616b8b9d71" PRIMARY KEY ("name"))`);
        await queryRunner.query(`ALTER TABLE "deployments" ADD "min_replicas" integer`);
        await queryRunner.query(`ALTER TABLE "deployments" ADD "idle_seconds" integer NOT NULL DEFAULT '300'`);
        await queryRunner.query(`ALTER TABLE "deployments" ADD "pinned" boolean NOT NULL DEFAULT false`);
        await queryRunner.query(`ALTER TABLE "deployments" ADD "status" jsonb`);
        await queryRunner.query(`ALTER TABLE "deployments" ADD "events" jsonb NOT NULL DEFAULT '[]'`);
        await queryRunner.query(`ALTER TABLE "replicas" ADD "deployment_id" uuid`);
        await queryRunner.query(`ALTER TABLE "replicas" ADD "gpus" jsonb NOT NULL DEFAULT '[]'`);
        await queryRunner.query(`CREATE INDEX "IDX_7461285bade9abac7c19716dd5" ON "replicas" ("deployment_id") `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "public"."IDX_7461285bade9abac7c19716dd5"`);
        await queryRunner.query(`ALTER TABLE "replicas" DROP COLUMN "gpus"`);
        await queryRunner.query(`ALTER TABLE "replicas" DROP COLUMN "deployment_id"`);
        await queryRunner.query(`ALTER TABLE "deployments" DROP COLUMN "events"`);
        await queryRunner.query(`ALTER TABLE "deployments" DROP COLUMN "status"`);
        await queryRunner.query(`ALTER TABLE "deployments" DROP COLUMN "pinned"`);
        await queryRunner.query(`ALTER TABLE "deployments" DROP COLUMN "idle_seconds"`);
        await queryRunner.query(`ALTER TABLE "deployments" DROP COLUMN "min_replicas"`);
        await queryRunner.query(`DROP TABLE "scheduler_leases"`);
    }

}
