import { MigrationInterface, QueryRunner } from "typeorm";

export class ModelCatalog1796128986812 implements MigrationInterface {
    name = 'ModelCatalog1796128986812'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "models" ADD "source" text`);
        await queryRunner.query(`ALTER TABLE "models" ADD "team_id" uuid`);
        await queryRunner.query(`ALTER TABLE "models" ADD "header_only" boolean NOT NULL DEFAULT false`);
        await queryRunner.query(`CREATE INDEX "IDX_dcb5eb1c5d3628cfe92aba7673" ON "models" ("team_id") `);
        await queryRunner.query(`ALTER TABLE "models" ADD CONSTRAINT "FK_dcb5eb1c5d3628cfe92aba7673f" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "models" DROP CONSTRAINT "FK_dcb5eb1c5d3628cfe92aba7673f"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_dcb5eb1c5d3628cfe92aba7673"`);
        await queryRunner.query(`ALTER TABLE "models" DROP COLUMN "header_only"`);
        await queryRunner.query(`ALTER TABLE "models" DROP COLUMN "team_id"`);
        await queryRunner.query(`ALTER TABLE "models" DROP COLUMN "source"`);
    }

}
