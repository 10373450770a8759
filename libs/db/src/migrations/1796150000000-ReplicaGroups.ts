import { MigrationInterface, QueryRunner } from "typeorm";

export class ReplicaGroups1796150000000 implements MigrationInterface {
    name = 'ReplicaGroups1796150000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "replicas" ADD "replica_group" jsonb`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "replicas" DROP COLUMN "replica_group"`);
    }

}
