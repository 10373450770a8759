import { MigrationInterface, QueryRunner } from "typeorm";

export class Deployments1796129235801 implements MigrationInterface {
    name = 'Deployments1796129235801'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "deployments" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" text NOT NULL, "team_id" uuid NOT NULL, "model_id" uuid NOT NULL, "replicas" integer NOT NULL, "runtime" jsonb NOT NULL, "placement" text NOT NULL DEFAULT 'binpack', "resource" jsonb NOT NULL DEFAULT '{}', "tolerations" jsonb NOT NULL DEFAULT '[]', "phase" text NOT NULL DEFAULT 'Pending', "conditions" jsonb NOT NULL DEFAULT '[]', "plan" jsonb NOT NULL, "created_by" uuid, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_deployments_team_name" UNIQUE ("team_id", "name"), CONSTRAINT "PK_1e5627acb3c950deb83fe98fc48" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_c3def88ffa3653dd9f88627a81" ON "deployments" ("team_id") `);
        await queryRunner.query(`CREATE INDEX "IDX_bd5203f2814cb186dc9561d5f4" ON "deployments" ("model_id") `);
        await queryRunner.query(`ALTER TABLE "deployments" ADD CONSTRAINT "FK_c3def88ffa3653dd9f88627a813" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "deployments" ADD CONSTRAINT "FK_bd5203f2814cb186dc9561d5f4a" FOREIGN KEY ("model_id") REFERENCES "models"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "deployments" DROP CONSTRAINT "FK_bd5203f2814cb186dc9561d5f4a"`);
        await queryRunner.query(`ALTER TABLE "deployments" DROP CONSTRAINT "FK_c3def88ffa3653dd9f88627a813"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_bd5203f2814cb186dc9561d5f4"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_c3def88ffa3653dd9f88627a81"`);
        await queryRunner.query(`DROP TABLE "deployments"`);
    }

}
