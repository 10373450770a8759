import { MigrationInterface, QueryRunner } from "typeorm";

export class Endpoints1796187429272 implements MigrationInterface {
    name = 'Endpoints1796187429272'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "endpoints" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" text NOT NULL, "kind" text NOT NULL, "url" text NOT NULL, "credentials_sealed" text NOT NULL, "credential_hint" text NOT NULL, "weight" integer NOT NULL DEFAULT '100', "enabled" boolean NOT NULL DEFAULT true, "offer_new_models" boolean NOT NULL DEFAULT true, "health" jsonb NOT NULL, "state" text NOT NULL DEFAULT 'unknown', "state_since" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "consecutive_failures" integer NOT NULL DEFAULT '0', "consecutive_successes" integer NOT NULL DEFAULT '0', "last_check_at" TIMESTAMP WITH TIME ZONE, "last_error" text, "remote_version" text, "catalog_refreshed_at" TIMESTAMP WITH TIME ZONE, "created_by" uuid, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_537a42187cc0ec69401f45889f7" UNIQUE ("name"), CONSTRAINT "PK_70835610dfa54ad5d990e02f70a" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE TABLE "endpoint_models" ("endpoint_id" uuid NOT NULL, "remote_model" text NOT NULL, "alias" text NOT NULL, "team_ids" uuid array, "enabled" boolean NOT NULL DEFAULT true, "listed" boolean NOT NULL DEFAULT true, "first_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_09ccc842ed36cd3e2050cfaf8ca" PRIMARY KEY ("endpoint_id", "remote_model"))`);
        await queryRunner.query(`CREATE UNIQUE INDEX "endpoint_models_alias" ON "endpoint_models" ("endpoint_id", "alias") `);
        await queryRunner.query(`CREATE TABLE "model_fallbacks" ("model" text NOT NULL, "chain" text array NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_9b6c96ccd23cc179ef81d57abfe" PRIMARY KEY ("model"))`);
        await queryRunner.query(`ALTER TABLE "teams" ADD "local_only" boolean NOT NULL DEFAULT false`);
        await queryRunner.query(`ALTER TABLE "jobs" ADD "endpoint_id" uuid`);
        await queryRunner.query(`ALTER TABLE "endpoint_models" ADD CONSTRAINT "FK_1ba03a632365e492f5d9e0b3b04" FOREIGN KEY ("endpoint_id") REFERENCES "endpoints"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "endpoint_models" DROP CONSTRAINT "FK_1ba03a632365e492f5d9e0b3b04"`);
        await queryRunner.query(`ALTER TABLE "jobs" DROP COLUMN "endpoint_id"`);
        await queryRunner.query(`ALTER TABLE "teams" DROP COLUMN "local_only"`);
        await queryRunner.query(`DROP TABLE "model_fallbacks"`);
        await queryRunner.query(`DROP INDEX "public"."endpoint_models_alias"`);
        await queryRunner.query(`DROP TABLE "endpoint_models"`);
        await queryRunner.query(`DROP TABLE "endpoints"`);
    }

}
