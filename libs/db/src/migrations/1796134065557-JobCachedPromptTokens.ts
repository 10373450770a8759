import { MigrationInterface, QueryRunner } from "typeorm";

export class JobCachedPromptTokens1796134065557 implements MigrationInterface {
    name = 'JobCachedPromptTokens1796134065557'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "jobs" ADD "cached_prompt_tokens" integer`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "jobs" DROP COLUMN "cached_prompt_tokens"`);
    }

}
