import { MigrationInterface, QueryRunner } from "typeorm";

export class Tenancy1795329367765 implements MigrationInterface {
    name = 'Tenancy1795329367765'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "api_tokens" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "team_id" uuid NOT NULL, "user_id" uuid NOT NULL, "name" text NOT NULL, "prefix" text NOT NULL, "token_hash" text NOT NULL, "scope" text NOT NULL, "models" jsonb, "expires_at" TIMESTAMP WITH TIME ZONE, "last_used_at" TIMESTAMP WITH TIME ZONE, "revoked_at" TIMESTAMP WITH TIME ZONE, "created_by" uuid, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_bbd687a104e1921e6702c6e3aad" UNIQUE ("token_hash"), CONSTRAINT "PK_c587455266b5fa8dace7194caac" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_6646e16ec3da6db305c6b10af0" ON "api_tokens" ("team_id") `);
        await queryRunner.query(`CREATE INDEX "IDX_b74883f5884a42fd8496d389b2" ON "api_tokens" ("user_id") `);
        await queryRunner.query(`CREATE TABLE "audit_log" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "actor_user_id" uuid, "actor_credential" text, "team_id" uuid, "action" text NOT NULL, "target_type" text NOT NULL, "target_id" text, "details" jsonb NOT NULL DEFAULT '{}', "ip" text, "request_id" text, CONSTRAINT "PK_07fefa57f7f5ab8fc3f52b3ed0b" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_2ad7930a7c2af80585c8c1b770" ON "audit_log" ("created_at") `);
        await queryRunner.query(`CREATE INDEX "IDX_fe76b07d0cb683d4c4d0d917df" ON "audit_log" ("team_id", "created_at") `);
        await queryRunner.query(`CREATE TABLE "team_memberships" ("team_id" uuid NOT NULL, "user_id" uuid NOT NULL, "role" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_11c823f69a675c3f05d0fc31958" PRIMARY KEY ("team_id", "user_id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_c9eb2ded8e0e2f4bcb41fd0984" ON "team_memberships" ("user_id") `);
        await queryRunner.query(`ALTER TABLE "keypairs" ADD "created_by" uuid`);
        await queryRunner.query(`ALTER TABLE "api_tokens" ADD CONSTRAINT "FK_6646e16ec3da6db305c6b10af02" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "api_tokens" ADD CONSTRAINT "FK_b74883f5884a42fd8496d389b25" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "team_memberships" ADD CONSTRAINT "FK_b917b8603c6d5c526fcdb2009de" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "team_memberships" ADD CONSTRAINT "FK_c9eb2ded8e0e2f4bcb41fd0984a" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        // Keypairs made before memberships existed act for their team as its administrator.
        await queryRunner.query(`INSERT INTO "team_memberships" ("team_id", "user_id", "role") SELECT DISTINCT "team_id", "user_id", 'team_admin' FROM "keypairs" ON CONFLICT DO NOTHING`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "team_memberships" DROP CONSTRAINT "FK_c9eb2ded8e0e2f4bcb41fd0984a"`);
        await queryRunner.query(`ALTER TABLE "team_memberships" DROP CONSTRAINT "FK_b917b8603c6d5c526fcdb2009de"`);
        await queryRunner.query(`ALTER TABLE "api_tokens" DROP CONSTRAINT "FK_b74883f5884a42fd8496d389b25"`);
        await queryRunner.query(`ALTER TABLE "api_tokens" DROP CONSTRAINT "FK_6646e16ec3da6db305c6b10af02"`);
        await queryRunner.query(`ALTER TABLE "keypairs" DROP COLUMN "created_by"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_c9eb2ded8e0e2f4bcb41fd0984"`);
        await queryRunner.query(`DROP TABLE "team_memberships"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_fe76b07d0cb683d4c4d0d917df"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_2ad7930a7c2af80585c8c1b770"`);
        await queryRunner.query(`DROP TABLE "audit_log"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_b74883f5884a42fd8496d389b2"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_6646e16ec3da6db305c6b10af0"`);
        await queryRunner.query(`DROP TABLE "api_tokens"`);
    }

}
