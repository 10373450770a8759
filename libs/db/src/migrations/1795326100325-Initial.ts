import { MigrationInterface, QueryRunner } from "typeorm";

export class Initial1795326100325 implements MigrationInterface {
    name = 'Initial1795326100325'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "teams" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" text NOT NULL, "weight" integer NOT NULL DEFAULT '1', "quota_gpus" integer, "quota_gpu_memory_bytes" bigint, "quota_concurrent_jobs" integer, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_48c0c32e6247a2de155baeaf980" UNIQUE ("name"), CONSTRAINT "PK_7e5523774a38b08a6236d322403" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE TABLE "jobs" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "team_id" uuid NOT NULL, "keypair_id" uuid, "kind" text NOT NULL, "model" text NOT NULL, "status" text NOT NULL DEFAULT 'queued', "request" jsonb NOT NULL, "result" jsonb, "error_code" text, "error_message" text, "node_id" uuid, "prompt_tokens" integer, "completion_tokens" integer, "request_id" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "dispatched_at" TIMESTAMP WITH TIME ZONE, "finished_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_cf0a6c42b72fcc7f7c237def345" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_a0c30e3eb9649fe7fbcd336a63" ON "jobs" ("status") `);
        await queryRunner.query(`CREATE INDEX "IDX_47fee31a98bba733e8ca87ad1a" ON "jobs" ("team_id", "created_at") `);
        await queryRunner.query(`CREATE TABLE "users" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "email" text NOT NULL, "display_name" text NOT NULL, "is_superadmin" boolean NOT NULL DEFAULT false, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_97672ac88f789774dd47f7c8be3" UNIQUE ("email"), CONSTRAINT "PK_a3ffb1c0c8416b9fc6f907b7433" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE TABLE "keypairs" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "access_key" text NOT NULL, "secret_sealed" text NOT NULL, "user_id" uuid NOT NULL, "team_id" uuid NOT NULL, "is_active" boolean NOT NULL DEFAULT true, "expires_at" TIMESTAMP WITH TIME ZONE, "last_used_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_a41e8aaecb2462856a8c554f8b3" UNIQUE ("access_key"), CONSTRAINT "PK_fa24fe24d2af97c8a600afb7a23" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_34dce1bb35f7340838cf15c754" ON "keypairs" ("user_id") `);
        await queryRunner.query(`CREATE INDEX "IDX_b57f905488070d78082f328518" ON "keypairs" ("team_id") `);
        await queryRunner.query(`CREATE TABLE "models" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" text NOT NULL, "sha256" text, "size_bytes" bigint NOT NULL, "facts" jsonb NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_3492c71396207453cf17c0928fb" UNIQUE ("name"), CONSTRAINT "PK_ef9ed7160ea69013636466bf2d5" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE TABLE "nodes" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" text NOT NULL, "status" text NOT NULL DEFAULT 'NotReady', "agent_version" text NOT NULL, "backend" text NOT NULL, "gpus" jsonb NOT NULL DEFAULT '[]', "total_memory_bytes" bigint NOT NULL, "free_memory_bytes" bigint NOT NULL, "loaded_models" jsonb NOT NULL DEFAULT '[]', "last_heartbeat_at" TIMESTAMP WITH TIME ZONE NOT NULL, "registered_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_b8645506b68b2c103372aacc0ff" UNIQUE ("name"), CONSTRAINT "PK_682d6427523a0fa43d062ea03ee" PRIMARY KEY ("id"))`);
        await queryRunner.query(`ALTER TABLE "jobs" ADD CONSTRAINT "FK_b948d7fedbb365b56cc18825cdf" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "keypairs" ADD CONSTRAINT "FK_34dce1bb35f7340838cf15c7542" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "keypairs" ADD CONSTRAINT "FK_b57f905488070d78082f328518e" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "keypairs" DROP CONSTRAINT "FK_b57f905488070d78082f328518e"`);
        await queryRunner.query(`ALTER TABLE "keypairs" DROP CONSTRAINT "FK_34dce1bb35f7340838cf15c7542"`);
        await queryRunner.query(`ALTER TABLE "jobs" DROP CONSTRAINT "FK_b948d7fedbb365b56cc18825cdf"`);
        await queryRunner.query(`DROP TABLE "nodes"`);
        await queryRunner.query(`DROP TABLE "models"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_b57f905488070d78082f328518"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_34dce1bb35f7340838cf15c754"`);
        await queryRunner.query(`DROP TABLE "keypairs"`);
        await queryRunner.query(`DROP TABLE "users"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_47fee31a98bba733e8ca87ad1a"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_a0c30e3eb9649fe7fbcd336a63"`);
        await queryRunner.query(`DROP TABLE "jobs"`);
        await queryRunner.query(`DROP TABLE "teams"`);
    }

}
