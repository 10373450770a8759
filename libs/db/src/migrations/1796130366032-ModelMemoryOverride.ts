import { MigrationInterface, QueryRunner } from "typeorm";

export class ModelMemoryOverride1796130366032 implements MigrationInterface {
    name = 'ModelMemoryOverride1796130366032'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "models" ADD "memory_override_bytes" bigint`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "models" DROP COLUMN "memory_override_bytes"`);
    }

}
