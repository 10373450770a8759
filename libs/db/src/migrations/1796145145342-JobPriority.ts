import { MigrationInterface, QueryRunner } from "typeorm";

export class JobPriority1796145145342 implements MigrationInterface {
    name = 'JobPriority1796145145342'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "jobs" ADD "priority" integer NOT NULL DEFAULT '0'`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "jobs" DROP COLUMN "priority"`);
    }

}
