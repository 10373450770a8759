import { MigrationInterface, QueryRunner } from "typeorm";

export class JobUsage1796157258870 implements MigrationInterface {
    name = 'JobUsage1796157258870'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "jobs" ADD "api_token_id" uuid`);
        await queryRunner.query(`ALTER TABLE "jobs" ADD "user_id" uuid`);
        await queryRunner.query(`CREATE INDEX "IDX_a99ac650550679ccd793c564b1" ON "jobs" ("created_at") `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "public"."IDX_a99ac650550679ccd793c564b1"`);
        await queryRunner.query(`ALTER TABLE "jobs" DROP COLUMN "user_id"`);
        await queryRunner.query(`ALTER TABLE "jobs" DROP COLUMN "api_token_id"`);
    }

}
